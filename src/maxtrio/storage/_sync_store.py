"""Sync records in ``_max_sync``: ``SqlSyncStore``, written once for
SQLite (``SqliteSyncStore``) and PostgreSQL (``PgSyncStore``, ``_pg_sync_store``).

Each record also says how the sync ran (``mode``: full, incremental, partial), the change-feed
cursor it brings the copy to, and, once completed, how many rows it removed and how many
requests it made; :meth:`SqlSyncStore.feed_cursor` is where the next incremental sync
starts. Ids are ``sync-<n>``; :meth:`SqlSyncStore.next_id` continues after the highest
number in the table (and after every id it handed out, so two calls in a row never collide).
Terminal statuses set ``completed_at``; the others clear it.

The ``mark_sync_*`` functions are the sync-record half of the task store's sync-wide
transitions (interrupt, cancel, resume), run on the task store's connection so both halves
commit in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maxtrio.execution import ErrSyncExists, ErrSyncNotFound, SyncMode, SyncRecord, SyncStatus

from ._database import SqliteDatabase
from ._execution_tables import ensure_execution_tables
from ._store_dialect import SQLITE, Row, StoreDialect

_TERMINAL = "('completed', 'failed', 'cancelled')"
_RECORD_COLUMNS = "id, status, started_at, completed_at, mode, feed_cursor, removed, requests"
_MODES = {m.value for m in SyncMode}
_MAX_NUMBER = (
    "SELECT coalesce(max(CAST(substr(id, 6) AS INTEGER)), 0) FROM _max_sync WHERE id LIKE 'sync-%'"
)


class SqlSyncStore:
    """The ``SyncStore`` protocol over ``_max_sync`` in one database (``SqliteDatabase`` or
    ``PgDatabase``: ``read``/``write`` of a function of a connection)."""

    dialect: StoreDialect = SQLITE
    #: The highest ``sync-<n>`` number stored.
    max_number_sql = _MAX_NUMBER

    def __init__(self, database: Any) -> None:
        self.database = database
        self._last_number = 0

    async def next_id(self) -> str:
        d, sql = self.dialect, self.max_number_sql
        stored = await self.database.read(lambda conn: d.rows(conn, sql))
        self._last_number = max(self._last_number, int(stored[0][0])) + 1
        return f"sync-{self._last_number}"

    async def create(
        self,
        sync_id: str,
        started_at: int,
        *,
        mode: SyncMode = SyncMode.FULL,
        feed_cursor: str | None = None,
    ) -> SyncRecord:
        d = self.dialect
        await self.database.write(
            lambda conn: insert_sync_record(
                d, conn, sync_id, started_at, mode=mode, feed_cursor=feed_cursor
            )
        )
        return SyncRecord(
            sync_id, SyncStatus.RUNNING, started_at, mode=mode, feed_cursor=feed_cursor
        )

    async def feed_cursor(self) -> str | None:
        d = self.dialect
        sql = (
            "SELECT feed_cursor FROM _max_sync WHERE status = 'completed' "
            "AND feed_cursor IS NOT NULL AND mode IN ('full', 'incremental') "
            f"ORDER BY completed_at DESC, {d.sync_number} DESC LIMIT 1"
        )
        rows = await self.database.read(lambda conn: d.rows(conn, sql))
        return str(rows[0][0]) if rows else None

    async def set_status(self, sync_id: str, status: SyncStatus, at: int) -> None:
        d = self.dialect
        completed_at = at if status.is_terminal else None
        sql = "UPDATE _max_sync SET status = ?, completed_at = ? WHERE id = ?"

        def update(conn: Any) -> None:
            if d.run(conn, sql, (status.value, completed_at, sync_id)) == 0:
                raise ErrSyncNotFound(syncId=sync_id)

        await self.database.write(update)

    async def get(self, sync_id: str) -> SyncRecord | None:
        d = self.dialect
        sql = f"SELECT {_RECORD_COLUMNS} FROM _max_sync WHERE id = ?"
        rows = await self.database.read(lambda conn: d.rows(conn, sql, (sync_id,)))
        return _record(rows[0]) if rows else None

    async def list(self, limit: int = 10) -> Sequence[SyncRecord]:
        d = self.dialect
        sql = (
            f"SELECT {_RECORD_COLUMNS} FROM _max_sync "
            f"ORDER BY started_at DESC, {d.sync_number} DESC LIMIT ?"
        )
        rows = await self.database.read(lambda conn: d.rows(conn, sql, (max(limit, 0),)))
        return [_record(row) for row in rows]


class SqliteSyncStore(SqlSyncStore):
    """The ``SyncStore`` protocol over ``_max_sync`` in one ``SqliteDatabase``."""

    def __init__(self, database: SqliteDatabase) -> None:
        super().__init__(database)
        database.write_sync(ensure_execution_tables)


def _record(row: Row) -> SyncRecord:
    sync_id, status, started_at, completed_at, mode, cursor, removed, requests = row
    return SyncRecord(
        sync_id,
        SyncStatus(status),
        started_at,
        completed_at,
        mode=SyncMode(mode) if mode in _MODES else SyncMode.FULL,
        feed_cursor=cursor,
        removed=int(removed or 0),
        requests=int(requests or 0),
    )


def insert_sync_record(
    d: StoreDialect,
    conn: Any,
    sync_id: str,
    started_at: int,
    *,
    mode: SyncMode,
    feed_cursor: str | None,
    status: str = SyncStatus.RUNNING.value,
    completed_at: int | None = None,
) -> int:
    """Insert a sync record (the caller's transaction); returns its number.

    An existing id raises ``execution.sync_exists``."""
    if d.rows(conn, "SELECT 1 FROM _max_sync WHERE id = ?", (sync_id,)):
        raise ErrSyncExists(syncId=sync_id)
    d.run(
        conn,
        "INSERT INTO _max_sync (id, status, started_at, completed_at, mode, feed_cursor) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (sync_id, status, started_at, completed_at, mode.value, feed_cursor),
    )
    rows = d.rows(conn, f"SELECT {d.sync_number} FROM _max_sync WHERE id = ?", (sync_id,))
    return int(rows[0][0])


def mark_sync_interrupted(d: StoreDialect, conn: Any, sync_id: str) -> None:
    """A non-terminal sync → ``interrupted`` (the process stopped; resumable)."""
    d.run(
        conn,
        "UPDATE _max_sync SET status = 'interrupted', completed_at = NULL "
        f"WHERE id = ? AND status NOT IN {_TERMINAL}",
        (sync_id,),
    )


def mark_sync_cancelled(d: StoreDialect, conn: Any, sync_id: str, at: int) -> None:
    """A non-terminal sync → ``cancelled`` with ``completed_at``."""
    d.run(
        conn,
        "UPDATE _max_sync SET status = 'cancelled', completed_at = ? "
        f"WHERE id = ? AND status NOT IN {_TERMINAL}",
        (at, sync_id),
    )


def mark_sync_resumed(d: StoreDialect, conn: Any, sync_id: str, *, force: bool) -> None:
    """The sync → ``running`` (``completed_at`` cleared); a cancelled one only with ``force``."""
    d.run(
        conn,
        "UPDATE _max_sync SET status = 'running', completed_at = NULL "
        "WHERE id = ? AND (status <> 'cancelled' OR ?)",
        (sync_id, force),
    )
