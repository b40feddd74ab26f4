"""The SQL both flow stores share: every method of :class:`~maxtrio.flows._store.FlowStore`
written once over a few primitives, which :class:`~maxtrio.flows.SqliteFlowStore` (apsw) and
:class:`~maxtrio.flows.PgFlowStore` (psycopg 3) provide.

One connection per store, used by one worker thread at a time (a ``CapacityLimiter(1)`` in front
of ``trio.to_thread``), so a slow lock held by another process never blocks the event loop and
the server's own transactions never interleave. Every write is one transaction: rows can be
inserted, changed or deleted by other processes at any moment, so each method reads what it
needs inside its own transaction and guards each update with the state it expects. A method that
reads a run's rows and then writes them first calls :meth:`SqlFlowStore._lock_run` — nothing on
SQLite, where ``BEGIN IMMEDIATE`` already admits one writer at a time; a per-run lock on
PostgreSQL, where the transactions of several servers run side by side.

Statements are written with ``?`` placeholders in the common subset of both dialects (plus
``rowid``, which the PostgreSQL schema declares as a real column); the few that differ —
the ready-steps query, "id in a JSON list", how many steps count against the limit — are
attributes or methods an implementation overrides.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import trio

from . import _log_messages as messages
from ._clock import MonotonicMsClock
from ._dag import downstream
from ._errors import (
    ErrRunCompleted,
    ErrRunNotFound,
    ErrRunTerminated,
    ErrStepRunning,
)
from ._models import (
    ClaimedStep,
    FieldsItem,
    Run,
    RunLog,
    StageTransition,
    Step,
    StepSpec,
    StepWrite,
    dump_json,
    load_json,
)
from ._store import (
    ControlOutcome,
    FlowCallKind,
    LogQuery,
    NewLog,
    RetryStepOutcome,
    RunListQuery,
    ScheduledStage,
)

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound="SqlFlowStore")

RUN_COLUMNS = (
    "id, flow_name, status, input, output, error, metadata, created_at, started_at, "
    "completed_at, duration_ms, stdout, stderr, name, description, flow_title, termination_reason"
)
STEP_COLUMNS = (
    "id, run_id, stage_id, name, status, depends_on, retry_count, max_retries, env, fields, "
    "error, created_at, started_at, completed_at, duration_ms, stdout, stderr, "
    "termination_reason, queued_at, claimed_at, heartbeat_at, worker_id"
)
LOG_COLUMNS = "id, run_id, entity_type, entity_id, level, message, metadata, created_at"

# Columns a retry (of the run or of a step) clears on a step.
STEP_RESET = (
    "status = 'pending', termination_reason = NULL, started_at = NULL, completed_at = NULL, "
    "duration_ms = NULL, stdout = NULL, stderr = NULL, fields = NULL, error = NULL, "
    "queued_at = NULL, claimed_at = NULL, heartbeat_at = NULL, worker_id = NULL, retry_count = 0"
)
# A run the engine may still move on its own: exists, not terminated, not paused.
RUN_IS_LIVE = "termination_reason IS NULL AND status IN ('pending', 'running', 'failed')"
# A run whose flow-call results still count: not terminated, not paused (and not deleted).
RUN_NOT_HALTED = "termination_reason IS NULL AND status != 'paused'"
# The columns PATCH may write.
PATCHABLE_COLUMNS = frozenset({"status", "output", "error", "name", "description"})
DURATION = "duration_ms = ? - COALESCE(started_at, created_at)"

RESET_STEP = (
    "UPDATE step SET status = 'pending', stage_id = ?, name = ?, depends_on = ?, "
    "max_retries = ?, env = ?, retry_count = 0, started_at = NULL, completed_at = NULL, "
    "duration_ms = NULL, stdout = NULL, stderr = NULL, termination_reason = NULL, "
    "fields = NULL, error = NULL, queued_at = ? WHERE run_id = ? AND id = ?"
)
INSERT_STEP = (
    "INSERT INTO step (id, run_id, stage_id, name, status, depends_on, retry_count, "
    "max_retries, env, created_at, queued_at) VALUES (?, ?, ?, ?, 'pending', ?, 0, ?, ?, ?, ?)"
)

# A step is eligible when pending, queued, in a live run, and every dependency is completed;
# each dialect appends its dependency test, order and limit.
READY_CANDIDATES = """
SELECT s.run_id, s.id, s.name, s.stage_id, st.name, r.flow_name, s.max_retries, s.env
FROM step s
JOIN run r ON r.id = s.run_id
JOIN stage st ON st.id = s.stage_id
WHERE s.status = 'pending' AND s.queued_at IS NOT NULL
  AND r.termination_reason IS NULL AND r.status != 'paused'
"""
READY_STEPS = (
    READY_CANDIDATES
    + """  AND CASE WHEN json_valid(s.depends_on) THEN NOT EXISTS (
        SELECT 1 FROM json_each(s.depends_on) AS dep
        WHERE NOT EXISTS (
          SELECT 1 FROM step AS d
          WHERE d.run_id = s.run_id AND d.id = dep.value AND d.status = 'completed'))
      ELSE 0 END
ORDER BY s.queued_at, s.created_at, s.id
LIMIT ?
"""
)


def in_worker_thread(
    method: Callable[Concatenate[S, P], T],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Run a blocking store method in a worker thread, one at a time per store."""

    @functools.wraps(method)
    async def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        call = functools.partial(method, self, *args, **kwargs)
        return await trio.to_thread.run_sync(call, limiter=self._limiter)

    return run


def _run_from_row(row: Sequence[Any]) -> Run:
    return Run(
        id=row[0],
        flow_name=row[1],
        status=row[2],
        input=load_json(row[3]),
        output=load_json(row[4]),
        error=load_json(row[5]),
        metadata=load_json(row[6]),
        created_at=row[7],
        started_at=row[8],
        completed_at=row[9],
        duration_ms=row[10],
        stdout=row[11],
        stderr=row[12],
        name=row[13],
        description=row[14],
        flow_title=row[15],
        termination_reason=row[16],
    )


def _step_from_row(row: Sequence[Any]) -> Step:
    depends_on = load_json(row[5])
    return Step(
        id=row[0],
        run_id=row[1],
        stage_id=row[2],
        name=row[3],
        status=row[4],
        depends_on=tuple(str(d) for d in depends_on) if isinstance(depends_on, list) else (),
        retry_count=row[6],
        max_retries=row[7],
        env=load_json(row[8]),
        fields=load_json(row[9]),
        error=row[10],
        created_at=row[11],
        started_at=row[12],
        completed_at=row[13],
        duration_ms=row[14],
        stdout=row[15],
        stderr=row[16],
        termination_reason=row[17],
        queued_at=row[18],
        claimed_at=row[19],
        heartbeat_at=row[20],
        worker_id=row[21],
    )


def _log_from_row(row: Sequence[Any]) -> RunLog:
    return RunLog(
        id=row[0],
        run_id=row[1],
        entity_type=row[2],
        entity_id=row[3],
        level=row[4],
        message=row[5],
        metadata=load_json(row[6]),
        created_at=row[7],
    )


def _json_or_null(value: Any) -> str | None:
    return None if value is None else dump_json(value)


def _depends_on(text: str | None) -> list[str]:
    value = load_json(text)
    return [str(d) for d in value] if isinstance(value, list) else []


class SqlFlowStore:
    """The shared methods; subclasses provide the connection and the primitives below."""

    # "<column> is in this JSON list": a predicate of one parameter (a JSON text array).
    in_json_list_sql = "{column} IN (SELECT value FROM json_each(?))"

    def in_json_list(self, column: str) -> str:
        return self.in_json_list_sql.format(column=column)

    # The ready-steps query: one parameter, the number of rows wanted.
    ready_steps = READY_STEPS

    def __init__(self, clock: MonotonicMsClock) -> None:
        self._clock = clock
        self._limiter = trio.CapacityLimiter(1)

    # -- primitives (subclasses) ---------------------------------------------------------------

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of ``sql`` (a tuple), or None."""
        raise NotImplementedError

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _transaction(self) -> contextlib.AbstractContextManager[None]:
        """One write transaction: committed at the end of the block, rolled back on error."""
        raise NotImplementedError

    def _lock_run(self, run_id: str) -> None:
        """Inside a transaction: hold off other servers' transactions on this run."""

    def _running_count(self, worker_id: str) -> int:
        """``running`` rows that count against this server's limit (all of them here)."""
        (running,) = self._one("SELECT count(*) FROM step WHERE status = 'running'")
        return int(running)

    # -- small helpers (call inside a transaction) ------------------------------------------------

    def _fetch_run(self, run_id: str) -> Run | None:
        row = self._one(f"SELECT {RUN_COLUMNS} FROM run WHERE id = ?", (run_id,))
        return None if row is None else _run_from_row(row)

    def _fetch_step(self, run_id: str, step_id: str) -> Step | None:
        row = self._one(
            f"SELECT {STEP_COLUMNS} FROM step WHERE run_id = ? AND id = ?", (run_id, step_id)
        )
        return None if row is None else _step_from_row(row)

    def _insert_log(self, run_id: str, entry: NewLog) -> RunLog:
        log = RunLog(
            id=str(uuid.uuid4()),
            run_id=run_id,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            level=entry.level,
            message=entry.message,
            metadata=entry.metadata,
            created_at=self._clock.now(),
        )
        self._execute(
            f"INSERT INTO run_log ({LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                log.id,
                log.run_id,
                log.entity_type,
                log.entity_id,
                log.level,
                log.message,
                _json_or_null(log.metadata),
                log.created_at,
            ),
        )
        return log

    def _start_run(self, run_id: str) -> bool:
        """pending → running with ``started_at`` (the first act of an initial flow call)."""
        changed = self._execute(
            "UPDATE run SET status = 'running', started_at = ? WHERE id = ? AND status = 'pending'",
            (self._clock.now(), run_id),
        )
        return changed > 0

    def _end_run(self, run_id: str, status: str, guard: str, *params: Any) -> bool:
        now = self._clock.now()
        changed = self._execute(
            f"UPDATE run SET status = ?, completed_at = ?, {DURATION} WHERE id = ? AND {guard}",
            (status, now, now, run_id, *params),
        )
        return changed > 0

    def _settle_stage(self, stage_id: str) -> StageTransition | None:
        counts = self._one(
            "SELECT count(*), "
            "coalesce(sum(CASE WHEN status IN ('completed', 'failed') THEN 1 ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) "
            "FROM step WHERE stage_id = ?",
            (stage_id,),
        )
        total, terminal, failed = counts
        if terminal < total:
            return None
        status: Literal["completed", "failed"] = "failed" if failed else "completed"
        changed = self._execute(
            "UPDATE stage SET status = ?, completed_at = ? WHERE id = ? AND status = 'pending'",
            (status, self._clock.now(), stage_id),
        )
        if changed == 0:
            return None
        row = self._one(
            "SELECT st.run_id, r.flow_name, st.name, st.final FROM stage st "
            "JOIN run r ON r.id = st.run_id WHERE st.id = ?",
            (stage_id,),
        )
        if row is None:
            return None
        return StageTransition(
            run_id=row[0],
            flow_name=row[1],
            stage_id=stage_id,
            stage_name=row[2],
            final=bool(row[3]),
            status=status,
        )

    def _cascade_failure(self, run_id: str, stage_id: str, failed_step_id: str) -> None:
        rows = self._all(
            "SELECT id, depends_on, status FROM step WHERE run_id = ? AND stage_id = ?",
            (run_id, stage_id),
        )
        graph = {row[0]: _depends_on(row[1]) for row in rows}
        status = {row[0]: row[2] for row in rows}
        skipped = [
            step_id
            for step_id in downstream(graph, [failed_step_id])
            if status[step_id] not in ("completed", "failed")
        ]
        now = self._clock.now()
        self._executemany(
            "UPDATE step SET status = 'failed', completed_at = ?, stderr = ? "
            "WHERE run_id = ? AND id = ? AND status NOT IN ('completed', 'failed')",
            [
                (now, f"Skipped: dependency '{failed_step_id}' failed", run_id, step_id)
                for step_id in skipped
            ],
        )

    # -- runs --------------------------------------------------------------------------------

    @in_worker_thread
    def create_run(
        self, *, flow_name: str, input: Any, metadata: Any, flow_title: str | None
    ) -> Run:
        run = Run(
            id=str(uuid.uuid4()),
            flow_name=flow_name,
            status="pending",
            created_at=self._clock.now(),
            input=input,
            metadata=metadata,
            flow_title=flow_title,
        )
        with self._transaction():
            self._execute(
                "INSERT INTO run (id, flow_name, status, input, metadata, created_at, flow_title) "
                "VALUES (?, ?, 'pending', ?, ?, ?, ?)",
                (
                    run.id,
                    flow_name,
                    _json_or_null(input),
                    _json_or_null(metadata),
                    run.created_at,
                    flow_title,
                ),
            )
            self._start_run(run.id)
        return run

    @in_worker_thread
    def get_run(self, run_id: str) -> Run | None:
        return self._fetch_run(run_id)

    @in_worker_thread
    def list_runs(self, query: RunListQuery) -> tuple[list[Run], int]:
        conditions: list[str] = []
        params: list[Any] = []
        if query.flow_name is not None:
            conditions.append("flow_name = ?")
            params.append(query.flow_name)
        if query.status is not None:
            conditions.append("status = ?")
            params.append(query.status)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        column = "created_at" if query.sort_by_created else "completed_at"
        # NULLs sort as SQLite sorts them (first ascending, last descending) on both databases.
        direction = "DESC NULLS LAST" if query.descending else "ASC NULLS FIRST"
        with self._transaction():
            (total,) = self._one(f"SELECT count(*) FROM run {where}", params)
            rows = self._all(
                f"SELECT {RUN_COLUMNS} FROM run {where} "
                f"ORDER BY {column} {direction}, rowid {direction} LIMIT ? OFFSET ?",
                (*params, query.limit, query.offset),
            )
        return [_run_from_row(row) for row in rows], total

    @in_worker_thread
    def update_run(self, run_id: str, changes: Mapping[str, Any]) -> Run | None:
        unknown = set(changes) - PATCHABLE_COLUMNS
        if unknown or not changes:
            raise ValueError(f"not patchable: {sorted(unknown)}")
        json_columns = {"output", "error"}
        assignments = ", ".join(f"{column} = ?" for column in changes)
        values = [
            _json_or_null(value) if column in json_columns else value
            for column, value in changes.items()
        ]
        with self._transaction():
            self._lock_run(run_id)
            self._execute(f"UPDATE run SET {assignments} WHERE id = ?", (*values, run_id))
            return self._fetch_run(run_id)

    # -- stages, steps, fields ---------------------------------------------------------------

    @in_worker_thread
    def schedule_stage(
        self, run_id: str, stage_name: str, final: bool, steps: Sequence[StepSpec]
    ) -> ScheduledStage:
        ids = [step.id for step in steps]
        with self._transaction():
            self._lock_run(run_id)
            run = self._fetch_run(run_id)
            if run is None:
                raise ErrRunNotFound()
            if run.termination_reason is not None:
                raise ErrRunTerminated(reason=run.termination_reason)
            if run.status == "completed":
                raise ErrRunCompleted()
            existing = {
                row[0]: row[1]
                for row in self._all(
                    f"SELECT id, status FROM step WHERE run_id = ? AND {self.in_json_list('id')}",
                    (run_id, dump_json(ids)),
                )
            }
            for step_id in ids:
                if existing.get(step_id) == "running":
                    raise ErrStepRunning(step=step_id)
            stage_id = self._upsert_stage(run_id, stage_name, final)
            self._upsert_steps(run_id, stage_id, steps, set(existing))
        return ScheduledStage(stage_id=stage_id, stage_name=stage_name, step_ids=tuple(ids))

    def _upsert_stage(self, run_id: str, name: str, final: bool) -> str:
        row = self._one("SELECT id FROM stage WHERE run_id = ? AND name = ?", (run_id, name))
        if row is not None:
            self._execute(
                "UPDATE stage SET status = 'pending', final = ?, started_at = NULL, "
                "completed_at = NULL, termination_reason = NULL WHERE id = ?",
                (int(final), row[0]),
            )
            return str(row[0])
        stage_id = str(uuid.uuid4())
        self._execute(
            "INSERT INTO stage (id, run_id, name, final, status, created_at) "
            "VALUES (?, ?, ?, ?, 'pending', ?)",
            (stage_id, run_id, name, int(final), self._clock.now()),
        )
        return stage_id

    def _upsert_steps(
        self, run_id: str, stage_id: str, steps: Sequence[StepSpec], existing: set[str]
    ) -> None:
        """Reset the steps the run already has (``existing``), insert the others (in request
        order), all queued at once: two batched statements, not round trips per step."""
        updates: list[tuple[Any, ...]] = []
        inserts: list[tuple[Any, ...]] = []
        for step in steps:
            depends_on = dump_json(list(step.depends_on))
            env = _json_or_null(dict(step.env) if step.env is not None else None)
            if step.id in existing:
                updates.append((stage_id, step.name, depends_on, step.max_retries, env, step.id))
            else:
                now = self._clock.now()
                inserts.append(
                    (step.id, run_id, stage_id, step.name, depends_on, step.max_retries, env, now)
                )
        queued = self._clock.now()
        if updates:
            self._executemany(RESET_STEP, [(*row[:5], queued, run_id, row[5]) for row in updates])
        if inserts:
            self._insert_steps(run_id, [(*row, queued) for row in inserts])

    def _insert_steps(self, run_id: str, rows: list[tuple[Any, ...]]) -> None:
        """Insert new step rows (id, run_id, stage_id, name, depends_on, max_retries, env,
        created_at, queued_at)."""
        self._executemany(INSERT_STEP, rows)

    @in_worker_thread
    def settle_stage(self, stage_id: str) -> StageTransition | None:
        with self._transaction():
            row = self._one("SELECT run_id FROM stage WHERE id = ?", (stage_id,))
            if row is not None:
                self._lock_run(str(row[0]))
            return self._settle_stage(stage_id)

    @in_worker_thread
    def post_step_fields(self, run_id: str, step_id: str, fields: Mapping[str, Any]) -> int | None:
        now = self._clock.now()
        with self._transaction():
            changed = self._execute(
                "UPDATE step SET fields = ?, completed_at = ? WHERE run_id = ? AND id = ?",
                (dump_json(fields), now, run_id, step_id),
            )
            return now if changed > 0 else None

    @in_worker_thread
    def query_fields(
        self, run_id: str, step_id: str | None, field_name: str | None
    ) -> list[FieldsItem]:
        sql = (
            "SELECT s.id, s.name, s.stage_id, st.name, s.status, s.fields, s.completed_at "
            "FROM step s LEFT JOIN stage st ON st.id = s.stage_id WHERE s.run_id = ?"
        )
        params: list[Any] = [run_id]
        if step_id is not None:
            sql += " AND s.id = ?"
            params.append(step_id)
        rows = self._all(sql + " ORDER BY s.rowid", params)
        items = []
        for row in rows:
            fields = load_json(row[5])
            if field_name is not None and fields is not None:
                has_field = isinstance(fields, dict) and field_name in fields
                fields = {field_name: fields[field_name]} if has_field else {}
            items.append(
                FieldsItem(
                    step_id=row[0],
                    step_name=row[1],
                    stage_id=row[2],
                    stage_name=row[3],
                    status=row[4],
                    fields=fields,
                    completed_at=row[6],
                )
            )
        return items

    # -- logs --------------------------------------------------------------------------------

    @in_worker_thread
    def add_log(self, run_id: str, entry: NewLog) -> RunLog | None:
        with self._transaction():
            if self._one("SELECT 1 FROM run WHERE id = ?", (run_id,)) is None:
                return None
            return self._insert_log(run_id, entry)

    @in_worker_thread
    def list_logs(self, run_id: str, query: LogQuery) -> list[RunLog]:
        conditions = ["run_id = ?"]
        params: list[Any] = [run_id]
        for column, value in (
            ("entity_type", query.entity_type),
            ("entity_id", query.entity_id),
            ("level", query.level),
        ):
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        if query.before is not None:
            conditions.append("created_at < ?")
            params.append(query.before)
        if query.after is not None:
            conditions.append("created_at > ?")
            params.append(query.after)
        rows = self._all(
            f"SELECT {LOG_COLUMNS} FROM run_log WHERE {' AND '.join(conditions)} "
            "ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (*params, query.limit),
        )
        return [_log_from_row(row) for row in rows]

    # -- control operations --------------------------------------------------------------------

    @in_worker_thread
    def abort_run(self, run_id: str, processes: int, grace_ms: int) -> ControlOutcome:
        with self._transaction():
            self._lock_run(run_id)
            run = self._fetch_run(run_id)
            if run is None:
                return ControlOutcome(previous=None)
            if run.status in ("completed", "failed"):
                self._insert_log(run_id, messages.abort_refused(run.status, run.termination_reason))
                return ControlOutcome(previous=run)
            now = self._clock.now()
            self._execute(
                "UPDATE run SET status = 'failed', termination_reason = 'aborted', "
                f"completed_at = ?, {DURATION} WHERE id = ?",
                (now, now, run_id),
            )
            self._execute(
                "UPDATE stage SET status = 'failed', termination_reason = 'aborted', "
                "completed_at = ? WHERE run_id = ? AND status IN ('pending', 'running')",
                (now, run_id),
            )
            self._execute(
                "UPDATE step SET status = 'failed', termination_reason = 'aborted', "
                "completed_at = ?, queued_at = NULL, claimed_at = NULL, heartbeat_at = NULL, "
                "worker_id = NULL WHERE run_id = ? AND status IN ('pending', 'running')",
                (now, run_id),
            )
            self._insert_log(run_id, messages.abort_accepted(processes, grace_ms))
            return ControlOutcome(previous=run, applied=True, current=self._fetch_run(run_id))

    @in_worker_thread
    def pause_run(self, run_id: str, processes: int, grace_ms: int) -> ControlOutcome:
        with self._transaction():
            self._lock_run(run_id)
            run = self._fetch_run(run_id)
            if run is None:
                return ControlOutcome(previous=None)
            if run.status in ("completed", "failed", "paused"):
                self._insert_log(run_id, messages.pause_refused(run.status))
                return ControlOutcome(previous=run)
            self._execute("UPDATE run SET status = 'paused' WHERE id = ?", (run_id,))
            self._execute(
                "UPDATE step SET status = 'pending', queued_at = NULL, claimed_at = NULL, "
                "heartbeat_at = NULL, worker_id = NULL, started_at = NULL "
                "WHERE run_id = ? AND status IN ('pending', 'running')",
                (run_id,),
            )
            self._insert_log(run_id, messages.pause_accepted(processes, grace_ms))
            return ControlOutcome(previous=run, applied=True, current=self._fetch_run(run_id))

    @in_worker_thread
    def resume_run(self, run_id: str) -> ControlOutcome:
        with self._transaction():
            self._lock_run(run_id)
            run = self._fetch_run(run_id)
            if run is None or run.status != "paused":
                return ControlOutcome(previous=run)
            self._insert_log(run_id, messages.resume_accepted())
            self._execute("UPDATE run SET status = 'pending' WHERE id = ?", (run_id,))
            current = self._fetch_run(run_id)
            self._start_run(run_id)
            return ControlOutcome(previous=run, applied=True, current=current)

    @in_worker_thread
    def retry_run(self, run_id: str) -> ControlOutcome:
        with self._transaction():
            self._lock_run(run_id)
            run = self._fetch_run(run_id)
            if run is None or run.status == "completed":
                return ControlOutcome(previous=run)
            if run.status == "running" and run.termination_reason is None:
                return ControlOutcome(previous=run)
            self._insert_log(run_id, messages.retry_accepted())
            self._execute(
                "UPDATE run SET status = 'pending', termination_reason = NULL, "
                "completed_at = NULL WHERE id = ?",
                (run_id,),
            )
            self._execute(
                "UPDATE stage SET status = 'pending', termination_reason = NULL, "
                "started_at = NULL, completed_at = NULL WHERE run_id = ? AND status != 'completed'",
                (run_id,),
            )
            self._execute(
                f"UPDATE step SET {STEP_RESET} WHERE run_id = ? AND status != 'completed'",
                (run_id,),
            )
            current = self._fetch_run(run_id)
            self._start_run(run_id)
            return ControlOutcome(previous=run, applied=True, current=current)

    @in_worker_thread
    def retry_step(self, run_id: str, step_id: str, cascade: bool) -> RetryStepOutcome:
        with self._transaction():
            self._lock_run(run_id)
            run = self._fetch_run(run_id)
            if run is None or run.status == "completed":
                return RetryStepOutcome(run=run)
            if run.status == "running" and run.termination_reason is None:
                return RetryStepOutcome(run=run)
            step = self._fetch_step(run_id, step_id)
            if step is None or step.status != "failed":
                return RetryStepOutcome(run=run, step=step)
            dependants: list[str] = []
            if cascade:
                rows = self._all(
                    "SELECT id, depends_on FROM step WHERE run_id = ? ORDER BY rowid", (run_id,)
                )
                dependants = downstream({row[0]: _depends_on(row[1]) for row in rows}, [step_id])
            self._insert_log(
                run_id, messages.retry_step_accepted(step_id, cascade, len(dependants))
            )
            reset_ids = dump_json([step_id, *dependants])
            self._execute(
                f"UPDATE step SET {STEP_RESET} WHERE run_id = ? AND {self.in_json_list('id')}",
                (run_id, reset_ids),
            )
            # D14: re-queue the reset steps and re-open their stages so they really run.
            self._execute(
                f"UPDATE step SET queued_at = ? WHERE run_id = ? AND {self.in_json_list('id')}",
                (self._clock.now(), run_id, reset_ids),
            )
            self._execute(
                "UPDATE stage SET status = 'pending', completed_at = NULL, "
                "termination_reason = NULL WHERE id IN (SELECT stage_id FROM step "
                f"WHERE run_id = ? AND {self.in_json_list('id')})",
                (run_id, reset_ids),
            )
            if run.status in ("failed", "paused"):
                self._execute(
                    "UPDATE run SET status = 'running', termination_reason = NULL, "
                    "completed_at = NULL WHERE id = ?",
                    (run_id,),
                )
            reset_step = self._fetch_step(run_id, step_id)
            cascaded = tuple(
                s for s in (self._fetch_step(run_id, d) for d in dependants) if s is not None
            )
            return RetryStepOutcome(run=run, step=reset_step, applied=True, cascaded=cascaded)

    # -- the engine's own writes -----------------------------------------------------------------

    @in_worker_thread
    def claim_ready_steps(self, limit: int, max_running: int, worker_id: str) -> list[ClaimedStep]:
        claims: list[ClaimedStep] = []
        with self._transaction():
            wanted = min(limit, max_running - self._running_count(worker_id))
            if wanted <= 0:
                return claims
            for row in self._all(self.ready_steps, (wanted,)):
                now = self._clock.now()
                changed = self._execute(
                    "UPDATE step SET status = 'running', claimed_at = ?, started_at = ?, "
                    "heartbeat_at = ?, worker_id = ? "
                    "WHERE run_id = ? AND id = ? AND status = 'pending'",
                    (now, now, now, worker_id, row[0], row[1]),
                )
                if changed == 0:
                    continue
                env = load_json(row[7])
                claims.append(
                    ClaimedStep(
                        run_id=row[0],
                        step_id=row[1],
                        step_name=row[2],
                        stage_id=row[3],
                        stage_name=row[4],
                        flow_name=row[5],
                        max_retries=max(0, int(row[6])),
                        env=env if isinstance(env, dict) else None,
                        claimed_at=now,
                        worker_id=worker_id,
                    )
                )
        return claims

    @in_worker_thread
    def claim_is_current(self, claim: ClaimedStep) -> bool:
        row = self._one(
            "SELECT 1 FROM step WHERE run_id = ? AND id = ? AND status = 'running' "
            "AND claimed_at = ? AND worker_id = ?",
            (claim.run_id, claim.step_id, claim.claimed_at, claim.worker_id),
        )
        return row is not None

    @in_worker_thread
    def record_attempt(
        self,
        claim: ClaimedStep,
        *,
        attempt: int,
        stdout: str | None,
        stderr: str,
        status: Literal["running", "completed", "failed"],
    ) -> StepWrite:
        with self._transaction():
            self._lock_run(claim.run_id)
            now = self._clock.now()
            changed = self._execute(
                "UPDATE step SET status = ?, stdout = ?, stderr = ?, retry_count = ?, "
                "completed_at = ?, duration_ms = ? - started_at "
                "WHERE run_id = ? AND id = ? AND status = 'running' "
                "AND claimed_at = ? AND worker_id = ?",
                (
                    status,
                    stdout,
                    stderr,
                    attempt,
                    now,
                    now,
                    claim.run_id,
                    claim.step_id,
                    claim.claimed_at,
                    claim.worker_id,
                ),
            )
            if changed == 0:
                return StepWrite(applied=False)
            if status == "running":
                return StepWrite(applied=True)
            if status == "failed":
                self._cascade_failure(claim.run_id, claim.stage_id, claim.step_id)
            transition = self._settle_stage(claim.stage_id)
            return StepWrite(applied=True, stage_transitions=(transition,) if transition else ())

    @in_worker_thread
    def runnable_for_flow_call(self, run_id: str, kind: FlowCallKind) -> Run | None:
        run = self._fetch_run(run_id)
        if run is None or run.termination_reason is not None or run.status == "paused":
            return None
        if kind == "initial" and run.status != "running":
            return None
        return run

    @in_worker_thread
    def finish_initial_call(
        self, run_id: str, *, stdout: str | None, stderr: str, succeeded: bool
    ) -> None:
        with self._transaction():
            self._lock_run(run_id)
            changed = self._execute(
                f"UPDATE run SET stdout = ?, stderr = ? WHERE id = ? AND {RUN_NOT_HALTED}",
                (stdout, stderr, run_id),
            )
            if changed == 0:
                return
            if not succeeded:
                self._end_run(run_id, "failed", f"status = 'running' AND {RUN_IS_LIVE}")
                return
            self._end_run(
                run_id,
                "completed",
                f"status = 'running' AND {RUN_IS_LIVE} "
                "AND NOT EXISTS (SELECT 1 FROM stage WHERE run_id = ?)",
                run_id,
            )

    @in_worker_thread
    def complete_run(self, run_id: str) -> bool:
        with self._transaction():
            self._lock_run(run_id)
            return self._end_run(run_id, "completed", RUN_IS_LIVE)

    @in_worker_thread
    def fail_run(self, run_id: str) -> bool:
        with self._transaction():
            self._lock_run(run_id)
            return self._end_run(run_id, "failed", RUN_IS_LIVE)

    @in_worker_thread
    def settle_run_after_callback(self, run_id: str, succeeded: bool) -> bool:
        with self._transaction():
            self._lock_run(run_id)
            return self._end_run(
                run_id,
                "completed" if succeeded else "failed",
                "status = 'running' AND termination_reason IS NULL AND NOT EXISTS "
                "(SELECT 1 FROM stage WHERE run_id = ? AND status = 'pending')",
                run_id,
            )

    # -- startup --------------------------------------------------------------------------------

    @in_worker_thread
    def known_run_ids(self, run_ids: Iterable[str]) -> set[str]:
        rows = self._all(
            f"SELECT id FROM run WHERE {self.in_json_list('id')}",
            (dump_json(sorted(set(run_ids))),),
        )
        return {row[0] for row in rows}

    @in_worker_thread
    def fail_interrupted_runs(self) -> int:
        with self._transaction():
            return self._fail_interrupted("1 = 1")

    def _fail_interrupted(self, which: str, *params: Any) -> int:
        """Fail the ``pending``/``running`` runs matching ``which`` (a condition on ``run``),
        their open stages and steps, with ``server_restart``; return how many runs."""
        now = self._clock.now()
        interrupted = f"SELECT id FROM run WHERE status IN ('pending', 'running') AND {which}"
        for table in ("stage", "step"):
            self._execute(
                f"UPDATE {table} SET status = 'failed', termination_reason = 'server_restart', "
                f"completed_at = ? WHERE run_id IN ({interrupted}) "
                "AND status IN ('pending', 'running')",
                (now, *params),
            )
        return self._execute(
            "UPDATE run SET status = 'failed', termination_reason = 'server_restart', "
            f"completed_at = ?, {DURATION} WHERE status IN ('pending', 'running') AND {which}",
            (now, now, *params),
        )

    # -- flow calls in flight (only a shared database needs to know) ---------------------------

    async def flow_call_started(self, run_id: str, worker_id: str) -> str | None:
        """Note a flow call of ``run_id`` starting in this server; return its token."""
        return None

    async def flow_call_ended(self, token: str | None) -> None:
        """The flow call of ``token`` ended (and its run was settled)."""
