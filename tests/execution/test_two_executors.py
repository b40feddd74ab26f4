"""Two executors on one ``data.db`` claim disjoint tasks.

Each executor has its own connection to the file (its own ``open_installation_store``); the
second one joins the sync the first started. The store's claim is one atomic statement, so no
task runs twice, and together they finish the sync with every row.
"""

from __future__ import annotations

from pathlib import Path

from maxtrio.execution import (
    OperationCounts,
    RunnerFactory,
    SyncExecutor,
    SyncRunner,
    SyncStarted,
    SyncStatus,
    Task,
    TaskOutcome,
    TaskState,
)

from .connector import SCHEMA, seeded_api
from .harness import harness_on, open_stores
from .test_executor import expected_rows


class RecordingRunners:
    """Wraps a runner factory and records which tasks its runners ran."""

    def __init__(self, inner: RunnerFactory) -> None:
        self.inner = inner
        self.ran: list[str] = []

    def for_sync(self, sync_id: str) -> SyncRunner:
        return _Recording(self.inner.for_sync(sync_id), self.ran)


class _Recording:
    def __init__(self, inner: SyncRunner, ran: list[str]) -> None:
        self.inner = inner
        self.ran = ran

    async def run(self, task: Task) -> TaskOutcome:
        self.ran.append(task.id)
        return await self.inner.run(task)

    def operation_counts(self) -> OperationCounts:
        return self.inner.operation_counts()


async def test_two_executors_on_one_file_claim_disjoint_tasks(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    api = seeded_api(workspaces=2, users=12, projects=10, tasks=30, page_size=10)
    api.latency = 0.002  # real time: both executors get work while the other waits
    first = harness_on(open_stores(SCHEMA, "sqlite", path), api)
    second = harness_on(open_stores(SCHEMA, "sqlite", path), api)
    try:
        # Two slots each, so neither can hold every claimable task at once.
        runners_a = RecordingRunners(first.setup().executor().runner)
        runners_b = RecordingRunners(second.setup().executor().runner)
        executor_a = SyncExecutor(
            runner=runners_a,
            task_store=first.task_store,
            sync_store=first.sync_store,
            task_concurrency=2,
        )
        executor_b = SyncExecutor(
            runner=runners_b,
            task_store=second.task_store,
            sync_store=second.sync_store,
            task_concurrency=2,
        )
        plan = await first.seed()
        async with executor_a.running(plan) as handle_a:
            async for event in handle_a.events:  # the graph is enqueued
                if isinstance(event, SyncStarted):
                    break
            async with executor_b.joining(handle_a.id) as handle_b:
                result_b = await handle_b.completion()
            result_a = await handle_a.completion()
        assert result_a.status is result_b.status is SyncStatus.COMPLETED
        ran_a, ran_b = set(runners_a.ran), set(runners_b.ran)
        assert len(ran_a) == len(runners_a.ran) and len(ran_b) == len(runners_b.ran)
        assert ran_a and ran_b, "both executors took part"
        assert not ran_a & ran_b, "no task ran twice"
        tasks = await first.tasks(handle_a.id)
        executed = {t.id for t in tasks if t.payload.kind != "sync-group"}
        assert ran_a | ran_b == executed
        assert {t.state for t in tasks} == {TaskState.COMPLETED}
        assert await second.snapshot() == expected_rows(api)
    finally:
        first.stores.close()
        second.stores.close()
