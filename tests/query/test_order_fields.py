"""``--order-by`` and ``--fields``."""

from __future__ import annotations

import pytest

from maxtrio.core import EntityDef, Field, MaxError, Ordering
from maxtrio.query import FIELD_GROUPS, parse_order_by, select_fields

Team = EntityDef.create("Team", {"name": Field.string()})
User = EntityDef.create(
    "User",
    {
        "displayName": Field.string(),
        "email": Field.string(),
        "team": Field.ref(Team),
        "projects": Field.collection(Team),
        "active": Field.boolean(),
    },
)


# -- --order-by -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name", Ordering("name", "asc")),
        ("name:asc", Ordering("name", "asc")),
        ("name:desc", Ordering("name", "desc")),
        ("name:DESC", Ordering("name", "desc")),
        ("name:Desc", Ordering("name", "desc")),
        ("name:down", Ordering("name", "asc")),
        ("name:", Ordering("name", "asc")),
        ("name:desc:x", Ordering("name", "desc")),
        ("name:asc:desc", Ordering("name", "asc")),
        ("_id:desc", Ordering("_id", "desc")),
        (" name : desc ", Ordering("name", "desc")),
        ("collection:desc", Ordering("collection", "desc")),  # no entity: not checked
    ],
)
def test_order_by(text: str, expected: Ordering) -> None:
    assert parse_order_by(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("_id:desc", Ordering("_id", "desc")),
        ("email", Ordering("email")),
        ("team", Ordering("team")),
    ],
)
def test_order_by_a_field_of_the_entity(text: str, expected: Ordering) -> None:
    assert parse_order_by(text, User) == expected


@pytest.mark.parametrize(
    ("text", "field", "hint"),
    [
        ("emial:desc", "emial", 'did you mean "email"?'),
        ("DisplayName", "DisplayName", 'did you mean "displayName"?'),
        ("projects", "projects", None),  # a collection: not sortable
        ("_ref", "_ref", None),
        ("zzzzzz", "zzzzzz", None),
    ],
)
def test_order_by_an_unknown_field(text: str, field: str, hint: str | None) -> None:
    with pytest.raises(MaxError) as info:
        parse_order_by(text, User)
    err = info.value
    assert err.code == "cli.invalid_order_by"
    assert err.data["field"] == field
    assert err.data.get("hint") == hint
    assert err.message == (
        f'Invalid --order-by "{text}" — User has no field "{field}" to sort by '
        "(sortable: _id, displayName, email, team, active)"
    )


@pytest.mark.parametrize("text", ["", ":desc", "  ", " :asc"])
def test_order_by_without_a_field(text: str) -> None:
    with pytest.raises(MaxError) as info:
        parse_order_by(text)
    err = info.value
    assert err.code == "cli.invalid_order_by"
    assert err.has("BadInput")
    assert err.data["orderBy"] == text
    assert err.message.startswith(f'Invalid --order-by "{text}" — ')


# -- --fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, None),
        ("", None),
        (",", None),
        (" , ,, ", None),
        ("email", ("email",)),
        ("email,displayName", ("email", "displayName")),
        (" email , displayName ,", ("email", "displayName")),
        ("email,email,displayName,email", ("email", "displayName")),
        (".meta", ("_id", "_ref")),
        (".props", ("displayName", "email", "team", "active")),
        (".all", ("_id", "_ref", "displayName", "email", "team", "active")),
        ("email,.meta", ("email", "_id", "_ref")),
        ("_id,.props", ("_id", "displayName", "email", "team", "active")),
        (".props,.all", ("displayName", "email", "team", "active", "_id", "_ref")),
        ("_ref,.meta,email,.props", ("_ref", "_id", "email", "displayName", "team", "active")),
        ("\u3000email\ufeff,\u00a0team", ("email", "team")),
    ],
)
def test_select_fields(spec: str | None, expected: tuple[str, ...] | None) -> None:
    assert select_fields(spec, User) == expected


def test_props_leave_out_collection_fields() -> None:
    selected = select_fields(".props", User)
    assert selected is not None and "projects" not in selected


@pytest.mark.parametrize(
    ("spec", "field", "hint", "start"),
    [
        ("email,nosuch", "nosuch", None, 'Unknown field "nosuch"'),
        ("emial", "emial", 'did you mean "email"?', 'Unknown field "emial"'),
        (".meta,ACTIVE", "ACTIVE", 'did you mean "active"?', 'Unknown field "ACTIVE"'),
        ("projects", "projects", None, 'Collection field "projects"'),
    ],
)
def test_unknown_fields_are_errors(spec: str, field: str, hint: str | None, start: str) -> None:
    with pytest.raises(MaxError) as info:
        select_fields(spec, User)
    err = info.value
    assert err.code == "cli.unknown_field"
    assert err.has("BadInput")
    assert (err.data["field"], err.data.get("hint")) == (field, hint)
    assert err.message == (
        f"{start} in --fields. Fields User stores: _id, _ref, displayName, email, team, active"
    )


def test_unknown_names_are_quoted_on_one_short_line() -> None:
    with pytest.raises(MaxError) as info:
        select_fields("x\n" + "y" * 5000, User)
    assert "\n" not in info.value.message and "x\\ny" in info.value.message
    assert len(info.value.message) < 300
    with pytest.raises(MaxError) as info:
        parse_order_by("z" * 5000 + "\x00", User)
    assert len(info.value.message) < 500 and "\x00" not in info.value.message


def test_groups_of_an_entity_without_fields() -> None:
    empty = EntityDef.create("Empty")
    assert select_fields(".props", empty) == ()
    assert select_fields(".all", empty) == ("_id", "_ref")


@pytest.mark.parametrize("group", [".bogus", ".", ".PROPS", ".meta.x"])
def test_unknown_group(group: str) -> None:
    with pytest.raises(MaxError) as info:
        select_fields(f"email,{group}", User)
    err = info.value
    assert err.code == "cli.unknown_field_group"
    assert err.has("BadInput")
    assert err.data == {"group": group, "available": list(FIELD_GROUPS)}
    assert err.message == f'Unknown field group "{group}". Available: .props, .meta, .all'
