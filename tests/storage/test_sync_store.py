"""The SyncStore contract: ``sync-<n>`` ids, statuses, ``_max_sync``.

Runs on ``InMemorySyncStore`` and ``SqliteSyncStore`` over a real ``data.db``; the DDL and the
id counter of a reopened file are SQLite-only.
"""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from maxtrio.execution import SyncRecord, SyncStatus

from .execution_stores import (
    T0,
    Stores,
    open_sqlite_stores,
    raises_code,
    sqlite_stores_fixture,  # noqa: F401
    stores_fixture,  # noqa: F401
    table_shape,
)


async def test_next_id_counts_from_one(stores: Stores) -> None:
    assert [await stores.syncs.next_id() for _ in range(3)] == ["sync-1", "sync-2", "sync-3"]


async def test_next_id_continues_after_the_highest_created_id(stores: Stores) -> None:
    await stores.syncs.create("sync-7", T0)
    await stores.syncs.create("nightly", T0)

    assert await stores.syncs.next_id() == "sync-8"
    assert await stores.syncs.next_id() == "sync-9"


async def test_create_starts_a_running_record(stores: Stores) -> None:
    record = await stores.syncs.create("sync-1", T0)

    assert record == SyncRecord("sync-1", SyncStatus.RUNNING, T0, None)
    assert await stores.syncs.get("sync-1") == record
    assert await stores.syncs.get("sync-2") is None


async def test_a_duplicate_id_is_refused(stores: Stores) -> None:
    await stores.syncs.create("sync-1", T0)

    with raises_code("execution.sync_exists") as caught:
        await stores.syncs.create("sync-1", T0 + 1)

    assert caught.value.message == "Sync already exists: sync-1"
    assert await stores.syncs.get("sync-1") == SyncRecord("sync-1", SyncStatus.RUNNING, T0)


@pytest.mark.parametrize("status", [s for s in SyncStatus if s.is_terminal])
async def test_terminal_statuses_set_completed_at(stores: Stores, status: SyncStatus) -> None:
    await stores.syncs.create("sync-1", T0)

    await stores.syncs.set_status("sync-1", status, T0 + 40)

    assert await stores.syncs.get("sync-1") == SyncRecord("sync-1", status, T0, T0 + 40)


@pytest.mark.parametrize("status", [s for s in SyncStatus if not s.is_terminal])
async def test_other_statuses_clear_completed_at(stores: Stores, status: SyncStatus) -> None:
    await stores.syncs.create("sync-1", T0)
    await stores.syncs.set_status("sync-1", SyncStatus.FAILED, T0 + 1)

    await stores.syncs.set_status("sync-1", status, T0 + 2)

    assert await stores.syncs.get("sync-1") == SyncRecord("sync-1", status, T0, None)


async def test_set_status_of_an_unknown_sync_raises(stores: Stores) -> None:
    with raises_code("execution.sync_not_found") as caught:
        await stores.syncs.set_status("sync-404", SyncStatus.PAUSED, T0)

    assert caught.value.message == "Sync not found: sync-404"
    assert caught.value.has("NotFound")


async def test_list_is_most_recent_first(stores: Stores) -> None:
    for number, started in [(1, T0), (2, T0 + 20), (3, T0 + 10), (4, T0 + 20)]:
        await stores.syncs.create(f"sync-{number}", started)

    assert [r.id for r in await stores.syncs.list()] == ["sync-4", "sync-2", "sync-3", "sync-1"]
    assert [r.id for r in await stores.syncs.list(limit=2)] == ["sync-4", "sync-2"]
    assert await stores.syncs.list(limit=0) == []


async def test_list_defaults_to_ten(stores: Stores) -> None:
    for number in range(1, 13):
        await stores.syncs.create(f"sync-{number}", T0 + number)

    records = await stores.syncs.list()

    assert [r.id for r in records] == [f"sync-{n}" for n in range(12, 2, -1)]


# -- SQLite only -------------------------------------------------------------------------------

REFERENCE_SYNC_DDL = """
CREATE TABLE IF NOT EXISTS _max_sync (
  id           TEXT PRIMARY KEY,     -- "sync-<n>"
  status       TEXT NOT NULL,        -- running|paused|completed|failed|cancelled
  started_at   INTEGER NOT NULL,     -- ms
  completed_at INTEGER               -- ms, terminal statuses only
);
"""


async def test_sync_table_is_the_reference_ddl_plus_our_columns(sqlite_stores: Stores) -> None:
    reference = apsw.Connection(":memory:")
    reference.execute(REFERENCE_SYNC_DDL)
    assert sqlite_stores.installation is not None

    shape = table_shape(sqlite_stores.installation.database.writer, "_max_sync")

    ours = [c[:4] for c in shape[0]]
    assert [c[:4] for c in table_shape(reference, "_max_sync")[0]] == ours[:4]
    assert ours == [
        ("id", "TEXT", 0, None),
        ("status", "TEXT", 1, None),
        ("started_at", "INTEGER", 1, None),
        ("completed_at", "INTEGER", 0, None),
        ("mode", "TEXT", 0, None),
        ("feed_cursor", "TEXT", 0, None),
        ("removed", "INTEGER", 0, None),
        ("requests", "INTEGER", 0, None),
    ]


async def test_a_reference_sync_table_gains_our_columns(db_path: Path) -> None:
    reference = apsw.Connection(str(db_path))
    reference.execute(REFERENCE_SYNC_DDL)
    reference.execute("INSERT INTO _max_sync VALUES ('sync-1', 'completed', 1, 2)")
    reference.close()

    stores = open_sqlite_stores(db_path)
    try:
        record = await stores.syncs.get("sync-1")
        cursor = await stores.syncs.feed_cursor()
    finally:
        assert stores.installation is not None
        stores.installation.close()

    assert record is not None and record.status.value == "completed"
    assert record.mode.value == "full" and record.feed_cursor is None
    assert cursor is None


async def test_a_reopened_store_continues_the_sync_numbers(db_path: Path) -> None:
    first = open_sqlite_stores(db_path)
    for _ in range(2):
        await first.syncs.create(await first.syncs.next_id(), T0)
    assert first.installation is not None
    first.installation.close()

    second = open_sqlite_stores(db_path)
    try:
        assert await second.syncs.next_id() == "sync-3"
        assert [r.id for r in await second.syncs.list()] == ["sync-2", "sync-1"]
    finally:
        assert second.installation is not None
        second.installation.close()
