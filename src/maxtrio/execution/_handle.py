"""``SyncHandle``: one sync's controls, status and result.

================  =============================================================================
``status()``      ``running`` ⇄ ``paused`` → ``completed`` / ``failed`` / ``cancelled``, or
                  ``interrupted`` when the process stopped the sync (resumable)
``pause()``       stop claiming tasks; tasks already running finish; the sync record says
                  ``paused``. A no-op unless running.
``resume()``      the record says ``running`` again and claiming continues. A no-op unless
                  paused.
``cancel()``      cancel the sync's cancel scope (running task bodies stop; a task's writes
                  commit at its very end, so a stopped task wrote nothing), then, shielded:
                  every non-terminal task → ``cancelled``, the record → ``cancelled`` with
                  ``completed_at``, ``SyncCompleted`` emitted. Returns when that is done.
                  A no-op when the sync already ended (except ``interrupted``: it is then
                  cancelled in the store).
``completion()``  waits for and returns the :class:`SyncResult`
``events``        the receive side of the sync's bounded event channel
================  =============================================================================

Status changes are serialised by a lock, so a late ``pause()`` can never overwrite a final
status (reference bug B7).

A handle either **owns** its sync (it started or resumed it: it writes the sync record and,
when everything is done, completes it) or **joined** it (``SyncExecutor.join``: another
process owns it). A joined run never writes the record: it ends when nothing is left to claim,
when the record says the sync stopped, or when it is stopped itself — then it hands its
running tasks to the others (their leases move into the past) instead of interrupting the
whole sync.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs
import trio

from maxtrio.core import MaxError

from ._dispatch import OperationCounts
from ._events import (
    EventStream,
    EventStreamStatistics,
    OperationRetried,
    SyncCompleted,
    SyncEvent,
    TaskCompleted,
    TaskFailed,
)
from ._result import SyncResult, TaskFailure
from ._stores import FinishReport, SyncMode, SyncStatus, SyncStore, TaskOutcome, TaskStore
from ._task import LoadCollectionPayload, LoadFieldsPayload, SyncStepPayload, Task, TaskState
from ._timestamps import Clock

#: Hands a joined run's running tasks to the other workers (``_leases.release_leases``).
Release = Callable[[], Awaitable[None]]

#: :class:`WriteWindow`: loading tasks at the start, and loaded results allowed to wait for the
#: writer before no new task starts.
START_WINDOW = 8
WRITE_BACKLOG = 6
#: Rows the loading tasks of one sync may hold at once (a memory budget: 1,000-row pages → 8
#: loading at a time; 10-row pages → the executor's whole limit).
ROWS_IN_FLIGHT = 8_000
#: The rows a result is assumed to hold at least, until :data:`TRUST_AFTER` results with rows
#: were seen (small ones of one collection say little about the pages of the next).
UNKNOWN_ROWS_PER_RESULT = ROWS_IN_FLIGHT // (2 * START_WINDOW)
TRUST_AFTER = 32
MIN_WINDOW = 2


class WriteWindow:
    """How many tasks of one sync may load at once: backpressure from the writer.

    A task that loaded data holds it in memory until its transaction commits. When the source
    answers faster than SQLite writes, results would pile up (fifty pages of a thousand rows
    are well over 100 MiB); when it answers slower, the writer idles and more concurrent calls
    help. So two bounds, checked before a task starts:

    * at most ``size`` tasks *loading* (running and not yet waiting for the writer). It starts
      at :data:`START_WINDOW` and grows by one each time a result commits, up to the
      executor's limit — a slow upstream doubles it every round trip;
    * at most :data:`WRITE_BACKLOG` results waiting for the writer (SQLite is the bottleneck):
      loading pauses until the writer catches up, while the writer always has work queued;
    * and never more loading than :data:`ROWS_IN_FLIGHT` rows' worth, judged by the largest
      result so far — the memory a sync holds does not grow with page size. Empty results say
      nothing about the size of the next one and do not lower the estimate: a sync whose first
      results were hundreds of empty listings (projects without files) once grew its window to
      fifty before its first 500-row task page arrived, then held fifty such pages at once
      (140 MiB instead of 80). Small results mislead the same way (a 50-row page of projects
      before the 1,000-row pages of their tasks): until :data:`TRUST_AFTER` results with rows
      were seen, a result is assumed to hold at least :data:`UNKNOWN_ROWS_PER_RESULT` rows —
      sixteen loading at the start; a sync of small pages opens up after that.
    """

    def __init__(self) -> None:
        self.size = START_WINDOW
        self.waiting_for_writer = 0  # results loaded and not yet committed
        self.peak_waiting = 0
        self.rows_per_result = 0  # the most rows a loaded result held so far (0: none yet)
        self.results_with_rows = 0

    def room(self, running: int) -> int:
        """How many more tasks may start now, ``running`` tasks running."""
        if self.waiting_for_writer >= WRITE_BACKLOG:
            return 0
        return self.size - (running - self.waiting_for_writer)

    def loaded(self, rows: int) -> None:
        self.waiting_for_writer += 1
        self.peak_waiting = max(self.peak_waiting, self.waiting_for_writer)
        self.rows_per_result = max(self.rows_per_result, rows)
        self.results_with_rows += rows > 0
        self.size = min(self.size, self._most())

    def _most(self) -> int:
        per_result = self.rows_per_result
        if self.results_with_rows < TRUST_AFTER:
            per_result = max(per_result, UNKNOWN_ROWS_PER_RESULT)
        return max(MIN_WINDOW, ROWS_IN_FLIGHT // per_result)

    def committed(self, cap: int) -> None:
        self.waiting_for_writer -= 1
        self.size = min(cap, self.size + 1, self._most())


@attrs.frozen
class SyncStatistics:
    """A snapshot of one sync run."""

    sync_id: str
    status: SyncStatus
    running_tasks: int  # task bodies executing now
    peak_running_tasks: int
    tasks_completed: int
    tasks_failed: int
    tasks_lost: int  # moved away while running (another executor's interrupt): not ours
    events: EventStreamStatistics


def payload_entity_type(task: Task) -> str:
    """The entity type a task is about (a collection's target type when known)."""
    payload = task.payload
    if isinstance(payload, SyncStepPayload):
        return payload.target.entity_type
    if isinstance(payload, LoadFieldsPayload):
        return payload.entity_type
    if isinstance(payload, LoadCollectionPayload):
        return payload.target_entity_type or payload.entity_type
    return ""


class SyncHandle:
    """Controls and observes one sync run. Made by :class:`SyncExecutor`, never directly."""

    def __init__(
        self,
        sync_id: str,
        *,
        task_store: TaskStore,
        sync_store: SyncStore,
        events: EventStream,
        now_ms: Clock,
    ) -> None:
        self.id = sync_id
        self.started_at = trio.current_time()
        self.events = events.receive
        self._stream = events
        self._task_store = task_store
        self._sync_store = sync_store
        self._now_ms = now_ms
        self._status = SyncStatus.RUNNING
        self._status_lock = trio.Lock()
        self._unpaused = trio.Event()
        self._unpaused.set()
        self._cancel_scope = trio.CancelScope()
        self._cancel_requested = False
        self._active = True  # the executor is still driving this run
        self._done = trio.Event()
        self._result: SyncResult | None = None
        self._work_changed = trio.Event()
        self.running_tasks = 0
        self.peak_running_tasks = 0
        self.tasks_completed = 0
        self.skipped = 0  # source items loaders left out (``Page.skipped``)
        self.tasks_lost = 0
        self.retries = 0  # upstream calls repeated after a retryable error
        self.backoff = 0.0  # seconds of back-off before those retries
        self._failures: list[TaskFailure] = []
        self.mode = SyncMode.FULL  # how the executor recorded the sync
        self.requests_before = 0  # operation calls made for it before the run began
        self.window = WriteWindow()
        self.owner = True  # False: joined another process's sync (see the module docstring)
        self._held: dict[str, None] = {}  # tasks claimed here whose outcome is not stored yet
        self._stopped_as: SyncStatus | None = None  # a joined run saw the sync stop

    def __repr__(self) -> str:
        return f"SyncHandle({self.id}, {self._status.value})"

    # -- the public controls -----------------------------------------------------------------

    def status(self) -> SyncStatus:
        return self._status

    async def pause(self) -> None:
        async with self._status_lock:
            if self._status is not SyncStatus.RUNNING or self._cancel_requested:
                return
            self._status = SyncStatus.PAUSED
            self._unpaused = trio.Event()
            await self._sync_store.set_status(self.id, SyncStatus.PAUSED, self._now_ms())

    async def resume(self) -> None:
        async with self._status_lock:
            if self._status is not SyncStatus.PAUSED:
                return
            self._status = SyncStatus.RUNNING
            await self._sync_store.set_status(self.id, SyncStatus.RUNNING, self._now_ms())
            self._unpaused.set()
            self.notify()

    async def cancel(self) -> None:
        if self._status.is_terminal:
            return
        if self._active:
            self._cancel_requested = True
            self._cancel_scope.cancel()
            await self._done.wait()
            return
        if self._status is SyncStatus.INTERRUPTED:
            with trio.CancelScope(shield=True):
                await self.finish_cancelled(OperationCounts())

    async def completion(self) -> SyncResult:
        await self._done.wait()
        assert self._result is not None
        return self._result

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def statistics(self) -> SyncStatistics:
        return SyncStatistics(
            self.id,
            self._status,
            self.running_tasks,
            self.peak_running_tasks,
            self.tasks_completed,
            len(self._failures),
            self.tasks_lost,
            self._stream.statistics(),
        )

    # -- what the executor drives ------------------------------------------------------------

    @property
    def cancel_scope(self) -> trio.CancelScope:
        return self._cancel_scope

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    @property
    def paused(self) -> bool:
        return self._status is SyncStatus.PAUSED

    @property
    def work_changed(self) -> trio.Event:
        """Set at the next :meth:`notify`; capture it *before* looking for work."""
        return self._work_changed

    def notify(self) -> None:
        """Work changed (a task finished, the sync resumed): wake the dispatcher."""
        self._work_changed.set()
        self._work_changed = trio.Event()

    async def wait_unpaused(self) -> None:
        while self._status is SyncStatus.PAUSED:
            await self._unpaused.wait()

    def emit(self, event: SyncEvent) -> None:
        self._stream.emit(event)

    def task_started(self, task_id: str) -> None:
        self.running_tasks += 1
        self.peak_running_tasks = max(self.peak_running_tasks, self.running_tasks)
        self._held[task_id] = None

    def task_settled(self, task_id: str) -> None:
        """The task's outcome reached the store (stored, failed, or refused as lost)."""
        self._held.pop(task_id, None)

    def task_ended(self) -> None:
        self.running_tasks -= 1
        self.notify()

    def running_ids(self) -> list[str]:
        """Tasks claimed here whose outcome is not stored yet (their leases are ours)."""
        return list(self._held)

    def stop_elsewhere(self, status: SyncStatus) -> None:
        """A joined run saw the sync record become ``status``: stop claiming and end."""
        self._stopped_as = status
        self._cancel_scope.cancel()

    @property
    def stopped_as(self) -> SyncStatus | None:
        return self._stopped_as

    def task_finished(self, task: Task, outcome: TaskOutcome, report: FinishReport) -> None:
        if report.completed:
            self.tasks_completed += 1
        progress = outcome.progress
        if progress is not None:
            self.skipped += progress.skipped
            self.emit(
                TaskCompleted(
                    self.id, task.id, progress.entity_type, progress.operation, progress.count
                )
            )

    def retrying(self, op: str, attempt: int, delay: float, error: MaxError) -> None:
        """A call of one of this sync's tasks waits ``delay`` s to retry (``RetryObserver``)."""
        self.retries += 1
        self.backoff += delay
        self.emit(OperationRetried(self.id, op, attempt, delay, error.code))

    def task_lost(self) -> None:
        self.tasks_lost += 1

    def task_failed(self, task: Task, error: MaxError) -> None:
        failure = TaskFailure(
            task.id, task.payload.kind, payload_entity_type(task), error.message, error.code
        )
        self._failures.append(failure)
        self.emit(
            TaskFailed(
                self.id, task.id, failure.entity_type, failure.kind, failure.error, failure.code
            )
        )

    # -- endings (the executor calls one of these, shielded) ---------------------------------

    def _result_of(
        self,
        status: SyncStatus,
        operations: OperationCounts,
        stranded: int = 0,
        error: str | None = None,
    ) -> SyncResult:
        return SyncResult(
            sync_id=self.id,
            status=status,
            mode=self.mode,
            requests=operations.total + self.requests_before,
            tasks_completed=self.tasks_completed,
            tasks_failed=len(self._failures),
            duration=trio.current_time() - self.started_at,
            operations=operations,
            failures=tuple(self._failures),
            stranded=stranded,
            error=error,
            skipped=self.skipped,
            retries=self.retries,
            backoff=self.backoff,
        )

    async def _end(self, result: SyncResult) -> SyncResult:
        """Persist the final status (an owner only), emit ``SyncCompleted``, close events, wake
        waiters.

        Never raises an ``Exception``: a store that cannot record the end is reported in
        ``result.error`` and the run still ends.
        """
        try:
            async with self._status_lock:
                self._status = result.status
                if self.owner:
                    await self._sync_store.set_status(self.id, result.status, self._now_ms())
        except Exception as exc:
            result = attrs.evolve(result, error=_join(result.error, _message(exc)))
        self._active = False
        self._result = result
        self.emit(SyncCompleted(self.id, result))
        self._stream.close()
        self._unpaused.set()
        self._done.set()
        return result

    async def finish_drained(self, operations: OperationCounts) -> SyncResult:
        """Nothing is left to claim: ``completed``, or ``failed`` if work failed or stranded."""
        try:
            by_state = await self._task_store.count_by_state(self.id)
        except Exception as exc:
            return await self.finish_broken(operations, exc)
        stranded = sum(
            by_state.get(state, 0)
            for state in (TaskState.NEW, TaskState.AWAITING_CHILDREN, TaskState.PAUSED)
        )
        if not self.owner:  # helped another process: it completes the sync, not us
            status = SyncStatus.FAILED if self._failures else SyncStatus.COMPLETED
            return await self._end(self._result_of(status, operations, stranded))
        if by_state.get(TaskState.FAILED, 0) > len(self._failures):
            await self._add_failures_elsewhere()
        failed = bool(self._failures) or stranded > 0
        if failed:
            return await self._end(self._result_of(SyncStatus.FAILED, operations, stranded))
        try:  # every task completed: remove what complete listings did not see
            removed = await self._task_store.complete_sync(
                self.id, self._now_ms(), operations.total + self.requests_before
            )
        except Exception as exc:
            return await self.finish_broken(operations, exc)
        result = self._result_of(SyncStatus.COMPLETED, operations, stranded)
        return await self._end(attrs.evolve(result, removed=removed))

    async def _add_failures_elsewhere(self) -> None:
        """Failures of tasks other workers ran (joined processes), read from the store."""
        known = {f.task_id for f in self._failures}
        for task in await self._task_store.tasks(self.id):
            if task.state is TaskState.FAILED and task.id not in known:
                self._failures.append(
                    TaskFailure(
                        task.id,
                        task.payload.kind,
                        payload_entity_type(task),
                        task.error or "failed",
                        "execution.task_failed",
                    )
                )

    async def finish_released(
        self, operations: OperationCounts, status: SyncStatus, release: Release
    ) -> SyncResult:
        """A joined run stops (Ctrl-C, the sync stopped elsewhere, a broken store): its running
        tasks go to the next claimer at once; the sync record is not touched."""
        error = None
        try:
            await release()
        except Exception as exc:
            error = _message(exc)
        return await self._end(self._result_of(status, operations, error=error))

    async def finish_cancelled(self, operations: OperationCounts) -> SyncResult:
        """Every non-terminal task → ``cancelled``; the sync is ``cancelled``."""
        error = None
        try:
            await self._task_store.cancel_sync(self.id)
        except Exception as exc:
            error = _message(exc)
        return await self._end(self._result_of(SyncStatus.CANCELLED, operations, error=error))

    async def finish_interrupted(self, operations: OperationCounts) -> SyncResult:
        """The process stops the sync: ``running`` tasks → ``pending``; resumable later."""
        error = None
        try:
            await self._task_store.interrupt(self.id)
        except Exception as exc:
            error = _message(exc)
        return await self._end(self._result_of(SyncStatus.INTERRUPTED, operations, error=error))

    async def finish_broken(self, operations: OperationCounts, error: BaseException) -> SyncResult:
        """The orchestration failed (a store call raised): ``running`` tasks → ``pending``."""
        message = _message(error)
        try:
            await self._task_store.interrupt(self.id)
        except Exception as exc:
            message = _join(message, _message(exc))
        return await self._end(self._result_of(SyncStatus.FAILED, operations, error=message))


def _message(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(_message(e) for e in error.exceptions)
    return MaxError.wrap(error).message or repr(error)


def _join(first: str | None, second: str) -> str:
    return second if not first else f"{first}; {second}"
