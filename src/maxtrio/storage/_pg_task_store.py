"""``PgTaskStore``: the durable task graph of syncs in ``_max_tasks`` of a PostgreSQL schema.

The ``TaskStore`` protocol with the guarantees of ``SqliteTaskStore``, for many processes on
many machines at once:

* :meth:`PgTaskStore.finish` commits a task's whole outcome in **one** transaction on the
  engine's writer connection — the guarded state update, the entity upserts (prepared on the
  event loop, executed by ``PgEngine.apply_writes``), freshness, listings, children,
  unblocking and completion propagation. A guard miss or any failure (a bad value, a dropped
  connection) rolls all of it back.
* Claims are one ``UPDATE … WHERE id IN (SELECT id … ORDER BY seq LIMIT n FOR UPDATE SKIP
  LOCKED) RETURNING …``: workers claiming at once each get different tasks and never wait
  for one another. A claim may carry a **lease** (``worker``, ``lease_ms``): a ``running``
  task whose ``lease_until`` has passed is claimable again, so the tasks of a worker that died
  return to the pool; :meth:`PgTaskStore.renew_leases` keeps a live worker's tasks.
* Ids are decimal strings from the schema's sequence ``_max_task_ids`` (never handed out
  twice, whatever the number of processes); ``seq`` holds the same number for ordering.
* Propagation locks the parent row (``FOR UPDATE``) before it counts the parent's children,
  so two workers finishing the last two children of a parent at once cannot both miss that
  the parent is done.

Every call runs in a worker thread (``PgDatabase.write``/``read``); a call that started its
transaction finishes it (commit or rollback) even if the caller is cancelled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from maxtrio.core import ChangeSet, MaxError
from maxtrio.execution import (
    Clock,
    ErrInvalidTransition,
    ErrTaskNotFound,
    FinishReport,
    SyncMode,
    SyncStatus,
    Task,
    TaskOutcome,
    TaskState,
    TaskTemplate,
    payload_to_json,
    wall_clock_ms,
)

from ._finish_plan import plan_finish
from ._pg_database import PgConnection
from ._pg_engine import PgEngine
from ._pg_execution_tables import ensure_pg_execution_tables
from ._pg_sync_meta import pg_apply_field_sync_rows
from ._pg_sync_state import pg_record_listings, pg_remove_unseen, pg_sync_number
from ._pg_sync_store import pg_insert_sync_record, pg_mark_sync, pg_mark_sync_resumed
from ._table import SyncStamp
from ._task_store import task_from_row

_COLUMNS = (
    "id, sync_id, state, payload, parent_id, blocked_by, not_before, created_at, completed_at, "
    "error, attempts"
)
_SELECT = f"SELECT {_COLUMNS} FROM _max_tasks"
_IDS = "SELECT nextval('_max_task_ids') FROM generate_series(1, %s)"
_INSERT = (
    "INSERT INTO _max_tasks (id, seq, sync_id, state, payload, parent_id, blocked_by, "
    "not_before, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_CHILD = (
    "INSERT INTO _max_tasks (id, seq, sync_id, state, payload, parent_id, created_at) "
    "VALUES (%s, %s, %s, 'pending', %s, %s, %s)"
)
_CLAIM = f"""
UPDATE _max_tasks SET state = 'running', worker = %(worker)s, lease_until = %(lease)s
WHERE id IN (
  SELECT id FROM _max_tasks
  WHERE sync_id = %(sync)s AND (
    (state = 'pending' AND (not_before IS NULL OR not_before <= %(now)s))
    OR (state = 'running' AND lease_until < %(now)s))
  ORDER BY seq LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED)
RETURNING {_COLUMNS}
"""
_FINISH = (
    "UPDATE _max_tasks SET state = %s, completed_at = %s, lease_until = NULL "
    "WHERE id = %s AND state = 'running' RETURNING sync_id, parent_id"
)
_UNBLOCK = "UPDATE _max_tasks SET state = 'pending' WHERE blocked_by = %s AND state = 'new'"
_LOCK_PARENT = "SELECT state FROM _max_tasks WHERE id = %s FOR UPDATE"
_COMPLETE_PARENT = """
UPDATE _max_tasks SET state = 'completed', completed_at = %(now)s
WHERE id = %(id)s AND state = 'awaiting_children'
  AND NOT EXISTS (SELECT 1 FROM _max_tasks WHERE parent_id = %(id)s AND state <> 'completed')
RETURNING parent_id
"""
_FAIL = (
    "UPDATE _max_tasks SET state = 'failed', error = %s, error_json = %s, completed_at = %s, "
    "lease_until = NULL WHERE id = %s AND state = 'running'"
)
_NON_TERMINAL = "('new', 'pending', 'running', 'awaiting_children', 'paused')"
_REVIVE_CANCELLED = """
UPDATE _max_tasks AS t SET
  state = CASE
    WHEN EXISTS (SELECT 1 FROM _max_tasks AS c WHERE c.parent_id = t.id)
      THEN 'awaiting_children'
    WHEN t.blocked_by IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM _max_tasks AS b WHERE b.id = t.blocked_by AND b.state = 'completed')
      THEN 'new'
    ELSE 'pending' END,
  completed_at = NULL
WHERE t.sync_id = %s AND t.state = 'cancelled'
"""


def _fresh_ids(conn: PgConnection, count: int) -> list[int]:
    """``count`` new task ids, ascending."""
    return sorted(int(row[0]) for row in conn.execute(_IDS, (count,)).fetchall())


class PgTaskStore:
    """The ``TaskStore`` protocol over ``_max_tasks``, sharing ``engine``'s database."""

    def __init__(self, engine: PgEngine, *, clock: Clock = wall_clock_ms) -> None:
        self.engine = engine
        self.database = engine.database
        self._clock = clock
        self._numbers: dict[str, int] = {}
        self.database.write_sync(ensure_pg_execution_tables)

    @staticmethod
    def _transition_error(conn: PgConnection, task_id: str, to: TaskState) -> MaxError:
        row = conn.execute("SELECT state FROM _max_tasks WHERE id = %s", (task_id,)).fetchone()
        if row is None:
            return ErrTaskNotFound(taskId=task_id)
        return ErrInvalidTransition(taskId=task_id, state=row[0], to=to.value)

    @staticmethod
    def _propagate(
        conn: PgConnection, task_id: str, parent_id: str | None, now: int
    ) -> FinishReport:
        """``task_id`` just completed: unblock dependents, complete finished ancestors."""
        unblocked = conn.execute(_UNBLOCK, (task_id,)).rowcount
        propagated: list[str] = []
        while parent_id is not None:
            conn.execute(_LOCK_PARENT, (parent_id,))
            row = conn.execute(_COMPLETE_PARENT, {"now": now, "id": parent_id}).fetchone()
            if row is None:
                break
            propagated.append(parent_id)
            unblocked += conn.execute(_UNBLOCK, (parent_id,)).rowcount
            parent_id = row[0]
        return FinishReport(True, tuple(propagated), unblocked)

    # -- TaskStore ---------------------------------------------------------------------------

    async def enqueue_graph(
        self, sync_id: str, templates: Sequence[TaskTemplate]
    ) -> Mapping[str, str]:
        payloads = [payload_to_json(t.payload) for t in templates]
        now = self._clock()

        def insert(conn: PgConnection) -> dict[str, str]:
            numbers = _fresh_ids(conn, len(templates))
            ids = {t.temp_id: str(n) for t, n in zip(templates, numbers, strict=True)}
            rows = [
                (
                    ids[t.temp_id],
                    number,
                    sync_id,
                    t.state.value,
                    payload,
                    ids.get(t.parent) if t.parent is not None else None,
                    ids.get(t.blocked_by) if t.blocked_by is not None else None,
                    t.not_before,
                    now,
                )
                for t, payload, number in zip(templates, payloads, numbers, strict=True)
            ]
            with conn.cursor() as cursor:
                cursor.executemany(_INSERT, rows)
            return ids

        return await self.database.write(insert) if templates else {}

    async def claim(self, sync_id: str, now_ms: int) -> Task | None:
        claimed = await self.claim_many(sync_id, now_ms, 1)
        return claimed[0] if claimed else None

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
        rows = await self.database.write(lambda conn: conn.execute(_CLAIM, params).fetchall())
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
        return await self.database.write(lambda conn: conn.execute(sql, params).rowcount)

    async def _sync_number(self, sync_id: str) -> int:
        """The number a sync writes into ``_seen`` (cached; 0 for a sync without a record)."""
        number = self._numbers.get(sync_id)
        if number is None:
            number = await self.database.read(lambda conn: pg_sync_number(conn, sync_id))
            if number:
                self._numbers[sync_id] = number
        return number

    async def finish(self, task: Task, outcome: TaskOutcome) -> FinishReport:
        task_id = task.id
        number = await self._sync_number(task.sync_id) if outcome.synced_at is not None else 0
        plan = plan_finish(self.engine, outcome, number)
        tables = self.engine.tables_by_type
        children, to = plan.children, plan.to
        now = self._clock()

        def commit(conn: PgConnection) -> FinishReport:
            completed_at = None if children else now
            row = conn.execute(_FINISH, (to.value, completed_at, task_id)).fetchone()
            if row is None:
                raise self._transition_error(conn, task_id, to)
            sync_id, parent_id = row
            PgEngine.apply_writes(conn, plan.runs)
            if plan.meta_rows:
                pg_apply_field_sync_rows(conn, tables, plan.meta_rows)
            if plan.listings:
                pg_record_listings(conn, sync_id, now, plan.listings)
            if not children:
                return self._propagate(conn, task_id, parent_id, now)
            numbers = _fresh_ids(conn, len(children))
            with conn.cursor() as cursor:
                cursor.executemany(
                    _INSERT_CHILD,
                    [
                        (str(n), n, sync_id, payload, task_id, now)
                        for n, payload in zip(numbers, children, strict=True)
                    ],
                )
            return FinishReport(False)

        return await self.database.write(commit)

    async def fail(self, task: Task, error: MaxError) -> None:
        params = (error.message, json.dumps(error.to_wire()), self._clock(), task.id)

        def update(conn: PgConnection) -> None:
            if conn.execute(_FAIL, params).rowcount == 0:
                raise self._transition_error(conn, task.id, TaskState.FAILED)

        await self.database.write(update)

    async def get(self, task_id: str) -> Task | None:
        sql = f"{_SELECT} WHERE id = %s"
        rows = await self.database.read(lambda conn: conn.execute(sql, (task_id,)).fetchall())
        return task_from_row(rows[0]) if rows else None

    async def tasks(self, sync_id: str) -> Sequence[Task]:
        sql = f"{_SELECT} WHERE sync_id = %s ORDER BY seq"
        rows = await self.database.read(lambda conn: conn.execute(sql, (sync_id,)).fetchall())
        return [task_from_row(row) for row in rows]

    async def has_active_tasks(self, sync_id: str) -> bool:
        sql = (
            "SELECT EXISTS (SELECT 1 FROM _max_tasks "
            "WHERE sync_id = %s AND state IN ('pending', 'running'))"
        )
        rows = await self.database.read(lambda conn: conn.execute(sql, (sync_id,)).fetchall())
        return bool(rows[0][0])

    async def count_by_state(self, sync_id: str) -> Mapping[TaskState, int]:
        sql = "SELECT state, count(*) FROM _max_tasks WHERE sync_id = %s GROUP BY state"
        rows = await self.database.read(lambda conn: conn.execute(sql, (sync_id,)).fetchall())
        return {TaskState(state): int(n) for state, n in rows}

    async def interrupt(self, sync_id: str) -> int:
        def update(conn: PgConnection) -> int:
            moved = conn.execute(
                "UPDATE _max_tasks SET state = 'pending', lease_until = NULL "
                "WHERE sync_id = %s AND state = 'running'",
                (sync_id,),
            ).rowcount
            pg_mark_sync(conn, sync_id, SyncStatus.INTERRUPTED, None)
            return moved

        return await self.database.write(update)

    async def prepare_resume(self, sync_id: str, *, force: bool = False) -> int:
        def update(conn: PgConnection) -> int:
            moved = conn.execute(
                "UPDATE _max_tasks SET state = 'pending', error = NULL, error_json = NULL, "
                "completed_at = NULL, attempts = attempts + 1 "
                "WHERE sync_id = %s AND state = 'failed'",
                (sync_id,),
            ).rowcount
            moved += conn.execute(
                "UPDATE _max_tasks SET state = 'pending', lease_until = NULL "
                "WHERE sync_id = %s AND state IN ('running', 'paused')",
                (sync_id,),
            ).rowcount
            if force:
                moved += conn.execute(_REVIVE_CANCELLED, (sync_id,)).rowcount
            pg_mark_sync_resumed(conn, sync_id, force=force)
            return moved

        return await self.database.write(update)

    async def cancel_sync(self, sync_id: str) -> int:
        now = self._clock()

        def update(conn: PgConnection) -> int:
            moved = conn.execute(
                "UPDATE _max_tasks SET state = 'cancelled', completed_at = %s, "
                f"lease_until = NULL WHERE sync_id = %s AND state IN {_NON_TERMINAL}",
                (now, sync_id),
            ).rowcount
            pg_mark_sync(conn, sync_id, SyncStatus.CANCELLED, now)
            return moved

        return await self.database.write(update)

    async def complete_sync(self, sync_id: str, at: int, requests: int = 0) -> int:
        tables = self.engine.tables_by_type

        def complete(conn: PgConnection) -> int:
            removed = pg_remove_unseen(conn, tables, sync_id, pg_sync_number(conn, sync_id))
            conn.execute(
                "UPDATE _max_sync SET status = 'completed', completed_at = %s, removed = %s, "
                "requests = %s WHERE id = %s",
                (at, removed, requests, sync_id),
            )
            return removed

        return await self.database.write(complete)

    async def apply_changes(
        self,
        sync_id: str,
        changes: ChangeSet,
        *,
        started_at: int,
        at: int,
        requests: int = 0,
    ) -> int:
        deleted = {(ref.entity_type, ref.id) for ref in changes.deletes}
        upserts = [e for e in changes.upserts if (e.ref.entity_type, e.ref.id) not in deleted]
        engine = self.engine
        deletes = engine.prepare_deletes(changes.deletes)

        def apply(conn: PgConnection) -> int:
            number = pg_insert_sync_record(
                conn,
                sync_id,
                started_at,
                mode=SyncMode.INCREMENTAL,
                feed_cursor=changes.cursor,
                status="completed",
                completed_at=at,
            )
            if upserts:
                engine.apply_writes(conn, engine.prepare_writes(upserts, SyncStamp(at, number)))
            removed = engine.apply_deletes(conn, deletes)
            conn.execute(
                "UPDATE _max_sync SET removed = %s, requests = %s WHERE id = %s",
                (removed, requests, sync_id),
            )
            return removed

        return await self.database.write(apply)
