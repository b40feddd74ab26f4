"""Lowering filters to the core where tree, the documented examples, and canonical
formatting (docs/filter-language.md)."""

from __future__ import annotations

import math

import pytest

from maxtrio.core import Op, Where, WhereClause, WhereGroup, WhereNot, and_, not_, or_
from maxtrio.query import Comparison, Logical, Value, format_filter, lower, parse_filter


def lowered(text: str) -> WhereClause:
    return lower(parse_filter(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status IN (todo, done)", Where("status", Op.IN, ("todo", "done"))),
        ("n IN (1, '2', 0x10, true)", Where("n", Op.IN, (1, "2", 16, True))),
        ("due IS NULL", Where("due", Op.IS_NULL, None)),
        ("due IS NOT NULL", Where("due", Op.IS_NOT_NULL, None)),
        ("NOT a = 1", WhereNot(Where("a", Op.EQ, 1))),
        ("NOT NOT a ~= 007", not_(not_(Where("a", Op.CONTAINS, "007")))),
        (
            "NOT (a = 1 OR b IS NULL) AND c IN (x)",
            and_(
                not_(or_(Where("a", Op.EQ, 1), Where("b", Op.IS_NULL, None))),
                Where("c", Op.IN, ("x",)),
            ),
        ),
    ],
)
def test_additions_lower_to_in_null_tests_and_not(text: str, expected: WhereClause) -> None:
    assert lowered(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = Acme", Where("name", Op.EQ, "Acme")),
        ("name=Acme", Where("name", Op.EQ, "Acme")),
        ('name = "John Doe"', Where("name", Op.EQ, "John Doe")),
        ("name='hello world'", Where("name", Op.EQ, "hello world")),
        ("active = true", Where("active", Op.EQ, True)),
        ("active=TRUE", Where("active", Op.EQ, True)),
        ("active=FALSE", Where("active", Op.EQ, False)),
        ("priority >= 5", Where("priority", Op.GE, 5)),
        ("priority=-1", Where("priority", Op.EQ, -1)),
        ("priority=3.5", Where("priority", Op.EQ, 3.5)),
        ("count<=100", Where("count", Op.LE, 100)),
        ("count>0", Where("count", Op.GT, 0)),
        ("count<0", Where("count", Op.LT, 0)),
        ("name ~= Acme", Where("name", Op.CONTAINS, "Acme")),
        ("status!=closed", Where("status", Op.NE, "closed")),
        ('name = "42"', Where("name", Op.EQ, "42")),
        ("name = 'true'", Where("name", Op.EQ, "true")),
        ("owner = ein:AcmeUser:owner1", Where("owner", Op.EQ, "ein:AcmeUser:owner1")),
        ("_id = user-abc123", Where("_id", Op.EQ, "user-abc123")),
        ('title ~= "50%"', Where("title", Op.CONTAINS, "50%")),
        ("name = 'it\\'s'", Where("name", Op.EQ, "it's")),
        ('name = "say \\"hi\\""', Where("name", Op.EQ, 'say "hi"')),
        ("email = hello", Where("email", Op.EQ, "hello")),
    ],
)
def test_leaves(text: str, expected: Where) -> None:
    result = lowered(text)
    assert result == expected
    assert isinstance(result, Where)
    assert type(result.value) is type(expected.value)


def test_and_of_two_leaves_with_a_coerced_boolean() -> None:
    assert lowered("name=Acme AND active=true") == and_(
        Where("name", Op.EQ, "Acme"), Where("active", Op.EQ, True)
    )
    assert lowered("name=Acme and active=true") == lowered("name=Acme AND active=true")


def test_or() -> None:
    assert lowered("name=Acme OR name=Beta") == or_(
        Where("name", Op.EQ, "Acme"), Where("name", Op.EQ, "Beta")
    )


def test_grouped() -> None:
    assert lowered("(name=Acme OR name=Beta) AND active=true") == and_(
        or_(Where("name", Op.EQ, "Acme"), Where("name", Op.EQ, "Beta")),
        Where("active", Op.EQ, True),
    )


def test_chains_are_not_flattened() -> None:
    a, b, c = (Where(f, Op.EQ, i) for i, f in enumerate("abc", 1))
    assert lowered("a=1 AND b=2 AND c=3") == and_(and_(a, b), c)
    assert lowered("a=1 OR b=2 AND c=3") == and_(or_(a, b), c)
    group = lowered("a=1 OR b=2 OR c=3")
    assert isinstance(group, WhereGroup)
    assert len(group.clauses) == 2


def test_contains_keeps_the_raw_text() -> None:
    # Ours (docs/filter-language.md): the substring is the text as written, not the coerced value.
    assert lowered("code ~= 007") == Where("code", Op.CONTAINS, "007")
    assert lowered("active ~= TRUE") == Where("active", Op.CONTAINS, "TRUE")
    assert lowered("n ~= 1e3") == Where("n", Op.CONTAINS, "1e3")
    assert lowered("n ~= 0x1F") == Where("n", Op.CONTAINS, "0x1F")
    assert lowered('n ~= "42"') == Where("n", Op.CONTAINS, "42")
    # … while the other operators coerce
    assert lowered("code = 007") == Where("code", Op.EQ, 7)
    assert lowered("n = 0x1F") == Where("n", Op.EQ, 31)


def test_infinity() -> None:
    leaf = lowered("score < Infinity")
    assert isinstance(leaf, Where) and leaf.value == math.inf


# -- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("name = Acme", "name=Acme"),
        ("a = 1 and b = 2 or c = 3", "a=1 AND b=2 OR c=3"),
        ("( a=1 or b=2 ) and c=3", "(a=1 OR b=2) AND c=3"),
        ("a=1 OR (b=2 AND (c=3))", "a=1 OR (b=2 AND (c=3))"),
        ("name = 'it\\'s'", 'name="it\'s"'),
        ('name = "a\\\\b\nc\td\\"e"', 'name="a\\\\b\\nc\\td\\"e"'),
        ("x ~= '😀'", 'x~="😀"'),
    ],
)
def test_format_filter(text: str, canonical: str) -> None:
    ast = parse_filter(text)
    assert format_filter(ast) == canonical
    assert parse_filter(canonical) == ast


def test_format_adds_parentheses_a_hand_built_tree_needs() -> None:
    a, b, c = (Comparison(f, "=", Value("1")) for f in "abc")
    tree = Logical("AND", a, Logical("OR", b, c))
    assert format_filter(tree) == "a=1 AND (b=1 OR c=1)"
    assert parse_filter(format_filter(tree)) == tree


def test_explicit_format_spells_out_the_left_grouping() -> None:
    ast = parse_filter("a=1 AND b=2 OR c=3 AND d=4 AND e=5")
    assert format_filter(ast, explicit=True) == "((a=1 AND b=2) OR c=3) AND d=4 AND e=5"


def test_format_refuses_what_the_language_cannot_spell() -> None:
    with pytest.raises(ValueError):
        format_filter(Comparison("name", "=", Value("two words")))
    with pytest.raises(ValueError):
        format_filter(Comparison("bad field", "=", Value("x")))
