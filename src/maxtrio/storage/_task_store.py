"""``SqliteTaskStore``: the durable task graph of syncs in ``_max_tasks`` (spec sync-engine §8).

It lives in the same ``data.db`` as the entity tables and shares the ``SqliteEngine``'s
``SqliteDatabase``, so :meth:`SqliteTaskStore.finish` commits a task's whole outcome in
**one** ``BEGIN IMMEDIATE`` transaction on the writer connection: the guarded state update,
the entity upserts (prepared on the event loop by ``SqliteEngine.prepare_writes``, executed by
``apply_writes``), the sync-meta rows, the children, and — for a task without children —
unblocking its dependents and completing every ancestor whose children are now all completed.
A guard miss (the task is not ``running``) or any failure rolls all of it back: a crash, a
cancellation or a bad value never leaves half a task behind.

Claims are atomic across connections and processes: one ``UPDATE … WHERE id = (SELECT …)
RETURNING`` inside ``BEGIN IMMEDIATE``; the oldest claimable task (creation order) wins. A
claim stamps the claiming ``worker`` and its lease (``lease_until``); a ``running`` task whose
lease ran out is claimable again (its worker died), and the late ``finish``/``fail`` of the
worker that lost it matches no row (the guard names the worker) and writes nothing.

Ids are decimal strings. The counter starts at ``MAX(CAST(id AS INTEGER))`` and, inside every
inserting transaction, catches up with the id of the newest row, so two stores (or processes)
on one file never hand out the same id.

Every call runs in a worker thread (``SqliteDatabase.write``/``read``); a call that started
its transaction finishes it (commit or rollback) even if the caller is cancelled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import apsw

from maxtrio.core import ChangeSet, MaxError
from maxtrio.execution import (
    Clock,
    ErrInvalidTransition,
    ErrTaskNotFound,
    FinishReport,
    SyncMode,
    Task,
    TaskOutcome,
    TaskState,
    TaskTemplate,
    field_sync_rows,
    payload_from_json,
    payload_to_json,
    wall_clock_ms,
)

from ._execution_tables import Row, ensure_execution_tables, fetch_all
from ._sqlite_engine import SqliteEngine
from ._sync_meta import apply_field_sync_rows
from ._sync_state import ListingRow, record_listings, remove_unseen, sync_number
from ._sync_store import (
    insert_sync_record,
    mark_sync_cancelled,
    mark_sync_interrupted,
    mark_sync_resumed,
)
from ._table import SyncStamp

_COLUMNS = (
    "id, sync_id, state, payload, parent_id, blocked_by, not_before, created_at, completed_at, "
    "error, attempts, worker, lease_until"
)
_SELECT = f"SELECT {_COLUMNS} FROM _max_tasks"
_INSERT = (
    "INSERT INTO _max_tasks (id, sync_id, state, payload, parent_id, blocked_by, not_before, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_CHILD = (
    "INSERT INTO _max_tasks (id, sync_id, state, payload, parent_id, created_at) "
    "VALUES (?, ?, 'pending', ?, ?, ?)"
)
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
_CLAIM_SET = "SET state = 'running', worker = ?4, lease_until = ?5"
_CLAIM = f"UPDATE _max_tasks {_CLAIM_SET} WHERE id = ({_CLAIMABLE}) RETURNING {_COLUMNS}"
_CLAIM_MANY = f"UPDATE _max_tasks {_CLAIM_SET} WHERE id IN ({_CLAIMABLE}) RETURNING {_COLUMNS}"
# A running task's transition, guarded on its state and on the worker that claimed it.
_OWNED = "id = ? AND state = 'running' AND worker IS ?"
_FINISH = (
    f"UPDATE _max_tasks SET state = ?, completed_at = ? WHERE {_OWNED} RETURNING sync_id, parent_id"
)
_UNBLOCK = "UPDATE _max_tasks SET state = 'pending' WHERE blocked_by = ? AND state = 'new'"
_COMPLETE_PARENT = """
UPDATE _max_tasks SET state = 'completed', completed_at = ?1
WHERE id = ?2 AND state = 'awaiting_children'
  AND NOT EXISTS (SELECT 1 FROM _max_tasks WHERE parent_id = ?2 AND state <> 'completed')
RETURNING parent_id
"""
_FAIL = (
    "UPDATE _max_tasks SET state = 'failed', error = ?, error_json = ?, completed_at = ? "
    f"WHERE {_OWNED}"
)
_NON_TERMINAL = "('new', 'pending', 'running', 'awaiting_children', 'paused')"
# Where a cancelled task goes back to on a forced resume.
_REVIVE_CANCELLED = """
UPDATE _max_tasks SET
  state = CASE
    WHEN EXISTS (SELECT 1 FROM _max_tasks AS c WHERE c.parent_id = _max_tasks.id)
      THEN 'awaiting_children'
    WHEN blocked_by IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM _max_tasks AS b WHERE b.id = _max_tasks.blocked_by AND b.state = 'completed')
      THEN 'new'
    ELSE 'pending' END,
  completed_at = NULL
WHERE sync_id = ? AND state = 'cancelled'
"""


def _task(row: Row) -> Task:
    id_, sync_id, state, payload, parent, blocked, not_before, created, *rest = row
    completed, error, attempts, worker, lease_until = rest
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
        attempts=attempts,
        worker=worker,
        lease_until=lease_until,
    )


class SqliteTaskStore:
    """The ``TaskStore`` protocol over ``_max_tasks``, sharing ``engine``'s database."""

    def __init__(self, engine: SqliteEngine, *, clock: Clock = wall_clock_ms) -> None:
        self.engine = engine
        self.database = engine.database
        self._clock = clock
        self._numbers: dict[str, int] = {}
        self._last_id = self.database.write_sync(self._open)

    @staticmethod
    def _open(conn: apsw.Connection) -> int:
        ensure_execution_tables(conn)
        rows = fetch_all(conn, "SELECT coalesce(max(CAST(id AS INTEGER)), 0) FROM _max_tasks")
        return int(rows[0][0])

    # -- helpers that run inside a write transaction -----------------------------------------

    def _reserve_ids(self, conn: apsw.Connection, count: int) -> int:
        """The first of ``count`` fresh consecutive ids (the newest row has the highest)."""
        newest = fetch_all(
            conn, "SELECT CAST(id AS INTEGER) FROM _max_tasks ORDER BY rowid DESC LIMIT 1"
        )
        first = max(self._last_id, int(newest[0][0]) if newest else 0) + 1
        self._last_id = first + count - 1
        return first

    @staticmethod
    def _transition_error(conn: apsw.Connection, task_id: str, to: TaskState) -> MaxError:
        rows = fetch_all(conn, "SELECT state FROM _max_tasks WHERE id = ?", (task_id,))
        if not rows:
            return ErrTaskNotFound(taskId=task_id)
        return ErrInvalidTransition(taskId=task_id, state=rows[0][0], to=to.value)

    @staticmethod
    def _propagate(
        conn: apsw.Connection, task_id: str, parent_id: str | None, now: int
    ) -> FinishReport:
        """``task_id`` just completed: unblock dependents, complete finished ancestors."""
        conn.execute(_UNBLOCK, (task_id,))
        unblocked = conn.changes()
        propagated: list[str] = []
        while parent_id is not None:
            rows = fetch_all(conn, _COMPLETE_PARENT, (now, parent_id))
            if not rows:
                break
            propagated.append(parent_id)
            conn.execute(_UNBLOCK, (parent_id,))
            unblocked += conn.changes()
            parent_id = rows[0][0]
        return FinishReport(True, tuple(propagated), unblocked)

    # -- TaskStore ---------------------------------------------------------------------------

    async def enqueue_graph(
        self, sync_id: str, templates: Sequence[TaskTemplate]
    ) -> Mapping[str, str]:
        payloads = [payload_to_json(t.payload) for t in templates]
        now = self._clock()

        def insert(conn: apsw.Connection) -> dict[str, str]:
            first = self._reserve_ids(conn, len(templates))
            ids = {t.temp_id: str(first + i) for i, t in enumerate(templates)}
            conn.executemany(
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
        params = (sync_id, now_ms, 1, None, None)
        rows = await self.database.write(lambda conn: fetch_all(conn, _CLAIM, params))
        return _task(rows[0]) if rows else None

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
        return sorted(map(_task, rows), key=lambda t: int(t.id))

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

        return await self.database.write(renew)

    async def _sync_number(self, sync_id: str) -> int:
        """The number a sync writes into ``_seen`` (cached; 0 for a sync without a record)."""
        number = self._numbers.get(sync_id)
        if number is None:
            number = await self.database.read(lambda conn: sync_number(conn, sync_id))
            if number:
                self._numbers[sync_id] = number
        return number

    async def finish(self, task: Task, outcome: TaskOutcome) -> FinishReport:
        task_id = task.id
        stamp: SyncStamp | None = None
        if outcome.synced_at is not None:
            stamp = SyncStamp(outcome.synced_at, await self._sync_number(task.sync_id))
        runs = self.engine.prepare_writes(outcome.entities, stamp) if outcome.entities else []
        meta_rows = list(field_sync_rows(outcome.sync_entries))
        if stamp is None:  # freshness given explicitly rather than by a sync's write
            meta_rows.extend(field_sync_rows((), outcome.sync_batches))
        listings = [
            ListingRow(x.parent_type, x.field, x.parent_id, x.entity_type, x.via)
            for x in outcome.listings
        ]
        tables = self.engine.tables_by_type
        children = [payload_to_json(p) for p in outcome.children]
        to = TaskState.AWAITING_CHILDREN if children else TaskState.COMPLETED
        now = self._clock()

        def commit(conn: apsw.Connection) -> FinishReport:
            completed_at = None if children else now
            rows = fetch_all(conn, _FINISH, (to.value, completed_at, task_id, task.worker))
            if not rows:
                raise self._transition_error(conn, task_id, to)
            sync_id, parent_id = rows[0]
            SqliteEngine.apply_writes(conn, runs)
            if meta_rows:
                apply_field_sync_rows(conn, tables, meta_rows)
            if listings:
                record_listings(conn, sync_id, now, listings)
            if not children:
                return self._propagate(conn, task_id, parent_id, now)
            first = self._reserve_ids(conn, len(children))
            conn.executemany(
                _INSERT_CHILD,
                [
                    (str(first + i), sync_id, payload, task_id, now)
                    for i, payload in enumerate(children)
                ],
            )
            return FinishReport(False)

        return await self.database.write(commit)

    async def fail(self, task: Task, error: MaxError) -> None:
        params = (error.message, json.dumps(error.to_wire()), self._clock(), task.id, task.worker)

        def update(conn: apsw.Connection) -> None:
            conn.execute(_FAIL, params)
            if conn.changes() == 0:
                raise self._transition_error(conn, task.id, TaskState.FAILED)

        await self.database.write(update)

    async def get(self, task_id: str) -> Task | None:
        sql = f"{_SELECT} WHERE id = ?"
        rows = await self.database.read(lambda conn: fetch_all(conn, sql, (task_id,)))
        return _task(rows[0]) if rows else None

    async def tasks(self, sync_id: str) -> Sequence[Task]:
        sql = f"{_SELECT} WHERE sync_id = ? ORDER BY rowid"
        rows = await self.database.read(lambda conn: fetch_all(conn, sql, (sync_id,)))
        return [_task(row) for row in rows]

    async def has_active_tasks(self, sync_id: str) -> bool:
        sql = (
            "SELECT EXISTS (SELECT 1 FROM _max_tasks "
            "WHERE sync_id = ? AND state IN ('pending', 'running'))"
        )
        rows = await self.database.read(lambda conn: fetch_all(conn, sql, (sync_id,)))
        return bool(rows[0][0])

    async def count_by_state(self, sync_id: str) -> Mapping[TaskState, int]:
        sql = "SELECT state, count(*) FROM _max_tasks WHERE sync_id = ? GROUP BY state"
        rows = await self.database.read(lambda conn: fetch_all(conn, sql, (sync_id,)))
        return {TaskState(state): int(n) for state, n in rows}

    async def interrupt(self, sync_id: str) -> int:
        def update(conn: apsw.Connection) -> int:
            conn.execute(
                "UPDATE _max_tasks SET state = 'pending' WHERE sync_id = ? AND state = 'running'",
                (sync_id,),
            )
            moved = conn.changes()
            mark_sync_interrupted(conn, sync_id)
            return moved

        return await self.database.write(update)

    async def prepare_resume(self, sync_id: str, *, force: bool = False) -> int:
        def update(conn: apsw.Connection) -> int:
            conn.execute(
                "UPDATE _max_tasks SET state = 'pending', error = NULL, error_json = NULL, "
                "completed_at = NULL, attempts = attempts + 1 "
                "WHERE sync_id = ? AND state = 'failed'",
                (sync_id,),
            )
            moved = conn.changes()
            conn.execute(
                "UPDATE _max_tasks SET state = 'pending' "
                "WHERE sync_id = ? AND state IN ('running', 'paused')",
                (sync_id,),
            )
            moved += conn.changes()
            if force:
                conn.execute(_REVIVE_CANCELLED, (sync_id,))
                moved += conn.changes()
            mark_sync_resumed(conn, sync_id, force=force)
            return moved

        return await self.database.write(update)

    async def cancel_sync(self, sync_id: str) -> int:
        now = self._clock()

        def update(conn: apsw.Connection) -> int:
            conn.execute(
                "UPDATE _max_tasks SET state = 'cancelled', completed_at = ? "
                f"WHERE sync_id = ? AND state IN {_NON_TERMINAL}",
                (now, sync_id),
            )
            moved = conn.changes()
            mark_sync_cancelled(conn, sync_id, now)
            return moved

        return await self.database.write(update)

    async def complete_sync(self, sync_id: str, at: int, requests: int = 0) -> int:
        tables = self.engine.tables_by_type

        def complete(conn: apsw.Connection) -> int:
            removed = remove_unseen(conn, tables, sync_id, sync_number(conn, sync_id))
            conn.execute(
                "UPDATE _max_sync SET status = 'completed', completed_at = ?, removed = ?, "
                "requests = ? WHERE id = ?",
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

        def apply(conn: apsw.Connection) -> int:
            number = insert_sync_record(
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
                "UPDATE _max_sync SET removed = ?, requests = ? WHERE id = ?",
                (removed, requests, sync_id),
            )
            return removed

        return await self.database.write(apply)
