"""Stopping a sync half-way — ``handle.cancel()`` or the surrounding scope cancelled (Ctrl-C) —
then resuming it gives the same entity rows as a sync that was never stopped.

Real Acme over loopback HTTP (2 ms per request so the sync has a middle), real ``data.db``
files; the executor runs three tasks at a time so a stop always catches work in flight.

A sync stopped before it even stored its task graph has nothing to resume: that is refused with
a clear error (it used to "complete" with nothing done), and a new sync does the job.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from maxtrio.acme import FaultInjection, SeedOptions
from maxtrio.core import MaxError
from maxtrio.execution import (
    ErrSyncHasNoTasks,
    ErrSyncNotResumable,
    SyncHandle,
    SyncStatus,
    TaskCompleted,
    TaskState,
    resume_sync,
)

from .conftest import StartAcme
from .data_db import (
    FILE_TABLE,
    TASK_TABLE,
    USER_TABLE,
    Upstream,
    entity_tables,
    expected_tables,
)
from .syncing import Sync, prepared_sync, sync_into

SEED = SeedOptions(
    workspaces=1, users_per_workspace=59, projects_per_workspace=16, tasks_per_project=20
)  # 60 users, 16 projects (16 task pages and 16 file pages), 320 tasks, 80 files
LATENCY = FaultInjection(latency_ms=2)


@attrs.frozen
class StopPoint:
    """Stop once ``count`` tasks doing ``operation`` for ``entity_type`` completed."""

    entity_type: str
    operation: str
    count: int


AFTER_THE_USER_LIST = StopPoint("AcmeUser", "load-collection", 1)
AFTER_FOUR_TASK_PAGES = StopPoint("AcmeTask", "load-collection", 4)
STOP_POINTS = [AFTER_THE_USER_LIST, AFTER_FOUR_TASK_PAGES]
STOP_IDS = ["after-the-user-list", "after-four-task-pages"]


async def reached(handle: SyncHandle, stop: StopPoint) -> None:
    """Read the sync's events until ``stop`` is reached."""
    seen = 0
    async for event in handle.events:
        if isinstance(event, TaskCompleted) and (event.entity_type, event.operation) == (
            stop.entity_type,
            stop.operation,
        ):
            seen += 1
            if seen == stop.count:
                return
    raise AssertionError(f"the sync ended before {stop}")


async def run_in_block(sync: Sync, *, task_status: trio.TaskStatus[SyncHandle]) -> None:
    async with sync.setup.executor().running(sync.plan) as handle:
        task_status.started(handle)
        await handle.completion()


async def assert_stopped_half_way(
    sync: Sync, handle: SyncHandle, db: Path, upstream: Upstream, stop: StopPoint
) -> None:
    """No task is left ``running``, and the stop came where it should: before the end."""
    states = await sync.setup.task_store.count_by_state(handle.id)
    assert TaskState.RUNNING not in states, states
    rows = entity_tables(db)
    assert len(rows[USER_TABLE]) == len(upstream.users)  # one complete list, before any stop
    stored_tasks = len(rows[TASK_TABLE])
    if stop == AFTER_THE_USER_LIST:
        assert stored_tasks == 0 and len(rows[FILE_TABLE]) == 0  # the last wave had not begun
    else:
        assert stop.count * SEED.tasks_per_project <= stored_tasks < len(upstream.tasks)


@pytest.fixture
async def reference(start_acme: StartAcme, tmp_path: Path) -> tuple[str, str, Upstream, Path]:
    """A served tenant, what its API serves, and a ``data.db`` of one uninterrupted sync."""
    server = await start_acme(SEED, faults=LATENCY)
    upstream = await Upstream.fetch(server.url, server.api_key)
    db = tmp_path / "reference.db"
    result = await sync_into(db, server.url, server.api_key)
    assert result.status is SyncStatus.COMPLETED, result.to_json()
    assert entity_tables(db) == expected_tables(upstream)
    return server.url, server.api_key, upstream, db


@pytest.mark.parametrize("stop", STOP_POINTS, ids=STOP_IDS)
async def test_cancel_mid_sync_then_forced_resume_gives_the_same_rows(
    reference: tuple[str, str, Upstream, Path], tmp_path: Path, stop: StopPoint
) -> None:
    url, api_key, upstream, reference_db = reference
    db = tmp_path / "data.db"
    async with prepared_sync(db, url, api_key, task_concurrency=3) as sync:
        async with sync.setup.executor().running(sync.plan) as handle:
            await reached(handle, stop)
            await handle.cancel()
        cancelled = await handle.completion()
        assert cancelled.status is SyncStatus.CANCELLED, cancelled.to_json()
        record = await sync.setup.sync_store.get(handle.id)
        assert record is not None and record.status is SyncStatus.CANCELLED
        states = await sync.setup.task_store.count_by_state(handle.id)
        assert set(states) <= {TaskState.COMPLETED, TaskState.CANCELLED}, states
        await assert_stopped_half_way(sync, handle, db, upstream, stop)

        with pytest.raises(MaxError) as refused:  # a cancel is persisted …
            await resume_sync(sync.setup, handle.id)
        assert ErrSyncNotResumable.matches(refused.value)
        forced = sync.setup.executor().resuming(handle.id, force=True)  # … unless forced
        async with forced as resumed:
            result = await resumed.completion()
        assert result.status is SyncStatus.COMPLETED, result.to_json()
        assert result.tasks_completed > 0

    assert entity_tables(db) == entity_tables(reference_db) == expected_tables(upstream)


@pytest.mark.parametrize("stop", STOP_POINTS, ids=STOP_IDS)
async def test_interrupt_mid_sync_then_resume_gives_the_same_rows(
    reference: tuple[str, str, Upstream, Path], tmp_path: Path, stop: StopPoint
) -> None:
    url, api_key, upstream, reference_db = reference
    db = tmp_path / "data.db"
    async with prepared_sync(db, url, api_key, task_concurrency=3) as sync:
        async with trio.open_nursery() as process:  # stands for the process being stopped
            handle: SyncHandle = await process.start(run_in_block, sync)
            await reached(handle, stop)
            process.cancel_scope.cancel()
        interrupted = await handle.completion()
        assert interrupted.status is SyncStatus.INTERRUPTED, interrupted.to_json()
        record = await sync.setup.sync_store.get(handle.id)
        assert record is not None and record.status is SyncStatus.INTERRUPTED
        await assert_stopped_half_way(sync, handle, db, upstream, stop)
        assert (await sync.setup.task_store.count_by_state(handle.id)).get(TaskState.PENDING)

        result = await resume_sync(sync.setup, handle.id)
        assert result.status is SyncStatus.COMPLETED, result.to_json()

    assert entity_tables(db) == entity_tables(reference_db) == expected_tables(upstream)


async def run_with_writer_held(
    sync: Sync, writer: trio.CapacityLimiter, *, task_status: trio.TaskStatus[SyncHandle]
) -> None:
    """Start the sync, and take ``data.db``'s writer before the sync can store its task graph
    (the sync's own task has not run yet: nothing here checkpoints before the acquire)."""
    async with sync.setup.executor().running(sync.plan) as handle:
        writer.acquire_on_behalf_of_nowait(handle)
        task_status.started(handle)
        await handle.completion()


async def test_interrupted_before_its_task_graph_was_stored_a_sync_is_not_resumed_as_done(
    reference: tuple[str, str, Upstream, Path], tmp_path: Path
) -> None:
    url, api_key, upstream, reference_db = reference
    db = tmp_path / "data.db"
    async with prepared_sync(db, url, api_key, task_concurrency=3) as sync:
        writer = sync.store.database.write_limiter
        async with trio.open_nursery() as process:
            handle: SyncHandle = await process.start(run_with_writer_held, sync, writer)
            await trio.testing.wait_all_tasks_blocked()
            assert writer.statistics().tasks_waiting == 1  # the sync, storing its graph
            process.cancel_scope.cancel()
            writer.release_on_behalf_of(handle)
        interrupted = await handle.completion()
        assert interrupted.status is SyncStatus.INTERRUPTED, interrupted.to_json()
        assert await sync.setup.task_store.count_by_state(handle.id) == {}

        with pytest.raises(MaxError) as refused:  # no plan survived: nothing to resume …
            await resume_sync(sync.setup, handle.id)
        assert ErrSyncHasNoTasks.matches(refused.value)
        assert refused.value.message == (
            f"Sync {handle.id} stopped before its tasks were stored and cannot be resumed; "
            "start a new sync"
        )
    assert (await sync_into(db, url, api_key)).status is SyncStatus.COMPLETED  # … start anew
    assert entity_tables(db) == entity_tables(reference_db) == expected_tables(upstream)
