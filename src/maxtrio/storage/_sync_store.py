"""``SqliteSyncStore``: sync records in ``_max_sync`` (spec sync-engine §9.7).

Ids are ``sync-<n>``; :meth:`SqliteSyncStore.next_id` continues after the highest number in the
table (and after every id it handed out, so two calls in a row never collide). Terminal
statuses set ``completed_at``; the others clear it.

The ``mark_sync_*`` functions are the sync-record half of the task store's sync-wide
transitions (interrupt, cancel, resume), run on the task store's connection so both halves
commit in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from maxtrio.execution import ErrSyncExists, ErrSyncNotFound, SyncRecord, SyncStatus

from ._database import SqliteDatabase
from ._execution_tables import Row, ensure_execution_tables, fetch_all

_TERMINAL = "('completed', 'failed', 'cancelled')"
_MAX_NUMBER = (
    "SELECT coalesce(max(CAST(substr(id, 6) AS INTEGER)), 0) FROM _max_sync WHERE id LIKE 'sync-%'"
)


class SqliteSyncStore:
    """The ``SyncStore`` protocol over ``_max_sync`` in one ``SqliteDatabase``."""

    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database
        database.write_sync(ensure_execution_tables)
        self._last_number = 0

    async def next_id(self) -> str:
        stored = await self.database.read(lambda conn: fetch_all(conn, _MAX_NUMBER))
        self._last_number = max(self._last_number, int(stored[0][0])) + 1
        return f"sync-{self._last_number}"

    async def create(self, sync_id: str, started_at: int) -> SyncRecord:
        def insert(conn: apsw.Connection) -> None:
            if fetch_all(conn, "SELECT 1 FROM _max_sync WHERE id = ?", (sync_id,)):
                raise ErrSyncExists(syncId=sync_id)
            conn.execute(
                "INSERT INTO _max_sync (id, status, started_at) VALUES (?, ?, ?)",
                (sync_id, SyncStatus.RUNNING.value, started_at),
            )

        await self.database.write(insert)
        return SyncRecord(sync_id, SyncStatus.RUNNING, started_at)

    async def set_status(self, sync_id: str, status: SyncStatus, at: int) -> None:
        completed_at = at if status.is_terminal else None

        def update(conn: apsw.Connection) -> None:
            conn.execute(
                "UPDATE _max_sync SET status = ?, completed_at = ? WHERE id = ?",
                (status.value, completed_at, sync_id),
            )
            if conn.changes() == 0:
                raise ErrSyncNotFound(syncId=sync_id)

        await self.database.write(update)

    async def get(self, sync_id: str) -> SyncRecord | None:
        sql = "SELECT id, status, started_at, completed_at FROM _max_sync WHERE id = ?"
        rows = await self.database.read(lambda conn: fetch_all(conn, sql, (sync_id,)))
        return _record(rows[0]) if rows else None

    async def list(self, limit: int = 10) -> Sequence[SyncRecord]:
        sql = (
            "SELECT id, status, started_at, completed_at FROM _max_sync "
            "ORDER BY started_at DESC, rowid DESC LIMIT ?"
        )
        rows = await self.database.read(lambda conn: fetch_all(conn, sql, (max(limit, 0),)))
        return [_record(row) for row in rows]


def _record(row: Row) -> SyncRecord:
    sync_id, status, started_at, completed_at = row
    return SyncRecord(sync_id, SyncStatus(status), started_at, completed_at)


def mark_sync_interrupted(conn: apsw.Connection, sync_id: str) -> None:
    """A non-terminal sync → ``interrupted`` (the process stopped; resumable)."""
    conn.execute(
        "UPDATE _max_sync SET status = 'interrupted', completed_at = NULL "
        f"WHERE id = ? AND status NOT IN {_TERMINAL}",
        (sync_id,),
    )


def mark_sync_cancelled(conn: apsw.Connection, sync_id: str, at: int) -> None:
    """A non-terminal sync → ``cancelled`` with ``completed_at``."""
    conn.execute(
        "UPDATE _max_sync SET status = 'cancelled', completed_at = ? "
        f"WHERE id = ? AND status NOT IN {_TERMINAL}",
        (at, sync_id),
    )


def mark_sync_resumed(conn: apsw.Connection, sync_id: str, *, force: bool) -> None:
    """The sync → ``running`` (``completed_at`` cleared); a cancelled one only with ``force``."""
    conn.execute(
        "UPDATE _max_sync SET status = 'running', completed_at = NULL "
        "WHERE id = ? AND (status <> 'cancelled' OR ?)",
        (sync_id, force),
    )
