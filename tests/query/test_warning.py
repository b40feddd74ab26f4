"""The warning for AND and OR mixed without parentheses."""

from __future__ import annotations

import pytest

from maxtrio.query import Comparison, Logical, Value, mixed_and_or_warning, parse_filter


def warning_for(text: str) -> str | None:
    return mixed_and_or_warning(parse_filter(text))


@pytest.mark.parametrize(
    "text",
    [
        "a=1",
        "a=1 AND b=2 AND c=3",
        "a=1 or b=2 OR c=3",
        "(a=1 OR b=2) AND c=3",
        "a=1 OR (b=2 AND c=3)",
        "(a=1 AND b=2) OR (c=3 AND d=4)",
        "((a=1 OR b=2) AND c=3) OR d=4",
        "(a=1 OR b=2 OR c=3) AND (d=4 OR e=5) AND f=6",
    ],
)
def test_no_warning_without_an_unparenthesised_mix(text: str) -> None:
    assert warning_for(text) is None


def test_or_then_and_differs_from_sql() -> None:
    message = warning_for("a=1 OR b=2 AND c=3")
    assert message == (
        'AND and OR have equal precedence and group from the left: "a=1 OR b=2 AND c=3" '
        'means "(a=1 OR b=2) AND c=3", not "a=1 OR (b=2 AND c=3)" as in SQL. '
        "Add parentheses to say which one you mean."
    )


def test_and_then_or_reads_as_in_sql_but_is_still_pointed_out() -> None:
    message = warning_for("a=1 AND b=2 OR c=3")
    assert message == (
        'AND and OR have equal precedence and group from the left: "a=1 AND b=2 OR c=3" '
        'means "(a=1 AND b=2) OR c=3". Add parentheses to make that explicit.'
    )


def test_long_chain() -> None:
    message = warning_for("a=1 AND b=2 OR c=3 AND d=4")
    assert message is not None
    assert 'means "((a=1 AND b=2) OR c=3) AND d=4"' in message
    assert 'not "(a=1 AND b=2) OR (c=3 AND d=4)" as in SQL' in message


def test_mix_inside_parentheses() -> None:
    message = warning_for("x=0 AND (a=1 OR b=2 AND c=3)")
    assert message is not None
    assert '"a=1 OR b=2 AND c=3" means "(a=1 OR b=2) AND c=3"' in message


def test_mix_after_a_group_on_the_left() -> None:
    message = warning_for("(a=1 AND b=2) OR c=3 AND d=4")
    assert message is not None
    assert '"(a=1 AND b=2) OR c=3 AND d=4" means "((a=1 AND b=2) OR c=3) AND d=4"' in message
    assert 'not "(a=1 AND b=2) OR (c=3 AND d=4)" as in SQL' in message


def test_first_mixed_chain_from_the_left_is_reported() -> None:
    message = warning_for("(a=1 OR b=2 AND c=3) AND (d=4 AND e=5 OR f=6)")
    assert message is not None
    assert '"a=1 OR b=2 AND c=3"' in message


def test_hand_built_trees_without_grouping_are_one_chain() -> None:
    a, b, c = (Comparison(f, "=", Value("1")) for f in "abc")
    assert mixed_and_or_warning(Logical("AND", Logical("OR", a, b), c)) is not None
    grouped = Logical("AND", Logical("OR", a, b, grouped=True), c)
    assert mixed_and_or_warning(grouped) is None
    # a logical node on the right always stands in its own parentheses
    assert mixed_and_or_warning(Logical("AND", a, Logical("OR", b, c))) is None
