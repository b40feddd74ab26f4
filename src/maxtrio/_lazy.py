"""Lazy package surfaces: a package's public names, imported from their modules on first use.

A package whose ``__init__`` would otherwise import its whole stack (httpx, trio, attrs class
creation…) for a command that needs one name lists ``name → module`` instead and hands
:func:`lazy_names` its module-level ``__getattr__``/``__dir__``. The first use of a name
imports its module and binds the name in the package, so later uses are plain lookups.
Imports nothing of maxtrio: every layer may use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, sources: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` (its ``__name__``) whose names come from
    ``sources`` (``name → module``: relative, ``"_errors"`` or ``"._errors"``; or absolute,
    ``"maxtrio.core"``, for a name the package re-exports from another); ``namespace`` is the
    package's ``globals()``, where each imported name is bound."""

    def getattr_(name: str) -> Any:
        module = sources.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if module.startswith(("_", ".")):
            value = getattr(importlib.import_module("." + module.lstrip("."), package), name)
        else:
            value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace.get("__all__", ())) | set(sources))

    return getattr_, dir_
