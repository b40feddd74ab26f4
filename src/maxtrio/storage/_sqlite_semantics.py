"""SQLite's comparison rules in Python, for the in-memory engine.

Only what our tables need: every stored value already has its column's type (TEXT columns hold
``str``, REAL columns ``float``, INTEGER columns ``0``/``1``), so the rules reduce to

* affinity applied to the bound operand — a number compared with a TEXT column becomes text, a
  numeric-looking text compared with a REAL/INTEGER column becomes a number;
* storage-class order ``NULL < numbers < TEXT`` and binary (code point) text comparison;
* any comparison with NULL is false;
* ``contains`` (``~=``) is ``instr(lower(value), needle) > 0``: a substring test over the whole
  text (NUL included), case-insensitive for ASCII letters only.
"""

from __future__ import annotations

import functools
from typing import Any

import apsw

from ._values import NUMERIC_TEXT, ascii_lower


@functools.lru_cache(maxsize=4096)
def real_text(value: float) -> str:
    """A REAL as SQLite renders it as text (``3.0``, ``1.0e+20``, ``0.30000000000000004``).

    Asked of SQLite itself: its digit selection is its own (neither ``%.15g`` nor Python's
    shortest ``repr``) and has changed between releases.
    """
    rows = list(_renderer().execute("SELECT CAST(? AS TEXT)", (value,)))
    return str(rows[0][0])


@functools.cache
def _renderer() -> apsw.Connection:
    """A private in-memory connection, used only to render REALs as text."""
    return apsw.Connection(":memory:")


def as_text(value: Any) -> str:
    if isinstance(value, float):
        return real_text(value)
    return str(value)


def apply_affinity(column_sql_type: str, operand: Any) -> Any:
    """The bound operand after the column's affinity is applied to it."""
    if operand is None:
        return None
    if column_sql_type == "TEXT":
        return as_text(operand) if isinstance(operand, int | float) else operand
    if isinstance(operand, str) and NUMERIC_TEXT.match(operand):
        number = float(operand)
        if column_sql_type == "INTEGER" and number.is_integer() and abs(number) < 2**63:
            return int(number)
        return number
    return operand


def sort_key(value: Any) -> tuple[int, Any]:
    """Storage-class order: NULL, then numbers, then text."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, value)


def compare(op: str, left: Any, right: Any) -> bool:
    """``left op right`` with SQLite semantics (NULL never matches)."""
    if left is None or right is None:
        return False
    a, b = sort_key(left), sort_key(right)
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    if op == ">":
        return a > b
    if op == "<":
        return a < b
    if op == ">=":
        return a >= b
    if op == "<=":
        return a <= b
    raise ValueError(op)


def contains(value: Any, needle: str) -> bool:
    """``instr(lower(value), needle) > 0`` for an ASCII-lowercased ``needle``: NULL never
    contains anything; other values are searched as their text, ASCII letters folded."""
    if value is None:
        return False
    return needle in ascii_lower(as_text(value))
