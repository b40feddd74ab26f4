"""Value coercion: what a comparison's value means once lowered.

* quoted → the string as written;
* unquoted ``true`` / ``false`` in any letter case → ``bool``;
* unquoted and a number by JavaScript's ``Number()`` rules → ``int`` or ``float``;
* anything else → the string.

JavaScript's ``Number()`` is implemented with a regex, not ``float()``: it accepts ``.5``,
``5.``, ``1e3``, ``Infinity`` and the ``0x`` / ``0o`` / ``0b`` prefixes, and rejects ``NaN``,
``1_000``, ``-0x10`` and ``inf``, all unlike Python.

The Python type says how the storage layer binds the value:

* integer literals (decimal, hex, octal, binary) → ``int`` when JavaScript holds them exactly,
  i.e. within ±(2**53 − 1); beyond that → the ``float`` JavaScript would compute, so a value
  never overflows SQLite's 64-bit integers;
* ``-0`` → ``-0.0`` (an ``int`` cannot carry the sign);
* every other number (a fraction, an exponent, ``Infinity``) → ``float``.

The leading/trailing-whitespace and empty-string cases of ``Number()`` (``Number("") == 0``)
are deliberately not reproduced: the parser never produces such an unquoted value, and an
empty string stays a string.
"""

from __future__ import annotations

import math
import re

from ._ast import Value

#: A JavaScript StringNumericLiteral without surrounding whitespace.
_JS_NUMBER = re.compile(
    r"""
    (?P<sign>[+-])?
    (?: (?P<infinity>Infinity)
      | (?P<integer>[0-9]+)
      | (?P<decimal>(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)
    )
    | 0(?P<radix>[xXoObB])(?P<digits>[0-9A-Fa-f]+)
    """,
    re.VERBOSE,
)
_RADIX = {"x": 16, "o": 8, "b": 2}
_RADIX_DIGITS = {16: frozenset("0123456789abcdefABCDEF"), 8: frozenset("01234567"), 2: {"0", "1"}}
_MAX_SAFE_INTEGER = 2**53 - 1
#: Digits beyond which an integer literal is certainly not a safe integer.
_SAFE_DIGITS = 16


def coerce_value(value: Value) -> str | int | float | bool:
    """The lowered form of a filter value; see the module docstring."""
    raw = value.raw
    if value.quoted:
        return raw
    lowered = raw.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    number = js_number(raw)
    return raw if number is None else number


def js_number(text: str) -> int | float | None:
    """``Number(text)`` as an ``int`` or ``float``; ``None`` where JavaScript gives ``NaN``."""
    match = _JS_NUMBER.fullmatch(text)
    if match is None:
        return None
    negative = match["sign"] == "-"
    if match["infinity"] is not None:
        return -math.inf if negative else math.inf
    if match["integer"] is not None:
        return _integer(match["integer"], negative)
    if match["decimal"] is not None:
        return float(text)
    radix = _RADIX[match["radix"].lower()]
    digits = match["digits"]
    if not set(digits) <= _RADIX_DIGITS[radix]:
        return None
    return _exact_or_float(int(digits, radix))


def _integer(digits: str, negative: bool) -> int | float:
    significant = digits.lstrip("0")
    if not significant:
        return -0.0 if negative else 0
    if len(significant) > _SAFE_DIGITS:
        # float() rounds decimal text exactly as JavaScript does, with no digit limit.
        return float(("-" if negative else "") + significant)
    number = int(significant)
    return _exact_or_float(-number if negative else number)


def _exact_or_float(number: int) -> int | float:
    if -_MAX_SAFE_INTEGER <= number <= _MAX_SAFE_INTEGER:
        return number
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf
