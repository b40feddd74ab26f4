"""Value conversion between Python and SQLite, per field kind.

Three directions:

* **write** (:func:`convert_column`): validates the values of one column of a batch and
  converts them for binding — refs and RefKeys become ids, dates canonical ISO text
  (``2026-03-08T18:18:39.000Z``). A value of the wrong type raises :class:`BadValue`.
* **read** (:func:`reader_for`): refs come back as :class:`Ref`, booleans as ``bool``, dates as
  aware ``datetime``; numbers stay floats.
* **filter** (:func:`filter_value`): the value a where-leaf binds. Integral numbers bind as
  ``int`` so SQLite's text affinity yields ``"42"``, not ``"42.0"``; huge integers bind as
  REAL instead of overflowing. A ``contains`` (``~=``) leaf binds :func:`contains_text`.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from maxtrio.core import EntityDef, FieldKind, Ref, try_parse_ref_key
from maxtrio.core import printable as printable  # the engines' error messages use it from here

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_SAFE_INT = 2**53 - 1

#: Column types that need no conversion at all on write, per kind.
_PASS_TYPES: dict[FieldKind, frozenset[type]] = {
    FieldKind.STRING: frozenset({str, type(None)}),
    FieldKind.NUMBER: frozenset({float, type(None)}),
    FieldKind.BOOLEAN: frozenset({bool, type(None)}),
    FieldKind.DATE: frozenset({type(None)}),
    FieldKind.REF: frozenset({type(None)}),
}

_EXPECTED: dict[FieldKind, str] = {
    FieldKind.STRING: "a string",
    FieldKind.NUMBER: "a number",
    FieldKind.BOOLEAN: "a boolean",
    FieldKind.DATE: "a date (datetime or ISO-8601 text)",
    FieldKind.REF: "a ref (Ref, RefKey or id)",
}


class BadValue(Exception):
    """A value of the wrong type for its column; ``index`` is its position in the batch."""

    def __init__(self, index: int, expected: str, got: object) -> None:
        super().__init__(expected)
        self.index = index
        self.expected = expected
        self.got = got


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_LETTER = re.compile("[A-Za-z]")
#: Text SQLite's numeric affinity turns into a number: a decimal literal with optional sign and
#: exponent, surrounded by ASCII whitespace only (no ``inf``/``nan``, no non-ASCII digits).
NUMERIC_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*\Z", re.ASCII)

#: What a text value must be (apsw cannot bind a str holding lone surrogates).
TEXT_EXPECTED = "text without lone surrogates"


def is_utf8_text(text: str) -> bool:
    """False for a str SQLite cannot hold: one with lone surrogates (JSON ``"\\ud800"``
    decodes to one, and so do undecodable bytes in command-line arguments)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def describe(value: object) -> str:
    """A short, safe description of a bad value for error messages."""
    text = printable(repr(value))
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


# -- dates ------------------------------------------------------------------------------------


def format_date(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z`` (JavaScript ``toISOString``)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat, not strftime: "%Y" does not pad years before 1000 to four digits.
    return value.isoformat(timespec="milliseconds") + "Z"


def parse_date(text: str) -> datetime:
    """Parse ISO-8601 text into an aware datetime (naive text is taken as UTC)."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# -- write ------------------------------------------------------------------------------------


def _write_one(kind: FieldKind, value: Any) -> Any:
    """Convert one value for storage or raise ``TypeError``/``ValueError``."""
    if value is None:
        return None
    t = type(value)
    if kind is FieldKind.STRING:
        if t is str or isinstance(value, str):
            return str(value)
    elif kind is FieldKind.NUMBER:
        if t is float:
            return value
        if t is int or (isinstance(value, int) and not isinstance(value, bool)):
            return int(value) if _INT64_MIN <= value <= _INT64_MAX else float(value)
        if isinstance(value, float):
            return float(value)
    elif kind is FieldKind.BOOLEAN:
        if isinstance(value, bool):
            return 1 if value else 0
    elif kind is FieldKind.DATE:
        if isinstance(value, datetime):
            return format_date(value)
        if isinstance(value, str):
            return format_date(parse_date(value))
    elif kind is FieldKind.REF:
        if isinstance(value, Ref):
            return value.id
        if isinstance(value, str):
            parsed = try_parse_ref_key(value) if ":" in value else None
            return parsed.entity_id if parsed is not None else value
    raise TypeError(kind)


_REF_ID = operator.attrgetter("id")
_NONE = type(None)


#: Date text already in the stored form (``2026-03-08T14:03:27.512Z``): kept as it is once
#: ``fromisoformat`` accepts it (a real calendar date), instead of a parse and a format.
_CANONICAL_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").fullmatch
_CALENDAR_DATE = re.compile(r"\d{4}-\d\d-\d\d").fullmatch  # a day: midnight UTC
_STR_OR_NONE = frozenset({str, type(None)})


_CANONICAL_COLUMN = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z(?:\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)*"
).fullmatch
_CALENDAR_COLUMN = re.compile(r"\d{4}-\d\d-\d\d(?:\n\d{4}-\d\d-\d\d)*").fullmatch


def _date_texts(values: Sequence[Any]) -> Sequence[Any]:
    """A column of date texts (and None): canonical ones pass, others are converted.

    The common columns — every text already canonical, or every text a calendar day — are
    checked with one regular expression over the joined column and one ``fromisoformat`` map
    (both C loops); anything else goes value by value."""
    texts = [v for v in values if v is not None]
    if not texts:
        return values
    joined = "\n".join(texts)
    try:
        if _CANONICAL_COLUMN(joined) is not None:
            list(map(datetime.fromisoformat, texts))  # e.g. 2026-02-31 is refused here
            return values
        if _CALENDAR_COLUMN(joined) is not None:
            list(map(datetime.fromisoformat, texts))
            return [None if v is None else v + "T00:00:00.000Z" for v in values]
    except ValueError:
        pass  # the value-by-value loop below finds which one and says so
    return _date_texts_one_by_one(values)


def _date_texts_one_by_one(values: Sequence[Any]) -> Sequence[Any]:
    out: list[Any] | None = None
    from_iso = datetime.fromisoformat
    for index, value in enumerate(values):
        if value is None:
            continue
        try:
            if _CANONICAL_DATE(value) is not None:
                from_iso(value)
                continue
            if _CALENDAR_DATE(value) is not None:
                from_iso(value)
                converted = value + "T00:00:00.000Z"
            else:
                converted = _write_one(FieldKind.DATE, value)
        except (TypeError, ValueError, OverflowError):
            raise BadValue(index, _EXPECTED[FieldKind.DATE], value) from None
        if out is None:
            out = list(values)
        out[index] = converted
    return values if out is None else out


def convert_column(kind: FieldKind, values: Sequence[Any]) -> Sequence[Any]:
    """Validate and convert one column of a batch; raise :class:`BadValue` on a wrong type."""
    types = set(map(type, values))
    if types <= _PASS_TYPES[kind]:
        return values
    if kind is FieldKind.DATE and types <= _STR_OR_NONE:
        return _date_texts(values)
    if kind is FieldKind.REF:
        if types == {Ref}:
            return list(map(_REF_ID, values))
        if types <= {str, _NONE} and ":" not in "".join([v for v in values if v is not None]):
            return values  # plain ids (a RefKey always holds a colon); one C scan of the column
    out = []
    for index, value in enumerate(values):
        try:
            out.append(_write_one(kind, value))
        except (TypeError, ValueError, OverflowError):
            raise BadValue(index, _EXPECTED[kind], value) from None
    return out


# -- read -------------------------------------------------------------------------------------


def _read_bool(value: Any) -> bool | None:
    if value is None:
        return None
    return type(value) is int and value == 1


def _read_date(value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return parse_date(value)
    except ValueError:
        return value


def reader_for(kind: FieldKind, target: EntityDef | None) -> Callable[[Any], Any] | None:
    """The read converter of a column kind, or None when values come back as they are."""
    if kind is FieldKind.BOOLEAN:
        return _read_bool
    if kind is FieldKind.DATE:
        return _read_date
    if kind is FieldKind.REF:
        assert target is not None
        return lambda v: None if v is None else Ref(target, v if isinstance(v, str) else str(v))
    return None


# -- filters ----------------------------------------------------------------------------------


def bind_number(value: int | float) -> int | float:
    """Integral values within ±(2^53−1) (and not −0) bind as int; others as float."""
    if type(value) is int:
        return value if _INT64_MIN <= value <= _INT64_MAX else float(value)
    f = float(value)
    if f.is_integer() and abs(f) <= _SAFE_INT and not (f == 0 and math.copysign(1, f) < 0):
        return int(f)
    return f


def number_text(value: int | float) -> str:
    """A number as JavaScript prints it (``3`` not ``3.0``, ``Infinity``)."""
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if math.isnan(value):
            return "NaN"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def value_text(value: Any) -> str:
    """The text form of a filter value (for ``~=``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, Ref):
        return value.id
    if isinstance(value, datetime):
        return format_date(value)
    return str(value)


def ascii_lower(text: str) -> str:
    """``text`` with ASCII letters lowercased and every other character unchanged — what
    SQLite's built-in ``lower()`` does (it is ASCII-only without the ICU extension)."""
    return text.translate(_ASCII_LOWER)


def has_ascii_letter(text: str) -> bool:
    """True when ``text`` holds an ASCII letter: searching for it must fold the stored text's
    case too (``instr(lower(col), ?)``); without one, ``instr(col, ?)`` finds the same rows."""
    return _ASCII_LETTER.search(text) is not None


class BadFilterValue(Exception):
    """A filter value that can never be compared with the column's kind."""


def filter_value(kind: FieldKind | None, value: Any) -> Any:
    """The value bound for ``column <op> ?``; ``kind`` None means the ``_id`` column."""
    bound = _filter_value(kind, value)
    if isinstance(bound, float) and math.isnan(bound):
        return None  # SQLite binds NaN as NULL, which matches nothing
    if isinstance(bound, str) and not is_utf8_text(bound):
        raise BadFilterValue
    return bound


def contains_text(value: Any) -> str:
    """The text a ``contains`` (``~=``) leaf searches for, ASCII-lowercased: both engines look
    for it in the ASCII-lowercased text of the stored value. It is not column-converted, and
    every character is literal — ``%``, ``_``, ``\\`` and NUL included."""
    text = value_text(value)
    if not is_utf8_text(text):
        raise BadFilterValue
    return ascii_lower(text)


def _filter_value(kind: FieldKind | None, value: Any) -> Any:
    if value is None:
        return None
    if kind is None or kind is FieldKind.STRING:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return bind_number(value)
        if isinstance(value, Ref):
            return value.id
        if isinstance(value, datetime):
            return format_date(value)
        return str(value)
    if kind is FieldKind.NUMBER:
        if isinstance(value, bool):
            raise BadFilterValue
        if isinstance(value, int | float):
            return bind_number(value)
        if isinstance(value, str) and NUMERIC_TEXT.match(value):
            return value  # SQLite's numeric affinity makes it a number
        raise BadFilterValue
    if kind is FieldKind.BOOLEAN:
        if isinstance(value, bool):
            return 1 if value else 0
        if isinstance(value, int) and value in (0, 1):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return 1 if value.lower() == "true" else 0
        raise BadFilterValue
    if kind is FieldKind.DATE:
        if isinstance(value, datetime):
            return format_date(value)
        if isinstance(value, str):
            return value
        raise BadFilterValue
    # FieldKind.REF
    if isinstance(value, Ref):
        return value.id
    if isinstance(value, bool):
        raise BadFilterValue
    if isinstance(value, int | float):
        return number_text(value)
    text = str(value)
    parsed = try_parse_ref_key(text) if ":" in text else None
    return parsed.entity_id if parsed is not None else text
