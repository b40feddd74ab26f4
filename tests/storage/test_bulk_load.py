"""Bulk loads (``storage._bulk_load``): a sync filling an empty SQLite table drops the table's
id index and builds it once when the load ends.

What must hold: the rows at the end are exactly those the upserts would have left (an id
written twice included), every way a load can end builds the index again — a completed sync,
a read, another write, a delete, a process killed with ``-9`` and the file opened again, a
second connection on the file — and tables from before the separate id index never load.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import apsw
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from maxtrio.core import EntityInput
from maxtrio.storage import SqliteEngine
from maxtrio.storage import _bulk_load as bulk_load
from maxtrio.storage._table import SyncStamp

from .entities import ACME, AcmeTask, AcmeUser

ID_INDEX = "_max_id__acme_task"
SYNC = SyncStamp(synced_at=1_000, seen=1)


def task(id_: str, **fields: Any) -> EntityInput:
    return AcmeTask.input(id_, fields)


def tasks(count: int, prefix: str = "t", **fields: Any) -> list[EntityInput]:
    return [
        task(f"{prefix}{i:04d}", **{"title": f"Task {i}", "priority": i % 5, **fields})
        for i in range(count)
    ]


def indexes(path: Path) -> set[str]:
    conn = apsw.Connection(str(path))
    try:
        return {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
    finally:
        conn.close()


def raw_rows(conn: apsw.Connection, table: str = "_acme_task") -> list[tuple[Any, ...]]:
    """Every row as the file holds it, sync state included, in id order."""
    return [tuple(r) for r in conn.execute(f'SELECT * FROM "{table}" ORDER BY _id')]


def file_rows(path: Path, table: str = "_acme_task") -> list[tuple[Any, ...]]:
    conn = apsw.Connection(str(path))
    try:
        return raw_rows(conn, table)
    finally:
        conn.close()


async def test_a_sync_filling_an_empty_table_builds_the_id_index_when_it_ends(
    sqlite_engine: SqliteEngine, db_path: Path
) -> None:
    await sqlite_engine.store_many(tasks(150), SYNC)
    # Loading: the rows are in, the index is not.
    assert ID_INDEX not in indexes(db_path)
    assert len(file_rows(db_path)) == 150
    await sqlite_engine.store_many(tasks(50, prefix="u"), SYNC)  # the same load goes on
    assert ID_INDEX not in indexes(db_path)

    await sqlite_engine.database.write(sqlite_engine.end_bulk_loads)
    assert ID_INDEX in indexes(db_path)
    assert await sqlite_engine.count(AcmeTask) == 200


async def test_the_writer_cache_stays_small_while_a_load_runs(
    sqlite_engine: SqliteEngine,
) -> None:
    """Appends probe no index: a large page cache would only hold memory (at 500k rows it was
    a third of the sync's peak RSS)."""
    from maxtrio.storage import _database as database_module

    database = sqlite_engine.database
    database.writer.execute("PRAGMA cache_size = -32768")  # as a large file would have it
    database.writer_cache_kib = 32 * 1024
    await sqlite_engine.store_many(tasks(150), SYNC)
    assert database.writer_cache_held
    size = next(iter(database.writer.execute("PRAGMA cache_size")))[0]
    assert size == -database_module.CACHE_KIB == -database.writer_cache_kib
    await sqlite_engine.settle()
    assert not database.writer_cache_held  # the next look at the file sizes it again


async def test_small_writes_and_non_empty_tables_do_not_load(
    sqlite_engine: SqliteEngine, db_path: Path
) -> None:
    await sqlite_engine.store_many(tasks(bulk_load.BULK_LOAD_MIN_ROWS - 1), SYNC)
    assert ID_INDEX in indexes(db_path)  # too few rows to gain anything
    await sqlite_engine.store_many(tasks(300, prefix="u"), SyncStamp(2_000, 2))
    assert ID_INDEX in indexes(db_path)  # the table was not empty
    assert not sqlite_engine.bulk.active


async def test_a_read_through_the_engine_ends_the_load_first(
    sqlite_engine: SqliteEngine, db_path: Path
) -> None:
    await sqlite_engine.store_many(tasks(150), SYNC)
    await sqlite_engine.store_many([task("t0001", title="Again")], SYNC)  # an id written twice
    assert len(file_rows(db_path)) == 151

    loaded = await sqlite_engine.load(AcmeTask.ref("t0001"))

    assert loaded.get("title") == "Again" and loaded.get("priority") == 1.0
    assert ID_INDEX in indexes(db_path)
    assert len(file_rows(db_path)) == 150


@pytest.mark.parametrize("how", ["plain write", "delete", "freshness update"])
async def test_a_write_other_than_the_loading_sync_ends_the_load_first(
    sqlite_engine: SqliteEngine, db_path: Path, how: str
) -> None:
    await sqlite_engine.store_many(tasks(150), SYNC)
    await sqlite_engine.store_many([task("t0002", title="Twice")], SYNC)
    if how == "plain write":
        await sqlite_engine.store_many([task("t0003", title="By hand")])
    elif how == "delete":
        assert await sqlite_engine.delete_many([AcmeTask.ref("t0003")]) == 1
    else:
        from maxtrio.storage import SqliteSyncMeta

        await SqliteSyncMeta(sqlite_engine).invalidate_fields("ein:AcmeTask:t0003", ["title"])
    # The index is back, with one row per id.
    assert ID_INDEX in indexes(db_path)
    rows = file_rows(db_path)
    assert len({row[0] for row in rows}) == len(rows) == (149 if how == "delete" else 150)
    titles = {row[0]: row[1] for row in rows}
    assert titles["t0002"] == "Twice"
    if how == "plain write":
        assert titles["t0003"] == "By hand"


async def test_completing_its_own_load_spares_the_sync_the_removal_scan(
    sqlite_engine: SqliteEngine, db_path: Path
) -> None:
    """The tables a completing sync is loading hold only rows it wrote: nothing there is
    unseen, so the completion skips their removal scan — unless another connection wrote
    the table meanwhile (it builds the index first)."""
    from maxtrio.storage._store_dialect import SQLITE
    from maxtrio.storage._sync_state import LISTINGS_DDL, remove_unseen

    await sqlite_engine.store_many(tasks(150), SYNC)
    await sqlite_engine.store_many(
        [AcmeUser.input(f"u{i:03d}", {"displayName": "U"}) for i in range(150)], SYNC
    )
    other = apsw.Connection(str(db_path))  # another process writes the users meanwhile
    other.execute('CREATE UNIQUE INDEX "_max_id__acme_user" ON "_acme_user" (_id)')
    other.execute("""INSERT INTO "_acme_user" (_id, display_name) VALUES ('stranger', 'S')""")
    other.close()

    def complete(conn: apsw.Connection) -> tuple[set[str], int]:
        conn.execute(LISTINGS_DDL)
        for entity_type in ("AcmeTask", "AcmeUser"):  # complete listings of both, every row
            conn.execute(
                "INSERT INTO _max_listings VALUES ('AcmeWorkspace', ?, 'w', ?, NULL, 's', 0)",
                (entity_type.lower(), entity_type),
            )
        tables = sqlite_engine.tables
        assert sqlite_engine.bulk.loaded_by(conn, tables, 2) == []  # another sync's loads
        whole = sqlite_engine.end_bulk_loads(conn, SYNC.seen)
        removed = remove_unseen(SQLITE, conn, sqlite_engine.tables_by_type, "s", 1, whole)
        return whole, removed

    whole, removed = await sqlite_engine.database.write(complete)
    # The tasks: skipped, all 150 stay. The users: scanned, the stranger goes.
    assert whole == {"AcmeTask"} and removed == 1
    assert await sqlite_engine.count(AcmeTask) == 150
    assert await sqlite_engine.count(AcmeUser) == 150
    assert {ID_INDEX, "_max_id__acme_user"} <= indexes(db_path)


async def test_another_sync_ends_an_unfinished_load(
    sqlite_engine: SqliteEngine, db_path: Path
) -> None:
    await sqlite_engine.store_many(tasks(150), SYNC)
    await sqlite_engine.store_many(tasks(150), SyncStamp(2_000, 2))  # a later sync: upserts
    assert ID_INDEX in indexes(db_path)
    rows = file_rows(db_path)
    assert len(rows) == 150 and {row[-1] for row in rows} == {2}


async def test_a_load_cut_short_by_kill_9_is_indexed_when_the_file_opens(db_path: Path) -> None:
    """A real process loads (an id written twice), commits, and is killed with -9 before the
    load ends: the next open builds the index and merges the id."""
    script = textwrap.dedent(
        f"""
        import sys, time, trio
        sys.path.insert(0, {str(Path(__file__).parents[2])!r})
        from maxtrio.storage import SqliteEngine
        from maxtrio.storage._table import SyncStamp
        from tests.storage.entities import ACME, AcmeTask

        async def main():
            engine = SqliteEngine.open({str(db_path)!r}, ACME)
            rows = [AcmeTask.input(f"t{{i:04d}}", {{"title": f"Task {{i}}"}}) for i in range(150)]
            await engine.store_many(rows, SyncStamp(1000, 1))
            again = AcmeTask.input("t0007", {{"priority": 9}})
            await engine.store_many([again], SyncStamp(1000, 1))
            print("loaded", flush=True)
            await trio.sleep_forever()

        trio.run(main)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "loaded"
        assert ID_INDEX not in indexes(db_path)
        assert len(file_rows(db_path)) == 151
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    engine = SqliteEngine.open(db_path, ACME)
    try:
        assert ID_INDEX in indexes(db_path)
        merged = await engine.load(AcmeTask.ref("t0007"))
        assert merged.get("title") == "Task 7" and merged.get("priority") == 9.0
        assert await engine.count(AcmeTask) == 150
    finally:
        engine.close()


async def test_a_second_connection_on_the_file_meets_the_load(db_path: Path) -> None:
    """Two engines on one file (as two processes would be): opening the second builds the
    index of the first's load; the first then writes an id twice and falls back to upserts;
    the second writes into a table the first is loading again and builds the index itself."""
    first = SqliteEngine.open(db_path, ACME)
    try:
        await first.store_many(tasks(150), SYNC)
        second = SqliteEngine.open(db_path, ACME)  # builds the index
        try:
            assert ID_INDEX in indexes(db_path)
            await first.store_many([task("t0001", title="Twice")], SYNC)  # meets the index
            assert not first.bulk.active
            rows = file_rows(db_path)
            assert len(rows) == 150 and dict((r[0], r[1]) for r in rows)["t0001"] == "Twice"

            # The first loads another empty table; the second, unaware, upserts into it.
            users = [AcmeUser.input(f"u{i:03d}", {"displayName": f"User {i}"}) for i in range(120)]
            await first.store_many(users, SYNC)
            assert "_max_id__acme_user" not in indexes(db_path)
            await second.store_many([AcmeUser.input("u001", {"email": "u1@acme.test"})])
            assert "_max_id__acme_user" in indexes(db_path)
            user = await second.load(AcmeUser.ref("u001"))
            assert user.get("displayName") == "User 1" and user.get("email") == "u1@acme.test"
        finally:
            second.close()
    finally:
        first.close()


async def test_tables_keyed_by_a_primary_key_never_load(db_path: Path) -> None:
    """A file made before the separate id index keeps ``_id TEXT PRIMARY KEY``."""
    conn = apsw.Connection(str(db_path))
    conn.execute('CREATE TABLE "_acme_task" (_id TEXT PRIMARY KEY, "title" TEXT)')
    conn.close()
    engine = SqliteEngine.open(db_path, ACME)
    try:
        assert not engine.table(AcmeTask).bulk_loadable
        await engine.store_many(tasks(150), SYNC)
        await engine.store_many([task("t0001", title="Twice")], SYNC)
        assert not engine.bulk.active
        assert await engine.count(AcmeTask) == 150
    finally:
        engine.close()


async def test_the_text_index_of_a_table_emptied_then_loaded_finds_the_new_rows(
    sqlite_engine: SqliteEngine,
) -> None:
    from maxtrio.core import EntityQuery

    await sqlite_engine.store_many(tasks(10, prefix="old", title="walrus"))
    assert len((await sqlite_engine.query(EntityQuery(AcmeTask, text="walrus"))).items) == 10
    await sqlite_engine.delete_many([AcmeTask.ref(f"old{i:04d}") for i in range(10)])
    # Empty again, its text index past rowid 10: the load starts the index from nothing.
    await sqlite_engine.store_many(tasks(150, title="narwhal"), SYNC)
    assert sqlite_engine.bulk.active
    found = await sqlite_engine.query(EntityQuery(AcmeTask, text="narwhal"))
    assert len(found.items) == 150  # every new row is indexed
    assert not (await sqlite_engine.query(EntityQuery(AcmeTask, text="walrus"))).items


async def test_a_merge_under_the_text_watermark_keeps_the_text_index_in_step(
    db_path: Path,
) -> None:
    """An id index missing with rows already in the text index (not a load's doing: a load
    empties it first) and an id twice: opening merges the rows and their terms follow."""
    from maxtrio.core import EntityQuery

    engine = SqliteEngine.open(db_path, ACME)
    try:
        await engine.store_many(tasks(5, title="walrus"), SYNC)
        await engine.index_text()
    finally:
        engine.close()
    conn = apsw.Connection(str(db_path))
    conn.execute(f'DROP INDEX "{ID_INDEX}"')
    # t0001 written again, by a sync writing only its title (bit of column 1).
    conn.execute(
        'INSERT INTO "_acme_task" (_id, title, _synced_at, _synced_mask, _seen) '
        "VALUES ('t0001', 'narwhal', 2000, 2, 2)"
    )
    conn.close()

    engine = SqliteEngine.open(db_path, ACME)
    try:
        assert ID_INDEX in indexes(db_path)
        walrus = await engine.query(EntityQuery(AcmeTask, text="walrus"))
        narwhal = await engine.query(EntityQuery(AcmeTask, text="narwhal"))
        assert sorted(r.ref.id for r in walrus.items) == ["t0000", "t0002", "t0003", "t0004"]
        assert [r.ref.id for r in narwhal.items] == ["t0001"]
        merged = await engine.load(AcmeTask.ref("t0001"))
        assert merged.get("title") == "narwhal" and merged.get("priority") == 1.0
    finally:
        engine.close()


# -- the merge: property --------------------------------------------------------------------------

FIELDS = ("title", "priority", "done", "order")
VALUES: dict[str, Any] = {
    "title": st.sampled_from(["a", "b", None]),
    "priority": st.sampled_from([1, 2, None]),
    "done": st.sampled_from([True, False, None]),
    "order": st.sampled_from(["x", "y", None]),
}


@st.composite
def sync_writes(draw: st.DrawFn) -> list[tuple[list[EntityInput], int]]:
    """Writes of one sync: each a run of ids (drawn from few, so ids repeat) with one set of
    fields, at a time of its own."""
    writes = []
    for _ in range(draw(st.integers(1, 6))):
        fields = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=4))
        ids = draw(st.lists(st.sampled_from([f"t{i}" for i in range(6)]), min_size=1, max_size=8))
        inputs = [task(i, **{f: draw(VALUES[f]) for f in fields}) for i in ids]
        writes.append((inputs, draw(st.integers(1, 5)) * 1_000))
    return writes


@settings(max_examples=120, deadline=None)
@given(writes=sync_writes())
def test_ending_a_load_leaves_the_rows_the_upserts_would_have(
    writes: list[tuple[list[EntityInput], int]],
) -> None:
    async def apply(min_rows: int) -> list[tuple[Any, ...]]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bulk_load, "BULK_LOAD_MIN_ROWS", min_rows)
            engine = SqliteEngine.open(":memory:", ACME)
            try:
                for inputs, at in writes:
                    await engine.store_many(inputs, SyncStamp(at, 1))
                loaded = engine.bulk.active
                await engine.database.write(engine.end_bulk_loads)
                assert loaded == (min_rows == 1)
                return engine.database.read_sync(raw_rows)
            finally:
                engine.close()

    assert trio.run(apply, 1) == trio.run(apply, 10**9)
