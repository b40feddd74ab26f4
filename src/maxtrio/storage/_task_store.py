"""``SqliteTaskStore``: the durable task graph of syncs in ``_max_tasks`` of a ``data.db``
— the ``SqlTaskStore`` of ``_sql_task_store`` (one-transaction ``finish``, propagation,
resume, cancellation, completion) with SQLite's ids and claims.

It lives in the same ``data.db`` as the entity tables and shares the ``SqliteEngine``'s
``SqliteDatabase``, so a task's whole outcome commits in **one** ``BEGIN IMMEDIATE``
transaction on the writer connection.

Claims are atomic across connections and processes: one ``UPDATE … WHERE id = (SELECT …)
RETURNING`` inside ``BEGIN IMMEDIATE``; the oldest claimable task (creation order) wins, and
none while the sync's record says it stopped (``CLAIMABLE_SYNC_STATUSES``). A
claim stamps the claiming ``worker`` and its lease (``lease_until``); a ``running`` task whose
lease ran out is claimable again (its worker died), and the late ``finish``/``fail`` of the
worker that lost it matches no row (the guard names the worker) and writes nothing.

Ids are decimal strings. The counter starts at ``MAX(CAST(id AS INTEGER))`` and, inside every
inserting transaction, catches up with the id of the newest row, so two stores (or processes)
on one file never hand out the same id.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from maxtrio.execution import Clock, Task, wall_clock_ms

from ._execution_tables import ensure_execution_tables, fetch_all
from ._sql_task_store import CLAIMABLE_SYNC_STATUSES, COLUMNS, SqlTaskStore, task_from_row
from ._sqlite_engine import SqliteEngine

# The oldest ?3 claimable tasks (creation order): pending ones, and running ones whose lease
# ran out (?2 is now). Split in three so the common branch (no ``not_before``) walks
# ``idx_tasks_claim`` in rowid order instead of sorting every pending task of the sync.
_CLAIMABLE = """
SELECT id FROM (
  SELECT * FROM (
    SELECT id, rowid AS seq FROM _max_tasks
    WHERE sync_id = ?1 AND state = 'pending' AND not_before IS NULL
    ORDER BY rowid LIMIT ?3)
  UNION ALL
  SELECT * FROM (
    SELECT id, rowid AS seq FROM _max_tasks
    WHERE sync_id = ?1 AND state = 'pending' AND not_before <= ?2
    ORDER BY rowid LIMIT ?3)
  UNION ALL
  SELECT * FROM (
    SELECT id, rowid AS seq FROM _max_tasks
    WHERE sync_id = ?1 AND state = 'running' AND lease_until < ?2
    ORDER BY rowid LIMIT ?3)
) ORDER BY seq LIMIT ?3
"""
_TAKES_CLAIMS = "(" + ", ".join(f"'{status}'" for status in CLAIMABLE_SYNC_STATUSES) + ")"
_CLAIM_MANY = (
    "UPDATE _max_tasks SET state = 'running', worker = ?4, lease_until = ?5 "
    f"WHERE id IN ({_CLAIMABLE}) AND NOT EXISTS (SELECT 1 FROM _max_sync WHERE id = ?1 "
    f"AND status NOT IN {_TAKES_CLAIMS}) RETURNING {COLUMNS}"
)


class SqliteTaskStore(SqlTaskStore):
    """The ``TaskStore`` protocol over ``_max_tasks``, sharing ``engine``'s database."""

    def __init__(self, engine: SqliteEngine, *, clock: Clock = wall_clock_ms) -> None:
        super().__init__(engine, clock=clock)
        self._last_id = self.database.write_sync(self._open)

    @staticmethod
    def _open(conn: apsw.Connection) -> int:
        ensure_execution_tables(conn)
        rows = fetch_all(conn, "SELECT coalesce(max(CAST(id AS INTEGER)), 0) FROM _max_tasks")
        return int(rows[0][0])

    def _reserve_ids(self, conn: apsw.Connection, count: int) -> list[int]:
        """``count`` fresh consecutive ids (the newest row has the highest)."""
        newest = fetch_all(
            conn, "SELECT CAST(id AS INTEGER) FROM _max_tasks ORDER BY rowid DESC LIMIT 1"
        )
        first = max(self._last_id, int(newest[0][0]) if newest else 0) + 1
        self._last_id = first + count - 1
        return list(range(first, first + count))

    def _end_bulk_loads(self, conn: apsw.Connection, seen: int | None = None) -> set[str]:
        engine: SqliteEngine = self.engine
        return engine.end_bulk_loads(conn, seen)  # the sync's tables get their id index

    def _catch_up(self, conn: apsw.Connection) -> None:
        self.engine.catch_up_text(conn)  # the full-text indexes take the sync's rows at once

    async def claim_many(
        self,
        sync_id: str,
        now_ms: int,
        limit: int,
        *,
        worker: str = "",
        lease_ms: int | None = None,
    ) -> Sequence[Task]:
        if limit < 1:
            return []
        lease_until = now_ms + lease_ms if lease_ms is not None else None
        params = (sync_id, now_ms, limit, worker or None, lease_until)
        rows = await self.database.write(lambda conn: fetch_all(conn, _CLAIM_MANY, params))
        return sorted(map(task_from_row, rows), key=lambda t: int(t.id))

    async def renew_leases(self, worker: str, task_ids: Sequence[str], until_ms: int) -> int:
        ids = list(task_ids)
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        sql = (
            f"UPDATE _max_tasks SET lease_until = ? WHERE id IN ({marks}) "
            "AND state = 'running' AND worker IS ?"
        )
        params = (until_ms, *ids, worker or None)

        def renew(conn: apsw.Connection) -> int:
            conn.execute(sql, params)
            return conn.changes()

        changed: int = await self.database.write(renew)
        return changed
