"""Values between Python and PostgreSQL, with SQLite's meaning kept (docs/scale-out.md).

**Text with NUL.** A PostgreSQL ``text`` cannot hold NUL, which SQLite text can (and the
property tests store). Text is stored with the four characters U+0000–U+0003 escaped as three
bytes each, ``\\x01`` followed by two of ``\\x02``/``\\x03``::

    U+0000 → 01 02 02    U+0001 → 01 02 03    U+0002 → 01 03 02    U+0003 → 01 03 03

Every other character is itself. Under ``COLLATE "C"`` (byte order, which for UTF-8 is code
point order) the escaped text sorts, compares and searches exactly as the original: the codes
keep the characters' order, none is a prefix of another, and the code is self-synchronising —
``\\x01`` only starts a code and ``\\x02``/``\\x03`` only continue one — so an escaped needle is
found in escaped text exactly where the original needle is in the original text. Text without
those four characters (nearly all of it) is stored as it is.

**Operands.** SQLite converts a comparison's bound value to the column's affinity (a number
compared with a TEXT column is compared as its text, ``"42"``; numeric text compared with a
REAL column as a number). :func:`operand` applies the same conversion in Python
(:func:`maxtrio.storage._sqlite_semantics.apply_affinity`), so every PostgreSQL comparison is
between values of the column's own type, where both databases agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from maxtrio.core import EntityDef, FieldKind, Ref

from ._sqlite_semantics import apply_affinity
from ._values import reader_for

_ESCAPES = {0: "\x01\x02\x02", 1: "\x01\x02\x03", 2: "\x01\x03\x02", 3: "\x01\x03\x03"}
_UNESCAPES = {code: chr(char) for char, code in _ESCAPES.items()}
_NEEDS_ESCAPE = re.compile("[\x00-\x03]").search
_CODE = re.compile("\x01[\x02\x03][\x02\x03]")


def encode_text(text: str) -> str:
    """``text`` as stored in PostgreSQL (see the module docstring)."""
    if _NEEDS_ESCAPE(text) is None:
        return text
    return text.translate(_ESCAPES)


def decode_text(text: str) -> str:
    """The text :func:`encode_text` stored."""
    if "\x01" not in text:
        return text
    return _CODE.sub(lambda m: _UNESCAPES[m.group(0)], text)


def encode_texts(values: Sequence[Any]) -> Sequence[Any]:
    """A column of text (and None) as stored; one scan when nothing needs escaping."""
    texts = [v for v in values if v is not None]
    if _NEEDS_ESCAPE("".join(texts)) is None:
        return values
    return [None if v is None else encode_text(v) for v in values]


def write_column(kind: FieldKind, values: Sequence[Any]) -> Sequence[Any]:
    """A column already converted for SQLite (:func:`maxtrio.storage._values.convert_column`)
    made ready for PostgreSQL: numbers as floats (NaN, which SQLite stores as NULL, as None),
    booleans as ``bool``, text escaped."""
    if kind is FieldKind.NUMBER:
        return [None if v is None or math.isnan(v) else float(v) for v in values]
    if kind is FieldKind.BOOLEAN:
        return [None if v is None else bool(v) for v in values]
    return encode_texts(values)


def _read_text(value: Any) -> Any:
    return None if value is None else decode_text(value)


def pg_reader_for(kind: FieldKind, target: EntityDef | None) -> Callable[[Any], Any] | None:
    """The read converter of a column kind on PostgreSQL (None: values come back as they are)."""
    if kind is FieldKind.BOOLEAN or kind is FieldKind.NUMBER:
        return None  # bool and float already
    if kind is FieldKind.REF:
        assert target is not None
        return lambda v: None if v is None else Ref(target, decode_text(v))
    if kind is FieldKind.DATE:
        sqlite_reader = reader_for(kind, target)
        assert sqlite_reader is not None
        return lambda v: sqlite_reader(_read_text(v))
    return _read_text


def order_value(kind: FieldKind | None, value: Any) -> Any:
    """A row's raw order value as SQLite would have returned it (for keyset cursors)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return decode_text(value)
    return value


def sql_type_of(kind: FieldKind | None) -> str:
    """SQLite's column type for a kind (None: ``_id``)."""
    if kind is FieldKind.NUMBER:
        return "REAL"
    if kind is FieldKind.BOOLEAN:
        return "INTEGER"
    return "TEXT"


def operand(kind: FieldKind | None, value: Any) -> Any:
    """A filter or cursor value converted as SQLite converts it for the column, then made
    ready for PostgreSQL: text escaped; for a REAL column an ``int`` or ``float``; for a
    boolean column a number. None stays None (matches nothing)."""
    converted = apply_affinity(sql_type_of(kind), value)
    if isinstance(converted, str):
        return encode_text(converted)
    return converted


def exact_float(value: int) -> bool:
    """True when the integer is a double exactly (then comparing as floats is exact)."""
    try:
        return int(float(value)) == value
    except OverflowError:
        return False


def float_neighbours(value: int) -> tuple[float, float]:
    """The largest double below and the smallest above an integer no double equals."""
    f = float(value)
    if f > value:
        return math.nextafter(f, -math.inf), f
    return f, math.nextafter(f, math.inf)
