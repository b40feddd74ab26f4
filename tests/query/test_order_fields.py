"""``--order-by`` and ``--fields`` (spec sync-engine §15.1, §15.3, §15.5)."""

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
        ("collection:desc", Ordering("collection", "desc")),  # checked by the engine, not here
    ],
)
def test_order_by(text: str, expected: Ordering) -> None:
    assert parse_order_by(text) == expected


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
        ("nosuch", ("nosuch",)),  # unknown plain names are accepted
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
    assert select_fields("projects", User) == ("projects",)  # asked for by name: kept


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
