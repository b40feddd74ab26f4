"""``run_sync`` / ``resume_sync``: one sync of one connector, wired end to end.

For the layers above (installations, the CLI)::

    result = await run_sync(
        SyncSetup(engine=engine, resolvers=connector.resolvers, ctx=ctx,
                  task_store=task_store, sync_store=sync_store, limits=installation.limits),
        seeder=connector.seeder,
        on_event=render,
    )

``run_sync`` calls the seeder (which stores the roots and returns the plan), builds the
registry, the dispatcher (retry + per-``Limit`` flow control, shared through ``limits``) and a
:class:`SyncExecutor`, runs the plan to its end and returns the :class:`SyncResult`. Events are
handed to ``on_event`` (a plain callback, called in order) while the sync runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import trio

from maxtrio.core import Engine, Resolver, Seeder, SeederEnv, SyncPlan

from ._dispatch import RetryPolicy, default_dispatcher
from ._events import SyncEvent
from ._executor import DEFAULT_EVENT_BUFFER, DEFAULT_TASK_CONCURRENCY, SyncExecutor
from ._flow import FlowControllerProvider
from ._handle import SyncHandle
from ._registry import ExecutionRegistry
from ._result import SyncResult
from ._runner import RunnerTuning, TaskRunnerFactory
from ._stores import SyncStore, TaskStore

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

    def executor(self) -> SyncExecutor:
        runner = TaskRunnerFactory(
            engine=self.engine,
            registry=ExecutionRegistry(self.resolvers),
            ctx=self.ctx,
            dispatcher=default_dispatcher(self.limits, self.retry),
            tuning=self.tuning,
        )
        return SyncExecutor(
            runner=runner,
            task_store=self.task_store,
            sync_store=self.sync_store,
            task_concurrency=self.task_concurrency,
            event_buffer=self.event_buffer,
        )


async def run_sync(
    setup: SyncSetup,
    *,
    seeder: Seeder[Any] | None = None,
    plan: SyncPlan | None = None,
    on_event: EventCallback | None = None,
    sync_id: str | None = None,
) -> SyncResult:
    """Seed (unless ``plan`` is given), then run the plan to its end."""
    if plan is None:
        if seeder is None:
            raise TypeError("run_sync needs a seeder or a plan")
        plan = await seeder.seed(SeederEnv(setup.ctx, setup.engine))
    executor = setup.executor()
    async with executor.running(plan, sync_id=sync_id) as handle:
        return await _follow(handle, on_event)


async def resume_sync(
    setup: SyncSetup, sync_id: str, *, on_event: EventCallback | None = None
) -> SyncResult:
    """Continue a stopped sync (interrupted, failed, paused or crashed) to its end."""
    async with setup.executor().resuming(sync_id) as handle:
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
