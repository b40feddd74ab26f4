"""``SqliteSyncMeta``: per-field sync times in ``_max_sync_meta`` (spec sync-engine §12).

One row per (RefKey, field) holding the ms time it was last synced; writes are
``INSERT OR REPLACE`` (last write wins), one ``executemany`` per batch. A task's rows are
normally written by ``SqliteTaskStore.finish`` in the task's own transaction through
:func:`insert_field_sync_rows`; this class is the ``SyncMeta`` face of the same table.

Freshness: a field is stale iff it has no row or its ``synced_at`` is older than
``now − max_age`` (a field synced exactly ``max_age`` ago is fresh).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import timedelta

import apsw

from maxtrio.execution import (
    FieldSyncBatch,
    FieldSyncEntry,
    FieldSyncRow,
    field_sync_rows,
    freshness_cutoff,
)

from ._database import SqliteDatabase
from ._execution_tables import ensure_execution_tables, fetch_all

_UPSERT = "INSERT OR REPLACE INTO _max_sync_meta (ref_key, field, synced_at) VALUES (?, ?, ?)"
_FRESH = (
    "SELECT field FROM _max_sync_meta WHERE ref_key = ? "
    "AND field IN (SELECT value FROM json_each(?)) AND synced_at >= ?"
)


def insert_field_sync_rows(conn: apsw.Connection, rows: Iterable[FieldSyncRow]) -> None:
    """Upsert ``(ref_key, field, synced_at)`` rows on ``conn`` (the caller's transaction)."""
    conn.executemany(_UPSERT, rows)


_UPSERT_BATCH = (
    "INSERT OR REPLACE INTO _max_sync_meta (ref_key, field, synced_at) "
    "SELECT k.value, f.value, ? FROM json_each(?) AS k, json_each(?) AS f"
)


def insert_field_sync_batches(conn: apsw.Connection, batches: Iterable[FieldSyncBatch]) -> None:
    """Upsert every ``ref_key × field`` of each batch with one statement per batch.

    The cross product is expanded by SQLite from two JSON arrays, so a page of a thousand
    entities is one ``sqlite3_step`` — no per-row Python, and the GIL stays free for the event
    loop while SQLite works.
    """
    for batch in batches:
        if batch.ref_keys and batch.fields:
            keys = json.dumps(list(batch.ref_keys), ensure_ascii=False)
            fields = json.dumps(list(batch.fields), ensure_ascii=False)
            conn.execute(_UPSERT_BATCH, (batch.synced_at, keys, fields))


class SqliteSyncMeta:
    """The ``SyncMeta`` protocol over ``_max_sync_meta`` in one ``SqliteDatabase``."""

    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database
        database.write_sync(ensure_execution_tables)

    async def record_field_sync_batch(self, entries: Sequence[FieldSyncEntry]) -> None:
        if not entries:
            return
        rows = list(field_sync_rows(entries))
        await self.database.write(lambda conn: insert_field_sync_rows(conn, rows))

    async def get_field_sync_time(self, ref_key: str, field: str) -> int | None:
        sql = "SELECT synced_at FROM _max_sync_meta WHERE ref_key = ? AND field = ?"
        rows = await self.database.read(lambda conn: fetch_all(conn, sql, (ref_key, field)))
        return int(rows[0][0]) if rows else None

    async def stale_fields(
        self, ref_key: str, fields: Sequence[str], max_age: timedelta, now_ms: int
    ) -> list[str]:
        if not fields:
            return []
        params = (ref_key, json.dumps(list(fields)), freshness_cutoff(now_ms, max_age))
        rows = await self.database.read(lambda conn: fetch_all(conn, _FRESH, params))
        fresh = {row[0] for row in rows}
        return [f for f in fields if f not in fresh]

    async def invalidate_fields(self, ref_key: str, fields: Sequence[str] | None = None) -> None:
        if fields is None:
            sql = "DELETE FROM _max_sync_meta WHERE ref_key = ?"
            params: tuple[str, ...] = (ref_key,)
        elif not fields:
            return
        else:
            sql = (
                "DELETE FROM _max_sync_meta WHERE ref_key = ? "
                "AND field IN (SELECT value FROM json_each(?))"
            )
            params = (ref_key, json.dumps(list(fields)))
        await self.database.write(lambda conn: conn.execute(sql, params))
