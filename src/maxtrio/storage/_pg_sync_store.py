"""``PgSyncStore``: sync records in ``_max_sync`` of an installation's PostgreSQL schema.

The same records and rules as ``SqliteSyncStore`` (``_sync_store`` says what they mean): ids
``sync-<n>`` continuing after the highest number stored, terminal statuses set
``completed_at``, the others clear it; :meth:`PgSyncStore.feed_cursor` is where the next
incremental sync starts. The ``pg_mark_sync_*`` functions are the sync-record half of the task
store's sync-wide transitions, run in the task store's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from maxtrio.execution import ErrSyncExists, ErrSyncNotFound, SyncMode, SyncRecord, SyncStatus

from ._pg_database import PgConnection, PgDatabase
from ._pg_execution_tables import ensure_pg_execution_tables
from ._sync_store import record_from_row

_TERMINAL = "('completed', 'failed', 'cancelled')"
_RECORD_COLUMNS = "id, status, started_at, completed_at, mode, feed_cursor, removed, requests"
_FEED_CURSOR = (
    "SELECT feed_cursor FROM _max_sync WHERE status = 'completed' AND feed_cursor IS NOT NULL "
    "AND mode IN ('full', 'incremental') ORDER BY completed_at DESC, number DESC LIMIT 1"
)
_MAX_NUMBER = (
    "SELECT coalesce(max(substr(id, 6)::bigint), 0) FROM _max_sync WHERE id ~ '^sync-[0-9]{1,18}$'"
)


class PgSyncStore:
    """The ``SyncStore`` protocol over ``_max_sync`` in one ``PgDatabase``."""

    def __init__(self, database: PgDatabase) -> None:
        self.database = database
        database.write_sync(ensure_pg_execution_tables)
        self._last_number = 0

    async def next_id(self) -> str:
        stored = await self.database.read(lambda conn: conn.execute(_MAX_NUMBER).fetchall())
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
        await self.database.write(
            lambda conn: pg_insert_sync_record(
                conn, sync_id, started_at, mode=mode, feed_cursor=feed_cursor
            )
        )
        return SyncRecord(
            sync_id, SyncStatus.RUNNING, started_at, mode=mode, feed_cursor=feed_cursor
        )

    async def feed_cursor(self) -> str | None:
        rows = await self.database.read(lambda conn: conn.execute(_FEED_CURSOR).fetchall())
        return str(rows[0][0]) if rows else None

    async def set_status(self, sync_id: str, status: SyncStatus, at: int) -> None:
        completed_at = at if status.is_terminal else None

        def update(conn: PgConnection) -> None:
            cursor = conn.execute(
                "UPDATE _max_sync SET status = %s, completed_at = %s WHERE id = %s",
                (status.value, completed_at, sync_id),
            )
            if cursor.rowcount == 0:
                raise ErrSyncNotFound(syncId=sync_id)

        await self.database.write(update)

    async def get(self, sync_id: str) -> SyncRecord | None:
        sql = f"SELECT {_RECORD_COLUMNS} FROM _max_sync WHERE id = %s"
        rows = await self.database.read(lambda conn: conn.execute(sql, (sync_id,)).fetchall())
        return record_from_row(rows[0]) if rows else None

    async def list(self, limit: int = 10) -> Sequence[SyncRecord]:
        sql = (
            f"SELECT {_RECORD_COLUMNS} FROM _max_sync "
            "ORDER BY started_at DESC, number DESC LIMIT %s"
        )
        rows = await self.database.read(lambda conn: conn.execute(sql, (max(limit, 0),)).fetchall())
        return [record_from_row(row) for row in rows]


def pg_insert_sync_record(
    conn: PgConnection,
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
    row = conn.execute(
        "INSERT INTO _max_sync (id, status, started_at, completed_at, mode, feed_cursor) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING number",
        (sync_id, status, started_at, completed_at, mode.value, feed_cursor),
    ).fetchone()
    if row is None:
        raise ErrSyncExists(syncId=sync_id)
    return int(row[0])


def pg_mark_sync(conn: PgConnection, sync_id: str, status: SyncStatus, at: int | None) -> None:
    """A non-terminal sync → ``interrupted`` or ``cancelled`` (``completed_at`` = ``at``)."""
    conn.execute(
        "UPDATE _max_sync SET status = %s, completed_at = %s "
        f"WHERE id = %s AND status NOT IN {_TERMINAL}",
        (status.value, at, sync_id),
    )


def pg_mark_sync_resumed(conn: PgConnection, sync_id: str, *, force: bool) -> None:
    """The sync → ``running`` (``completed_at`` cleared); a cancelled one only with ``force``."""
    conn.execute(
        "UPDATE _max_sync SET status = 'running', completed_at = NULL "
        "WHERE id = %s AND (status <> 'cancelled' OR %s)",
        (sync_id, force),
    )
