"""Several workers on one sync: leases, renewal, a dead worker, joined workers that stop.

Every test runs on the in-memory stores and on a real ``data.db``. Lease times follow the
trio clock (``now_ms`` of the executors is the trio clock in ms), so a ``MockClock`` moves
them: time passes only when the test (or the autojump clock, when everything waits) moves it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import trio
import trio.testing

from maxtrio.core import MaxError
from maxtrio.execution import (
    SyncExecutor,
    SyncHandle,
    SyncStarted,
    SyncStatus,
    TaskOutcome,
    TaskState,
    TaskStore,
)

from .conftest import MakeHarness
from .connector import seeded_api
from .harness import Harness
from .test_executor import expected_rows

LEASE_MS = 3_000


def trio_ms() -> int:
    return int(trio.current_time() * 1000)


def executor(
    harness: Harness,
    *,
    worker: str = "",
    lease_ms: int | None = None,
    concurrency: int = 1,
    task_store: Any = None,
) -> SyncExecutor:
    runner = harness.setup().executor().runner
    return SyncExecutor(
        runner=runner,
        task_store=harness.task_store if task_store is None else task_store,
        sync_store=harness.sync_store,
        task_concurrency=concurrency,
        now_ms=trio_ms,
        worker=worker,
        lease_ms=lease_ms,
    )


async def started(handle: SyncHandle) -> None:
    """Wait until the sync's task graph is stored."""
    async for event in handle.events:
        if isinstance(event, SyncStarted):
            return


async def eventually(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    """Whether ``condition()`` comes to hold while the other tasks (and their threads) run,
    no trio time passing; False after ``seconds`` of real time."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await trio.testing.wait_all_tasks_blocked()
        await trio.sleep(0)
    return True


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until ``condition()`` holds (no time passes)."""
    while not condition():
        await trio.sleep(0)


async def running_ids(harness: Harness, sync_id: str) -> list[str]:
    return [t.id for t in await harness.tasks(sync_id) if t.state is TaskState.RUNNING]


class CountingRenewals:
    """A task store whose ``renew_leases`` counts the renewals that came back to their caller
    (the executor's lease keeper, which goes straight back to sleep after one)."""

    def __init__(self, store: TaskStore) -> None:
        self._store = store
        self.renewals = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def renew_leases(self, worker: str, task_ids: Sequence[str], until_ms: int) -> int:
        renewed = await self._store.renew_leases(worker, task_ids, until_ms)
        self.renewals += 1
        return renewed


async def test_a_live_worker_keeps_its_tasks_past_the_lease(
    make_harness: MakeHarness, mock_clock: trio.testing.MockClock
) -> None:
    api = seeded_api(projects=3, tasks=4)
    harness = make_harness(api)
    gate = api.gates["tasks:list"] = trio.Event()
    plan = await harness.seed()
    store = CountingRenewals(harness.task_store)
    keeper = executor(harness, worker="w-a", lease_ms=LEASE_MS, task_store=store)
    async with keeper.running(plan) as handle:
        await api.wait_until(lambda: api.calls["tasks:list"] == 1)
        (held,) = await running_ids(harness, handle.id)
        for second in range(1, 6):  # 5 s on a 3 s lease, renewed every second
            # Time moves only while the keeper sleeps (its renewal back), so that it wakes
            # exactly on each second however long a renewal takes in its thread.
            mock_clock.jump(1.0)
            assert await eventually(lambda s=second: store.renewals == s), store.renewals
            task = await harness.task_store.get(held)
            assert task is not None and task.lease_until == trio_ms() + LEASE_MS, task
        assert (task.state, task.worker) == (TaskState.RUNNING, "w-a")
        gate.set()
        result = await handle.completion()
    assert result.status is SyncStatus.COMPLETED
    assert result.tasks_completed > 0 and handle.statistics().tasks_lost == 0
    assert await harness.snapshot() == expected_rows(api)


async def test_the_tasks_of_a_dead_worker_come_back_after_its_lease(
    make_harness: MakeHarness, autojump_clock: trio.testing.MockClock
) -> None:
    api = seeded_api(projects=4, tasks=6)
    harness = make_harness(api)
    gate = api.gates["tasks:list"] = trio.Event()
    plan = await harness.seed()
    async with executor(harness).running(plan) as handle:
        await api.wait_until(lambda: api.calls["tasks:list"] == 1)
        # Another worker claims what it can and dies: it never finishes nor renews.
        dead = await harness.task_store.claim_many(
            handle.id, trio_ms(), 10, worker="dead", lease_ms=LEASE_MS
        )
        assert dead, "the dead worker took tasks"
        claimed_at = trio.current_time()
        gate.set()
        result = await handle.completion()
    assert trio.current_time() - claimed_at >= LEASE_MS / 1000  # they waited for the lease
    assert result.status is SyncStatus.COMPLETED
    assert await harness.snapshot() == expected_rows(api)
    tasks = {t.id: t for t in await harness.tasks(handle.id)}
    assert {tasks[t.id].state for t in dead} == {TaskState.COMPLETED}
    assert {tasks[t.id].worker for t in dead} == {None}  # taken over by the owner
    # The dead worker's outcome, should it wake up, is refused and writes nothing.
    with pytest.raises(MaxError) as caught:
        await harness.task_store.finish(dead[0], TaskOutcome())
    assert caught.value.code == "execution.invalid_transition"


async def test_a_stopped_joined_worker_hands_its_tasks_over_at_once(
    make_harness: MakeHarness, autojump_clock: trio.testing.MockClock
) -> None:
    api = seeded_api(projects=4, tasks=6)
    harness = make_harness(api)
    gate = api.gates["tasks:list"] = trio.Event()
    plan = await harness.seed()
    owner = executor(harness, concurrency=1)
    joined = executor(harness, worker="w-j", lease_ms=60_000, concurrency=4)
    async with owner.running(plan) as handle:
        await started(handle)
        with trio.CancelScope() as stop:
            async with joined.joining(handle.id) as helper:
                await api.wait_until(lambda: api.calls["tasks:list"] >= 2)
                held = [t for t in await harness.tasks(handle.id) if t.worker == "w-j"]
                assert held, "the joined worker runs tasks"
                stop.cancel()  # its Ctrl-C
        joined_result = await helper.completion()
        assert joined_result.status is SyncStatus.INTERRUPTED
        record = await harness.sync_store.get(handle.id)
        assert record is not None and record.status is SyncStatus.RUNNING  # not its to write
        stopped_at = trio.current_time()
        gate.set()
        result = await handle.completion()
    # Released, not left to expire: the owner took them long before the 60 s lease.
    assert trio.current_time() - stopped_at < 60
    assert result.status is SyncStatus.COMPLETED
    assert await harness.snapshot() == expected_rows(api)


async def test_a_joined_worker_stops_when_the_owner_is_interrupted(
    make_harness: MakeHarness, autojump_clock: trio.testing.MockClock
) -> None:
    api = seeded_api(projects=4, tasks=6)
    harness = make_harness(api)
    api.gates["tasks:list"] = trio.Event()  # never opened: the sync cannot end by itself
    plan = await harness.seed()
    joined = executor(harness, worker="w-j", lease_ms=LEASE_MS, concurrency=2)
    async with trio.open_nursery() as nursery:
        with trio.CancelScope() as owner_scope:
            async with executor(harness).running(plan) as handle:
                await started(handle)
                helper = await _join_in(nursery, joined, handle.id)
                await api.wait_until(lambda: api.calls["tasks:list"] >= 2)
                owner_scope.cancel()  # the owner's Ctrl-C
        result = await helper.completion()
    assert (await handle.completion()).status is SyncStatus.INTERRUPTED
    assert result.status is SyncStatus.INTERRUPTED  # it saw the record and stopped
    record = await harness.sync_store.get(handle.id)
    assert record is not None and record.status is SyncStatus.INTERRUPTED
    assert TaskState.RUNNING not in await harness.states(handle.id)


async def _join_in(nursery: trio.Nursery, joined: SyncExecutor, sync_id: str) -> SyncHandle:
    """Start ``joined.joining(sync_id)`` in ``nursery``; its handle once it runs."""

    async def run(task_status: trio.TaskStatus[SyncHandle] = trio.TASK_STATUS_IGNORED) -> None:
        async with joined.joining(sync_id) as handle:
            task_status.started(handle)

    handle: SyncHandle = await nursery.start(run)
    return handle


async def test_only_a_running_sync_can_be_joined(
    make_harness: MakeHarness, autojump_clock: trio.testing.MockClock
) -> None:
    api = seeded_api()
    harness = make_harness(api)
    result = await harness.run()
    assert result.status is SyncStatus.COMPLETED

    joined = executor(harness, worker="w-j", lease_ms=LEASE_MS)
    with pytest.raises(MaxError) as caught:
        async with joined.joining(result.sync_id):
            pass
    assert caught.value.code == "execution.sync_not_running"
    assert caught.value.message == (
        f"Sync {result.sync_id} is completed: only a running sync can be joined"
    )
    with pytest.raises(MaxError) as unknown:
        async with joined.joining("sync-404"):
            pass
    assert unknown.value.code == "execution.sync_not_found"


async def test_failures_of_a_joined_worker_fail_the_owners_sync(
    make_harness: MakeHarness, autojump_clock: trio.testing.MockClock
) -> None:
    api = seeded_api(projects=4, tasks=6)
    harness = make_harness(api)
    gate = api.gates["tasks:list"] = trio.Event()
    plan = await harness.seed()
    owner = executor(harness, concurrency=1)
    joined = executor(harness, worker="w-j", lease_ms=LEASE_MS, concurrency=4)
    async with owner.running(plan) as handle:
        await started(handle)
        async with trio.open_nursery() as nursery:
            helper = await _join_in(nursery, joined, handle.id)
            await api.wait_until(lambda: api.calls["tasks:list"] >= 2)
            api.fail("tasks:list")
            gate.set()
        joined_result = await helper.completion()
        result = await handle.completion()
    assert joined_result.status is SyncStatus.FAILED
    assert result.status is SyncStatus.FAILED
    own = {f.task_id for f in joined_result.failures}
    assert own and own <= {f.task_id for f in result.failures}
    record = await harness.sync_store.get(handle.id)
    assert record is not None and record.status is SyncStatus.FAILED
