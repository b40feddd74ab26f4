"""SyncHandle controls, interruption, resume, events and entry points
(docs/execution.md)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from trio.testing import MockClock

from maxtrio.core import MaxError
from maxtrio.execution import (
    ErrExecutorNotStarted,
    ErrSyncExists,
    ErrSyncNotFound,
    ErrSyncNotResumable,
    PlanExpander,
    SyncCompleted,
    SyncEvent,
    SyncExecutor,
    SyncHandle,
    SyncResult,
    SyncStarted,
    SyncStatus,
    TaskCompleted,
    TaskState,
    resume_sync,
    run_sync,
)

from .conftest import MakeHarness
from .connector import FakeApi, TaskItem, User, seeded_api
from .harness import Harness
from .test_executor import expected_rows


async def next_progress(handle: SyncHandle, entity_type: str, operation: str, count: int) -> None:
    """Read events until ``count`` task-completed events of that kind arrived."""
    seen = 0
    async for event in handle.events:
        if isinstance(event, TaskCompleted) and (event.entity_type, event.operation) == (
            entity_type,
            operation,
        ):
            seen += 1
            if seen == count:
                return
    raise AssertionError("the stream ended first")


def gated(api: FakeApi, op: str) -> trio.Event:
    gate = trio.Event()
    api.gates[op] = gate
    return gate


async def record_status(harness: Harness, sync_id: str) -> SyncStatus:
    record = await harness.sync_store.get(sync_id)
    assert record is not None
    return record.status


# -- pause and resume -------------------------------------------------------------


async def test_pause_stops_claiming_and_resume_finishes(
    make_harness: MakeHarness, autojump_clock: MockClock
) -> None:
    api = seeded_api(users=60, projects=2, tasks=3)
    gate = gated(api, "users:get")
    harness = make_harness(api)
    async with harness.executor().running(await harness.seed()) as handle:
        await api.wait_until(lambda: api.active == 3)  # the three user batches are in flight
        await handle.pause()
        assert handle.status() is SyncStatus.PAUSED
        assert await record_status(harness, handle.id) is SyncStatus.PAUSED
        gate.set()  # the in-flight tasks finish …
        await next_progress(handle, "TUser", "load-fields", 3)
        await trio.sleep(10)  # … and nothing new starts, however long we wait
        states = await harness.states(handle.id)
        assert TaskState.RUNNING not in states
        assert states[TaskState.PENDING] == 1  # project fields, unblocked but not claimed
        assert api.calls["project:get"] == 0
        assert handle.statistics().running_tasks == 0
        await handle.pause()  # already paused: nothing changes
        await handle.resume()
        assert await record_status(harness, handle.id) is SyncStatus.RUNNING
        result = await handle.completion()
    assert result.status is SyncStatus.COMPLETED
    assert await harness.snapshot() == expected_rows(api)
    await handle.pause()  # no-ops once terminal (reference bug B7)
    await handle.resume()
    assert handle.status() is SyncStatus.COMPLETED
    assert await record_status(harness, handle.id) is SyncStatus.COMPLETED


# -- cancel -----------------------------------------------------------------------


async def test_cancel_mid_sync_leaves_every_task_terminal_and_writes_nothing_half(
    make_harness: MakeHarness,
) -> None:
    api = seeded_api(projects=4, tasks=5)
    gated(api, "tasks:list")
    harness = make_harness(api)
    async with harness.executor().running(await harness.seed()) as handle:
        await api.wait_until(lambda: api.active == 4)  # four task pages are mid-request
        await handle.cancel()
        result = await handle.completion()
        events = [e async for e in handle.events]
    assert result.status is SyncStatus.CANCELLED
    assert handle.status() is SyncStatus.CANCELLED
    states = await harness.states(handle.id)
    assert set(states) <= {TaskState.COMPLETED, TaskState.CANCELLED}
    assert states[TaskState.CANCELLED] == 5  # the step and its four pages
    record = await harness.sync_store.get(handle.id)
    assert record is not None and record.status is SyncStatus.CANCELLED
    assert record.completed_at is not None
    assert await harness.rows(TaskItem) == {}  # the interrupted pages wrote nothing
    assert len(await harness.rows(User)) == 3  # earlier steps' data stays
    assert isinstance(events[-1], SyncCompleted)
    assert events[-1].result.status is SyncStatus.CANCELLED
    await handle.cancel()  # no-op once terminal
    with pytest.raises(MaxError) as caught:
        await harness.executor().resume(handle.id)
    assert ErrExecutorNotStarted.matches(caught.value)
    with pytest.raises(MaxError) as caught:
        async with harness.executor().resuming(handle.id):
            pass
    assert ErrSyncNotResumable.matches(caught.value)


async def test_a_cancelled_sync_can_be_forced_back(make_harness: MakeHarness) -> None:
    api = seeded_api(projects=2, tasks=5)
    gate = gated(api, "tasks:list")
    harness = make_harness(api)
    async with harness.executor().running(await harness.seed()) as handle:
        await api.wait_until(lambda: api.active == 2)
        await handle.cancel()
    gate.set()
    async with harness.executor().resuming(handle.id, force=True) as again:
        result = await again.completion()
    assert result.status is SyncStatus.COMPLETED
    assert await harness.snapshot() == expected_rows(api)


# -- interruption and resume -------------------------------------------


async def test_an_interrupted_sync_resumes_to_the_same_data(make_harness: MakeHarness) -> None:
    api = seeded_api(users=30, projects=3, tasks=40, page_size=15)
    gate = gated(api, "tasks:list")
    harness = make_harness(api)
    plan = await harness.seed()
    handles: list[SyncHandle] = []

    async def sync() -> None:
        async with harness.executor().running(plan) as handle:
            handles.append(handle)
            await handle.completion()

    async with trio.open_nursery() as nursery:  # stands for the process being stopped
        nursery.start_soon(sync)
        await api.wait_until(lambda: api.active == 3)
        nursery.cancel_scope.cancel()
    (handle,) = handles
    assert handle.status() is SyncStatus.INTERRUPTED
    interrupted = await handle.completion()
    assert interrupted.status is SyncStatus.INTERRUPTED
    assert await record_status(harness, handle.id) is SyncStatus.INTERRUPTED
    states = await harness.states(handle.id)
    assert TaskState.RUNNING not in states  # running → pending, to be retried
    assert states[TaskState.PENDING] == 3

    gate.set()
    async with harness.executor().resuming(handle.id) as resumed:
        events = [e async for e in resumed.events]
        result = await resumed.completion()
    assert result.status is SyncStatus.COMPLETED
    assert events[0] == SyncStarted(handle.id, 0, resumed=True)
    assert result.tasks_completed == 3  # counters cover the resumed run only
    assert {t.state for t in await harness.tasks(handle.id)} == {TaskState.COMPLETED}

    reference = make_harness(api)  # the same sync, never interrupted, on fresh stores
    assert (await reference.run()).status is SyncStatus.COMPLETED
    assert await harness.snapshot() == await reference.snapshot() == expected_rows(api)


async def test_resume_after_a_failure_retries_it_and_unblocks_the_rest(
    make_harness: MakeHarness,
) -> None:
    api = seeded_api(users=30, projects=2, tasks=4)
    api.fail("users:get", lambda key: "w1u30" in key.split(","))  # one of the batches
    harness = make_harness(api)
    failed = await harness.run()
    assert (failed.status, failed.tasks_failed, failed.stranded) == (SyncStatus.FAILED, 1, 3)
    api.heal()
    result = await resume_sync(harness.setup(), failed.sync_id)
    assert (result.status, result.tasks_failed, result.stranded) == (SyncStatus.COMPLETED, 0, 0)
    tasks = await harness.tasks(failed.sync_id)
    assert {t.state for t in tasks} == {TaskState.COMPLETED}
    (retried,) = [t for t in tasks if t.attempts == 1]
    assert retried.error is None
    assert await harness.snapshot() == expected_rows(api)


async def test_a_sync_left_running_by_a_dead_process_resumes(make_harness: MakeHarness) -> None:
    """Reference bug B8: a resumed sync with ``running`` rows hung for ever."""
    api = seeded_api()
    harness = make_harness(api)
    plan = await harness.seed()
    await harness.sync_store.create("sync-7", 1)
    await harness.task_store.enqueue_graph("sync-7", PlanExpander().expand(plan))
    orphan = await harness.task_store.claim("sync-7", 1)  # then the "process" died
    assert orphan is not None
    with trio.fail_after(5):
        async with harness.executor().resuming("sync-7") as handle:
            result = await handle.completion()
    assert result.status is SyncStatus.COMPLETED
    assert await harness.snapshot() == expected_rows(api)


async def test_resume_refuses_unknown_and_active_syncs(make_harness: MakeHarness) -> None:
    api = seeded_api()
    gate = gated(api, "workspaces:list")
    harness = make_harness(api)
    executor = harness.executor()
    with pytest.raises(MaxError) as caught:
        async with executor.resuming("sync-404"):
            pass
    assert ErrSyncNotFound.matches(caught.value)
    async with executor.running(await harness.seed()) as handle:
        with pytest.raises(MaxError) as caught:
            async with executor.resuming(handle.id):
                pass
        assert ErrSyncNotResumable.matches(caught.value)
        assert caught.value.message == f"Sync {handle.id} is running and cannot be resumed"
        with pytest.raises(MaxError) as caught:
            async with executor.running(await harness.seed(), sync_id=handle.id):
                pass
        assert ErrSyncExists.matches(caught.value)
        gate.set()


# -- the executor's own nursery -----------------------------------------------------------


async def test_an_entered_executor_runs_syncs_in_its_nursery(make_harness: MakeHarness) -> None:
    api = seeded_api()
    gate = gated(api, "workspaces:list")
    harness = make_harness(api)
    plan = await harness.seed()
    with pytest.raises(MaxError) as caught:
        await harness.executor().execute(plan)
    assert ErrExecutorNotStarted.matches(caught.value)
    async with harness.executor() as executor:
        handle = await executor.execute(plan)  # returns at once; the sync runs in background
        assert handle.status() is SyncStatus.RUNNING and not handle.done
        await api.wait_until(lambda: api.active == 1)
        stats = executor.statistics()
        assert (stats.running_tasks, stats.task_slots.total) == (1, 50)
        # The running task holds a slot; while the dispatcher claims a batch it holds every
        # other free slot (one per task it may get), and gives back what it did not use.
        assert 1 <= stats.task_slots.borrowed <= stats.task_slots.total
        assert stats.syncs[0].sync_id == handle.id
        gate.set()
        result = await handle.completion()
    assert result.status is SyncStatus.COMPLETED


async def test_shutdown_interrupts_running_syncs(make_harness: MakeHarness) -> None:
    api = seeded_api(projects=2)
    gate = gated(api, "tasks:list")
    harness = make_harness(api)
    async with harness.executor() as executor:
        handle = await executor.execute(await harness.seed())
        await api.wait_until(lambda: api.active == 2)
        executor.shutdown()
    assert (await handle.completion()).status is SyncStatus.INTERRUPTED
    assert await record_status(harness, handle.id) is SyncStatus.INTERRUPTED
    gate.set()
    async with harness.executor() as executor:
        again = await executor.resume(handle.id)
    assert (await again.completion()).status is SyncStatus.COMPLETED
    assert await harness.snapshot() == expected_rows(api)


# -- events ------------------------------------------------------------------------------


async def test_a_full_event_buffer_drops_progress_but_never_the_end(
    make_harness: MakeHarness,
) -> None:
    api = seeded_api(users=3, projects=6, tasks=2)
    harness = make_harness(api)
    async with harness.executor(event_buffer=4).running(await harness.seed()) as handle:
        result = await handle.completion()  # nobody reads while the sync runs
    events = [e async for e in handle.events]
    assert len(events) <= 4
    assert events[-1] == SyncCompleted(handle.id, result)
    stats = handle.statistics().events
    assert stats.dropped > 0 and stats.closed and stats.capacity == 4


async def test_run_sync_seeds_runs_and_reports_events(make_harness: MakeHarness) -> None:
    api = seeded_api(users=2, projects=2, tasks=3)
    harness = make_harness(api)
    seen: list[SyncEvent] = []
    result = await run_sync(harness.setup(), seeder=harness.connector.seeder, on_event=seen.append)
    assert result.status is SyncStatus.COMPLETED
    assert isinstance(seen[0], SyncStarted) and seen[-1] == SyncCompleted(result.sync_id, result)
    assert await harness.snapshot() == expected_rows(api)
    with pytest.raises(TypeError):
        await run_sync(harness.setup())


# -- a broken store (orchestration failures) ----------------------------------------------------


class FailingFail:
    """A task store whose ``fail`` itself raises (say, the disk is full)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def fail(self, task: Any, error: MaxError) -> None:
        raise OSError("disk full")


async def test_a_broken_store_fails_the_sync_and_leaves_no_task_running(
    make_harness: MakeHarness,
) -> None:
    api = seeded_api(users=3)
    api.fail("users:get")
    harness = make_harness(api)
    plan = await harness.seed()
    executor = SyncExecutor(
        runner=harness.setup().executor().runner,
        task_store=FailingFail(harness.task_store),  # type: ignore[arg-type]
        sync_store=harness.sync_store,
    )
    async with executor.running(plan) as handle:
        result: SyncResult = await handle.completion()
    assert result.status is SyncStatus.FAILED
    assert result.error == "disk full"
    assert await record_status(harness, handle.id) is SyncStatus.FAILED
    assert TaskState.RUNNING not in await harness.states(handle.id)
