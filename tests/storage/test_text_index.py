"""The full-text index of entity tables: lagging behind new rows, caught up, migrated, rebuilt.

The property: after any sequence of partial upserts (ids repeated within and across batches,
text set, changed, cleared, left out), deletes and catch-ups, a match for each word finds
exactly the rows a Python model says hold it among the rows at or under the index's watermark;
after each catch-up that is every row, and FTS5's own integrity check against the entity table
passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import apsw
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from maxtrio.core import (
    EntityDef,
    EntityInput,
    EntityQuery,
    Field,
    MaxError,
    Ordering,
    PageRequest,
    Schema,
)
from maxtrio.query import parse_where
from maxtrio.storage import (
    Engine,
    ErrInvalidCursor,
    ErrInvalidTextQuery,
    ErrNoTextFields,
    ErrTextSearchUnsupported,
    InMemoryEngine,
    SqliteEngine,
    is_text_index_table,
)
from maxtrio.storage import _text_index as text_index_module

from ..hypothesis_budget import examples
from .conftest import OpenEngine

Note = EntityDef.create(
    "Note",
    {"title": Field.string(), "body": Field.string(), "size": Field.number()},
)
SCHEMA = Schema.create("notes", [Note])
WORDS = ["alpha", "beta", "gamma", "delta"]

texts = st.one_of(st.none(), st.lists(st.sampled_from(WORDS), min_size=0, max_size=3).map(" ".join))
upserts = st.lists(
    st.tuples(
        st.sampled_from(["n1", "n2", "n3", "n4"]),
        st.fixed_dictionaries({}, optional={"title": texts, "body": texts, "size": st.just(1)}),
    ),
    min_size=1,
    max_size=6,
)
operations = st.lists(
    st.one_of(
        upserts.map(lambda batch: ("upsert", batch)),
        st.lists(st.sampled_from(["n1", "n2", "n3", "n4"]), max_size=2).map(
            lambda ids: ("delete", ids)
        ),
        st.just(("catch_up", None)),
    ),
    min_size=1,
    max_size=10,
)


def check_index(conn: apsw.Connection) -> None:
    """FTS5 compares its index with the entity table (rank 1: against the content too)."""
    conn.execute("INSERT INTO _note_fts(_note_fts, rank) VALUES ('integrity-check', 1)")


def indexed_ids(conn: apsw.Connection) -> set[str]:
    """The rows the index must hold: those at or under its watermark."""
    sql = (
        "SELECT _id FROM _note WHERE rowid <= "
        "(SELECT indexed_to FROM _max_text_index WHERE name = '_note_fts')"
    )
    return {row[0] for row in conn.execute(sql)}


def matches(conn: apsw.Connection, word: str) -> set[str]:
    sql = "SELECT n._id FROM _note n JOIN _note_fts f ON f.rowid = n.rowid WHERE _note_fts MATCH ?"
    return {row[0] for row in conn.execute(sql, (word,))}


@settings(max_examples=examples(60), deadline=None)
@given(operations)
def test_the_index_follows_every_upsert_and_delete(ops: list[tuple[str, Any]]) -> None:
    model: dict[str, dict[str, Any]] = {}

    async def main() -> None:
        engine = SqliteEngine.open(":memory:", SCHEMA)
        try:
            conn = engine.database.writer
            for kind, arg in ops:
                if kind == "upsert":
                    await engine.store_many([EntityInput(Note.ref(i), f) for i, f in arg])
                    for i, fields in arg:
                        model.setdefault(i, {"title": None, "body": None}).update(
                            {k: v for k, v in fields.items() if k != "size"}
                        )
                elif kind == "delete":
                    await engine.delete_many([Note.ref(i) for i in arg])
                    for i in arg:
                        model.pop(i, None)
                else:
                    await engine.index_text()
                    check_index(conn)
                    assert indexed_ids(conn) == set(model)
                indexed = indexed_ids(conn)
                for word in WORDS:
                    expected = {
                        i
                        for i, row in model.items()
                        if i in indexed
                        and any(word in (text or "").split() for text in row.values())
                    }
                    assert matches(conn, word) == expected, (word, model)
        finally:
            engine.close()

    trio.run(main)


async def test_an_existing_file_without_an_index_gets_one_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    engine = SqliteEngine.open(path, SCHEMA)
    await engine.store_many([EntityInput(Note.ref("n1"), {"title": "alpha beta"})])
    engine.close()
    conn = apsw.Connection(str(path))  # a file from before the index existed
    conn.execute("DROP TRIGGER _note_fts_delete; DROP TABLE _note_fts")
    conn.close()
    engine = SqliteEngine.open(path, SCHEMA)
    try:
        check_index(engine.database.writer)
        assert matches(engine.database.writer, "beta") == {"n1"}
    finally:
        engine.close()


async def test_a_new_text_field_rebuilds_the_index_over_it(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    engine = SqliteEngine.open(path, SCHEMA)
    await engine.store_many([EntityInput(Note.ref("n1"), {"title": "alpha"})])
    engine.close()
    wider = EntityDef.create("Note", {**Note.fields, "tags": Field.string()})
    engine = SqliteEngine.open(path, Schema.create("notes", [wider]))
    try:
        await engine.store_many([EntityInput(wider.ref("n1"), {"tags": "gamma"})])
        conn = engine.database.writer
        check_index(conn)
        assert matches(conn, "alpha") == matches(conn, "gamma") == {"n1"}
        columns = [row[1] for row in conn.execute("PRAGMA table_info(_note_fts)")]
        assert columns == ["title", "body", "tags"]
    finally:
        engine.close()


def test_index_tables_are_told_apart_from_entity_tables() -> None:
    for name in ("_note_fts", "_note_fts_data", "_note_fts_idx", "_note_fts_config"):
        assert is_text_index_table(name)
    for name in ("_note", "_fts_note", "_max_tasks", "_note_ftsx"):
        assert not is_text_index_table(name)


async def test_a_sync_style_resync_of_unchanged_rows_does_no_index_work(tmp_path: Path) -> None:
    engine = SqliteEngine.open(tmp_path / "data.db", SCHEMA)
    try:
        batch = [EntityInput(Note.ref(f"n{i}"), {"title": f"alpha {i}"}) for i in range(50)]
        await engine.store_many(batch)
        await engine.index_text()
        conn = engine.database.writer
        before = conn.total_changes()
        await engine.store_many(batch)  # the same text again
        assert conn.total_changes() - before == 50  # the 50 upserts, no index rows
        await engine.store_many([EntityInput(Note.ref("n7"), {"title": "beta"})])
        assert matches(conn, "beta") == {"n7"} and "n7" not in matches(conn, "alpha")
        check_index(conn)
    finally:
        engine.close()


async def test_new_rows_wait_for_a_catch_up_which_a_text_query_makes_first(
    tmp_path: Path,
) -> None:
    engine = SqliteEngine.open(tmp_path / "data.db", SCHEMA)
    try:
        conn = engine.database.writer
        await engine.store_many([EntityInput(Note.ref("n1"), {"title": "alpha"})])
        assert matches(conn, "alpha") == set()  # not indexed yet: the watermark is below it
        page = await engine.query(EntityQuery(Note, text="alpha"))
        assert [item.ref.id for item in page.items] == ["n1"]  # the query caught up first
        assert matches(conn, "alpha") == {"n1"}
        check_index(conn)
    finally:
        engine.close()


async def test_a_new_row_taking_a_deleted_rowid_under_the_watermark_is_indexed_at_once(
    tmp_path: Path,
) -> None:
    """Deleting the newest rows lowers the table's largest rowid below the watermark; SQLite
    gives the next new row the rowid after the largest, which the watermark already covers."""
    engine = SqliteEngine.open(tmp_path / "data.db", SCHEMA)
    try:
        conn = engine.database.writer
        await engine.store_many([EntityInput(Note.ref(f"n{i}"), {"title": "alpha"}) for i in "123"])
        await engine.index_text()
        await engine.delete_many([Note.ref("n3")])
        await engine.store_many([EntityInput(Note.ref("n4"), {"title": "beta"})])
        rowid = next(iter(conn.execute("SELECT rowid FROM _note WHERE _id = 'n4'")))[0]
        assert rowid == 3  # the deleted row's, at the watermark
        assert matches(conn, "beta") == {"n4"}
        check_index(conn)
    finally:
        engine.close()


async def test_an_index_from_before_watermarks_is_taken_as_complete(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    engine = SqliteEngine.open(path, SCHEMA)
    await engine.store_many([EntityInput(Note.ref("n1"), {"title": "alpha"})])
    await engine.index_text()
    engine.close()
    conn = apsw.Connection(str(path))  # as the previous version left it: no watermark, and
    conn.execute(  # a delete trigger without the watermark condition
        "DROP TABLE _max_text_index; DROP TRIGGER _note_fts_delete; "
        "CREATE TRIGGER _note_fts_delete AFTER DELETE ON _note BEGIN INSERT INTO "
        "_note_fts(_note_fts, rowid, title, body) VALUES ('delete', old.rowid, old.title, "
        "old.body); END"
    )
    conn.close()
    engine = SqliteEngine.open(path, SCHEMA)
    try:
        conn = engine.database.writer
        assert matches(conn, "alpha") == {"n1"} and indexed_ids(conn) == {"n1"}
        trigger = next(iter(conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")))
        assert "indexed_to" in trigger[0]
        await engine.delete_many([Note.ref("n1")])
        check_index(conn)
    finally:
        engine.close()


async def test_every_index_buffers_more_terms_than_fts5s_default(tmp_path: Path) -> None:
    """8 MiB of pending terms (FTS5's ``hashsize``; 1 MiB by default): fewer segments to merge
    when a sync's rows are indexed at once. An index made before gets it when the file opens."""
    path = tmp_path / "data.db"

    def hashsize() -> list[tuple[Any, ...]]:
        conn = apsw.Connection(str(path))
        try:
            return conn.execute("SELECT v FROM _note_fts_config WHERE k = 'hashsize'").fetchall()
        finally:
            conn.close()

    SqliteEngine.open(path, SCHEMA).close()
    assert hashsize() == [(text_index_module.PENDING_TERMS_BYTES,)] == [(8 * 1024 * 1024,)]
    conn = apsw.Connection(str(path))
    conn.execute("DELETE FROM _note_fts_config WHERE k = 'hashsize'")  # as before
    conn.close()
    SqliteEngine.open(path, SCHEMA).close()
    assert hashsize() == [(8 * 1024 * 1024,)]


async def test_a_large_catch_up_writes_its_segments_without_merging_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first sync's catch-up indexes its rows with FTS5's automatic merging off (merging
    segments it has just written is most of its extra cost); merging is on again after it,
    and the index is whole and answers queries either way."""

    async def segments_after_catch_up(name: str, large_from: int) -> int:
        monkeypatch.setattr(text_index_module, "LARGE_CATCH_UP_ROWS", large_from)
        engine = SqliteEngine.open(tmp_path / name, SCHEMA)
        try:
            conn = engine.database.writer
            # A tiny buffer: many segments from a few hundred rows.
            conn.execute("INSERT INTO _note_fts(_note_fts, rank) VALUES ('hashsize', 2048)")
            notes = [
                EntityInput(
                    Note.ref(f"n{i}"), {"title": f"alpha w{i} x{i * 7}", "body": f"b{i} c{i % 13}"}
                )
                for i in range(600)
            ]
            await engine.store_many(notes)
            await engine.index_text()
            check_index(conn)
            assert matches(conn, "w599") == {"n599"} and len(matches(conn, "alpha")) == 600
            automerge = "SELECT v FROM _note_fts_config WHERE k = 'automerge'"
            assert conn.execute(automerge).fetchall() in ([], [(4,)])  # FTS5's default
            return int(
                conn.execute("SELECT count(DISTINCT segid) FROM _note_fts_idx").fetchone()[0]
            )
        finally:
            engine.close()

    merged = await segments_after_catch_up("merged.db", large_from=10**9)
    unmerged = await segments_after_catch_up("unmerged.db", large_from=600)
    assert unmerged > merged >= 1


# -- queries --------------------------------------------------------------------------------

Bare = EntityDef.create("Bare", {"size": Field.number()})
QUERY_SCHEMA = Schema.create("notes", [Note, Bare])


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    """The text queries run on both SQL stores (FTS5; a tsquery on PostgreSQL)."""
    return str(request.param)


async def _filled(open_engine: OpenEngine) -> Engine:
    engine = open_engine(QUERY_SCHEMA)
    notes = [
        EntityInput(Note.ref("n1"), {"title": "alpha", "body": "beta gamma", "size": 1}),
        EntityInput(Note.ref("n2"), {"title": "alpha alpha alpha", "body": "alpha", "size": 2}),
        EntityInput(Note.ref("n3"), {"title": "gamma", "body": None, "size": 3}),
        EntityInput(Note.ref("n4"), {"title": "delta", "body": "alpha beta", "size": 4}),
    ]
    await engine.store_many(notes)
    return engine


async def _all_pages(engine: Engine, query: EntityQuery, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await engine.query(query, PageRequest(cursor, limit))
        ids += [item.ref.id for item in page.items]  # type: ignore[union-attr]
        if not page.has_more:
            return ids
        cursor = page.cursor


async def test_a_text_query_ranks_matches_best_first_and_pages_through_them(
    open_engine: OpenEngine,
) -> None:
    engine = await _filled(open_engine)
    query = EntityQuery(Note, text="alpha")
    page = await engine.query(query, PageRequest(None, 10))
    ids = [item.ref.id for item in page.items]  # type: ignore[union-attr]
    assert ids[0] == "n2"  # four times: the best match
    assert sorted(ids) == ["n1", "n2", "n4"]
    for limit in (1, 2, 3):
        assert await _all_pages(engine, query, limit) == ids  # every match once, in order
    filtered = EntityQuery(Note, parse_where("size >= 2", Note).where, text="alpha OR gamma")
    assert sorted(await _all_pages(engine, filtered, 1)) == ["n2", "n3", "n4"]
    phrase = EntityQuery(Note, text='"beta gamma"')
    assert await _all_pages(engine, phrase, 5) == ["n1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpha beta", ["n1", "n4"]),  # every word
        ("alpha AND beta", ["n1", "n4"]),
        ("alpha NOT beta", ["n2"]),
        ("gamma OR delta", ["n1", "n3", "n4"]),
        ("(gamma OR delta) NOT beta", ["n3"]),
        ("alpha OR gamma NOT beta", ["n1", "n2", "n3", "n4"]),  # alpha OR (gamma NOT beta)
        ("ALP*", ["n1", "n2", "n4"]),  # a prefix in any case
        ("alp*", ["n1", "n2", "n4"]),
        ('"gamma"*', ["n1", "n3"]),
        ('"beta gam"*', ["n1"]),
        ("ALPHA", ["n1", "n2", "n4"]),  # words match in any case
        ('"alpha beta"', ["n4"]),
        ("epsilon", []),
        ('"!!"*', []),  # a prefix without a word matches nothing (no error)
        ('alpha "" beta', ["n1", "n4"]),  # an empty phrase asks nothing more
    ],
)
async def test_the_query_language_means_the_same_on_both_stores(
    open_engine: OpenEngine, text: str, expected: list[str]
) -> None:
    engine = await _filled(open_engine)
    found = await _all_pages(engine, EntityQuery(Note, text=text), 10)
    assert sorted(found) == sorted(expected)


async def test_a_text_query_under_an_ordering_keeps_the_ordering(open_engine: OpenEngine) -> None:
    engine = await _filled(open_engine)
    query = EntityQuery(Note, ordering=Ordering("size", "desc"), text="alpha")
    assert await _all_pages(engine, query, 1) == ["n4", "n2", "n1"]


async def test_the_index_follows_writes_and_deletes(open_engine: OpenEngine) -> None:
    engine = await _filled(open_engine)
    await engine.store_many([EntityInput(Note.ref("n3"), {"title": "alpha again"})])
    await engine.delete_many([Note.ref("n2")])
    found = await _all_pages(engine, EntityQuery(Note, text="alpha"), 10)
    assert sorted(found) == ["n1", "n3", "n4"]
    await engine.store_many([EntityInput(Note.ref("n1"), {"title": None, "body": None})])
    assert sorted(await _all_pages(engine, EntityQuery(Note, text="alpha"), 10)) == ["n3", "n4"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('alpha AND "unclosed', "unterminated string"),
        ("alpha AND", 'fts5: syntax error near ""'),
        ("(alpha", 'fts5: syntax error near ""'),
        ("alpha)", 'fts5: syntax error near ")"'),
        ("OR alpha", 'fts5: syntax error near "OR"'),
        ("alpha , beta", 'fts5: syntax error near ","'),
        ("a & b", 'fts5: syntax error near "&"'),
        ("alpha \x1b[31m", "syntax error near"),  # never a raw escape in the message
    ],
)
async def test_text_query_errors_are_one_line_and_name_the_problem(
    open_engine: OpenEngine, text: str, reason: str
) -> None:
    engine = await _filled(open_engine)
    with pytest.raises(MaxError) as broken:
        await engine.query(EntityQuery(Note, text=text))
    assert ErrInvalidTextQuery.matches(broken.value)
    assert reason in str(broken.value) and "\n" not in str(broken.value)
    assert "\x1b" not in str(broken.value)


async def test_text_queries_need_text_fields_and_their_own_cursor(open_engine: OpenEngine) -> None:
    engine = await _filled(open_engine)
    with pytest.raises(MaxError) as bare:
        await engine.query(EntityQuery(Bare, text="alpha"))
    assert ErrNoTextFields.matches(bare.value)
    first = await engine.query(EntityQuery(Note, text="alpha"), PageRequest(None, 1))
    with pytest.raises(MaxError) as other:
        await engine.query(EntityQuery(Note, text="beta"), PageRequest(first.cursor, 1))
    assert ErrInvalidCursor.matches(other.value)
    assert "another --text query" in str(other.value)


async def test_the_in_memory_engine_has_no_text_search() -> None:
    with pytest.raises(MaxError) as memory:
        await InMemoryEngine(QUERY_SCHEMA).query(EntityQuery(Note, text="alpha"))
    assert ErrTextSearchUnsupported.matches(memory.value)
