"""Writing and reading single entities.

Every test runs against both engines (the ``engine`` fixture is parametrized).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import apsw
import pytest

from maxtrio.core import (
    ALL,
    INSTALLATION,
    EntityDef,
    EntityInput,
    EntityResult,
    Field,
    FieldSelector,
    PageRequest,
    Ref,
    WorkspaceScope,
)
from maxtrio.storage import Engine, InMemoryEngine, SqliteEngine

from .conftest import OpenEngine
from .entities import (
    ACME,
    AcmeProject,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
    Stranger,
    all_ids,
    raises_max,
)

JOINED = datetime(2026, 3, 8, 18, 18, 39, 123456, tzinfo=UTC)


def alice(**overrides: Any) -> EntityInput:
    fields: dict[str, Any] = {
        "displayName": "Alice",
        "email": "alice@acme.test",
        "role": "admin",
        "active": True,
        "score": 3,
        "joined": JOINED,
        "avatarURL": "https://acme.test/a.png",
    }
    fields.update(overrides)
    return AcmeUser.input("u1", fields)


async def stored_row(engine: Engine, entity: EntityDef, id_: str) -> dict[str, Any]:
    return (await engine.load(entity.ref(id_))).to_dict()


# -- round trips --------------------------------------------------------------------------------


class TestRoundTrip:
    async def test_every_scalar_kind_comes_back_typed(self, engine: Engine) -> None:
        await engine.store(alice())
        user = await engine.load(AcmeUser.ref("u1"))
        assert user.get("displayName") == "Alice"
        assert user.get("email") == "alice@acme.test"
        assert user.get("active") is True
        score = user.get("score")
        assert type(score) is float and score == 3.0
        assert user.get("avatarURL") == "https://acme.test/a.png"
        assert user.id == "u1" and user.get("_id") == "u1"
        assert user.get("_ref") == "ein:AcmeUser:u1"

    async def test_false_comes_back_as_false_not_none(self, engine: Engine) -> None:
        await engine.store(alice(active=False))
        assert (await engine.load_field(AcmeUser.ref("u1"), "active")) is False

    async def test_dates_are_aware_utc_with_millisecond_precision(self, engine: Engine) -> None:
        await engine.store(alice())
        joined = (await engine.load(AcmeUser.ref("u1"))).get("joined")
        assert isinstance(joined, datetime)
        assert joined.utcoffset() == timedelta(0)
        assert joined == JOINED.replace(microsecond=123000)

    @pytest.mark.parametrize(
        ("given", "expected"),
        [
            (
                datetime(2026, 3, 8, 20, 0, tzinfo=timezone(timedelta(hours=2))),
                datetime(2026, 3, 8, 18, 0, tzinfo=UTC),
            ),
            (datetime(2026, 3, 8, 18, 0, 0, 999999), datetime(2026, 3, 8, 18, 0, 0, 999000, UTC)),
            ("2024-01-15", datetime(2024, 1, 15, tzinfo=UTC)),
            ("2024-01-15T10:30:00+01:00", datetime(2024, 1, 15, 9, 30, tzinfo=UTC)),
            ("2026-03-08T18:18:39.000Z", datetime(2026, 3, 8, 18, 18, 39, tzinfo=UTC)),
            (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ],
        ids=["other-zone", "naive-is-utc", "date-text", "offset-text", "iso-z", "year-999"],
    )
    async def test_date_inputs_normalise_to_utc(
        self, engine: Engine, given: datetime | str, expected: datetime
    ) -> None:
        await engine.store(alice(joined=given))
        joined = await engine.load_field(AcmeUser.ref("u1"), "joined")
        assert isinstance(joined, datetime)
        assert joined.utcoffset() == timedelta(0)
        assert joined == expected

    async def test_dates_are_stored_as_iso_text(self, sqlite_engine: SqliteEngine) -> None:
        await sqlite_engine.store(alice())
        rows = sqlite_engine.database.read_sync(
            lambda c: list(c.execute('SELECT "joined", typeof("joined") FROM "_acme_user"'))
        )
        assert rows == [("2026-03-08T18:18:39.123Z", "text")]

    @pytest.mark.parametrize(
        "owner",
        [
            Ref(AcmeUser, "u1"),
            Ref(AcmeUser, "u1", WorkspaceScope("inst-9")),
            "ein:AcmeUser:u1",
            "ews:inst-9:AcmeUser:u1",
            "u1",
        ],
        ids=["ref", "workspace-ref", "refkey", "workspace-refkey", "bare-id"],
    )
    async def test_refs_load_as_installation_refs_to_the_target(
        self, engine: Engine, owner: Ref | str
    ) -> None:
        await engine.store(AcmeProject.input("p1", name="Alpha", owner=owner))
        loaded = await engine.load_field(AcmeProject.ref("p1"), "owner")
        assert isinstance(loaded, Ref)
        assert loaded.entity_def is AcmeUser
        assert loaded.id == "u1"
        assert loaded.scope == INSTALLATION

    async def test_a_ref_target_given_by_name_resolves_through_the_schema(
        self, engine: Engine
    ) -> None:
        await engine.store(AcmeTask.input("t1", title="Write", project="ein:AcmeProject:p1"))
        project = await engine.load_field(AcmeTask.ref("t1"), "project")
        assert project == Ref(AcmeProject, "p1")
        assert project.entity_def is AcmeProject

    async def test_ids_with_colons_round_trip(self, engine: Engine) -> None:
        await engine.store(AcmeProject.input("org:42:p1", owner="ein:AcmeUser:team:7"))
        project = await engine.load(AcmeProject.ref("org:42:p1"))
        assert project.id == "org:42:p1"
        assert project.get("owner").id == "team:7"

    async def test_nan_is_stored_as_null(self, engine: Engine) -> None:
        await engine.store(alice(score=math.nan))
        assert (await engine.load_field(AcmeUser.ref("u1"), "score")) is None

    async def test_large_and_special_numbers(self, engine: Engine) -> None:
        for i, value in enumerate([2**63 + 5, -(2**70), math.inf, -0.0, 1e-300]):
            await engine.store(AcmeUser.input(f"n{i}", score=value))
            loaded = await engine.load_field(AcmeUser.ref(f"n{i}"), "score")
            assert type(loaded) is float and loaded == float(value)


class TestStoreReturns:
    async def test_store_returns_an_installation_scoped_ref(self, engine: Engine) -> None:
        scoped = EntityInput(Ref(AcmeUser, "u7", WorkspaceScope("inst-1")), {"role": "x"})
        ref = await engine.store(scoped)
        assert ref == Ref(AcmeUser, "u7")
        assert ref.entity_def is AcmeUser
        assert ref.scope == INSTALLATION
        assert ref.to_key() == "ein:AcmeUser:u7"

    async def test_store_many_of_nothing_is_a_no_op(self, engine: Engine) -> None:
        await engine.store_many([])
        assert await engine.count(AcmeUser) == 0

    async def test_count(self, engine: Engine) -> None:
        await engine.store_many([AcmeUser.input(f"u{i}") for i in range(5)])
        await engine.store(AcmeUser.input("u1", role="again"))
        assert await engine.count(AcmeUser) == 5
        assert await engine.count(AcmeProject) == 0


# -- field selection on load ------------------------------------------------------------------


class TestLoad:
    async def test_selecting_two_fields_loads_only_those(self, engine: Engine) -> None:
        await engine.store(alice())
        user = await engine.load(AcmeUser.ref("u1"), FieldSelector.select("displayName", "email"))
        assert user.has("displayName") and user.has("email")
        assert not user.has("role")
        assert user.has("_id") and user.has("_ref")
        assert user.loaded_fields() == ["_id", "displayName", "email"]
        with raises_max("core.field_not_loaded"):
            user.get("role")
        assert user.maybe_get("role") is None

    async def test_unknown_and_collection_names_are_ignored_by_load(self, engine: Engine) -> None:
        await engine.store(AcmeProject.input("p1", name="Alpha"))
        project = await engine.load(AcmeProject.ref("p1"), FieldSelector.select("name", "tasks"))
        assert project.to_dict() == {"_id": "p1", "name": "Alpha"}
        nothing = await engine.load(AcmeProject.ref("p1"), FieldSelector.select("nope"))
        assert nothing.to_dict() == {"_id": "p1"}

    async def test_all_loads_every_stored_field_in_declaration_order(self, engine: Engine) -> None:
        await engine.store(AcmeProject.input("p1", status="open"))
        project = await engine.load(AcmeProject.ref("p1"), ALL)
        assert project.loaded_fields() == ["_id", "name", "description", "status", "owner"]
        assert project.to_dict() == {
            "_id": "p1",
            "name": None,
            "description": None,
            "status": "open",
            "owner": None,
        }
        assert project.has("name")  # NULL columns are loaded as None

    async def test_missing_entity(self, engine: Engine) -> None:
        with raises_max("storage.entity_not_found") as caught:
            await engine.load(AcmeUser.ref("nope"))
        assert caught.value.message == "AcmeUser not found: nope"
        assert caught.value.has("NotFound")
        assert caught.value.data == {"entityType": "AcmeUser", "entityId": "nope"}

    async def test_entity_with_only_a_collection_field_loads(self, engine: Engine) -> None:
        """Reference bug B12: an empty select list was a SQL syntax error."""
        ref = await engine.store(AcmeWorkspace.input("ws1", users=[AcmeUser.ref("u1")]))
        workspace = await engine.load(ref, ALL)
        assert workspace.to_dict() == {"_id": "ws1"}
        assert (await engine.load(ref, FieldSelector.select("users"))).to_dict() == {"_id": "ws1"}
        assert await all_ids(engine, AcmeWorkspace) == ["ws1"]
        with raises_max("storage.entity_not_found"):
            await engine.load(AcmeWorkspace.ref("ws2"), ALL)


class TestLoadField:
    async def test_string_boolean_and_ref_fields(self, engine: Engine) -> None:
        await engine.store(alice())
        await engine.store(AcmeProject.input("p1", owner="u1"))
        assert await engine.load_field(AcmeUser.ref("u1"), "email") == "alice@acme.test"
        assert await engine.load_field(AcmeUser.ref("u1"), "active") is True
        assert await engine.load_field(AcmeProject.ref("p1"), "owner") == Ref(AcmeUser, "u1")
        assert await engine.load_field(AcmeProject.ref("p1"), "name") is None

    @pytest.mark.parametrize("field", ["nope", "tasks", "_ref"])
    async def test_unknown_or_collection_field(self, engine: Engine, field: str) -> None:
        await engine.store(AcmeProject.input("p1", name="Alpha"))
        with raises_max("storage.field_not_found") as caught:
            await engine.load_field(AcmeProject.ref("p1"), field)
        assert caught.value.message == f"Field '{field}' not found on AcmeProject"
        assert caught.value.has("NotFound") and caught.value.has("HasEntityField")

    async def test_missing_entity(self, engine: Engine) -> None:
        with raises_max("storage.entity_not_found"):
            await engine.load_field(AcmeUser.ref("ghost"), "email")

    async def test_a_collection_without_via_is_not_stored(self, engine: Engine) -> None:
        load_collection = engine.load_collection
        with raises_max("storage.collection_not_supported") as caught:
            await load_collection(AcmeWorkspace.ref("w1"), "users")
        assert caught.value.message == "loadCollection not yet implemented"
        assert caught.value.has("NotImplemented")

    async def test_a_collection_is_answered_from_the_childrens_ref(self, engine: Engine) -> None:
        await engine.store_many(
            [
                AcmeTask.input("t3", title="c", project=AcmeProject.ref("p1")),
                AcmeTask.input("t1", title="a", project=AcmeProject.ref("p1")),
                AcmeTask.input("t2", title="b", project=AcmeProject.ref("p2")),
                AcmeTask.input("t4", title="d"),
            ]
        )

        first = await engine.load_collection(AcmeProject.ref("p1"), "tasks", PageRequest(None, 1))
        rest = await engine.load_collection(
            AcmeProject.ref("p1"), "tasks", PageRequest(first.cursor, 10)
        )
        none = await engine.load_collection(AcmeProject.ref("p9"), "tasks")

        assert [r.id for r in first.items] == ["t1"] and first.has_more
        assert [r.id for r in rest.items] == ["t3"] and not rest.has_more
        assert all(r.entity_type == "AcmeTask" for r in first.items + rest.items)
        assert none.items == [] and not none.has_more


# -- merge upserts ------------------------------------------------------------------------------


class TestMergeUpsert:
    async def test_a_then_b_keeps_both(self, engine: Engine) -> None:
        await engine.store(AcmeUser.input("u1", displayName="Alice"))
        await engine.store(AcmeUser.input("u1", email="alice@acme.test"))
        user = await stored_row(engine, AcmeUser, "u1")
        assert user["displayName"] == "Alice"
        assert user["email"] == "alice@acme.test"

    async def test_an_update_replaces_the_values_it_provides(self, engine: Engine) -> None:
        await engine.store(alice())
        await engine.store(alice(displayName="Alicia", role="member", active=False, score=9.5))
        user = await stored_row(engine, AcmeUser, "u1")
        assert user["displayName"] == "Alicia"
        assert user["role"] == "member"
        assert user["active"] is False
        assert user["score"] == 9.5
        assert user["email"] == "alice@acme.test"

    async def test_explicit_none_clears_a_field(self, engine: Engine) -> None:
        await engine.store(alice())
        await engine.store(AcmeUser.input("u1", email=None, joined=None))
        user = await stored_row(engine, AcmeUser, "u1")
        assert user["email"] is None and user["joined"] is None
        assert user["displayName"] == "Alice"

    async def test_an_input_with_no_fields_creates_but_never_blanks(self, engine: Engine) -> None:
        await engine.store(AcmeUser.input("stub"))
        assert await stored_row(engine, AcmeUser, "stub") == {
            "_id": "stub",
            **dict.fromkeys(AcmeUser.stored_field_names),
        }
        await engine.store(alice())
        await engine.store(AcmeUser.input("u1"))  # a stub re-store (docs/storage.md)
        assert (await stored_row(engine, AcmeUser, "u1"))["displayName"] == "Alice"

    async def test_unknown_and_collection_keys_are_ignored(self, engine: Engine) -> None:
        await engine.store(
            AcmeProject.input("p1", name="Alpha", tasks=[AcmeTask.ref("t1")], nonsense=1)
        )
        assert await stored_row(engine, AcmeProject, "p1") == {
            "_id": "p1",
            "name": "Alpha",
            "description": None,
            "status": None,
            "owner": None,
        }

    async def test_same_size_inputs_with_an_ignored_key_keep_every_field(
        self, engine: Engine
    ) -> None:
        """One batch, one type, equally many keys, but different ones: no field is dropped."""
        await engine.store_many(
            [
                AcmeProject.input("p1", name="Alpha", tasks=[]),
                AcmeProject.input("p2", name="Beta", status="open"),
                AcmeProject.input("p3", name="Gamma", description="third"),
            ]
        )
        assert (await stored_row(engine, AcmeProject, "p1"))["name"] == "Alpha"
        p2 = await stored_row(engine, AcmeProject, "p2")
        assert (p2["name"], p2["status"]) == ("Beta", "open")
        p3 = await stored_row(engine, AcmeProject, "p3")
        assert (p3["name"], p3["description"]) == ("Gamma", "third")

    async def test_input_of_another_registered_type_goes_to_its_own_table(
        self, engine: Engine
    ) -> None:
        await engine.store_many(
            [
                AcmeProject.input("p1", name="Alpha", owner="u9"),
                AcmeUser.input("u9", displayName="Owner"),
                AcmeTask.input("t1", title="Plan", project="p1"),
            ]
        )
        assert await all_ids(engine, AcmeProject) == ["p1"]
        assert await all_ids(engine, AcmeUser) == ["u9"]
        assert await all_ids(engine, AcmeTask) == ["t1"]
        assert (await stored_row(engine, AcmeUser, "u9"))["displayName"] == "Owner"

    async def test_duplicate_ids_in_one_batch_apply_in_order(self, engine: Engine) -> None:
        await engine.store_many(
            [
                AcmeUser.input("u1", displayName="first", email="e1"),
                AcmeUser.input("u1", displayName="second", email="e2"),
                AcmeUser.input("u2", displayName="other", email="e3"),
                AcmeUser.input("u1", displayName="third", email=None),
            ]
        )
        u1 = await stored_row(engine, AcmeUser, "u1")
        assert (u1["displayName"], u1["email"]) == ("third", None)
        assert (await stored_row(engine, AcmeUser, "u2"))["email"] == "e3"

    async def test_mixed_field_sets_in_one_batch_keep_input_order(self, engine: Engine) -> None:
        await engine.store_many(
            [
                AcmeUser.input("u1", displayName="a"),
                AcmeUser.input("u1", email="e"),
                AcmeProject.input("p1", name="x"),
                AcmeUser.input("u1", displayName="c", role="r"),
                AcmeUser.input("u1", role=None),
                AcmeProject.input("p1", name="y"),
                AcmeUser.input("u1", displayName="d"),
            ]
        )
        user = await stored_row(engine, AcmeUser, "u1")
        assert (user["displayName"], user["email"], user["role"]) == ("d", "e", None)
        assert (await stored_row(engine, AcmeProject, "p1"))["name"] == "y"


# -- bad input: a MaxError, and nothing of the batch written -------------------------------------


BAD_VALUES = [
    (AcmeUser, "displayName", 5, "a string"),
    (AcmeUser, "displayName", b"bytes", "a string"),
    (AcmeUser, "score", "5", "a number"),
    (AcmeUser, "score", True, "a number"),
    (AcmeUser, "active", 1, "a boolean"),
    (AcmeUser, "active", "true", "a boolean"),
    (AcmeUser, "joined", "not a date", "a date"),
    (AcmeUser, "joined", 1_700_000_000, "a date"),
    (AcmeTask, "project", 5, "a ref"),
    (AcmeTask, "project", ["p1"], "a ref"),
]


class TestInvalidInput:
    @pytest.mark.parametrize(
        ("entity", "field", "value", "expected"),
        BAD_VALUES,
        ids=[f"{e.name}.{f}={v!r}" for e, f, v, _ in BAD_VALUES],
    )
    async def test_wrong_type_fails_the_whole_batch(
        self, engine: Engine, entity: EntityDef, field: str, value: Any, expected: str
    ) -> None:
        await engine.store(entity.input("keep", {field: None}))
        batch = [
            entity.input("a1", {field: None}),
            entity.input("keep", {field: None}),
            entity.input("bad", {field: value}),
            entity.input("a2", {field: None}),
        ]
        with raises_max("storage.invalid_value") as caught:
            await engine.store_many(batch)
        error = caught.value
        assert error.has("BadInput") and error.has("HasEntityField")
        assert error.data["entityType"] == entity.name
        assert error.data["field"] == field
        assert error.data["entityId"] == "bad"
        assert error.message.startswith(f"Invalid value for {entity.name}.{field} (id bad)")
        assert f"expected {expected}" in error.message
        assert type(value).__name__ in error.message
        assert await all_ids(engine, entity) == ["keep"]

    async def test_a_bad_value_in_a_later_run_writes_nothing_at_all(self, engine: Engine) -> None:
        await engine.store(alice())
        batch = [
            AcmeUser.input("u1", displayName="changed"),
            AcmeProject.input("p1", name="Alpha"),
            AcmeUser.input("u2", email="b@acme.test", role="member"),
            AcmeUser.input("u3", email="c@acme.test", role=7),
        ]
        with raises_max("storage.invalid_value") as caught:
            await engine.store_many(batch)
        assert caught.value.data["entityId"] == "u3"
        assert await all_ids(engine, AcmeUser) == ["u1"]
        assert await all_ids(engine, AcmeProject) == []
        assert (await stored_row(engine, AcmeUser, "u1"))["displayName"] == "Alice"

    async def test_the_table_holds_nothing_of_a_failed_batch(self, db_path: Path) -> None:
        """Checked in the SQLite file itself, through a connection of its own."""
        async with SqliteEngine.open(db_path, ACME) as engine:
            with raises_max("storage.invalid_value"):
                await engine.store_many(
                    [AcmeUser.input(f"u{i}", score=i) for i in range(100)]
                    + [AcmeUser.input("u100", score="lots")]
                )
        conn = apsw.Connection(str(db_path))
        assert list(conn.execute('SELECT count(*) FROM "_acme_user"')) == [(0,)]
        conn.close()

    async def test_non_string_id(self, engine: Engine) -> None:
        with raises_max("storage.invalid_value") as caught:
            await engine.store_many([AcmeUser.input("ok"), EntityInput(Ref(AcmeUser, 5), {})])
        assert caught.value.data["field"] == "_id"
        assert "a string id" in caught.value.message
        assert await engine.count(AcmeUser) == 0

    async def test_text_that_is_not_unicode_scalar_values(self, engine: Engine) -> None:
        """A lone surrogate (JSON ``"\\ud800"`` decodes to one) cannot be stored as UTF-8."""
        with raises_max("storage.invalid_value") as caught:
            await engine.store_many(
                [AcmeUser.input("ok", displayName="fine"), AcmeUser.input("u2", email="x\ud800")]
            )
        assert caught.value.data["field"] == "email"
        assert caught.value.data["entityId"] == "u2"
        assert await engine.count(AcmeUser) == 0

    async def test_unknown_entity_type(self, engine: Engine) -> None:
        for call in (
            lambda: engine.store(Stranger.input("s1", name="x")),
            lambda: engine.store_many([AcmeUser.input("u1"), Stranger.input("s1")]),
            lambda: engine.load(Stranger.ref("s1")),
            lambda: engine.load_field(Stranger.ref("s1"), "name"),
            lambda: engine.load_page(Stranger),
            lambda: engine.count(Stranger),
        ):
            with raises_max("storage.entity_not_registered") as caught:
                await call()
            assert caught.value.message == "Entity 'Stranger' not registered in schema"
            assert caught.value.has("InvariantViolated")
        assert await engine.count(AcmeUser) == 0

    async def test_same_name_def_from_another_schema_uses_the_registered_table(
        self, open_engine: OpenEngine
    ) -> None:
        """Stores key tables by type name."""
        engine = open_engine(ACME)
        twin = EntityDef.create("AcmeUser", {"displayName": Field.string()})
        await engine.store(twin.input("u1", displayName="Twin"))
        assert await engine.load_field(AcmeUser.ref("u1"), "displayName") == "Twin"


async def test_engines_expose_the_same_results_for_a_fixed_batch(db_path: Path) -> None:
    """One batch through both engines: identical loaded entities, field for field."""
    batch = [
        alice(),
        AcmeUser.input("u2", displayName="Bob", active=False, score=-1.5),
        AcmeProject.input("p1", name="Alpha", owner=Ref(AcmeUser, "u1"), status="open"),
        AcmeTask.input("t1", title="Plan", due="2024-02-29T12:00:00Z", done=True, order="1"),
        AcmeUser.input("u2", email=None, joined=datetime(2020, 1, 1, tzinfo=UTC)),
    ]
    memory = InMemoryEngine(ACME)
    async with SqliteEngine.open(db_path, ACME) as sqlite:
        for engine in (memory, sqlite):
            await engine.store_many(batch)
        loaded: list[list[EntityResult]] = []
        for engine in (memory, sqlite):
            loaded.append(
                [
                    await engine.load(ref)
                    for ref in (
                        AcmeUser.ref("u1"),
                        AcmeUser.ref("u2"),
                        AcmeProject.ref("p1"),
                        AcmeTask.ref("t1"),
                    )
                ]
            )
    assert [r.to_dict() for r in loaded[0]] == [r.to_dict() for r in loaded[1]]


class TestDateText:
    """Date text: the stored form passes as it is, a day means midnight UTC, other ISO forms
    are converted, and text that is no calendar date is refused."""

    async def test_forms(self, engine: Engine) -> None:
        await engine.store_many(
            [
                AcmeUser.input("u1", joined="2026-03-08T14:03:27.512Z"),
                AcmeUser.input("u2", joined="2026-03-08"),
                AcmeUser.input("u3", joined="2026-03-08T14:03:27+01:00"),
                AcmeUser.input("u4", joined=None),
            ]
        )
        rows = {
            ref: (await engine.load(AcmeUser.ref(ref))).get("joined")
            for ref in ("u1", "u2", "u3", "u4")
        }

        assert {k: v.isoformat() if v else v for k, v in rows.items()} == {
            "u1": "2026-03-08T14:03:27.512000+00:00",
            "u2": "2026-03-08T00:00:00+00:00",
            "u3": "2026-03-08T13:03:27+00:00",
            "u4": None,
        }

    @pytest.mark.parametrize("text", ["2026-02-31T10:00:00.000Z", "2026-13-01", "yesterday"])
    async def test_not_a_date(self, engine: Engine, text: str) -> None:
        with raises_max("storage.invalid_value"):
            await engine.store_many([AcmeUser.input("u1", joined=text)])


class TestColumns:
    """Column batches store exactly what the same inputs store, in order with inputs."""

    async def test_columns_and_inputs_together(self, engine: Engine) -> None:
        from maxtrio.core import EntityColumns

        await engine.store_many(
            [
                AcmeUser.input("u1", displayName="first"),
                EntityColumns(
                    AcmeUser,
                    ["u1", "u2"],
                    {"displayName": ["second", "B"], "joined": ["2026-03-08", None]},
                ),
                AcmeUser.input("u2", email="b@x"),
            ]
        )
        one = await engine.load(AcmeUser.ref("u1"))
        two = await engine.load(AcmeUser.ref("u2"))

        assert one.get("displayName") == "second"  # the later write wins, in input order
        assert one.get("joined").isoformat() == "2026-03-08T00:00:00+00:00"
        assert (two.get("displayName"), two.get("email")) == ("B", "b@x")

    async def test_a_bad_value_in_a_column_names_its_entity(self, engine: Engine) -> None:
        from maxtrio.core import EntityColumns

        batch = EntityColumns(AcmeUser, ["u1", "u2"], {"active": [True, "yes"]})
        with raises_max("storage.invalid_value") as caught:
            await engine.store_many([batch])
        assert caught.value.data["entityId"] == "u2" and caught.value.data["field"] == "active"
