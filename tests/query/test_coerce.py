"""Value coercion by JavaScript ``Number()`` rules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maxtrio.query import Value, coerce_value, js_number


def bare(raw: str) -> str | int | float | bool:
    return coerce_value(Value(raw, quoted=False))


def same(actual: object, expected: object) -> bool:
    """Equal with the same type (so 1 and 1.0 and True differ) and the same sign of zero."""
    if type(actual) is not type(expected):
        return False
    if isinstance(actual, float) and isinstance(expected, float):
        return actual == expected and math.copysign(1, actual) == math.copysign(1, expected)
    return actual == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # the table of docs/filter-language.md
        ("42", 42),
        ("-1", -1),
        ("0", 0),
        ("007", 7),
        ("3.5", 3.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("1E-2", 0.01),
        ("0x1F", 31),
        ("0b11", 3),
        ("0o17", 15),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("NaN", "NaN"),
        ("1_000", "1_000"),
        ("-0x10", "-0x10"),
        ("2024-01-15", "2024-01-15"),
        ("ein:AcmeUser:u1", "ein:AcmeUser:u1"),
        ("TRUE", True),
        ("False", False),
        # the reference coercion test list
        ("true", True),
        ("false", False),
        ("3", 3),
        ("hello", "hello"),
        # more of JavaScript's rules
        ("-3.5", -3.5),
        ("-.5", -0.5),
        ("-5.", -5.0),
        ("0.0", 0.0),
        ("1e+3", 1000.0),
        ("+7", 7),
        ("+Infinity", math.inf),
        ("0X1f", 31),
        ("0B101", 5),
        ("0O7", 7),
        ("0xFFFFFFFF", 4294967295),
        ("1e", "1e"),
        ("1e-", "1e-"),
        ("e5", "e5"),
        (".", "."),
        ("-", "-"),
        ("..5", "..5"),
        ("1.2.3", "1.2.3"),
        ("0x", "0x"),
        ("0xG", "0xG"),
        ("0b2", "0b2"),
        ("0o8", "0o8"),
        ("0x1.5", "0x1.5"),
        ("0x1e3", 0x1E3),
        ("infinity", "infinity"),
        ("inf", "inf"),
        ("nan", "nan"),
        ("-NaN", "-NaN"),
        ("1e400", math.inf),
        ("-1e400", -math.inf),
        ("tRuE", True),
        ("truex", "truex"),
        ("yes", "yes"),
        ("1:30", "1:30"),
        ("user@example.com", "user@example.com"),
    ],
)
def test_bare_values(raw: str, expected: object) -> None:
    assert same(bare(raw), expected), (raw, bare(raw))


@pytest.mark.parametrize("raw", ["42", "true", "TRUE", "3.5", "0x1F", "Infinity", "", " 1 "])
def test_quoted_values_are_never_coerced(raw: str) -> None:
    assert same(coerce_value(Value(raw, quoted=True)), raw)


def test_negative_zero_keeps_its_sign() -> None:
    assert same(bare("-0"), -0.0)
    assert same(bare("-00"), -0.0)
    assert same(bare("-0.0"), -0.0)
    assert same(bare("00"), 0)


def test_integers_are_ints_while_javascript_holds_them_exactly() -> None:
    assert same(bare("9007199254740991"), 9007199254740991)
    assert same(bare("-9007199254740991"), -9007199254740991)
    assert same(bare("0009007199254740991"), 9007199254740991)
    assert same(bare("9007199254740993"), 9007199254740992.0)  # JavaScript rounds it
    assert same(bare("99999999999999999999"), 1e20)
    assert same(bare("0x20000000000001"), float(0x20000000000001))


def test_huge_literals_never_raise() -> None:
    assert same(bare("9" * 5000), math.inf)  # beyond int's str-digit limit and float's range
    assert same(bare("-" + "1" * 400), -math.inf)
    assert same(bare("0x" + "f" * 300), math.inf)
    assert same(bare("0b" + "1" * 2000), math.inf)
    assert same(bare("0." + "0" * 5000 + "1"), 0.0)


def test_js_number_helper() -> None:
    assert js_number("12") == 12
    assert js_number("abc") is None
    assert js_number("") is None


_DIGITS = st.text("0123456789", min_size=1, max_size=20)


@given(_DIGITS, st.sampled_from(["", "-", "+"]))
def test_integer_literals_match_python_int(digits: str, sign: str) -> None:
    value = js_number(sign + digits)
    exact = int(sign + digits)
    if exact == 0:
        assert value == 0
    elif abs(exact) <= 2**53 - 1:
        assert same(value, exact)
    else:
        assert same(value, float(sign + digits))


@given(_DIGITS, _DIGITS, st.sampled_from(["", "e5", "E-3", "e+0"]))
def test_decimal_literals_match_python_float(whole: str, fraction: str, exponent: str) -> None:
    text = f"{whole}.{fraction}{exponent}"
    assert same(js_number(text), float(text))


@given(st.text(alphabet="0123456789abcdefxobABCDEFXOB.:@_-+eEIinfityNa", max_size=12))
def test_coercion_never_raises_and_strings_are_unchanged(raw: str) -> None:
    result = bare(raw)
    if isinstance(result, str):
        assert result == raw
    elif isinstance(result, bool):
        assert raw.lower() in ("true", "false")
    else:
        assert isinstance(result, int | float)
