"""``SqlTaskStore``: the durable task graph of syncs in ``_max_tasks``, written once for SQLite
(``SqliteTaskStore``) and PostgreSQL (``PgTaskStore``).

Each task store shares its engine's database, so :meth:`SqlTaskStore.finish` commits a task's
whole outcome in **one** transaction on the writer connection: the guarded state update, the
entity upserts (prepared on the event loop by the engine's ``prepare_writes``, executed by its
``apply_writes``), the freshness rows, the complete listings, the children, and — for a task
without children — unblocking its dependents and completing every ancestor whose children are
now all completed. A guard miss (the task is not ``running``) or any failure rolls all of it
back: a crash, a cancellation, a bad value or a dropped connection never leaves half a task
behind.

What differs between the databases beyond spelling (a ``StoreDialect``) is left to each
subclass: how ids are handed out (:meth:`SqlTaskStore._reserve_ids`), how tasks are claimed
(``claim_many``) and whether a parent row must be locked before its children are counted
(:meth:`SqlTaskStore._lock_task`: on PostgreSQL two workers may finish the last two children
of one parent at once).

Every call runs in a worker thread (the database's ``write``/``read``); a call that started its
transaction finishes it (commit or rollback) even if the caller is cancelled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

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
    payload_from_json,
    payload_to_json,
    wall_clock_ms,
)

from ._finish_plan import plan_finish
from ._store_dialect import SQLITE, Row, StoreDialect
from ._sync_meta import apply_field_sync_rows
from ._sync_state import record_listings, remove_unseen, sync_number
from ._sync_store import (
    insert_sync_record,
    mark_sync_cancelled,
    mark_sync_interrupted,
    mark_sync_resumed,
)
from ._table import SyncStamp

COLUMNS = (
    "id, sync_id, state, payload, parent_id, blocked_by, not_before, created_at, completed_at, "
    "error, attempts, worker, lease_until"
)
_INSERT = (
    "INSERT INTO _max_tasks (id, sync_id, state, payload, parent_id, blocked_by, not_before, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_CHILD = (
    "INSERT INTO _max_tasks (id, sync_id, state, payload, parent_id, created_at) "
    "VALUES (?, ?, 'pending', ?, ?, ?)"
)
# A running task's transition, guarded on its state and on the worker that claimed it (a task
# another worker took over after its lease ran out matches no row).
_OWNED = "id = ? AND state = 'running' AND coalesce(worker, '') = ?"
_FINISH = (
    f"UPDATE _max_tasks SET state = ?, completed_at = ? WHERE {_OWNED} RETURNING sync_id, parent_id"
)
_UNBLOCK = "UPDATE _max_tasks SET state = 'pending' WHERE blocked_by = ? AND state = 'new'"
_COMPLETE_PARENT = """
UPDATE _max_tasks SET state = 'completed', completed_at = ?
WHERE id = ? AND state = 'awaiting_children'
  AND NOT EXISTS (SELECT 1 FROM _max_tasks WHERE parent_id = ? AND state <> 'completed')
RETURNING parent_id
"""
_FAIL = (
    "UPDATE _max_tasks SET state = 'failed', error = ?, error_json = ?, completed_at = ? "
    f"WHERE {_OWNED}"
)
_NON_TERMINAL = "('new', 'pending', 'running', 'awaiting_children', 'paused')"
#: The statuses of a sync record under which claims take its tasks
#: (``SyncStatus.takes_claims``). A sync without a record (a task store used on its own) is
#: claimable.
CLAIMABLE_SYNC_STATUSES = tuple(s.value for s in SyncStatus if s.takes_claims)
# Where a cancelled task goes back to on a forced resume.
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
WHERE t.sync_id = ? AND t.state = 'cancelled'
"""


def task_from_row(row: Row) -> Task:
    """A ``Task`` from the columns :data:`COLUMNS`."""
    (id_, sync_id, state, payload, parent, blocked, not_before, created, *rest) = row
    completed, error, n, worker, lease_until = rest
    return Task(
        id_,
        sync_id,
        TaskState(state),
        payload_from_json(payload),
        created,
        parent_id=parent,
        blocked_by=blocked,
        not_before=not_before,
        completed_at=completed,
        error=error,
        attempts=n,
        worker=worker,
        lease_until=lease_until,
    )


class SqlTaskStore:
    """The ``TaskStore`` protocol over ``_max_tasks``, sharing ``engine``'s database (see the
    module docstring for what subclasses add)."""

    dialect: StoreDialect = SQLITE

    def __init__(self, engine: Any, *, clock: Clock = wall_clock_ms) -> None:
        self.engine = engine
        self.database = engine.database
        self._clock = clock
        self._numbers: dict[str, int] = {}

    # -- what subclasses provide ---------------------------------------------------------------

    def _reserve_ids(self, conn: Any, count: int) -> list[int]:
        """``count`` fresh task ids, ascending (inside the caller's transaction)."""
        raise NotImplementedError

    def _lock_task(self, conn: Any, task_id: str) -> None:
        """Lock a parent's row before counting its unfinished children (if the database
        needs it)."""

    def _end_bulk_loads(self, conn: Any, seen: int | None = None) -> set[str]:
        """End the engine's bulk loads (SQLite: ``_bulk_load``), in ``conn``'s transaction;
        returns the entity types whose every row sync ``seen`` wrote (its own loads)."""
        return set()

    def _catch_up(self, conn: Any) -> None:
        """Bring derived indexes up to date with the sync's rows (SQLite's full-text index),
        in the transaction that completes a sync or applies a change set."""

    async def claim_many(self, sync_id: str, now_ms: int, limit: int) -> Sequence[Task]:
        raise NotImplementedError

    # -- helpers that run inside a write transaction -----------------------------------------

    def _transition_error(self, conn: Any, task_id: str, to: TaskState) -> MaxError:
        rows = self.dialect.rows(conn, "SELECT state FROM _max_tasks WHERE id = ?", (task_id,))
        if not rows:
            return ErrTaskNotFound(taskId=task_id)
        return ErrInvalidTransition(taskId=task_id, state=rows[0][0], to=to.value)

    def _propagate(self, conn: Any, task_id: str, parent_id: str | None, now: int) -> FinishReport:
        """``task_id`` just completed: unblock dependents, complete finished ancestors."""
        d = self.dialect
        unblocked = d.run(conn, _UNBLOCK, (task_id,))
        propagated: list[str] = []
        while parent_id is not None:
            self._lock_task(conn, parent_id)
            rows = d.rows(conn, _COMPLETE_PARENT, (now, parent_id, parent_id))
            if not rows:
                break
            propagated.append(parent_id)
            unblocked += d.run(conn, _UNBLOCK, (parent_id,))
            parent_id = rows[0][0]
        return FinishReport(True, tuple(propagated), unblocked)

    # -- TaskStore ---------------------------------------------------------------------------

    async def enqueue_graph(
        self, sync_id: str, templates: Sequence[TaskTemplate]
    ) -> Mapping[str, str]:
        payloads = [payload_to_json(t.payload) for t in templates]
        now = self._clock()

        def insert(conn: Any) -> dict[str, str]:
            numbers = self._reserve_ids(conn, len(templates))
            ids = {t.temp_id: str(n) for t, n in zip(templates, numbers, strict=True)}
            self.dialect.run_many(
                conn,
                _INSERT,
                [
                    (
                        ids[t.temp_id],
                        sync_id,
                        t.state.value,
                        payload,
                        ids.get(t.parent) if t.parent is not None else None,
                        ids.get(t.blocked_by) if t.blocked_by is not None else None,
                        t.not_before,
                        now,
                    )
                    for t, payload in zip(templates, payloads, strict=True)
                ],
            )
            return ids

        return await self.database.write(insert) if templates else {}

    async def claim(self, sync_id: str, now_ms: int) -> Task | None:
        claimed = await self.claim_many(sync_id, now_ms, 1)
        return claimed[0] if claimed else None

    async def _sync_number(self, sync_id: str) -> int:
        """The number a sync writes into ``_seen`` (cached; 0 for a sync without a record)."""
        number = self._numbers.get(sync_id)
        if number is None:
            d = self.dialect
            number = await self.database.read(lambda conn: sync_number(d, conn, sync_id))
            if number:
                self._numbers[sync_id] = number
        return number

    async def finish(self, task: Task, outcome: TaskOutcome) -> FinishReport:
        task_id = task.id
        number = await self._sync_number(task.sync_id) if outcome.synced_at is not None else 0
        plan = plan_finish(self.engine, outcome, number)
        d, tables, apply_writes = self.dialect, self.engine.tables_by_type, self.engine.apply_writes
        children, to = plan.children, plan.to
        now = self._clock()
        owner = task.worker or ""

        def commit(conn: Any) -> FinishReport:
            completed_at = None if children else now
            rows = d.rows(conn, _FINISH, (to.value, completed_at, task_id, owner))
            if not rows:
                raise self._transition_error(conn, task_id, to)
            sync_id, parent_id = rows[0]
            apply_writes(conn, plan.runs)
            if plan.meta_rows:
                self._end_bulk_loads(conn)  # the freshness updates find rows by id
                apply_field_sync_rows(d, conn, tables, plan.meta_rows)
            if plan.listings:
                record_listings(d, conn, sync_id, now, plan.listings)
            if not children:
                return self._propagate(conn, task_id, parent_id, now)
            numbers = self._reserve_ids(conn, len(children))
            d.run_many(
                conn,
                _INSERT_CHILD,
                [
                    (str(n), sync_id, payload, task_id, now)
                    for n, payload in zip(numbers, children, strict=True)
                ],
            )
            return FinishReport(False)

        report: FinishReport = await self.database.write(commit)
        return report

    async def fail(self, task: Task, error: MaxError) -> None:
        params = (
            error.message,
            json.dumps(error.to_wire()),
            self._clock(),
            task.id,
            task.worker or "",
        )

        def update(conn: Any) -> None:
            if self.dialect.run(conn, _FAIL, params) == 0:
                raise self._transition_error(conn, task.id, TaskState.FAILED)

        await self.database.write(update)

    async def _read(self, sql: str, params: Sequence[Any]) -> list[Row]:
        d = self.dialect
        return await self.database.read(lambda conn: d.rows(conn, sql, params))  # type: ignore[no-any-return]

    async def get(self, task_id: str) -> Task | None:
        rows = await self._read(f"SELECT {COLUMNS} FROM _max_tasks WHERE id = ?", (task_id,))
        return task_from_row(rows[0]) if rows else None

    async def tasks(self, sync_id: str) -> Sequence[Task]:
        sql = (
            f"SELECT {COLUMNS} FROM _max_tasks WHERE sync_id = ? ORDER BY {self.dialect.task_order}"
        )
        return [task_from_row(row) for row in await self._read(sql, (sync_id,))]

    async def has_active_tasks(self, sync_id: str) -> bool:
        sql = (
            "SELECT EXISTS (SELECT 1 FROM _max_tasks "
            "WHERE sync_id = ? AND state IN ('pending', 'running'))"
        )
        return bool((await self._read(sql, (sync_id,)))[0][0])

    async def count_by_state(self, sync_id: str) -> Mapping[TaskState, int]:
        sql = "SELECT state, count(*) FROM _max_tasks WHERE sync_id = ? GROUP BY state"
        return {TaskState(state): int(n) for state, n in await self._read(sql, (sync_id,))}

    async def interrupt(self, sync_id: str) -> int:
        d = self.dialect

        def update(conn: Any) -> int:
            # The record first: PostgreSQL's claims wait on its row (see PgTaskStore), so no
            # claim can take a task between the two statements.
            mark_sync_interrupted(d, conn, sync_id)
            return d.run(
                conn,
                "UPDATE _max_tasks SET state = 'pending' WHERE sync_id = ? AND state = 'running'",
                (sync_id,),
            )

        return await self.database.write(update)  # type: ignore[no-any-return]

    async def prepare_resume(self, sync_id: str, *, force: bool = False) -> int:
        d = self.dialect

        def update(conn: Any) -> int:
            moved = d.run(
                conn,
                "UPDATE _max_tasks SET state = 'pending', error = NULL, error_json = NULL, "
                "completed_at = NULL, attempts = attempts + 1 "
                "WHERE sync_id = ? AND state = 'failed'",
                (sync_id,),
            )
            moved += d.run(
                conn,
                "UPDATE _max_tasks SET state = 'pending' "
                "WHERE sync_id = ? AND state IN ('running', 'paused')",
                (sync_id,),
            )
            if force:
                moved += d.run(conn, _REVIVE_CANCELLED, (sync_id,))
            mark_sync_resumed(d, conn, sync_id, force=force)
            return moved

        return await self.database.write(update)  # type: ignore[no-any-return]

    async def cancel_sync(self, sync_id: str) -> int:
        d, now = self.dialect, self._clock()

        def update(conn: Any) -> int:
            moved = d.run(
                conn,
                "UPDATE _max_tasks SET state = 'cancelled', completed_at = ? "
                f"WHERE sync_id = ? AND state IN {_NON_TERMINAL}",
                (now, sync_id),
            )
            mark_sync_cancelled(d, conn, sync_id, now)
            return moved

        return await self.database.write(update)  # type: ignore[no-any-return]

    async def complete_sync(self, sync_id: str, at: int, requests: int = 0) -> int:
        d, tables = self.dialect, self.engine.tables_by_type

        def complete(conn: Any) -> int:
            number = sync_number(d, conn, sync_id)
            whole = self._end_bulk_loads(conn, number)
            removed = remove_unseen(d, conn, tables, sync_id, number, whole)
            self._catch_up(conn)
            d.run(
                conn,
                "UPDATE _max_sync SET status = 'completed', completed_at = ?, removed = ?, "
                "requests = ? WHERE id = ?",
                (at, removed, requests, sync_id),
            )
            return removed

        return await self.database.write(complete)  # type: ignore[no-any-return]

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
        d, engine = self.dialect, self.engine
        deletes = engine.prepare_deletes(changes.deletes)

        def apply(conn: Any) -> int:
            number = insert_sync_record(
                d,
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
            removed: int = engine.apply_deletes(conn, deletes)
            self._catch_up(conn)  # ends the engine's bulk loads first
            d.run(
                conn,
                "UPDATE _max_sync SET removed = ?, requests = ? WHERE id = ?",
                (removed, requests, sync_id),
            )
            return removed

        return await self.database.write(apply)  # type: ignore[no-any-return]
