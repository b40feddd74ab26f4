"""A Python model of how the SQLite engine applies a where tree to one row — for tests.

``evaluate(where, row, entity_def)`` answers "does the engine return this row?" with the
semantics of docs/filter-language.md and docs/storage.md (maxtrio's decisions), so a storage
test can compare ``Engine.query`` results with a plain Python filter over the same rows:

* **rows** map field names (and ``_id``) to values — either the Python values that were stored
  (``Ref``, RefKey text, ``bool``, ``datetime``, numbers, text) or the raw SQLite values; both
  are first normalised the way the engine stores them: write conversion (Ref → id,
  RefKey text in a ref column → id, bool → 1/0, datetime → ISO text with milliseconds and
  ``Z``) and then the column's SQLite affinity (number → REAL, boolean → INTEGER, every other
  kind and ``_id`` → TEXT). A missing key is NULL.
* **binding** a filter value: bool → 1/0, Ref → id, RefKey text against a ref column → id,
  datetime → ISO text, an integral float within ±(2**53 − 1) other than −0.0 → int, an int
  beyond that → float, NaN → NULL. Then SQLite's comparison affinity: against a TEXT column a
  number becomes text (``title = 42`` matches ``"42"``); against a numeric column numeric-looking
  text becomes a number (``priority > "5"``) — SQLite reads it only up to a NUL (``"5\x00x"`` is
  5), though the engine refuses such text before it gets that far.
* **comparisons** (``= != < > <= >=``) follow SQLite: NULL on either side never matches (so
  ``!=`` skips NULLs); otherwise values of different storage classes order as
  numbers < text, numbers compare by value, text byte-wise (BINARY collation).
* **contains** is a case-insensitive (ASCII letters only) substring test of the value's text
  against the stored value's text — every character is literal: ``%``, ``_`` and ``\\`` (the
  maxtrio's escaping), NUL and other control characters. The value is not
  column-converted. NULL never matches.
* **in** is ``=`` against each listed value (each bound as above): true when one matches,
  so a NULL field never matches. **is null** / **is not null** test the stored value after
  write conversion (a NaN number is stored as NULL).
* **groups**: children that are empty groups (recursively) are dropped, as the SQL compiler
  drops them; a group with no children left matches every row; otherwise ``and`` = all,
  ``or`` = any.
* **not** is the plain complement of its clause — two-valued logic: every comparison above
  is already false (never unknown) on NULL, so ``not (text = "a")`` keeps rows whose text is
  NULL. ``not`` of an empty group matches nothing.

Without ``entity_def`` a column's affinity is guessed from the stored value (text → TEXT,
anything else → REAL) and ref reduction does not happen; pass the def for exact answers.

One primitive is borrowed from SQLite instead of modelled: the text of a REAL value
(``CAST(x AS TEXT)``: ``3.0`` → ``"3.0"``, ``1e20`` → ``"1.0e+20"``), because SQLite's digit
selection is an implementation detail that varies between releases.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Literal

import apsw

from maxtrio.core import (
    EntityDef,
    FieldKind,
    Op,
    Ref,
    Where,
    WhereClause,
    WhereGroup,
    WhereNot,
    try_parse_ref_key,
)

Affinity = Literal["TEXT", "REAL", "INTEGER"]

_AFFINITY: dict[FieldKind, Affinity] = {
    FieldKind.STRING: "TEXT",
    FieldKind.DATE: "TEXT",
    FieldKind.REF: "TEXT",
    FieldKind.NUMBER: "REAL",
    FieldKind.BOOLEAN: "INTEGER",
}
_MAX_SAFE_INTEGER = 2**53 - 1
_INT64 = range(-(2**63), 2**63)
#: Text SQLite's numeric affinity converts: a decimal literal with optional sign, exponent
#: and surrounding ASCII whitespace (no hex, no ``Infinity``, no ``_``).
_SQLITE_NUMERIC = re.compile(
    r"[ \t\n\v\f\r]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\v\f\r]*"
)
_INTEGER_TEXT = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def evaluate(
    where: WhereClause, row: Mapping[str, Any], entity_def: EntityDef | None = None
) -> bool:
    """True when the engine would return ``row`` for the filter ``where``."""
    if isinstance(where, WhereNot):
        return not evaluate(where.clause, row, entity_def)
    if isinstance(where, WhereGroup):
        clauses = [c for c in where.clauses if not is_empty(c)]
        if not clauses:
            return True
        if where.kind == "and":
            return all(evaluate(c, row, entity_def) for c in clauses)
        return any(evaluate(c, row, entity_def) for c in clauses)
    return _evaluate_leaf(where, row, entity_def)


def filter_rows(
    where: WhereClause, rows: Iterable[Mapping[str, Any]], entity_def: EntityDef | None = None
) -> list[Mapping[str, Any]]:
    """The rows ``where`` keeps, in their original order."""
    return [row for row in rows if evaluate(where, row, entity_def)]


def is_empty(clause: WhereClause) -> bool:
    """True for a group with no condition in it (it compiles to no SQL at all)."""
    return isinstance(clause, WhereGroup) and all(is_empty(c) for c in clause.clauses)


# -- one leaf ---------------------------------------------------------------------------------


def _evaluate_leaf(leaf: Where, row: Mapping[str, Any], entity_def: EntityDef | None) -> bool:
    kind = _kind(leaf.field, entity_def)
    raw = row.get(leaf.field)
    affinity = _column_affinity(kind, raw)
    stored = _store(_write(raw, kind), affinity)
    if leaf.op is Op.IS_NULL:
        return stored is None
    if leaf.op is Op.IS_NOT_NULL:
        return stored is not None
    if stored is None:
        return False
    if leaf.op is Op.CONTAINS:
        return _contains(stored, leaf.value)
    if leaf.op is Op.IN:
        return any(_order(stored, value, kind, affinity) == 0 for value in leaf.value)
    order = _order(stored, leaf.value, kind, affinity)
    if order is None:
        return False
    match leaf.op:
        case Op.EQ:
            return order == 0
        case Op.NE:
            return order != 0
        case Op.LT:
            return order < 0
        case Op.GT:
            return order > 0
        case Op.LE:
            return order <= 0
        case Op.GE:
            return order >= 0
    raise AssertionError(leaf.op)


def _order(stored: Any, value: Any, kind: FieldKind | None, affinity: Affinity) -> int | None:
    """How a non-NULL stored value orders against a filter value (None: the value binds
    NULL, so no comparison matches)."""
    bound = _bind(value, kind)
    if bound is None:
        return None
    return _compare(stored, _compare_affinity(bound, affinity))


def _kind(field: str, entity_def: EntityDef | None) -> FieldKind | None:
    """The field's kind (``None`` when unknown); the engine refuses what it cannot filter."""
    if field == "_id":
        return FieldKind.STRING
    if entity_def is None:
        return None
    found = entity_def.field(field)
    if found is None or not found.is_stored:
        raise LookupError(f"the engine cannot filter {entity_def.name} on {field!r}")
    return found.kind


def _column_affinity(kind: FieldKind | None, raw: Any) -> Affinity:
    if kind is not None:
        return _AFFINITY[kind]
    return "TEXT" if isinstance(raw, str | dt.datetime | Ref) else "REAL"


# -- conversions ------------------------------------------------------------------------------


def _write(value: Any, kind: FieldKind | None) -> Any:
    """The engine's write conversion, shared by stored values and bound values."""
    if value is None:
        return None
    if isinstance(value, Ref):
        return value.id
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        return _iso(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and kind is FieldKind.REF:
        parsed = try_parse_ref_key(value)
        return value if parsed is None else parsed.entity_id
    return value


def _bind(value: Any, kind: FieldKind | None) -> Any:
    """A filter value as the engine binds it."""
    value = _write(value, kind)
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_SAFE_INTEGER:
        negative_zero = value == 0 and math.copysign(1.0, value) < 0
        return value if negative_zero else int(value)
    if isinstance(value, int) and abs(value) > _MAX_SAFE_INTEGER:
        return float(value)
    return value


def _store(value: Any, affinity: Affinity) -> Any:
    """``value`` as a column of ``affinity`` holds it."""
    if value is None:
        return None
    if affinity == "TEXT":
        return _text(value) if isinstance(value, int | float) else value
    number = _numeric(value) if isinstance(value, str) else value
    if not isinstance(number, int | float):
        return number
    if affinity == "REAL":
        return float(number)
    if isinstance(number, float) and number.is_integer() and int(number) in _INT64:
        return int(number)
    return number


def _compare_affinity(operand: Any, affinity: Affinity) -> Any:
    """SQLite applies the column's affinity to a bound operand before comparing."""
    if affinity == "TEXT":
        return _text(operand) if isinstance(operand, int | float) else operand
    if isinstance(operand, str):
        return _numeric(operand)
    return operand


def _numeric(text: str) -> int | float | str:
    """Numeric-looking text as a number (SQLite's numeric affinity), other text unchanged.

    SQLite reads the text only up to a NUL: ``"5\x00abc"`` is the number 5, ``"\x005"`` text.
    """
    head = text.partition("\x00")[0]
    if _SQLITE_NUMERIC.fullmatch(head) is None:
        return text
    if _INTEGER_TEXT.fullmatch(head) is not None:
        number = int(head.strip(" \t\n\v\f\r"))
        return number if number in _INT64 else float(number)
    return float(head.strip(" \t\n\v\f\r"))


def _text(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    return _real_text(value)


@lru_cache(maxsize=4096)
def _real_text(value: float) -> str:
    for (text,) in _sqlite().execute("SELECT CAST(? AS TEXT)", (value,)):
        return str(text)
    raise AssertionError("SQLite returned no row")


@lru_cache(maxsize=1)
def _sqlite() -> apsw.Connection:
    """One in-memory connection, used only to turn REAL values into SQLite's text."""
    return apsw.Connection(":memory:")


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


# -- comparing --------------------------------------------------------------------------------


def _storage_class(value: Any) -> int:
    if isinstance(value, int | float):
        return 1
    if isinstance(value, str):
        return 2
    return 3  # bytes


def _compare(left: Any, right: Any) -> int:
    """-1, 0 or 1 as SQLite orders two non-NULL values."""
    left_class, right_class = _storage_class(left), _storage_class(right)
    if left_class != right_class:
        return -1 if left_class < right_class else 1
    if left == right:
        return 0
    return -1 if left < right else 1


def _contains(stored: Any, needle: Any) -> bool:
    if isinstance(needle, bool) or not isinstance(needle, str | int):
        raise TypeError(f"contains takes text (or an int), not {needle!r}")
    haystack = _text(stored) if isinstance(stored, int | float) else str(stored)
    return str(needle).translate(_ASCII_LOWER) in haystack.translate(_ASCII_LOWER)
