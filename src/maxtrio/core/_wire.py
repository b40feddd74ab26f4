"""The one cattrs converter used at every JSON boundary (files, sockets, HTTP bodies).

Structuring failures become ``core.invalid_wire_value`` errors that name the offending field,
never a traceback.

The where tree has one JSON form everywhere (RPC queries, persisted plan steps): leaves
``{"field", "op", "value"}`` (``op`` is the :class:`Op` value, ``value`` a JSON scalar: refs as
RefKeys, dates as ISO text; an array of scalars for ``in``; null for ``is null`` / ``is not
null``), groups ``{"kind": "and"|"or", "clauses": [...]}`` and negations ``{"not": clause}`` —
:func:`where_to_wire` / :func:`where_from_wire`, also registered on the converter (structure
with ``WhereClause``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from ._errors import BadInput, MaxError, define_error
from ._ref import Ref
from ._where import NULL_TESTS, Op, Where, WhereClause, WhereGroup, WhereNot
from ._wire_record import is_wire_record, wire_reader, wire_writer

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


def _wire_record_structure(cls: type) -> Callable[[Any, type], Any]:
    read: Callable[[Any], Any] = wire_reader(cls)
    return lambda value, _: read(value)


converter.register_structure_hook_factory(is_wire_record, _wire_record_structure)
converter.register_unstructure_hook_factory(is_wire_record, wire_writer)


def objects_only(hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A structure hook that says "expected an object" for anything but a mapping."""

    def structure_object(value: Any, cls: Any) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError("expected an object")
        return hook(value, cls)

    return structure_object


def value_to_wire(value: Any) -> Any:
    """A value as JSON: refs as RefKeys, dates as ISO text, sequences as lists."""
    if isinstance(value, Ref):
        return value.to_key()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [value_to_wire(v) for v in value]
    return value


def where_to_wire(clause: WhereClause) -> dict[str, Any]:
    """The where tree as JSON: leaves ``{field, op, value}``, groups ``{kind, clauses}``,
    negations ``{not}``."""
    if isinstance(clause, Where):
        return {"field": clause.field, "op": clause.op.value, "value": value_to_wire(clause.value)}
    if isinstance(clause, WhereNot):
        return {"not": where_to_wire(clause.clause)}
    return {"kind": clause.kind, "clauses": [where_to_wire(c) for c in clause.clauses]}


def where_from_wire(value: Any) -> WhereClause:
    """The where tree of :func:`where_to_wire`'s JSON; ``ValueError`` when malformed."""
    if not isinstance(value, Mapping):
        raise ValueError("a filter node must be an object")
    if "not" in value:
        return WhereNot(where_from_wire(value["not"]))
    if "clauses" in value:
        kind = value.get("kind")
        clauses = value.get("clauses")
        if kind not in ("and", "or") or not isinstance(clauses, list):
            raise ValueError('a filter group needs "kind" (and/or) and a "clauses" array')
        return WhereGroup(kind, tuple(where_from_wire(c) for c in clauses))
    field, op, operand = value.get("field"), value.get("op"), value.get("value")
    if not isinstance(field, str) or op not in {o.value for o in Op}:
        raise ValueError('a filter leaf needs a "field" and a known "op"')
    if Op(op) is Op.IN:
        if not isinstance(operand, list) or not all(_is_scalar(v) for v in operand):
            raise ValueError('an "in" filter value must be an array of JSON scalars')
        return Where(field, Op.IN, tuple(operand))
    if Op(op) in NULL_TESTS:
        if operand is not None:
            raise ValueError(f'an "{op}" filter takes no value')
        return Where(field, Op(op), None)
    if operand is not None and not _is_scalar(operand):
        raise ValueError("a filter value must be a JSON scalar")
    return Where(field, Op(op), operand)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


converter.register_unstructure_hook(Where, where_to_wire)
converter.register_unstructure_hook(WhereGroup, where_to_wire)
converter.register_unstructure_hook(WhereNot, where_to_wire)
converter.register_structure_hook(WhereClause, lambda value, _: where_from_wire(value))


def structure(value: Any, cls: type[T], *, what: str | None = None) -> T:
    """Structure ``value`` into ``cls``; raise a BadInput MaxError naming the bad field."""
    try:
        return converter.structure(value, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        reason = _describe(exc)
        name = what or getattr(cls, "__name__", None) or str(cls)  # a union has no __name__
        raise ErrInvalidWireValue(what=name, reason=reason) from None


def unstructure(value: Any) -> Any:
    return converter.unstructure(value)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        notes = cattrs.transform_error(exc)
        return "; ".join(notes) if notes else str(exc)
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc)
