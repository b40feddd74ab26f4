"""``decode_json``: the values ``json.loads`` gives, for every text ``json.loads`` accepts."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maxtrio.connector import decode_json
from maxtrio.connector._json import FAST_FROM

from ..hypothesis_budget import examples

#: JSON values with what a fast decoder could get wrong: integers past 64 bits, floats at the
#: edges of a double, strings with escapes, astral and line-separator characters.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**64 + 2)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=examples(300))
@given(value=_values, ascii_only=st.booleans(), indent=st.sampled_from([None, 2]))
def test_the_values_are_those_of_the_json_module(
    value: object, ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    text += " " * (FAST_FROM - len(text))  # every body through the fast decoder
    decoded = decode_json(text.encode())
    assert decoded == json.loads(text)
    assert json.dumps(decoded) == json.dumps(json.loads(text))  # same types, same key order


def _padded(text: bytes) -> bytes:
    """``text`` long enough for the fast decoder (trailing whitespace is still JSON)."""
    return text + b" " * (FAST_FROM - len(text))


def test_the_last_of_duplicate_keys_wins_and_key_order_is_kept() -> None:
    decoded = decode_json(_padded(b'{"b": 1, "a": 2, "b": 3}'))
    assert decoded == {"b": 3, "a": 2}
    assert list(decoded) == ["b", "a"]


@pytest.mark.parametrize(
    "text",
    [b"NaN", b"[Infinity, -Infinity]", b"1e400", b'"\\ud800"', b"123456789012345678901234567890"],
)
def test_what_only_the_json_module_accepts_decodes_as_it_would(text: bytes) -> None:
    got, want = decode_json(_padded(text)), json.loads(text)
    if isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == want
        assert type(got) is type(want)


@pytest.mark.parametrize("text", [b"", b"{", b"[1,]", b"<html>", b'{"a": 1} x', b"\xff"])
def test_a_body_that_is_not_json_raises_value_error(text: bytes) -> None:
    for body in (text, _padded(text)):
        with pytest.raises(ValueError):
            decode_json(body)
