"""The executor end to end.

Every test taking ``make_harness``/``make_stores`` runs on the in-memory stores and on the apsw
stores over a real ``data.db``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import trio

from maxtrio.core import Limit, Step, SyncPlan, concurrent
from maxtrio.execution import (
    LoadFieldsPayload,
    OperationCounts,
    OperationRetried,
    Progress,
    RunnerTuning,
    SyncCompleted,
    SyncEvent,
    SyncExecutor,
    SyncStarted,
    SyncStatus,
    SyncStepPayload,
    Task,
    TaskCompleted,
    TaskFailed,
    TaskOutcome,
    TaskState,
    TaskStore,
)

from .conftest import MakeHarness, MakeStores
from .connector import (
    ROOT,
    SCHEMA,
    Project,
    TaskItem,
    User,
    Workspace,
    seeded_api,
)
from .harness import Harness, setup_for
from .sources import G_PLAN, G_RESOLVERS, GSCHEMA, GCtx, GitApi, GRoot, Issue, Person


async def collect(handle: Any) -> list[SyncEvent]:
    return [event async for event in handle.events]


async def run_with_events(harness: Harness, plan: SyncPlan | None = None, **kw: Any) -> Any:
    plan = plan or await harness.seed()
    async with harness.executor(**kw).running(plan) as handle:
        events = await collect(handle)
        result = await handle.completion()
    return result, events, handle


def expected_rows(api: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """What a complete sync of ``api`` stores (the root is a stub)."""
    return {
        "TRoot": {"root": {}},
        "TWorkspace": {i: {"name": w["name"]} for i, w in api.workspaces.items()},
        "TUser": {
            i: {"displayName": u["displayName"], "email": u["email"]} for i, u in api.users.items()
        },
        "TProject": {
            i: {"name": p["name"], "status": p["status"], "owner": p["owner"]}
            for i, p in api.projects.items()
        },
        "TTask": {
            i: {"title": t["title"], "status": t["status"], "project": t["project"]}
            for i, t in api.tasks.items()
        },
    }


# -- end to end (the reference's sync-executor case) ---------------------------------------------


async def test_a_sync_stores_exactly_what_the_api_has(make_harness: MakeHarness) -> None:
    api = seeded_api(workspaces=1, users=3, projects=2, tasks=120, page_size=50)
    harness = make_harness(api)
    result, _events, _handle = await run_with_events(harness)
    assert result.status is SyncStatus.COMPLETED
    assert (result.tasks_failed, result.stranded, result.failures) == (0, 0, ())
    assert result.duration >= 0
    assert await harness.snapshot() == expected_rows(api)
    record = await harness.sync_store.get(result.sync_id)
    assert record is not None and record.status is SyncStatus.COMPLETED
    assert record.completed_at is not None
    # Every task row, groups and parents included, ends completed.
    tasks = await harness.tasks(result.sync_id)
    assert tasks and {t.state for t in tasks} == {TaskState.COMPLETED}
    # Freshness was recorded for what was loaded, not for stubs.
    meta = harness.stores.sync_meta
    assert await meta.get_field_sync_time("ein:TUser:w1u1", "email") is not None
    assert await meta.get_field_sync_time("ein:TTask:w1p1t0001", "title") is not None
    assert await meta.get_field_sync_time("ein:TRoot:root", "workspaces") is None
    # The operation counts are the calls the API saw, by operation.
    assert result.operations.total == sum(api.calls.values())
    assert {k.removeprefix("test:"): v for k, v in result.operations.by_operation.items()} == (
        dict(api.calls)
    )


async def test_a_second_sync_reprocesses_without_duplicates(make_harness: MakeHarness) -> None:
    api = seeded_api(users=3)
    harness = make_harness(api)
    first = await harness.run()
    second = await harness.run()
    assert (first.sync_id, second.sync_id) == ("sync-1", "sync-2")
    assert second.status is SyncStatus.COMPLETED
    assert second.operations == first.operations  # no staleness skipping yet
    assert await harness.snapshot() == expected_rows(api)


async def test_the_executor_lists_its_syncs(make_harness: MakeHarness) -> None:
    harness = make_harness(seeded_api())
    executor = harness.executor()
    async with executor.running(await harness.seed()) as handle:
        assert executor.syncs[handle.id] is handle
    assert list(executor.syncs) == [handle.id]
    assert handle.done and handle.status() is SyncStatus.COMPLETED


async def test_the_forall_continuation_page_also_loads_collections(
    make_harness: MakeHarness,
) -> None:
    """Regression of the reference: 3 workspaces, ref pages of 2 → all 3 have projects."""
    api = seeded_api(workspaces=3, users=1, projects=1, tasks=1)
    harness = make_harness(api)
    result = await harness.run(tuning=RunnerTuning(ref_page_size=2))
    assert result.status is SyncStatus.COMPLETED
    assert len(await harness.rows(Workspace)) == 3
    assert sorted(await harness.rows(Project)) == ["w1p1", "w2p1", "w3p1"]


@pytest.mark.parametrize("paged", [False, True])
async def test_co_derivations_store_entities_without_their_own_step(
    make_stores: MakeStores, paged: bool
) -> None:
    """The reference's source-derivation case: 4 issues and 3 authors, with and without pages."""
    stores = make_stores(GSCHEMA)
    api = GitApi(issues_per_page=2 if paged else None)
    await stores.engine.store(GRoot.input("root"))
    setup = setup_for(stores, G_RESOLVERS, GCtx(api))
    async with setup.executor().running(G_PLAN) as handle:
        result = await handle.completion()
    assert (result.status, result.tasks_failed) == (SyncStatus.COMPLETED, 0)
    issues = await stores.rows(Issue)
    assert len(issues) == 4
    assert issues["i-1"] == {"title": "First", "state": "open", "creator": "u-1"}
    people = await stores.rows(Person)
    assert people == {
        "u-1": {"login": "ada", "name": "Ada"},
        "u-2": {"login": "bob", "name": "Bob"},
        "u-3": {"login": "cyd", "name": "Cyd"},
    }
    assert api.fetches["config"] == 1  # the dependency ran once for the whole sync
    assert api.fetches["issues:r-1"] == (2 if paged else 1)


# -- failures -------------------------------------------------------------


@pytest.mark.parametrize("op", ["workspace:get", "users:list"])
async def test_a_failing_loader_does_not_hang_the_sync(make_harness: MakeHarness, op: str) -> None:
    api = seeded_api(users=3)
    api.fail(op)
    harness = make_harness(api)
    with trio.fail_after(2):
        result, events, _ = await run_with_events(harness)
    assert result.tasks_failed > 0
    assert result.status is SyncStatus.FAILED
    assert result.failures[0].error.startswith(f"Upstream {op} failed")
    record = await harness.sync_store.get(result.sync_id)
    assert record is not None and record.status is SyncStatus.FAILED
    assert any(isinstance(e, TaskFailed) for e in events)


async def test_a_failing_batch_child_strands_what_comes_after(make_harness: MakeHarness) -> None:
    """One failed batch child: its siblings complete, later steps stay blocked, the sync fails."""
    api = seeded_api(users=60, projects=2, tasks=3)
    api.fail("users:get", lambda key: "w1u30" in key.split(","))  # the second batch of 25
    harness = make_harness(api)
    result, events, _ = await run_with_events(harness)
    assert result.status is SyncStatus.FAILED
    assert result.tasks_failed == 1
    tasks = await harness.tasks(result.sync_id)
    failed = [t for t in tasks if t.state is TaskState.FAILED]
    assert len(failed) == 1
    (bad,) = failed
    assert isinstance(bad.payload, LoadFieldsPayload) and "ein:TUser:w1u30" in bad.payload.ref_keys
    assert bad.error == "Upstream users:get failed for " + ",".join(
        k.removeprefix("ein:TUser:") for k in bad.payload.ref_keys
    )
    assert bad.completed_at is not None
    steps = [t for t in tasks if isinstance(t.payload, SyncStepPayload)]
    assert [t.state for t in steps] == [
        TaskState.COMPLETED,
        TaskState.COMPLETED,
        TaskState.COMPLETED,
        TaskState.COMPLETED,
        TaskState.AWAITING_CHILDREN,  # user fields: one child failed
        TaskState.NEW,  # project fields: blocked for ever
        TaskState.NEW,  # tasks
    ]
    siblings = [t for t in tasks if t.parent_id == bad.parent_id and t is not bad]
    assert len(siblings) == 2 and all(t.state is TaskState.COMPLETED for t in siblings)
    assert result.stranded == 3
    assert len(await harness.rows(User)) == 60  # stubs; 35 with their fields
    loaded = [u for u in (await harness.rows(User)).values() if u["email"] is not None]
    assert len(loaded) == 35
    assert await harness.rows(TaskItem) == {}
    failures = [e for e in events if isinstance(e, TaskFailed)]
    assert [(f.task_id, f.operation, f.entity_type) for f in failures] == [
        (bad.id, "load-fields", "TUser")
    ]
    assert failures[0].code == "fakeapi.failed"


async def test_a_failing_group_member_strands_the_group(make_harness: MakeHarness) -> None:
    """A failed member keeps its group from completing; the sync fails."""
    api = seeded_api(users=2, projects=2)
    api.fail("projects:list")
    harness = make_harness(api)
    await harness.seed()
    plan = SyncPlan.create(
        Step.for_root(ROOT).load_collection("workspaces"),
        concurrent(
            Step.for_all(Workspace).load_collection("users"),
            Step.for_all(Workspace).load_collection("projects"),
        ),
        Step.for_all(User).load_fields("email"),
    )
    result, _events, _ = await run_with_events(harness, plan)
    assert (result.status, result.tasks_failed) == (SyncStatus.FAILED, 1)
    states = {t.id: t.state for t in await harness.tasks(result.sync_id)}
    # 1 root step, 2 group, 3 users member, 4 projects member, 5 user fields, then children.
    assert states["1"] is TaskState.COMPLETED
    assert states["2"] is TaskState.AWAITING_CHILDREN
    assert states["3"] is TaskState.COMPLETED  # its page completed it by propagation
    assert states["4"] is TaskState.AWAITING_CHILDREN
    assert states["5"] is TaskState.NEW
    assert len(await harness.rows(User)) == 2
    assert await harness.rows(Project) == {}


async def test_every_failure_is_reported_also_for_plan_steps(make_harness: MakeHarness) -> None:
    """Reference bug B11: sync-step failures emitted nothing."""
    api = seeded_api()
    api.fail("workspaces:list")  # loaded inline by the forRoot step
    harness = make_harness(api)
    result, events, _ = await run_with_events(harness)
    failures = [e for e in events if isinstance(e, TaskFailed)]
    assert [(f.operation, f.entity_type, f.task_id) for f in failures] == [
        ("sync-step", "TRoot", "1")
    ]
    assert result.failures[0].kind == "sync-step"
    assert result.stranded == 6  # the six later steps never ran


async def test_bad_upstream_data_fails_that_task_and_writes_nothing_of_it(
    make_harness: MakeHarness,
) -> None:
    api = seeded_api(projects=2, tasks=3)
    api.tasks["w1p2t0002"]["status"] = {"not": "a string"}  # a wrong type on one page
    harness = make_harness(api)
    result = await harness.run()
    assert result.tasks_failed == 1
    assert result.failures[0].code == "storage.invalid_value"
    assert "TTask" in result.failures[0].error
    tasks = await harness.rows(TaskItem)
    assert sorted(tasks) == ["w1p1t0001", "w1p1t0002", "w1p1t0003"]  # the bad page: nothing


async def test_children_and_the_parent_transition_commit_together(
    make_harness: MakeHarness,
) -> None:
    """A page whose write fails leaves neither its entities nor its next page."""
    api = seeded_api(projects=1, tasks=150, page_size=100)
    api.tasks["w1p1t0042"]["title"] = 42.5  # page 1 of 2 carries bad data
    harness = make_harness(api)
    result = await harness.run()
    assert result.tasks_failed == 1
    tasks = await harness.tasks(result.sync_id)
    (bad,) = [t for t in tasks if t.state is TaskState.FAILED]
    assert not [t for t in tasks if t.parent_id == bad.id]  # no child page was inserted
    assert await harness.rows(TaskItem) == {}


# -- chains and counters -------------------------------------------


async def test_a_page_chain_completes_its_step_once(make_harness: MakeHarness) -> None:
    """3 pages chained by parent; propagation completes the step."""
    api = seeded_api(projects=1, tasks=250, page_size=100)
    harness = make_harness(api)
    await harness.seed()
    await harness.engine.store(Project.input("w1p1"))
    plan = SyncPlan.create(Step.for_all(Project).load_collection("tasks"))
    result, events, _ = await run_with_events(harness, plan)
    assert result.status is SyncStatus.COMPLETED
    tasks = {t.id: t for t in await harness.tasks(result.sync_id)}
    assert [(t.id, t.parent_id, t.payload.kind) for t in tasks.values()] == [
        ("1", None, "sync-step"),
        ("2", "1", "load-collection"),
        ("3", "2", "load-collection"),
        ("4", "3", "load-collection"),
    ]
    assert all(t.state is TaskState.COMPLETED for t in tasks.values())
    assert result.tasks_completed == 1  # only the last page completed itself
    progress = [e for e in events if isinstance(e, TaskCompleted)]
    assert [(e.task_id, e.entity_type, e.count) for e in progress] == [
        ("2", "TTask", 100),
        ("3", "TTask", 100),
        ("4", "TTask", 50),
    ]
    assert len(await harness.rows(TaskItem)) == 250


async def test_counters_and_events_of_a_full_sync(make_harness: MakeHarness) -> None:
    api = seeded_api(workspaces=1, users=3, projects=2, tasks=5)
    harness = make_harness(api)
    result, events, _ = await run_with_events(harness)
    assert isinstance(events[0], SyncStarted) and events[0].step_count == 7
    assert isinstance(events[-1], SyncCompleted) and events[-1].result == result
    assert sum(isinstance(e, SyncCompleted) for e in events) == 1
    progress = [e for e in events if isinstance(e, TaskCompleted)]
    # One event per task that loaded something; the counts add up to what was stored.
    by_type: Counter[str] = Counter()
    for event in progress:
        by_type[event.entity_type] += event.count
    assert by_type == {"TWorkspace": 2, "TUser": 6, "TProject": 4, "TTask": 10}
    assert len({e.task_id for e in progress}) == len(progress)
    # Leaves that complete themselves: the root step (inline page), the workspace-fields
    # batch, the users page, the projects page, the user-fields batch, the project-fields
    # batch and 2 task pages. The other six steps complete by propagation (not counted).
    assert result.tasks_completed == 8


# -- flow control in a sync ----------------------------------------------


class GatedRunner:
    """A runner whose first task fans out into ``fan_out`` children that wait for a gate."""

    def __init__(self, store: TaskStore, fan_out: int) -> None:
        self.store = store
        self.fan_out = fan_out
        self.gate = trio.Event()
        self.now = self.most = 0
        self.most_running_rows = 0
        self._changed = trio.Event()

    def for_sync(self, sync_id: str) -> GatedRunner:
        self.sync_id = sync_id
        return self

    def operation_counts(self) -> OperationCounts:
        return OperationCounts()

    async def wait_for_running(self, count: int) -> None:
        while self.now < count:
            await self._changed.wait()

    async def run(self, task: Task) -> TaskOutcome:
        if isinstance(task.payload, SyncStepPayload):
            return TaskOutcome(
                children=[
                    LoadFieldsPayload("TUser", (f"ein:TUser:u{i}",), ("email",))
                    for i in range(self.fan_out)
                ]
            )
        self.now += 1
        self.most = max(self.most, self.now)
        self._changed.set()
        self._changed = trio.Event()
        states = await self.store.count_by_state(self.sync_id)
        self.most_running_rows = max(self.most_running_rows, states.get(TaskState.RUNNING, 0))
        await self.gate.wait()
        self.now -= 1
        return TaskOutcome(progress=Progress("TUser", "load-fields", 1))


async def test_the_executor_limiter_bounds_running_tasks(make_stores: MakeStores) -> None:
    """Limit 3, 20 tasks → 3 bodies at once, and 3 ``running`` rows."""
    stores = make_stores(SCHEMA)
    runner = GatedRunner(stores.task_store, fan_out=20)
    executor = SyncExecutor(
        runner=runner,
        task_store=stores.task_store,
        sync_store=stores.sync_store,
        task_concurrency=3,
    )
    plan = SyncPlan.create(Step.for_all(User).load_fields("email"))
    async with executor.running(plan) as handle:
        await runner.wait_for_running(3)  # every slot is taken …
        stats = executor.statistics()
        assert (stats.running_tasks, stats.task_slots.borrowed) == (3, 3)
        assert (await stores.states(handle.id))[TaskState.RUNNING] == 3  # … and no more rows
        assert (await stores.states(handle.id))[TaskState.PENDING] == 17
        runner.gate.set()
        result = await handle.completion()
    assert result.status is SyncStatus.COMPLETED
    assert result.tasks_completed == 20
    assert runner.most == 3
    assert runner.most_running_rows == 3  # claimed only with a slot: never more rows running
    assert handle.statistics().peak_running_tasks == 3
    stats = executor.statistics()
    assert (stats.task_slots.total, stats.task_slots.borrowed, stats.running_tasks) == (3, 0, 0)


async def test_an_operation_limit_is_shared_by_operations_and_tasks(
    make_harness: MakeHarness,
) -> None:
    """project:get and tasks:list share ``test:api`` (3): never more at once."""
    api = seeded_api(workspaces=2, users=2, projects=12, tasks=4)
    gate = trio.Event()
    api.gates["project:get"] = gate
    harness = make_harness(api, Limit.concurrent("test:api", 3))
    plan = await harness.seed()
    async with harness.executor(tuning=RunnerTuning(load_fields_batch_size=2)).running(
        plan
    ) as handle:
        await api.wait_until(lambda: api.active == 3)  # 12 batches want project:get
        limit = harness.limits.statistics()["test:api"]
        assert (limit.active, limit.max_concurrent) == (3, 3)
        gate.set()
        result = await handle.completion()
    assert result.status is SyncStatus.COMPLETED
    assert api.peak_active == 3
    stats = harness.limits.statistics()["test:api"]
    assert (stats.peak_active, stats.max_concurrent, stats.active) == (3, 3, 0)
    assert stats.admitted == sum(api.calls.values()) == result.operations.total


async def test_transient_upstream_errors_are_retried_until_every_row_is_there(
    make_harness: MakeHarness,
) -> None:
    api = seeded_api(users=4, projects=3, tasks=20, page_size=7)
    api.transient = {"tasks:list": 4, "users:get": 2, "project:get": 3}
    harness = make_harness(api)
    plan = await harness.seed()
    async with harness.executor().running(plan) as handle:
        retried = [e async for e in handle.events if isinstance(e, OperationRetried)]
        result = await handle.completion()
    assert (result.status, result.tasks_failed) == (SyncStatus.COMPLETED, 0)
    assert await harness.snapshot() == expected_rows(api)
    # every retry is counted with its back-off, and announced as it begins (the progress)
    assert result.retries == len(retried) == 4 + 2 + 3
    assert result.backoff == pytest.approx(sum(e.delay for e in retried)) and result.backoff > 0
    assert {e.code for e in retried} == {"fakeapi.transient"} and {e.attempt for e in retried}
    assert result.to_json()["retries"] == 9


async def test_an_operation_that_stays_busy_fails_its_task(make_harness: MakeHarness) -> None:
    api = seeded_api()
    api.transient = {"workspace:get": 100}
    harness = make_harness(api)
    result = await harness.run()
    assert result.status is SyncStatus.FAILED
    assert [f.code for f in result.failures] == ["fakeapi.transient"]
    assert api.calls["workspace:get"] == 5  # the default policy's attempts
    assert result.operations.by_operation["test:workspace:get"] == 1  # one dispatch


class InterruptedOnce:
    """A runner whose first task is sent back to ``pending`` by "another process" mid-run
    (one that resumes the sync, believing its owner gone: the record stays ``running``)."""

    def __init__(self, store: TaskStore) -> None:
        self.store = store
        self.runs: list[str] = []

    def for_sync(self, sync_id: str) -> InterruptedOnce:
        self.sync_id = sync_id
        return self

    def operation_counts(self) -> OperationCounts:
        return OperationCounts()

    async def run(self, task: Task) -> TaskOutcome:
        self.runs.append(task.id)
        if len(self.runs) == 1:
            await self.store.prepare_resume(self.sync_id)  # like another process's resume
        return TaskOutcome(progress=Progress("TUser", "load-fields", 0))


async def test_a_task_moved_away_while_running_is_left_to_its_new_owner(
    make_stores: MakeStores,
) -> None:
    stores = make_stores(SCHEMA)
    runner = InterruptedOnce(stores.task_store)
    executor = SyncExecutor(
        runner=runner, task_store=stores.task_store, sync_store=stores.sync_store
    )
    plan = SyncPlan.create(Step.for_all(User).load_fields("email"))
    async with executor.running(plan) as handle:
        result = await handle.completion()
    assert result.status is SyncStatus.COMPLETED
    assert (result.tasks_completed, result.tasks_failed) == (1, 0)
    assert handle.statistics().tasks_lost == 1
    assert runner.runs == ["1", "1"]  # claimed again after it went back to pending
