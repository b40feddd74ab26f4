"""``--filter`` for one entity type: field checks, the empty filter, warnings
(reference CLI filter-parser.test.ts)."""

from __future__ import annotations

import pytest

from maxtrio.core import (
    EMPTY_WHERE,
    EntityDef,
    Field,
    MaxError,
    Op,
    Where,
    WhereGroup,
    and_,
    or_,
)
from maxtrio.query import NO_FILTER, filterable_fields, parse_filter, parse_where

Project = EntityDef.create("Project", {"name": Field.string()})
Item = EntityDef.create(
    "Item",
    {
        "name": Field.string(),
        "active": Field.boolean(),
        "priority": Field.number(),
        "status": Field.string(),
        "email": Field.string(),
        "count": Field.number(),
        "project": Field.ref(Project),
        "tasks": Field.collection(Project),
    },
)


def where(text: str) -> object:
    return parse_where(text, Item).where


def test_valid_fields_are_id_then_stored_fields() -> None:
    assert filterable_fields(Item) == (
        "_id",
        "name",
        "active",
        "priority",
        "status",
        "email",
        "count",
        "project",
    )


@pytest.mark.parametrize("text", ["name=Acme", "name = Acme"])
def test_single_comparison(text: str) -> None:
    assert where(text) == Where("name", Op.EQ, "Acme")


@pytest.mark.parametrize("keyword", ["AND", "and"])
def test_and(keyword: str) -> None:
    assert where(f"name=Acme {keyword} active=true") == and_(
        Where("name", Op.EQ, "Acme"), Where("active", Op.EQ, True)
    )


def test_or() -> None:
    assert where("status=open OR status=pending") == or_(
        Where("status", Op.EQ, "open"), Where("status", Op.EQ, "pending")
    )


def test_grouped() -> None:
    assert where("(name=Acme OR name=Beta) AND active=true") == and_(
        or_(Where("name", Op.EQ, "Acme"), Where("name", Op.EQ, "Beta")),
        Where("active", Op.EQ, True),
    )


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("status!=closed", Op.NE, "closed"),
        ("priority>=3", Op.GE, 3),
        ("priority<=3", Op.LE, 3),
        ("count>10", Op.GT, 10),
        ("count<10", Op.LT, 10),
        ("name~=acme", Op.CONTAINS, "acme"),
    ],
)
def test_operators(text: str, op: Op, value: object) -> None:
    leaf = where(text)
    assert isinstance(leaf, Where)
    assert (leaf.op, leaf.value) == (op, value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("active=true", True),
        ("active=false", False),
        ("active=TRUE", True),
        ("active=FALSE", False),
        ("priority=3", 3),
        ("priority=-1", -1),
        ("priority=3.5", 3.5),
        ("priority=0", 0),
        ("name=hello", "hello"),
        ('name="42"', "42"),
        ('name="true"', "true"),
        ('name="John Doe"', "John Doe"),
        ("name='John Doe'", "John Doe"),
    ],
)
def test_values(text: str, value: object) -> None:
    leaf = where(text)
    assert isinstance(leaf, Where)
    assert leaf.value == value and type(leaf.value) is type(value)


def test_three_ands_nest_left() -> None:
    assert where("name=a AND status=b AND email=c") == and_(
        and_(Where("name", Op.EQ, "a"), Where("status", Op.EQ, "b")),
        Where("email", Op.EQ, "c"),
    )


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "\u3000\ufeff", None])
def test_empty_and_whitespace_mean_no_filter(text: str | None) -> None:
    parsed = parse_where(text, Item)
    assert parsed == NO_FILTER
    assert parsed.where == EMPTY_WHERE
    assert isinstance(parsed.where, WhereGroup) and parsed.where.is_empty
    assert parsed.warning is None and parsed.ast is None


@pytest.mark.parametrize("text", ["_id = u1", "project = ein:Project:p1", "email ~= '@x.com'"])
def test_id_and_ref_fields_are_filterable(text: str) -> None:
    assert isinstance(where(text), Where)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("unknown=x", "unknown"),
        ("name=Acme OR nope=1", "nope"),
        ("(name=a AND (status=b OR bogus=c))", "bogus"),
        ("tasks=1", "tasks"),  # collection fields are not filterable (MAXTRIO, B16)
        ("_ref=ein:Item:1", "_ref"),  # _ref may only be selected
        ("Name=Acme", "Name"),
        ("NOT nope IS NULL", "nope"),  # MAXTRIO: in every kind of condition
        ("name=a AND NOT (nope IN (1, 2))", "nope"),
    ],
)
def test_unknown_fields(text: str, field: str) -> None:
    with pytest.raises(MaxError) as info:
        parse_where(text, Item)
    err = info.value
    assert err.code == "cli.filter_parse"
    assert err.has("BadInput")
    valid = "_id, name, active, priority, status, email, count, project"
    reason = f'Unknown field "{field}". Valid fields: {valid}'
    assert err.data["reason"] == reason
    assert err.data["expression"] == text
    assert err.data["field"] == field
    assert err.data["index"] == text.index(field)
    assert err.message == f'Invalid filter "{text}" — {reason}'


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("nmae = x", 'did you mean "name"?'),
        ("Name = x", 'did you mean "name"?'),
        ("priorty IS NULL", 'did you mean "priority"?'),
        ("name = x OR stauts IN (a)", 'did you mean "status"?'),
        ("zzz = 1", None),
    ],
)
def test_unknown_fields_suggest_the_closest_field(text: str, hint: str | None) -> None:
    with pytest.raises(MaxError) as info:
        parse_where(text, Item)
    assert info.value.data.get("hint") == hint


def test_huge_and_unprintable_filters_are_quoted_shortly() -> None:
    """The error line quotes at most ~200 characters of the filter, escapes included."""
    huge = "nope = 1 AND " + " AND ".join(f"name = v{i}" for i in range(3000))
    with pytest.raises(MaxError) as info:
        parse_where(huge, Item)
    assert len(info.value.message) < 500
    assert info.value.data["expression"] == huge  # the data keeps it whole
    assert '"nope = 1 AND name = v0 AND' in info.value.message
    with pytest.raises(MaxError) as info:
        parse_where("name = 'a\nb' AND x\u2028y = 1\x00", Item)
    message = info.value.message
    assert message.isprintable() and "\\n" in message and "\\u2028" in message
    long_name = "f" * 10_000
    with pytest.raises(MaxError) as info:
        parse_where(f"{long_name} = 1", Item)
    assert len(info.value.message) < 600
    with pytest.raises(MaxError) as info:
        parse_where(f"{long_name} 1", Item)  # a syntax error that names the field
    assert len(info.value.message) < 400


def test_first_unknown_field_from_the_left_is_reported() -> None:
    with pytest.raises(MaxError) as info:
        parse_where("a=1 OR (b=2 AND name=x)", Item)
    assert info.value.data["field"] == "a"


@pytest.mark.parametrize("text", ["name=", "name Acme", "name=Acme AND", "nosuch==1"])
def test_syntax_errors_are_parse_failed_not_wrapped(text: str) -> None:
    with pytest.raises(MaxError) as info:
        parse_where(text, Item)
    assert info.value.code == "query-parser.parse_failed"
    assert info.value.cause is None


def test_result_carries_the_ast_and_the_warning() -> None:
    parsed = parse_where("  name=a OR status=b AND active=true  ", Item)
    assert parsed.ast == parse_filter("name=a OR status=b AND active=true")
    assert parsed.warning is not None
    assert "(name=a OR status=b) AND active=true" in parsed.warning
    assert parse_where("(name=a OR status=b) AND active=true", Item).warning is None


def test_entity_with_no_fields() -> None:
    empty = EntityDef.create("Empty")
    assert parse_where("_id=x", empty).where == Where("_id", Op.EQ, "x")
    with pytest.raises(MaxError) as info:
        parse_where("name=x", empty)
    assert info.value.data["reason"] == 'Unknown field "name". Valid fields: _id'
