"""``PgTaskStore``: the durable task graph of syncs in ``_max_tasks`` of a PostgreSQL schema —
the ``SqlTaskStore`` of ``_sql_task_store`` (one-transaction ``finish`` on the engine's writer,
propagation, resume, cancellation, completion) with PostgreSQL's ids, claims and leases, for
many processes on many machines at once:

* Claims are one ``UPDATE … WHERE id IN (SELECT id … ORDER BY seq LIMIT n FOR UPDATE SKIP
  LOCKED) RETURNING …``: workers claiming at once each get different tasks and never wait
  for one another. A claim may carry a **lease** (``worker``, ``lease_ms``): a ``running``
  task whose ``lease_until`` has passed is claimable again, so the tasks of a worker that died
  return to the pool; :meth:`PgTaskStore.renew_leases` keeps a live worker's tasks. A claim
  takes a share lock on the sync's record and nothing once it says the sync stopped.
* Ids are decimal strings from the schema's sequence ``_max_task_ids`` (never handed out
  twice, whatever the number of processes; a rolled-back transaction leaves a gap).
* Propagation locks the parent row (``FOR UPDATE``) before it counts the parent's children,
  so two workers finishing the last two children of a parent at once cannot both miss that
  the parent is done.
"""

from __future__ import annotations

from collections.abc import Sequence

from maxtrio.execution import Clock, Task, wall_clock_ms

from ._pg_database import PgConnection
from ._pg_engine import PgEngine
from ._pg_execution_tables import ensure_pg_execution_tables
from ._pg_store_dialect import POSTGRESQL_STORES
from ._sql_task_store import CLAIMABLE_SYNC_STATUSES, COLUMNS, SqlTaskStore, task_from_row

_CLAIM = f"""
UPDATE _max_tasks SET state = 'running', worker = %(worker)s, lease_until = %(lease)s
WHERE id IN (
  SELECT id FROM _max_tasks
  WHERE sync_id = %(sync)s AND (
    (state = 'pending' AND (not_before IS NULL OR not_before <= %(now)s))
    OR (state = 'running' AND lease_until < %(now)s))
  ORDER BY seq LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED)
RETURNING {COLUMNS}
"""

_SYNC_STATUS = "SELECT status FROM _max_sync WHERE id = %(sync)s FOR SHARE"


class PgTaskStore(SqlTaskStore):
    """The ``TaskStore`` protocol over ``_max_tasks``, sharing ``engine``'s database."""

    dialect = POSTGRESQL_STORES

    def __init__(self, engine: PgEngine, *, clock: Clock = wall_clock_ms) -> None:
        super().__init__(engine, clock=clock)
        self.database.write_sync(ensure_pg_execution_tables)

    def _reserve_ids(self, conn: PgConnection, count: int) -> list[int]:
        sql = "SELECT nextval('_max_task_ids') FROM generate_series(1, %s)"
        return sorted(int(row[0]) for row in conn.execute(sql, (count,)).fetchall())

    def _lock_task(self, conn: PgConnection, task_id: str) -> None:
        conn.execute("SELECT 1 FROM _max_tasks WHERE id = %s FOR UPDATE", (task_id,))

    async def claim_many(
        self,
        sync_id: str,
        now_ms: int,
        limit: int,
        *,
        worker: str = "",
        lease_ms: int | None = None,
    ) -> Sequence[Task]:
        """Claim up to ``limit`` tasks (oldest first); with ``lease_ms`` they are leased to
        ``worker`` until ``now_ms + lease_ms``. Running tasks whose lease ran out are claimed
        again."""
        if limit < 1:
            return []
        params = {
            "sync": sync_id,
            "now": now_ms,
            "limit": limit,
            "worker": worker or None,
            "lease": now_ms + lease_ms if lease_ms is not None else None,
        }

        def claim(conn: PgConnection) -> list[tuple[object, ...]]:
            # A share lock on the sync's record: an interrupt (which updates the record
            # first) waits for this claim to commit, or this claim waits for the interrupt
            # and then reads its status — never a task claimed behind an interrupt's back.
            record = conn.execute(_SYNC_STATUS, params).fetchall()
            if record and record[0][0] not in CLAIMABLE_SYNC_STATUSES:
                return []
            return conn.execute(_CLAIM, params).fetchall()

        rows = await self.database.write(claim)
        return sorted(map(task_from_row, rows), key=lambda t: int(t.id))

    async def renew_leases(self, worker: str, task_ids: Sequence[str], until_ms: int) -> int:
        """Extend the leases of ``worker``'s running tasks among ``task_ids`` to ``until_ms``;
        returns how many it still holds."""
        if not task_ids:
            return 0
        sql = (
            "UPDATE _max_tasks SET lease_until = %s WHERE worker = %s AND id = ANY(%s) "
            "AND state = 'running'"
        )
        params = (until_ms, worker, list(task_ids))
        renewed: int = await self.database.write(lambda conn: conn.execute(sql, params).rowcount)
        return renewed
