"""Connector contexts and the environments handed to loaders and seeders.

A *context* is a connector's record of runtime dependencies (an API client, ids, settings) —
a frozen attrs class per connector. :func:`build_context` makes one from a mapping and turns a
missing or wrongly-typed field into ``core.context_build_failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import attrs

from ._core_errors import ErrContextBuildFailed
from ._engine import Engine
from ._operation import OperationExecutor

C = TypeVar("C")


def build_context(cls: type[C], values: Mapping[str, Any]) -> C:
    """Build a context; a missing field raises ``core.context_build_failed`` naming it."""
    spec: Any = cls
    if not attrs.has(spec):
        raise TypeError(f"{cls!r} is not an attrs class")
    fields = attrs.fields(spec)
    for f in fields:
        if f.init and f.default is attrs.NOTHING and f.name not in values:
            raise ErrContextBuildFailed(context=f"{cls.__name__}: missing field '{f.name}'")
    known = {f.name for f in fields if f.init}
    try:
        return cls(**{k: v for k, v in values.items() if k in known})
    except (TypeError, ValueError) as exc:
        raise ErrContextBuildFailed(context=f"{cls.__name__}: {exc}") from None


@attrs.frozen
class LoaderEnv(Generic[C]):
    """What loaders and sources receive: the context, operations, and dependency results."""

    ctx: C
    ops: OperationExecutor
    deps: Any = None  # LoaderResults, set by the runner when the loader declares depends_on


@attrs.frozen
class SeederEnv(Generic[C]):
    """What a seeder receives: the context and the installation's engine."""

    ctx: C
    engine: Engine
