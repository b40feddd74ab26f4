"""The SyncMeta contract: freshness of an entity's fields, on its own row.

Runs on ``InMemorySyncMeta`` and ``SqliteSyncMeta`` over a real ``data.db``. An entity has one
sync time and a set of synced fields; recording a subset of the fields already synced keeps the
older time (a field never reads fresher than it is). The SQLite-only checks look at the columns
of the rows and at the migration of a file written with the old ``_max_sync_meta`` table.
"""

from __future__ import annotations

from datetime import timedelta

from maxtrio.execution import FieldSyncEntry
from maxtrio.storage import open_installation_store

from .execution_stores import (
    SCHEMA,
    T0,
    Stores,
    Widget,
    sqlite_rows,
    sqlite_stores_fixture,  # noqa: F401
    stores_fixture,  # noqa: F401
)

W1 = "ein:Widget:w1"
W2 = "ein:Widget:w2"
HOUR = timedelta(hours=1)
HOUR_MS = 3_600_000


async def _widgets(stores: Stores) -> None:
    await stores.engine.store_many([Widget.input("w1", name="a"), Widget.input("w2", name="b")])


async def test_recorded_times_are_read_back(stores: Stores) -> None:
    await _widgets(stores)
    await stores.meta.record_field_sync_batch(
        [FieldSyncEntry(W1, "name", T0), FieldSyncEntry(W1, "size", T0 + 1)]
    )

    # One time per entity: the oldest of what was recorded together.
    assert await stores.meta.get_field_sync_time(W1, "name") == T0
    assert await stores.meta.get_field_sync_time(W1, "size") == T0
    assert await stores.meta.get_field_sync_time(W1, "colour") is None
    assert await stores.meta.get_field_sync_time(W2, "name") is None


async def test_writing_every_synced_field_renews_the_time_even_when_older(
    stores: Stores,
) -> None:
    await _widgets(stores)
    await stores.meta.record_field_sync_batch([FieldSyncEntry(W1, "name", T0)])
    await stores.meta.record_field_sync_batch(
        [FieldSyncEntry(W1, "name", T0 + 5), FieldSyncEntry(W1, "name", T0 + 3)]
    )

    assert await stores.meta.get_field_sync_time(W1, "name") == T0 + 3


async def test_writing_a_subset_keeps_the_older_time(stores: Stores) -> None:
    await _widgets(stores)
    old = T0 - 2 * HOUR_MS
    await stores.meta.record_field_sync_batch(
        [FieldSyncEntry(W1, "name", old), FieldSyncEntry(W1, "size", old)]
    )
    await stores.meta.record_field_sync_batch([FieldSyncEntry(W1, "name", T0)])

    # ``size`` was not written again, so neither field may read as fresh.
    assert await stores.meta.stale_fields(W1, ["name", "size"], HOUR, T0) == ["name", "size"]
    await stores.meta.record_field_sync_batch(
        [FieldSyncEntry(W1, "name", T0), FieldSyncEntry(W1, "size", T0)]
    )
    assert await stores.meta.stale_fields(W1, ["name", "size"], HOUR, T0) == []


async def test_an_empty_batch_records_nothing(stores: Stores) -> None:
    await _widgets(stores)
    await stores.meta.record_field_sync_batch([])

    assert await stores.meta.stale_fields(W1, ["name"], HOUR, T0) == ["name"]


async def test_keys_are_scope_sensitive(stores: Stores) -> None:
    await _widgets(stores)
    await stores.meta.record_field_sync_batch([FieldSyncEntry(W1, "name", T0)])

    assert await stores.meta.get_field_sync_time("ews:inst:Widget:w1", "name") is None


async def test_stale_fields_keeps_the_given_order(stores: Stores) -> None:
    await _widgets(stores)
    await stores.meta.record_field_sync_batch([FieldSyncEntry(W1, "name", T0)])

    stale = await stores.meta.stale_fields(W1, ["size", "name", "colour"], HOUR, T0)

    assert stale == ["size", "colour"]


async def test_a_field_synced_exactly_max_age_ago_is_fresh(stores: Stores) -> None:
    await _widgets(stores)
    await stores.meta.record_field_sync_batch([FieldSyncEntry(W1, "name", T0 - HOUR_MS)])

    assert await stores.meta.stale_fields(W1, ["name"], HOUR, T0) == []
    assert await stores.meta.stale_fields(W1, ["name"], HOUR, T0 + 1) == ["name"]
    assert await stores.meta.stale_fields(W1, ["name"], timedelta(0), T0 - HOUR_MS) == []


async def test_stale_fields_of_nothing_is_nothing(stores: Stores) -> None:
    assert await stores.meta.stale_fields(W1, [], HOUR, T0) == []


async def test_invalidate_named_fields(stores: Stores) -> None:
    await _widgets(stores)
    entries = [FieldSyncEntry(W1, f, T0) for f in ("name", "size")]
    await stores.meta.record_field_sync_batch(entries)

    await stores.meta.invalidate_fields(W1, ["size", "never-synced"])

    assert await stores.meta.stale_fields(W1, ["name", "size"], HOUR, T0) == ["size"]


async def test_invalidate_with_an_empty_list_changes_nothing(stores: Stores) -> None:
    await _widgets(stores)
    await stores.meta.record_field_sync_batch([FieldSyncEntry(W1, "name", T0)])

    await stores.meta.invalidate_fields(W1, [])

    assert await stores.meta.get_field_sync_time(W1, "name") == T0


async def test_invalidate_without_a_list_clears_every_field_of_the_ref(stores: Stores) -> None:
    await _widgets(stores)
    await stores.meta.record_field_sync_batch(
        [
            FieldSyncEntry(W1, "name", T0),
            FieldSyncEntry(W1, "size", T0),
            FieldSyncEntry(W2, "name", T0),
        ]
    )

    await stores.meta.invalidate_fields(W1)

    assert await stores.meta.stale_fields(W1, ["name", "size"], HOUR, T0) == ["name", "size"]
    assert await stores.meta.get_field_sync_time(W2, "name") == T0
    await stores.meta.invalidate_fields("ein:Widget:nobody")  # unknown ref: nothing to do


# -- SQLite only -------------------------------------------------------------------------------


async def test_state_lives_on_the_entity_row(sqlite_stores: Stores) -> None:
    await _widgets(sqlite_stores)
    await sqlite_stores.meta.record_field_sync_batch(
        [FieldSyncEntry(W1, "name", T0 + 9), FieldSyncEntry(W1, "size", T0 + 9)]
    )

    rows = sqlite_rows(
        sqlite_stores, 'SELECT _id, _synced_at, _synced_mask, _seen FROM "_widget" ORDER BY _id'
    )
    tables = sqlite_rows(sqlite_stores, "SELECT name FROM sqlite_master WHERE type = 'table'")

    # name and size are the table's columns 1 and 2 (0 is _id): bits 1 and 2.
    assert rows == [("w1", T0 + 9, 0b110, None), ("w2", None, None, None)]
    assert ("_max_sync_meta",) not in tables


async def test_an_entity_without_a_row_has_no_state(sqlite_stores: Stores) -> None:
    await sqlite_stores.meta.record_field_sync_batch([FieldSyncEntry(W1, "name", T0)])

    assert await sqlite_stores.meta.get_field_sync_time(W1, "name") is None
    assert sqlite_rows(sqlite_stores, 'SELECT count(*) FROM "_widget"') == [(0,)]


def test_a_v1_file_is_folded_into_the_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A data.db written with one _max_sync_meta row per (entity, field) opens migrated."""
    import apsw

    path = tmp_path / "data.db"
    v1 = apsw.Connection(str(path))
    v1.execute(
        'CREATE TABLE "_widget" (_id TEXT PRIMARY KEY, "name" TEXT, "size" REAL);'
        "INSERT INTO \"_widget\" VALUES ('w1', 'a', 1), ('w2', 'b', 2), ('w3', 'c', 3);"
        "CREATE TABLE _max_sync_meta (ref_key TEXT NOT NULL, field TEXT NOT NULL, "
        "synced_at INTEGER NOT NULL, PRIMARY KEY (ref_key, field));"
        "INSERT INTO _max_sync_meta VALUES ('ein:Widget:w1', 'name', 10), "
        "('ein:Widget:w1', 'size', 12), ('ein:Widget:w2', 'size', 20), "
        "('ein:Gadget:w3', 'label', 30), ('ein:Widgets:w3', 'name', 40);"
    )
    v1.close()

    store = open_installation_store(path, SCHEMA)
    try:
        rows = list(
            store.database.writer.execute(
                'SELECT _id, name, _synced_at, _synced_mask FROM "_widget" ORDER BY _id'
            )
        )
        tables = {r[0] for r in store.database.writer.execute("SELECT name FROM sqlite_master")}
    finally:
        store.close()

    assert [tuple(r) for r in rows] == [
        ("w1", "a", 10, 0b110),
        ("w2", "b", 20, 0b100),
        ("w3", "c", None, None),
    ]
    assert "_max_sync_meta" not in tables
