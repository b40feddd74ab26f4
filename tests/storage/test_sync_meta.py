"""The SyncMeta contract (spec sync-engine §12): per-field sync times and freshness.

Runs on ``InMemorySyncMeta`` and ``SqliteSyncMeta`` over a real ``data.db``; the DDL and the
one-row-per-(ref, field) layout are SQLite-only.
"""

from __future__ import annotations

from datetime import timedelta

import apsw

from maxtrio.execution import FieldSyncEntry

from .execution_stores import (
    T0,
    Stores,
    sqlite_rows,
    sqlite_stores_fixture,  # noqa: F401
    stores_fixture,  # noqa: F401
    table_shape,
)

USER = "ein:AcmeUser:u1"
HOUR = timedelta(hours=1)
HOUR_MS = 3_600_000


async def test_recorded_times_are_read_back(stores: Stores) -> None:
    await stores.meta.record_field_sync_batch(
        [FieldSyncEntry(USER, "email", T0), FieldSyncEntry(USER, "displayName", T0 + 1)]
    )

    assert await stores.meta.get_field_sync_time(USER, "email") == T0
    assert await stores.meta.get_field_sync_time(USER, "displayName") == T0 + 1
    assert await stores.meta.get_field_sync_time(USER, "role") is None
    assert await stores.meta.get_field_sync_time("ein:AcmeUser:u2", "email") is None


async def test_the_last_write_wins_even_when_older(stores: Stores) -> None:
    await stores.meta.record_field_sync_batch([FieldSyncEntry(USER, "email", T0)])
    await stores.meta.record_field_sync_batch(
        [FieldSyncEntry(USER, "email", T0 + 5), FieldSyncEntry(USER, "email", T0 + 3)]
    )

    assert await stores.meta.get_field_sync_time(USER, "email") == T0 + 3


async def test_an_empty_batch_records_nothing(stores: Stores) -> None:
    await stores.meta.record_field_sync_batch([])

    assert await stores.meta.stale_fields(USER, ["email"], HOUR, T0) == ["email"]


async def test_keys_are_scope_sensitive(stores: Stores) -> None:
    await stores.meta.record_field_sync_batch([FieldSyncEntry(USER, "email", T0)])

    assert await stores.meta.get_field_sync_time("ews:AcmeUser:u1", "email") is None


async def test_stale_fields_keeps_the_given_order(stores: Stores) -> None:
    await stores.meta.record_field_sync_batch(
        [
            FieldSyncEntry(USER, "email", T0),  # fresh
            FieldSyncEntry(USER, "role", T0 - 2 * HOUR_MS),  # expired
        ]
    )

    stale = await stores.meta.stale_fields(
        USER, ["role", "active", "email", "displayName"], HOUR, T0
    )

    assert stale == ["role", "active", "displayName"]


async def test_a_field_synced_exactly_max_age_ago_is_fresh(stores: Stores) -> None:
    await stores.meta.record_field_sync_batch(
        [
            FieldSyncEntry(USER, "email", T0 - HOUR_MS),
            FieldSyncEntry(USER, "role", T0 - HOUR_MS - 1),
        ]
    )

    assert await stores.meta.stale_fields(USER, ["email", "role"], HOUR, T0) == ["role"]
    assert await stores.meta.stale_fields(USER, ["email"], HOUR, T0 + 1) == ["email"]
    assert await stores.meta.stale_fields(USER, ["email"], timedelta(0), T0 - HOUR_MS) == []


async def test_stale_fields_of_nothing_is_nothing(stores: Stores) -> None:
    assert await stores.meta.stale_fields(USER, [], HOUR, T0) == []


async def test_invalidate_named_fields(stores: Stores) -> None:
    entries = [FieldSyncEntry(USER, f, T0) for f in ("email", "role", "active")]
    await stores.meta.record_field_sync_batch(entries)

    await stores.meta.invalidate_fields(USER, ["email", "active", "never-synced"])

    assert await stores.meta.stale_fields(USER, ["email", "role", "active"], HOUR, T0) == [
        "email",
        "active",
    ]


async def test_invalidate_with_an_empty_list_deletes_nothing(stores: Stores) -> None:
    await stores.meta.record_field_sync_batch([FieldSyncEntry(USER, "email", T0)])

    await stores.meta.invalidate_fields(USER, [])

    assert await stores.meta.get_field_sync_time(USER, "email") == T0


async def test_invalidate_without_a_list_deletes_every_field_of_the_ref(stores: Stores) -> None:
    other = "ein:AcmeUser:u2"
    await stores.meta.record_field_sync_batch(
        [
            FieldSyncEntry(USER, "email", T0),
            FieldSyncEntry(USER, "role", T0),
            FieldSyncEntry(other, "email", T0),
        ]
    )

    await stores.meta.invalidate_fields(USER)

    assert await stores.meta.stale_fields(USER, ["email", "role"], HOUR, T0) == ["email", "role"]
    assert await stores.meta.get_field_sync_time(other, "email") == T0
    await stores.meta.invalidate_fields("ein:AcmeUser:nobody")  # unknown ref: nothing to do


# -- SQLite only -------------------------------------------------------------------------------

REFERENCE_SYNC_META_DDL = """
CREATE TABLE IF NOT EXISTS _max_sync_meta (
  ref_key     TEXT NOT NULL,      -- RefKey, e.g. ein:AcmeUser:u1
  field       TEXT NOT NULL,      -- schema field name (camelCase, not the column name)
  synced_at   INTEGER NOT NULL,   -- ms
  PRIMARY KEY (ref_key, field)
);
"""


async def test_sync_meta_table_is_the_reference_ddl(sqlite_stores: Stores) -> None:
    reference = apsw.Connection(":memory:")
    reference.execute(REFERENCE_SYNC_META_DDL)
    assert sqlite_stores.installation is not None

    shape = table_shape(sqlite_stores.installation.database.writer, "_max_sync_meta")

    assert shape == table_shape(reference, "_max_sync_meta")
    assert [c[:4] for c in shape[0]] == [
        ("ref_key", "TEXT", 1, None),
        ("field", "TEXT", 1, None),
        ("synced_at", "INTEGER", 1, None),
    ]


async def test_one_row_per_ref_and_field(sqlite_stores: Stores) -> None:
    meta = sqlite_stores.meta
    await meta.record_field_sync_batch([FieldSyncEntry(USER, "email", T0)])
    await meta.record_field_sync_batch(
        [FieldSyncEntry(USER, "email", T0 + 9), FieldSyncEntry(USER, "displayName", T0 + 9)]
    )

    rows = sqlite_rows(
        sqlite_stores, "SELECT ref_key, field, synced_at FROM _max_sync_meta ORDER BY field"
    )

    assert rows == [(USER, "displayName", T0 + 9), (USER, "email", T0 + 9)]
