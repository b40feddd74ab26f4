"""``run_sync`` / ``resume_sync``: one sync of one connector, wired end to end.

For the layers above (installations, the CLI)::

    result = await run_sync(
        SyncSetup(engine=engine, resolvers=connector.resolvers, ctx=ctx,
                  task_store=task_store, sync_store=sync_store, limits=installation.limits,
                  change_feed=connector.change_feed, freshness=sync_meta),
        seeder=connector.seeder,
        on_event=render,
    )

Which kind of sync runs:

* **incremental** — the connector has a change feed, no ``plan`` is given, ``full`` is not
  asked for, and a full or incremental sync completed before (the sync store knows the feed
  cursor): the changes since that cursor are applied in one transaction
  (:mod:`._incremental`). A cursor the feed no longer knows, too many changes, or an error
  reading the feed falls back to a full sync (which records an upstream failure in its tasks);
* **full** — the seeder's plan. With a change feed, the feed's head is read first and
  recorded, so the next sync can be incremental. Complete listings remove what they did not
  see when the sync completes;
* **joined** — :func:`join_sync` helps a sync another process started (``max worker
  --join``): no seeding, no plan, claims under a lease;
* **partial** — a ``plan`` the caller gives (``max sync --plan``). It removes what its complete
  listings did not see but leaves the feed cursor alone.

``max_age`` (no feed needed) skips what a sync wrote more recently than that: refs whose
requested fields are fresh and collections listed completely since then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import attrs
import trio

from maxtrio.core import (
    DEFAULT_MAX_CHANGES,
    ChangeFeed,
    Engine,
    MaxError,
    Resolver,
    Seeder,
    SeederEnv,
    SyncPlan,
)

from ._dispatch import RetryPolicy, RetryTally, default_dispatcher, observing_retries
from ._events import SyncEvent
from ._executor import DEFAULT_EVENT_BUFFER, DEFAULT_TASK_CONCURRENCY, SyncExecutor, SyncOptions
from ._flow import FlowControllerProvider
from ._gc import sync_gc
from ._handle import SyncHandle
from ._incremental import run_incremental
from ._leases import DEFAULT_LEASE_MS
from ._registry import ExecutionRegistry
from ._result import SyncResult
from ._runner import Freshness, RunnerTuning, TaskRunnerFactory
from ._stores import SyncMode, SyncStore, TaskStore
from ._timestamps import wall_clock_ms

EventCallback = Callable[[SyncEvent], None]


@attrs.frozen(eq=False)
class SyncSetup:
    """Everything a sync of one installation needs."""

    engine: Engine
    resolvers: Sequence[Resolver]
    ctx: Any
    task_store: TaskStore
    sync_store: SyncStore
    limits: FlowControllerProvider = attrs.field(factory=FlowControllerProvider)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    task_concurrency: int = DEFAULT_TASK_CONCURRENCY
    tuning: RunnerTuning = attrs.field(factory=RunnerTuning)
    event_buffer: int = DEFAULT_EVENT_BUFFER
    change_feed: ChangeFeed[Any] | None = None
    freshness: Freshness | None = None
    max_changes: int = DEFAULT_MAX_CHANGES

    def runner_factory(self, max_age: timedelta | None = None) -> TaskRunnerFactory:
        return TaskRunnerFactory(
            engine=self.engine,
            registry=ExecutionRegistry(self.resolvers),
            ctx=self.ctx,
            dispatcher=default_dispatcher(self.limits, self.retry),
            tuning=self.tuning,
            max_age=max_age,
            freshness=self.freshness,
        )

    def executor(
        self,
        max_age: timedelta | None = None,
        *,
        worker: str = "",
        lease_ms: int | None = None,
    ) -> SyncExecutor:
        """An executor of this installation's syncs; ``worker``/``lease_ms``: claim under a
        lease in that name (several workers on one sync, see ``_leases``)."""
        runner = self.runner_factory(max_age)
        return SyncExecutor(
            runner=runner,
            task_store=self.task_store,
            sync_store=self.sync_store,
            task_concurrency=self.task_concurrency,
            event_buffer=self.event_buffer,
            worker=worker,
            lease_ms=lease_ms,
        )


async def run_sync(
    setup: SyncSetup,
    *,
    seeder: Seeder[Any] | None = None,
    plan: SyncPlan | None = None,
    on_event: EventCallback | None = None,
    sync_id: str | None = None,
    full: bool = False,
    max_age: timedelta | None = None,
) -> SyncResult:
    """Run one sync to its end: incremental when possible, else the seeder's plan (or
    ``plan``, a partial sync); see the module docstring. ``full`` skips the change feed.
    The result's ``duration`` and ``retries`` cover all of it: reading the feed, seeding and
    the tasks."""
    started = trio.current_time()
    tally = RetryTally()  # the retries before the tasks run (the executor counts theirs)
    with sync_gc(), observing_retries(tally):
        return await _run_sync(
            setup,
            seeder=seeder,
            plan=plan,
            on_event=on_event,
            sync_id=sync_id,
            full=full,
            max_age=max_age,
            started=started,
            tally=tally,
        )


async def _run_sync(
    setup: SyncSetup,
    *,
    seeder: Seeder[Any] | None,
    plan: SyncPlan | None,
    on_event: EventCallback | None,
    sync_id: str | None,
    full: bool,
    max_age: timedelta | None,
    started: float,
    tally: RetryTally,
) -> SyncResult:
    feed = setup.change_feed if plan is None else None
    requests_before = 0
    if feed is not None and not full:
        cursor = await setup.sync_store.feed_cursor()
        if cursor is not None:
            env, counting = setup.runner_factory().operation_env()
            result = await _incremental_or_none(
                feed,
                cursor,
                env=env,
                counting=counting,
                task_store=setup.task_store,
                sync_store=setup.sync_store,
                max_changes=setup.max_changes,
                now_ms=wall_clock_ms,
                sync_id=sync_id,
                on_event=on_event,
                retries=tally,
            )
            if result is not None:
                return result
            requests_before = counting.counts().total
    mode = SyncMode.FULL if plan is None else SyncMode.PARTIAL
    if seeder is not None:
        seeded = await seeder.seed(SeederEnv(setup.ctx, setup.engine))
        plan = plan or seeded
    if plan is None:
        raise TypeError("run_sync needs a seeder or a plan")
    head: str | None = None
    if feed is not None:  # read the feed's position before listing anything
        env, counting = setup.runner_factory().operation_env()
        try:
            head = await feed.head(env)
        except MaxError:
            # No cursor this time (the next sync is full again); the sync itself meets the
            # same trouble in its tasks and reports it as failures of a sync record.
            head = None
        requests_before += counting.counts().total
    options = SyncOptions(
        mode=mode,
        feed_cursor=head,
        requests_before=requests_before,
        retries_before=tally.retries,
        backoff_before=tally.backoff,
        started=started,
    )
    executor = setup.executor(max_age)
    async with executor.running(plan, sync_id=sync_id, options=options) as handle:
        return await _follow(handle, on_event)


async def _incremental_or_none(*args: Any, **kwargs: Any) -> SyncResult | None:
    """:func:`run_incremental`, or None when it cannot run — an expired cursor, too many
    changes, or an upstream error (the full sync that follows meets the same error in its
    tasks and records it as a failed sync with its failures)."""
    try:
        return await run_incremental(*args, **kwargs)
    except MaxError:
        return None


async def resume_sync(
    setup: SyncSetup,
    sync_id: str,
    *,
    on_event: EventCallback | None = None,
    max_age: timedelta | None = None,
) -> SyncResult:
    """Continue a stopped sync (interrupted, failed, paused or crashed) to its end."""
    with sync_gc():
        async with setup.executor(max_age).resuming(sync_id) as handle:
            return await _follow(handle, on_event)


async def join_sync(
    setup: SyncSetup,
    sync_id: str,
    *,
    worker: str,
    lease_ms: int = DEFAULT_LEASE_MS,
    on_event: EventCallback | None = None,
) -> SyncResult:
    """Help drain sync ``sync_id``, which another process owns and runs, until nothing is
    left to claim (or the sync stops there). Tasks are claimed under a lease in ``worker``'s
    name; the sync record is left to its owner, which completes the sync. The result counts
    this worker's own work. A sync that is not running raises ``execution.sync_not_running``;
    an unknown id ``execution.sync_not_found``."""
    with sync_gc():
        executor = setup.executor(worker=worker, lease_ms=lease_ms)
        async with executor.joining(sync_id) as handle:
            return await _follow(handle, on_event)


async def _follow(handle: SyncHandle, on_event: EventCallback | None) -> SyncResult:
    if on_event is not None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_deliver, handle, on_event)
            result = await handle.completion()
        return result
    return await handle.completion()


async def _deliver(handle: SyncHandle, on_event: EventCallback) -> None:
    async with handle.events:
        async for event in handle.events:
            on_event(event)
