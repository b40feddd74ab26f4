"""``SyncExecutor``: runs sync plans as task graphs on trio nurseries.

No worker pool and no polling. Each sync has one dispatcher loop::

    wait while paused
    wait while the sync's write window is full (backpressure: see WriteWindow)
    take a slot of the executor's CapacityLimiter (task_concurrency, default 50)
    claim the oldest pending task           → start its body in the sync's nursery;
                                              the body gives the slot back when done
    nothing claimable:
        nothing running here and no active task in the store → the sync is drained
        else wait for "work changed" (an Event replaced on every notify — no lost wake-ups)

so a task is ``running`` only while it holds a slot. A task body runs the payload
(:class:`~maxtrio.execution.TaskRunner`) and hands the outcome to ``TaskStore.finish``, which
commits entities, sync-meta entries, children and the state transition (with completion
propagation and unblocking) in one transaction; if anything raises, ``TaskStore.fail`` records
it and the failure is reported (the sync ends ``failed``, its dependants stay stranded).

Ownership:

* ``async with SyncExecutor(...) as executor: handle = await executor.execute(plan)`` — the
  executor owns a nursery for as long as the block lives (an installation service, the
  daemon); leaving the block waits for running syncs, :meth:`SyncExecutor.shutdown`
  interrupts them.
* ``async with executor.running(plan) as handle:`` — one-shot use (the CLI): the sync runs in
  a nursery of the block, which waits for it on exit. ``resuming(sync_id)`` and
  ``joining(sync_id)`` are the same for a resume and for helping another executor.

Several executors (processes, machines) may drain one sync from one task store: ``join``
claims only what is claimable, and the store's claim is atomic. When nothing runs locally but
the store still has active tasks (held by another process), the dispatcher looks again every
``external_poll_interval`` seconds — the one case no local event can announce. An executor
made with ``lease_ms`` claims under a lease in the name of its ``worker`` and renews the leases
of its running tasks every third of the lease (``_leases``): when a worker dies, its tasks are
claimed again once their lease runs out, and its late outcome (if it was only stalled) is
refused by the store. The owner of the sync (the executor that started or resumed it)
completes it, whoever ran the tasks; a joined executor never writes the sync record.

Cancellation leaves the task store honest: ``handle.cancel()`` → tasks ``cancelled``; the
surrounding nursery cancelled (Ctrl-C, shutdown) → ``running`` tasks back to ``pending`` and the
sync ``interrupted``, so :meth:`SyncExecutor.resume` (or :meth:`SyncExecutor.resuming`) can
finish it later with the same final data. Both clean-ups run shielded.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from types import MappingProxyType, TracebackType

import attrs
import trio

from maxtrio.core import MaxError, SyncPlan, count_entities

from ._dispatch import observing_retries
from ._errors import (
    ErrExecutorNotStarted,
    ErrSyncHasNoTasks,
    ErrSyncNotResumable,
    ErrSyncNotRunning,
)
from ._events import EventStream, SyncStarted
from ._expand import PlanExpander
from ._handle import SyncHandle, SyncStatistics
from ._leases import keep_leases, release_leases
from ._runner import RunnerFactory, SyncRunner
from ._stores import ErrSyncNotFound, SyncMode, SyncRecord, SyncStatus, SyncStore, TaskStore
from ._task import ErrInvalidTransition, Task, TaskTemplate
from ._timestamps import Clock, wall_clock_ms

#: At most this many tasks are claimed in one store transaction.
MAX_CLAIM_BATCH = 64
DEFAULT_TASK_CONCURRENCY = 50
DEFAULT_EVENT_BUFFER = 1024


@attrs.frozen
class LimiterStatistics:
    """The executor's task slots: in use, total, and dispatchers waiting for one."""

    borrowed: int
    total: int
    waiting: int


@attrs.frozen
class ExecutorStatistics:
    task_slots: LimiterStatistics
    running_tasks: int  # task bodies executing now, all syncs
    syncs: tuple[SyncStatistics, ...]  # every sync this executor started, oldest first


class _Slot:
    """The borrower of one executor slot (one per task body, so a body can release it)."""


@attrs.frozen
class SyncOptions:
    """How a new sync is recorded: its ``mode``, the change-feed position read before it
    listed anything (``feed_cursor``, full syncs of a connector with a feed), and the requests
    made for it before the run began (``requests_before``: the feed's head, an incremental
    attempt that fell back to this full sync), the retries among them (``retries_before``,
    ``backoff_before``) and when it began (``started``, trio time; None: now)."""

    mode: SyncMode = SyncMode.FULL
    feed_cursor: str | None = None
    requests_before: int = 0
    retries_before: int = 0
    backoff_before: float = 0.0
    started: float | None = None


@attrs.frozen
class _Start:
    """How a sync run begins: a new plan, a resume, or joining another executor's run."""

    plan: SyncPlan | None = None
    sync_id: str | None = None
    force: bool = False
    joining: bool = False
    options: SyncOptions = SyncOptions()

    @classmethod
    def plan_of(cls, plan: SyncPlan, sync_id: str | None, options: SyncOptions) -> _Start:
        return cls(plan, sync_id, options=options)


@attrs.frozen(eq=False)
class _Run:
    """A prepared sync run: its handle, its runner, and the templates to enqueue (new syncs)."""

    handle: SyncHandle
    runner: SyncRunner
    templates: list[TaskTemplate] | None


class SyncExecutor:
    """Runs syncs of one installation; see the module docstring."""

    def __init__(
        self,
        *,
        runner: RunnerFactory,
        task_store: TaskStore,
        sync_store: SyncStore,
        task_concurrency: int = DEFAULT_TASK_CONCURRENCY,
        event_buffer: int = DEFAULT_EVENT_BUFFER,
        external_poll_interval: float = 0.05,
        now_ms: Clock = wall_clock_ms,
        worker: str = "",
        lease_ms: int | None = None,
    ) -> None:
        if task_concurrency < 1:
            raise ValueError("task_concurrency must be at least 1")
        if lease_ms is not None and lease_ms < 3:
            raise ValueError("lease_ms must be at least 3")
        #: Who claims (stamped on claimed tasks) and for how long (ms; None: no lease).
        self.worker = worker
        self.lease_ms = lease_ms
        self.runner = runner
        self.task_store = task_store
        self.sync_store = sync_store
        self.event_buffer = event_buffer
        # Only used when this process runs nothing but the store still has active tasks of
        # the sync: another process holds them and cannot wake us.
        self.external_poll_interval = external_poll_interval
        self._now_ms = now_ms
        self._limiter = trio.CapacityLimiter(task_concurrency)
        self._expander = PlanExpander()
        self._handles: dict[str, SyncHandle] = {}
        self._nursery: trio.Nursery | None = None
        self._exit_stack: contextlib.AsyncExitStack | None = None

    # -- ownership ---------------------------------------------------------------------------

    async def __aenter__(self) -> SyncExecutor:
        stack = contextlib.AsyncExitStack()
        self._nursery = await stack.enter_async_context(trio.open_nursery())
        self._exit_stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        stack, self._exit_stack = self._exit_stack, None
        try:
            return await stack.__aexit__(exc_type, exc, tb) if stack is not None else None
        finally:
            self._nursery = None

    def shutdown(self) -> None:
        """Interrupt every sync running in the executor's own nursery (they stay resumable)."""
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    @property
    def task_limiter(self) -> trio.CapacityLimiter:
        return self._limiter

    @property
    def syncs(self) -> Mapping[str, SyncHandle]:
        """Every sync this executor started (finished ones included), by id."""
        return MappingProxyType(self._handles)

    # -- entry points ------------------------------------------------------------------------

    async def execute(
        self, plan: SyncPlan, *, sync_id: str | None = None, options: SyncOptions | None = None
    ) -> SyncHandle:
        """Start ``plan`` in the executor's nursery and return its handle at once."""
        start = _Start.plan_of(plan, sync_id, options or SyncOptions())
        return await self._start_in_own_nursery(start)

    async def resume(self, sync_id: str, *, force: bool = False) -> SyncHandle:
        """Continue a stopped sync in the executor's nursery.

        ``failed``, ``running`` (left by a dead process) and ``paused`` tasks go back to
        ``pending`` and the record to ``running``; a cancelled sync needs ``force``.
        """
        return await self._start_in_own_nursery(_Start(sync_id=sync_id, force=force))

    async def join(self, sync_id: str) -> SyncHandle:
        """Help drain a sync that another executor (another process) is running.

        Nothing is reset: this executor only claims what is claimable, so both claim
        disjoint tasks (the store's claim is atomic). Its result counts its own work.
        """
        return await self._start_in_own_nursery(_Start(sync_id=sync_id, joining=True))

    @contextlib.asynccontextmanager
    async def running(
        self, plan: SyncPlan, *, sync_id: str | None = None, options: SyncOptions | None = None
    ) -> AsyncIterator[SyncHandle]:
        """Run ``plan`` inside this block; leaving it waits for the sync to end."""
        start = _Start.plan_of(plan, sync_id, options or SyncOptions())
        async with self._started_here(start) as handle:
            yield handle

    @contextlib.asynccontextmanager
    async def resuming(self, sync_id: str, *, force: bool = False) -> AsyncIterator[SyncHandle]:
        """:meth:`resume` inside this block; leaving it waits for the sync to end."""
        async with self._started_here(_Start(sync_id=sync_id, force=force)) as handle:
            yield handle

    @contextlib.asynccontextmanager
    async def joining(self, sync_id: str) -> AsyncIterator[SyncHandle]:
        """:meth:`join` inside this block; leaving it waits for the sync to end."""
        async with self._started_here(_Start(sync_id=sync_id, joining=True)) as handle:
            yield handle

    async def _start_in_own_nursery(self, start: _Start) -> SyncHandle:
        if self._nursery is None:
            raise ErrExecutorNotStarted()
        run = await self._prepare(start)
        self._spawn(self._nursery, run)
        return run.handle

    @contextlib.asynccontextmanager
    async def _started_here(self, start: _Start) -> AsyncIterator[SyncHandle]:
        run = await self._prepare(start)  # errors here reach the caller as they are
        async with trio.open_nursery() as nursery:
            self._spawn(nursery, run)
            yield run.handle

    async def _prepare(self, start: _Start) -> _Run:
        """Create (or reopen) the sync in the stores and its handle; nothing runs yet."""
        templates: list[TaskTemplate] | None = None
        options = start.options
        if start.plan is not None:
            templates = self._expander.expand(start.plan)
            sync_id = start.sync_id or await self.sync_store.next_id()
            await self.sync_store.create(
                sync_id, self._now_ms(), mode=options.mode, feed_cursor=options.feed_cursor
            )
        else:
            assert start.sync_id is not None
            sync_id = start.sync_id
            record = await self._check_resumable(sync_id, force=start.force, joining=start.joining)
            options = SyncOptions(mode=record.mode)
            if not start.joining:
                await self.task_store.prepare_resume(sync_id, force=start.force)
                await self.sync_store.set_status(sync_id, SyncStatus.RUNNING, self._now_ms())
        handle = SyncHandle(
            sync_id,
            task_store=self.task_store,
            sync_store=self.sync_store,
            events=EventStream(self.event_buffer),
            now_ms=self._now_ms,
        )
        handle.mode = options.mode
        handle.owner = not start.joining
        handle.requests_before = options.requests_before
        handle.retries, handle.backoff = options.retries_before, options.backoff_before
        if options.started is not None:
            handle.started_at = options.started
        self._handles[sync_id] = handle
        return _Run(handle, self.runner.for_sync(sync_id), templates)

    def _spawn(self, nursery: trio.Nursery, run: _Run) -> None:
        nursery.start_soon(
            self._drive, run.handle, run.runner, run.templates, name=f"sync {run.handle.id}"
        )

    async def _check_resumable(self, sync_id: str, *, force: bool, joining: bool) -> SyncRecord:
        record = await self.sync_store.get(sync_id)
        if record is None:
            raise ErrSyncNotFound(syncId=sync_id)
        current = self._handles.get(sync_id)
        if current is not None and not current.done:
            raise ErrSyncNotResumable(syncId=sync_id, status=current.status().value)
        if record.status is SyncStatus.CANCELLED and not force:
            raise ErrSyncNotResumable(syncId=sync_id, status=record.status.value)
        if joining and record.status is not SyncStatus.RUNNING:
            raise ErrSyncNotRunning(syncId=sync_id, status=record.status.value)
        if (
            not joining
            and record.status is not SyncStatus.COMPLETED
            and not await self.task_store.count_by_state(sync_id)
        ):
            # Stopped (killed, interrupted) between creating the record and storing the task
            # graph: the plan is lost, and draining nothing would report it ``completed``.
            raise ErrSyncHasNoTasks(syncId=sync_id)
        return record

    # -- one sync ----------------------------------------------------------------------------

    async def _drive(
        self, handle: SyncHandle, runner: SyncRunner, templates: list[TaskTemplate] | None
    ) -> None:
        broken: Exception | None = None
        try:
            with handle.cancel_scope, observing_retries(handle):
                if templates is not None:
                    await self.task_store.enqueue_graph(handle.id, templates)
                    handle.emit(SyncStarted(handle.id, len(templates)))
                else:
                    handle.emit(SyncStarted(handle.id, 0, resumed=True))
                await self._drain(handle, runner)
        except Exception as exc:
            broken = exc
        except BaseException:
            # Cancelled from outside (Ctrl-C, shutdown): interrupted, resumable.
            with trio.CancelScope(shield=True):
                if handle.owner:
                    await handle.finish_interrupted(runner.operation_counts())
                else:
                    await self._release(handle, runner, SyncStatus.INTERRUPTED)
            raise
        with trio.CancelScope(shield=True):
            if not handle.owner and (broken or handle.cancel_requested or handle.stopped_as):
                status = handle.stopped_as or SyncStatus.CANCELLED
                await self._release(handle, runner, SyncStatus.FAILED if broken else status)
            elif broken is not None:
                await handle.finish_broken(runner.operation_counts(), broken)
            elif handle.cancel_requested:
                await handle.finish_cancelled(runner.operation_counts())
            else:
                await handle.finish_drained(runner.operation_counts())

    async def _release(self, handle: SyncHandle, runner: SyncRunner, status: SyncStatus) -> None:
        """End a joined run: its running tasks go to the other workers at once."""

        async def release() -> None:
            await release_leases(handle, self.task_store, self.worker)

        await handle.finish_released(runner.operation_counts(), status, release)

    async def _drain(self, handle: SyncHandle, runner: SyncRunner) -> None:
        async with trio.open_nursery() as nursery:
            if self.lease_ms is not None or not handle.owner:
                nursery.start_soon(self._keep_leases, handle)
            await self._dispatch(handle, runner, nursery)
            nursery.cancel_scope.cancel()  # nothing runs here any more: stop the keeper

    async def _keep_leases(self, handle: SyncHandle) -> None:
        await keep_leases(
            handle,
            task_store=self.task_store,
            sync_store=self.sync_store,
            worker=self.worker,
            lease_ms=self.lease_ms,
            now_ms=self._now_ms,
        )

    async def _dispatch(
        self, handle: SyncHandle, runner: SyncRunner, nursery: trio.Nursery
    ) -> None:
        while True:
            await handle.wait_unpaused()
            changed = handle.work_changed  # before looking: no notify can be lost
            room = min(MAX_CLAIM_BATCH, handle.window.room(handle.running_tasks))
            if room < 1:  # the write window is full: wait for a task to move on
                await changed.wait()
                continue
            slots = [_Slot()]
            await self._limiter.acquire_on_behalf_of(slots[0])
            # Take every other free slot too (up to the window), and claim that many tasks
            # in one transaction: a fan-out of children starts at once, not one at a time.
            while len(slots) < room:
                extra = _Slot()
                try:
                    self._limiter.acquire_on_behalf_of_nowait(extra)
                except trio.WouldBlock:
                    break
                slots.append(extra)
            tasks: Sequence[Task] = ()
            try:
                if not handle.paused:
                    tasks = await self.task_store.claim_many(
                        handle.id,
                        self._now_ms(),
                        len(slots),
                        worker=self.worker,
                        lease_ms=self.lease_ms,
                    )
            finally:
                for unused in slots[len(tasks) :]:
                    self._limiter.release_on_behalf_of(unused)
            for task, slot in zip(tasks, slots, strict=False):
                handle.task_started(task.id)
                nursery.start_soon(self._run_task, handle, runner, task, slot)
            if tasks:
                continue
            if handle.paused:
                continue
            if handle.running_tasks > 0:
                await changed.wait()
                continue
            if not await self.task_store.has_active_tasks(handle.id):
                return  # nothing runs here (only this loop starts tasks) nor anywhere
            # Active tasks exist but none runs here: another process holds them (or their
            # lease runs out and one of them comes back to us).
            with trio.move_on_after(self.external_poll_interval):
                await changed.wait()

    async def _run_task(
        self, handle: SyncHandle, runner: SyncRunner, task: Task, slot: _Slot
    ) -> None:
        window = handle.window
        try:
            try:
                outcome = await runner.run(task)
                holds_rows = bool(outcome.entities)
                if holds_rows:
                    window.loaded(count_entities(outcome.entities))
                    handle.notify()  # one fewer task loading: another may start
                try:
                    report = await self.task_store.finish(task, outcome)
                finally:
                    if holds_rows:
                        window.committed(int(self._limiter.total_tokens))
            except Exception as exc:
                if ErrInvalidTransition.matches(exc):
                    handle.task_lost()  # someone else moved the task meanwhile
                else:
                    await self._fail(handle, task, MaxError.wrap(exc))
            else:
                handle.task_finished(task, outcome, report)
            handle.task_settled(task.id)
        finally:
            self._limiter.release_on_behalf_of(slot)
            handle.task_ended()

    async def _fail(self, handle: SyncHandle, task: Task, error: MaxError) -> None:
        """Record a task's failure; if it is no longer ``running``, it is not ours to fail."""
        try:
            await self.task_store.fail(task, error)
        except MaxError as guard:
            if not ErrInvalidTransition.matches(guard):
                raise
            handle.task_lost()
        else:
            handle.task_failed(task, error)

    # -- statistics --------------------------------------------------------------------------

    def statistics(self) -> ExecutorStatistics:
        stats = self._limiter.statistics()
        syncs = tuple(h.statistics() for h in self._handles.values())
        return ExecutorStatistics(
            LimiterStatistics(
                int(stats.borrowed_tokens), int(stats.total_tokens), stats.tasks_waiting
            ),
            sum(s.running_tasks for s in syncs),
            syncs,
        )
