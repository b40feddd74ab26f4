"""Table and column naming, collisions, layout and migration (docs/storage.md,
reference bug B13)."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from maxtrio.core import ALL, EntityDef, Field, Op, Query, Ref, Schema
from maxtrio.storage import (
    InMemoryEngine,
    SqliteEngine,
    column_name,
    is_text_index_table,
    quote,
    snake_case,
    table_name,
)

from .conftest import OpenEngine
from .entities import ACME, all_ids, ids_of, raises_max

SYNC_STATE = ("_synced_at", "_synced_mask", "_seen")


def columns_of(path: Path, table: str) -> list[tuple[str, str]]:
    """``(name, declared type)`` of a table's entity columns (the sync-state columns every
    entity table carries are checked on their own), read through a connection of our own."""
    return [c for c in all_columns_of(path, table) if c[0] not in SYNC_STATE]


def all_columns_of(path: Path, table: str) -> list[tuple[str, str]]:
    conn = apsw.Connection(str(path))
    try:
        return [(row[1], row[2]) for row in conn.execute(f"PRAGMA table_info({quote(table)})")]
    finally:
        conn.close()


def index_sql(path: Path, name: str) -> str:
    conn = apsw.Connection(str(path))
    try:
        ((sql,),) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,))
        return str(sql)
    finally:
        conn.close()


def tables_of(path: Path, *, text_indexes: bool = False) -> list[str]:
    """The tables of a file (without the full-text indexes and their shadow tables unless
    ``text_indexes``)."""
    conn = apsw.Connection(str(path))
    try:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        names = [row[0] for row in conn.execute(sql)]
        return names if text_indexes else [n for n in names if not is_text_index_table(n)]
    finally:
        conn.close()


def run_sql(path: Path, *statements: str) -> None:
    conn = apsw.Connection(str(path))
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


# -- naming -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sql_name"),
    [
        ("AcmeUser", "_acme_user"),
        ("AcmeTask", "_acme_task"),
        ("AcmeWorkspace", "_acme_workspace"),
        ("TestUser", "_test_user"),
        ("displayName", "display_name"),
        ("avatarURL", "avatar_u_r_l"),
        ("title", "title"),
        ("already_snake", "already_snake"),
        ("Émile", "Émile"),  # only ASCII capitals change
    ],
)
def test_snake_case(name: str, sql_name: str) -> None:
    assert snake_case(name) == sql_name
    assert table_name(name) == column_name(name) == sql_name


def test_quote_doubles_embedded_quotes() -> None:
    assert quote("order") == '"order"'
    assert quote('we"ird') == '"we""ird"'


async def test_acme_tables_have_the_documented_layout(db_path: Path) -> None:
    """One column per stored field in declaration order; no collection column."""
    SqliteEngine.open(db_path, ACME).close()
    tables = tables_of(db_path, text_indexes=True)
    assert [t for t in tables if not is_text_index_table(t)] == [
        "_acme_project",
        "_acme_task",
        "_acme_user",
        "_acme_workspace",
    ]
    assert "_max_text_index" in tables  # the indexes' watermarks
    # Types with string fields have a full-text index (FTS5 and its shadow tables).
    assert {t for t in tables if t.endswith("_fts")} == {
        "_acme_project_fts",
        "_acme_task_fts",
        "_acme_user_fts",
    }
    assert columns_of(db_path, "_acme_user") == [
        ("_id", "TEXT"),
        ("display_name", "TEXT"),
        ("email", "TEXT"),
        ("role", "TEXT"),
        ("active", "INTEGER"),
        ("score", "REAL"),
        ("joined", "TEXT"),
        ("avatar_u_r_l", "TEXT"),
    ]
    assert columns_of(db_path, "_acme_project") == [
        ("_id", "TEXT"),
        ("name", "TEXT"),
        ("description", "TEXT"),
        ("status", "TEXT"),
        ("owner", "TEXT"),
    ]
    assert columns_of(db_path, "_acme_workspace") == [("_id", "TEXT")]
    # Every entity table ends with the sync state a sync writes on the row.
    assert all_columns_of(db_path, "_acme_project")[-3:] == [(c, "INTEGER") for c in SYNC_STATE]
    conn = apsw.Connection(str(db_path))
    ((ddl,),) = conn.execute("SELECT sql FROM sqlite_master WHERE name = '_acme_project'")
    conn.close()
    assert ddl.startswith('CREATE TABLE "_acme_project" (_id TEXT NOT NULL, "name" TEXT,')
    assert ddl.count("NOT NULL") == 1 and "REFERENCES" not in ddl
    # Ids are unique through their own index, which a bulk load drops and builds again.
    assert index_sql(db_path, "_max_id__acme_project") == (
        'CREATE UNIQUE INDEX "_max_id__acme_project" ON "_acme_project" (_id)'
    )


# -- collisions -------------------------------------------------------------------------------


async def test_two_fields_mapping_to_one_column_are_rejected(open_engine: OpenEngine) -> None:
    clash = EntityDef.create("Clash", {"fooBar": Field.string(), "foo_bar": Field.number()})
    with raises_max("storage.column_collision") as caught:
        open_engine(Schema.create("t", [clash]))
    assert caught.value.has("BadInput")
    assert caught.value.data == {
        "entityType": "Clash",
        "first": "fooBar",
        "second": "foo_bar",
        "column": "foo_bar",
    }
    assert caught.value.message == (
        "Fields 'fooBar' and 'foo_bar' of Clash both map to column \"foo_bar\""
    )


@pytest.mark.parametrize("type_name", ["MaxTasks", "MaxSync", "MaxSyncMeta"])
async def test_types_whose_table_would_be_a_max_table_are_rejected(
    open_engine: OpenEngine, type_name: str
) -> None:
    entity = EntityDef.create(type_name, {"name": Field.string()})
    with raises_max("storage.table_collision") as caught:
        open_engine(Schema.create("t", [entity]))
    assert caught.value.has("BadInput")
    assert caught.value.data["table"] == table_name(type_name)
    assert "reserved for Max's own tables" in caught.value.message


async def test_two_types_mapping_to_one_table_are_rejected(open_engine: OpenEngine) -> None:
    first = EntityDef.create("FooBar", {"a": Field.string()})
    second = EntityDef.create("Foo_bar", {"b": Field.string()})
    with raises_max("storage.table_collision") as caught:
        open_engine(Schema.create("t", [first, second]))
    assert caught.value.message == 'Entity type Foo_bar maps to table "_foo_bar", as FooBar does'


async def test_a_rejected_schema_writes_no_table(db_path: Path) -> None:
    """Opening fails before any table is written, and the file is closed again."""
    clash = EntityDef.create("Clash", {"fooBar": Field.string(), "foo_bar": Field.string()})
    with raises_max("storage.column_collision"):
        SqliteEngine.open(db_path, Schema.create("t", [clash]))
    assert "_clash" not in tables_of(db_path)
    SqliteEngine.open(db_path, ACME).close()  # the file is usable (not left locked)


# -- reserved words ---------------------------------------------------------------------------

Odd = EntityDef.create(
    "Odd",
    {
        "order": Field.string(),
        "group": Field.number(),
        "select": Field.boolean(),
        "from": Field.ref("Odd"),
        'we"ird': Field.string(),
    },
)


async def test_reserved_words_and_quotes_work_as_field_names(open_engine: OpenEngine) -> None:
    engine = open_engine(Schema.create("t", [Odd]))
    await engine.store_many(
        [
            Odd.input("o1", {"order": "b", "group": 2, "select": True, 'we"ird': "x"}),
            Odd.input("o2", {"order": "a", "group": 1, "select": False, "from": "o1"}),
        ]
    )
    query = Query.from_(Odd).where("group", Op.GE, 1).where("select", Op.EQ, False)
    assert ids_of(await engine.query(query.order_by("order").select("order", "from"))) == ["o2"]
    page = await engine.query(Query.from_(Odd).order_by("order", "desc").select_all())
    assert ids_of(page) == ["o1", "o2"]
    loaded = await engine.load(Odd.ref("o2"), ALL)
    assert loaded.get("from") == Ref(Odd, "o1")
    assert (await engine.load(Odd.ref("o1"))).get('we"ird') == "x"


# -- migration (SQLite files) -----------------------------------------------------------------

ScoreV1 = EntityDef.create("TestUser", {"name": Field.string(), "score": Field.number()})
ScoreV2 = EntityDef.create(
    "TestUser",
    {
        "name": Field.string(),
        "score": Field.number(),
        "active": Field.boolean(),
        "role": Field.string(),
    },
)


def v1() -> Schema:
    return Schema.create("t", [ScoreV1])


def v2() -> Schema:
    return Schema.create("t", [ScoreV2])


class TestMigration:
    async def test_ensuring_tables_twice_changes_nothing(self, db_path: Path) -> None:
        async with SqliteEngine.open(db_path, v1()) as engine:
            await engine.store(ScoreV1.input("u1", name="Alice", score=5))
        SqliteEngine.open(db_path, v1()).close()
        assert [name for name, _ in columns_of(db_path, "_test_user")] == ["_id", "name", "score"]
        async with SqliteEngine.open(db_path, v1()) as engine:
            assert (await engine.load(ScoreV1.ref("u1"))).to_dict() == {
                "_id": "u1",
                "name": "Alice",
                "score": 5.0,
            }

    async def test_new_fields_become_columns_with_nulls_in_old_rows(self, db_path: Path) -> None:
        async with SqliteEngine.open(db_path, v1()) as engine:
            await engine.store(ScoreV1.input("old", name="Alice", score=5))
        async with SqliteEngine.open(db_path, v2()) as engine:
            assert columns_of(db_path, "_test_user") == [
                ("_id", "TEXT"),
                ("name", "TEXT"),
                ("score", "REAL"),
                ("active", "INTEGER"),
                ("role", "TEXT"),
            ]
            old = await engine.load(ScoreV2.ref("old"))
            assert old.to_dict() == {
                "_id": "old",
                "name": "Alice",
                "score": 5.0,
                "active": None,
                "role": None,
            }
            await engine.store(ScoreV2.input("new", name="Bob", active=True, role="admin"))
            new = await engine.load(ScoreV2.ref("new"))
            assert (new.get("active"), new.get("role")) == (True, "admin")
            await engine.store(ScoreV2.input("old", active=False))
            assert await engine.load_field(ScoreV2.ref("old"), "name") == "Alice"
            admins = await engine.query(Query.from_(ScoreV2).where("role", "=", "admin").refs())
            assert ids_of(admins) == ["new"]

    async def test_a_removed_field_keeps_its_column_and_is_ignored(self, db_path: Path) -> None:
        async with SqliteEngine.open(db_path, v2()) as engine:
            await engine.store(ScoreV2.input("u1", name="Alice", role="admin"))
        async with SqliteEngine.open(db_path, v1()) as engine:
            assert (await engine.load(ScoreV1.ref("u1"))).to_dict() == {
                "_id": "u1",
                "name": "Alice",
                "score": None,
            }
            await engine.store(ScoreV1.input("u2", name="Bob", score=1))
            with raises_max("storage.field_not_found"):
                await engine.query(Query.from_(ScoreV1).where("role", "=", "admin").refs())
        assert [c for c, _ in columns_of(db_path, "_test_user")] == [
            "_id",
            "name",
            "score",
            "active",
            "role",
        ]

    async def test_a_legacy_id_key_column_is_renamed(self, db_path: Path) -> None:
        run_sql(
            db_path,
            'CREATE TABLE "_test_user" (id TEXT PRIMARY KEY, "name" TEXT, "score" REAL)',
            "INSERT INTO \"_test_user\" VALUES ('u1', 'Alice', 7)",
        )
        async with SqliteEngine.open(db_path, v2()) as engine:
            assert [c for c, _ in columns_of(db_path, "_test_user")] == [
                "_id",
                "name",
                "score",
                "active",
                "role",
            ]
            assert await engine.load_field(ScoreV2.ref("u1"), "score") == 7.0
            await engine.store(ScoreV2.input("u1", role="member"))
            assert await all_ids(engine, ScoreV2) == ["u1"]

    async def test_a_ref_column_added_later_stores_ids(self, db_path: Path) -> None:
        team = EntityDef.create("Team", {"name": Field.string()})
        member_v1 = EntityDef.create("Member", {"name": Field.string()})
        member_v2 = EntityDef.create("Member", {"name": Field.string(), "team": Field.ref(team)})
        async with SqliteEngine.open(db_path, Schema.create("t", [team, member_v1])) as engine:
            await engine.store(member_v1.input("m1", name="Old"))
        async with SqliteEngine.open(db_path, Schema.create("t", [team, member_v2])) as engine:
            await engine.store(member_v2.input("m2", name="New", team="ein:Team:t1"))
            assert await engine.load_field(member_v2.ref("m2"), "team") == Ref(team, "t1")
            assert await engine.load_field(member_v2.ref("m1"), "team") is None
            by_team = Query.from_(member_v2).where("team", "=", Ref(team, "t1")).refs()
            assert ids_of(await engine.query(by_team)) == ["m2"]
        conn = apsw.Connection(str(db_path))
        assert list(conn.execute('SELECT _id, "team" FROM "_member" ORDER BY _id')) == [
            ("m1", None),
            ("m2", "t1"),
        ]
        conn.close()

    async def test_a_reserved_word_field_added_later(self, db_path: Path) -> None:
        """Reference bug B13: the add-column migration did not quote identifiers."""
        before = EntityDef.create("Item", {"name": Field.string()})
        after = EntityDef.create(
            "Item", {"name": Field.string(), "order": Field.number(), "group": Field.string()}
        )
        async with SqliteEngine.open(db_path, Schema.create("t", [before])) as engine:
            await engine.store(before.input("i1", name="first"))
        async with SqliteEngine.open(db_path, Schema.create("t", [after])) as engine:
            await engine.store(after.input("i2", name="second", order=1, group="g"))
            page = await engine.query(
                Query.from_(after).where("group", "=", "g").order_by("order").select_all()
            )
            assert [r.to_dict() for r in page.items] == [
                {"_id": "i2", "name": "second", "order": 1.0, "group": "g"}
            ]
        assert [c for c, _ in columns_of(db_path, "_item")] == ["_id", "name", "order", "group"]

    async def test_a_new_entity_type_gets_its_table(self, db_path: Path) -> None:
        SqliteEngine.open(db_path, v1()).close()
        extra = EntityDef.create("Extra", {"note": Field.string()})
        async with SqliteEngine.open(db_path, Schema.create("t", [ScoreV1, extra])) as engine:
            await engine.store(extra.input("e1", note="hi"))
            assert await engine.count(extra) == 1
        assert tables_of(db_path) == ["_extra", "_test_user"]


def test_in_memory_engine_builds_the_same_tables(db_path: Path) -> None:
    memory = InMemoryEngine(ACME)
    sqlite = SqliteEngine.open(db_path, ACME)
    try:
        for entity in ACME.entities:
            assert memory.table(entity).name == sqlite.table(entity).name
            assert memory.table(entity).columns == sqlite.table(entity).columns
    finally:
        sqlite.close()
