"""The one cattrs converter used at every JSON boundary (files, sockets, HTTP bodies).

Structuring failures become ``core.invalid_wire_value`` errors that name the offending field,
never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from ._errors import BadInput, MaxError, define_error

T = TypeVar("T")

ErrInvalidWireValue = define_error(
    "core.invalid_wire_value", facets=[BadInput], message="Invalid {what}: {reason}"
)

converter = make_converter(forbid_extra_keys=False)
converter.register_unstructure_hook(MaxError, lambda e: e.to_wire())


def _structure_max_error(value: Any, _: type) -> MaxError:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an error object, got {type(value).__name__}")
    return MaxError.from_wire(value)


converter.register_structure_hook(MaxError, _structure_max_error)


def structure(value: Any, cls: type[T], *, what: str | None = None) -> T:
    """Structure ``value`` into ``cls``; raise a BadInput MaxError naming the bad field."""
    try:
        return converter.structure(value, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        reason = _describe(exc)
        raise ErrInvalidWireValue(what=what or cls.__name__, reason=reason) from None


def unstructure(value: Any) -> Any:
    return converter.unstructure(value)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        notes = cattrs.transform_error(exc)
        return "; ".join(notes) if notes else str(exc)
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc)
