"""The TaskStore contract.

Every test taking ``stores`` runs on the in-memory store and on ``SqliteTaskStore`` over a
real ``data.db``; the SQLite-only tests below cover what only a file has: its exact DDL, a
reopened store, mid-transaction failures, other connections and other processes.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import apsw
import pytest
import trio
import trio.testing

from maxtrio.core import EntityInput, MaxError, PageRequest
from maxtrio.execution import (
    ErrInvalidPayload,
    FieldSyncBatch,
    FieldSyncEntry,
    FinishReport,
    SyncStatus,
    Task,
    TaskOutcome,
    TaskState,
    TaskTemplate,
    payload_from_json,
    payload_to_json,
)
from maxtrio.storage import open_installation_store

from .execution_stores import (
    PYTHON,
    REPO_ROOT,
    SCHEMA,
    T0,
    Gadget,
    LineReader,
    Stores,
    Widget,
    claim_one,
    get,
    open_sqlite_stores,
    page,
    pending_graph,
    plan_graph,
    raises_code,
    sqlite_rows,
    sqlite_stores_fixture,  # noqa: F401
    states,
    step,
    stores_fixture,  # noqa: F401
    table_shape,
)

SYNC = "sync-1"
PENDING = TaskState.PENDING
RUNNING = TaskState.RUNNING
NEW = TaskState.NEW
AWAITING = TaskState.AWAITING_CHILDREN
COMPLETED = TaskState.COMPLETED
FAILED = TaskState.FAILED
CANCELLED = TaskState.CANCELLED


def widget(id_: str, **fields: object) -> EntityInput:
    return EntityInput.create(Widget, id_, {"name": f"widget {id_}", **fields})


async def widget_ids(stores: Stores) -> list[str]:
    page_ = await stores.engine.load_page(Widget, page=PageRequest(limit=1000))
    return [item.id for item in page_.items]


# -- enqueue ----------------------------------------------------------------------------------


async def test_enqueue_graph_assigns_ids_in_list_order_and_maps_links(stores: Stores) -> None:
    ids = await stores.tasks.enqueue_graph(SYNC, plan_graph())

    assert ids == {"temp-1": "1", "temp-2": "2", "temp-3": "3", "temp-4": "4", "temp-5": "5"}
    tasks = await stores.tasks.tasks(SYNC)
    assert [(t.id, t.state, t.parent_id, t.blocked_by) for t in tasks] == [
        ("1", PENDING, None, None),
        ("2", AWAITING, None, None),
        ("3", NEW, "2", "1"),
        ("4", NEW, "2", "1"),
        ("5", NEW, None, "2"),
    ]
    assert [t.payload for t in tasks] == [t.payload for t in plan_graph()]
    for task in tasks:
        assert (task.sync_id, task.created_at) == (SYNC, T0)
        assert (task.completed_at, task.error, task.not_before, task.attempts) == (
            None,
            None,
            None,
            0,
        )


async def test_links_to_unknown_templates_become_empty(stores: Stores) -> None:
    template = TaskTemplate("a", NEW, step("A"), parent="temp-404", blocked_by="temp-405")
    ids = await stores.tasks.enqueue_graph(SYNC, [template])

    task = await get(stores.tasks, ids["a"])
    assert (task.parent_id, task.blocked_by) == (None, None)


async def test_ids_are_global_across_graphs_and_syncs(stores: Stores) -> None:
    first = await stores.tasks.enqueue_graph(SYNC, pending_graph(2))
    second = await stores.tasks.enqueue_graph("sync-2", pending_graph(2))

    assert list(first.values()) == ["1", "2"]
    assert list(second.values()) == ["3", "4"]
    assert await stores.tasks.enqueue_graph(SYNC, []) == {}
    assert [t.id for t in await stores.tasks.tasks("sync-2")] == ["3", "4"]


# -- claim ------------------------------------------------------------------------------------


async def test_claim_takes_the_oldest_pending_task_of_its_sync(stores: Stores) -> None:
    await stores.tasks.enqueue_graph("sync-2", pending_graph(1, "other"))
    await stores.tasks.enqueue_graph(SYNC, pending_graph(3))

    claimed = [(await claim_one(stores.tasks, SYNC)).id for _ in range(3)]

    assert claimed == ["2", "3", "4"]
    assert await stores.tasks.claim(SYNC, T0) is None
    assert (await claim_one(stores.tasks, "sync-2")).id == "1"
    assert await stores.tasks.claim("sync-404", T0) is None


async def test_new_and_group_tasks_are_not_claimable(stores: Stores) -> None:
    await stores.tasks.enqueue_graph(SYNC, plan_graph())

    first = await claim_one(stores.tasks, SYNC)

    assert first.id == "1"
    assert (await get(stores.tasks, "1")).state is RUNNING
    assert await stores.tasks.claim(SYNC, T0) is None


async def test_claim_honours_not_before(stores: Stores) -> None:
    ids = await stores.tasks.enqueue_graph(
        SYNC,
        [
            TaskTemplate("late", PENDING, step("L"), not_before=T0 + 100),
            TaskTemplate("now", PENDING, step("N")),
            TaskTemplate("due", PENDING, step("D"), not_before=T0 - 1),
        ],
    )

    assert (await claim_one(stores.tasks, SYNC, T0)).id == ids["now"]
    assert (await claim_one(stores.tasks, SYNC, T0)).id == ids["due"]
    assert await stores.tasks.claim(SYNC, T0 + 99) is None
    assert await stores.tasks.has_active_tasks(SYNC)  # pending, just not claimable yet
    late = await claim_one(stores.tasks, SYNC, T0 + 100)  # exactly not_before: claimable
    assert (late.id, late.not_before) == (ids["late"], T0 + 100)


async def test_delayed_and_immediate_tasks_are_claimed_in_creation_order(stores: Stores) -> None:
    await stores.tasks.enqueue_graph(
        SYNC,
        [
            TaskTemplate("a", PENDING, step("A"), not_before=T0 - 5),
            TaskTemplate("b", PENDING, step("B")),
            TaskTemplate("c", PENDING, step("C"), not_before=T0),
            TaskTemplate("d", PENDING, step("D")),
        ],
    )

    claimed = [(await claim_one(stores.tasks, SYNC, T0)).id for _ in range(4)]

    assert claimed == ["1", "2", "3", "4"]


async def test_claim_many_takes_the_oldest_claimable_tasks_at_once(stores: Stores) -> None:
    ids = await stores.tasks.enqueue_graph(
        SYNC,
        [
            TaskTemplate("late", PENDING, step("L"), not_before=T0 + 100),
            TaskTemplate("a", PENDING, step("A")),
            TaskTemplate("due", PENDING, step("D"), not_before=T0 - 1),
            TaskTemplate("b", PENDING, step("B")),
            TaskTemplate("blocked", NEW, step("X"), blocked_by="a"),
            TaskTemplate("c", PENDING, step("C")),
        ],
    )
    await stores.tasks.enqueue_graph("sync-2", pending_graph(2))

    first = await stores.tasks.claim_many(SYNC, T0, 3)

    assert [t.id for t in first] == [ids["a"], ids["due"], ids["b"]]
    assert {t.state for t in first} == {RUNNING}
    assert [t.id for t in await stores.tasks.claim_many(SYNC, T0, 10)] == [ids["c"]]
    assert await stores.tasks.claim_many(SYNC, T0, 10) == []
    assert await stores.tasks.claim_many(SYNC, T0 + 100, 0) == []
    assert [t.id for t in await stores.tasks.claim_many(SYNC, T0 + 100, 5)] == [ids["late"]]
    assert await states(stores.tasks, "sync-2") == {"7": PENDING, "8": PENDING}


# -- unblocking and completion propagation --------------------------------


async def test_completing_a_blocker_unblocks_exactly_its_dependents(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, plan_graph())

    a = await claim_one(store, SYNC)
    assert await store.finish(a, TaskOutcome()) == FinishReport(True, (), 2)
    assert await states(store, SYNC) == {
        "1": COMPLETED,
        "2": AWAITING,
        "3": PENDING,
        "4": PENDING,
        "5": NEW,
    }

    b = await claim_one(store, SYNC)
    assert b.id == "3"
    assert await store.finish(b, TaskOutcome()) == FinishReport(True, (), 0)
    assert (await get(store, "2")).state is AWAITING  # one member done: the group waits
    assert (await get(store, "5")).state is NEW

    c = await claim_one(store, SYNC)
    stores.clock.now += 25
    assert await store.finish(c, TaskOutcome()) == FinishReport(True, ("2",), 1)
    group = await get(store, "2")
    assert (group.state, group.completed_at) == (COMPLETED, T0 + 25)
    assert (await get(store, "5")).state is PENDING
    d = await claim_one(store, SYNC)
    assert d.id == "5"


async def test_completion_cascades_through_three_levels_exactly_once(stores: Stores) -> None:
    store = stores.tasks
    ids = await store.enqueue_graph(
        SYNC,
        [
            TaskTemplate("step", PENDING, step("Widget")),
            TaskTemplate("next", NEW, step("Next"), blocked_by="step"),
        ],
    )
    s = await claim_one(store, SYNC)
    assert await store.finish(s, TaskOutcome(children=[page("ein:Widget:w1")])) == FinishReport(
        False
    )
    p1 = await claim_one(store, SYNC)
    assert p1.parent_id == s.id
    assert not (
        await store.finish(p1, TaskOutcome(children=[page("ein:Widget:w1", "2")]))
    ).completed
    p2 = await claim_one(store, SYNC)
    assert p2.parent_id == p1.id
    assert not (
        await store.finish(p2, TaskOutcome(children=[page("ein:Widget:w1", "3")]))
    ).completed
    p3 = await claim_one(store, SYNC)
    assert p3.parent_id == p2.id

    stores.clock.now += 10
    report = await store.finish(p3, TaskOutcome())

    assert report == FinishReport(True, (p2.id, p1.id, s.id), 1)
    for task_id in (p3.id, p2.id, p1.id, s.id):
        task = await get(store, task_id)
        assert (task.state, task.completed_at) == (COMPLETED, T0 + 10)
    assert (await get(store, ids["next"])).state is PENDING
    for done in (p3, p2, p1, s):  # no level can complete a second time
        with raises_code("execution.invalid_transition"):
            await store.finish(done, TaskOutcome())


async def test_a_parent_completes_only_when_every_child_has(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, [TaskTemplate("step", PENDING, step("Widget"))])
    s = await claim_one(store, SYNC)
    await store.finish(s, TaskOutcome(children=[page("ein:Widget:a"), page("ein:Widget:b")]))
    first, second = await claim_one(store, SYNC), await claim_one(store, SYNC)

    assert await store.finish(first, TaskOutcome()) == FinishReport(True, (), 0)
    await store.fail(second, ErrInvalidPayload(reason="upstream said no"))
    assert (await get(store, s.id)).state is AWAITING  # stranded behind the failed child
    assert not await store.has_active_tasks(SYNC)

    assert await store.prepare_resume(SYNC) == 1
    retried = await claim_one(store, SYNC)
    assert (retried.id, retried.attempts) == (second.id, 1)
    assert await store.finish(retried, TaskOutcome()) == FinishReport(True, (s.id,), 0)
    assert set((await states(store, SYNC)).values()) == {COMPLETED}


# -- one transaction per task (B9, B19) -------------------------------------------


async def test_a_task_with_children_awaits_them_with_its_writes(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, [TaskTemplate("step", PENDING, step("Widget"))])
    s = await claim_one(store, SYNC)
    stores.clock.now += 3
    outcome = TaskOutcome(
        entities=[widget("w1", size=3), widget("w2")],
        sync_entries=[FieldSyncEntry("ein:Widget:w1", "size", T0 + 1)],
        sync_batches=[FieldSyncBatch(["ein:Widget:w1", "ein:Widget:w2"], ["name"], T0 + 2)],
        children=[page("ein:Widget:w1"), page("ein:Widget:w2")],
    )

    assert await store.finish(s, outcome) == FinishReport(False)

    tasks = await store.tasks(SYNC)
    assert [(t.id, t.state, t.parent_id) for t in tasks] == [
        (s.id, AWAITING, None),
        ("2", PENDING, s.id),
        ("3", PENDING, s.id),
    ]
    assert tasks[0].completed_at is None
    assert [t.payload for t in tasks[1:]] == [page("ein:Widget:w1"), page("ein:Widget:w2")]
    assert {t.created_at for t in tasks[1:]} == {T0 + 3}
    assert await widget_ids(stores) == ["w1", "w2"]
    assert (await stores.engine.load(widget("w1").ref)).get("size") == 3
    # One time per entity: w1 got two fields at two times, so both read the older one.
    assert await stores.meta.get_field_sync_time("ein:Widget:w1", "size") == T0 + 1
    assert await stores.meta.get_field_sync_time("ein:Widget:w1", "name") == T0 + 1
    assert await stores.meta.get_field_sync_time("ein:Widget:w2", "name") == T0 + 2


async def test_an_outcome_with_a_bad_value_writes_nothing(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, plan_graph())
    a = await claim_one(store, SYNC)
    bad = TaskOutcome(
        entities=[widget("w1"), widget("w2", size="huge")],
        sync_entries=[FieldSyncEntry("ein:Widget:w1", "name", T0)],
        children=[page("ein:Widget:w1")],
    )

    with raises_code("storage.invalid_value"):
        await store.finish(a, bad)

    assert await states(store, SYNC) == {
        "1": RUNNING,
        "2": AWAITING,
        "3": NEW,
        "4": NEW,
        "5": NEW,
    }
    assert await widget_ids(stores) == []
    assert await stores.meta.get_field_sync_time("ein:Widget:w1", "name") is None
    good = TaskOutcome(entities=[widget("w1")], children=[page("ein:Widget:w1")])
    assert await store.finish(a, good) == FinishReport(False)


async def test_finish_merges_entities_and_writes_each_type_to_its_table(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(2))
    first, second = await claim_one(store, SYNC), await claim_one(store, SYNC)
    gadget = EntityInput.create(Gadget, "g1", {"label": "knob", "widget": widget("w1").ref})

    await store.finish(first, TaskOutcome(entities=[widget("w1", size=2), gadget]))
    await store.finish(
        second, TaskOutcome(entities=[EntityInput.create(Widget, "w1", {"size": 5})])
    )

    stored = await stores.engine.load(widget("w1").ref)
    assert (stored.get("name"), stored.get("size")) == ("widget w1", 5)  # merged, not replaced
    loaded = await stores.engine.load(gadget.ref)
    assert loaded.get("label") == "knob"
    assert loaded.get("widget") == widget("w1").ref


async def test_a_finish_cancelled_before_its_transaction_writes_nothing(
    sqlite_stores: Stores,
) -> None:
    store = sqlite_stores.tasks
    assert sqlite_stores.installation is not None
    database = sqlite_stores.installation.database
    await store.enqueue_graph(SYNC, pending_graph(1))
    task = await claim_one(store, SYNC)
    outcome = TaskOutcome(entities=[widget("w1")], children=[page("ein:Widget:w1")])

    scope = trio.CancelScope()

    async def finish_then_get_cancelled() -> None:
        with scope:
            await store.finish(task, outcome)

    async with database.write_limiter, trio.open_nursery() as nursery:
        nursery.start_soon(finish_then_get_cancelled)  # waits: another writer holds the lock
        await trio.testing.wait_all_tasks_blocked()
        scope.cancel()
    assert scope.cancelled_caught

    assert await states(store, SYNC) == {task.id: RUNNING}
    assert await widget_ids(sqlite_stores) == []
    assert not (await store.finish(task, outcome)).completed


INJECTED_FAILURES = {
    # the last statements of ``finish``: inserting children, completing a parent
    "children": (
        "CREATE TEMP TRIGGER injected BEFORE INSERT ON _max_tasks "
        "WHEN NEW.parent_id IS NOT NULL BEGIN SELECT RAISE(ABORT, 'injected'); END"
    ),
    "propagation": (
        "CREATE TEMP TRIGGER injected BEFORE UPDATE OF state ON _max_tasks "
        "WHEN OLD.state = 'awaiting_children' BEGIN SELECT RAISE(ABORT, 'injected'); END"
    ),
}


@pytest.mark.parametrize("where", list(INJECTED_FAILURES))
async def test_a_failure_late_in_the_transaction_rolls_back_the_whole_task(
    sqlite_stores: Stores, where: str
) -> None:
    stores, store = sqlite_stores, sqlite_stores.tasks
    await store.enqueue_graph(SYNC, [TaskTemplate("step", PENDING, step("Widget"))])
    s = await claim_one(store, SYNC)
    if where == "propagation":  # the failure hits when the child's completion reaches s
        await store.finish(s, TaskOutcome(children=[page("ein:Widget:w0")]))
        s = await claim_one(store, SYNC)
    before = await states(store, SYNC)
    outcome = TaskOutcome(
        entities=[widget("w1")],
        sync_entries=[FieldSyncEntry("ein:Widget:w1", "name", T0)],
        children=[page("ein:Widget:w1")] if where == "children" else [],
    )
    assert stores.installation is not None
    stores.installation.database.writer.execute(INJECTED_FAILURES[where])

    with raises_code("storage.write_failed") as caught:
        await store.finish(s, outcome)

    assert "injected" in caught.value.message
    assert await states(store, SYNC) == before
    assert await widget_ids(stores) == []
    assert sqlite_rows(stores, "SELECT count(*) FROM _max_listings") == [(0,)]
    stores.installation.database.writer.execute("DROP TRIGGER injected")
    assert (await store.finish(s, outcome)).completed is (where == "propagation")
    assert await widget_ids(stores) == ["w1"]


# -- guarded transitions and unknown ids (B20) -------------------------------------


async def test_only_running_tasks_can_finish_or_fail(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, plan_graph())
    pending, group = await get(store, "1"), await get(store, "2")
    error = ErrInvalidPayload(reason="x")

    with raises_code("execution.invalid_transition") as caught:
        await store.finish(pending, TaskOutcome(entities=[widget("w1")]))
    assert caught.value.message == "Task 1 cannot go from pending to completed"
    with raises_code("execution.invalid_transition"):
        await store.fail(pending, error)
    with raises_code("execution.invalid_transition") as caught:
        await store.finish(group, TaskOutcome(children=[page("ein:Widget:w1")]))
    assert caught.value.message == "Task 2 cannot go from awaiting_children to awaiting_children"
    assert await widget_ids(stores) == []

    a = await claim_one(store, SYNC)
    await store.finish(a, TaskOutcome())
    with raises_code("execution.invalid_transition") as caught:
        await store.finish(a, TaskOutcome())
    assert caught.value.message == "Task 1 cannot go from completed to completed"
    with raises_code("execution.invalid_transition"):
        await store.fail(a, error)
    assert [t.state for t in await store.tasks(SYNC)] == [
        COMPLETED,
        AWAITING,
        PENDING,
        PENDING,
        NEW,
    ]


async def test_unknown_task_ids_raise_task_not_found(stores: Stores) -> None:
    ghost = Task("99", SYNC, RUNNING, step("Ghost"), T0)

    with raises_code("execution.task_not_found") as caught:
        await stores.tasks.finish(ghost, TaskOutcome())
    assert caught.value.message == "Task not found: 99"
    assert caught.value.has("NotFound")
    with raises_code("execution.task_not_found"):
        await stores.tasks.fail(ghost, ErrInvalidPayload(reason="x"))
    assert await stores.tasks.get("99") is None


async def test_fail_records_the_message_and_time_and_strands_dependents(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, plan_graph())
    a = await claim_one(store, SYNC)
    stores.clock.now += 5
    error = ErrInvalidPayload(reason="bad page", context="while loading A")

    await store.fail(a, error)

    failed = await get(store, a.id)
    assert failed.state is FAILED
    assert failed.error == "Invalid task payload: bad page \u2014 while loading A"
    assert failed.completed_at == T0 + 5
    assert await states(store, SYNC) == {"1": FAILED, "2": AWAITING, "3": NEW, "4": NEW, "5": NEW}
    assert not await store.has_active_tasks(SYNC)


async def test_sqlite_keeps_the_structured_error(sqlite_stores: Stores) -> None:
    store = sqlite_stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(1))
    a = await claim_one(store, SYNC)
    error = ErrInvalidPayload(reason="bad page")

    await store.fail(a, error)

    [(text,)] = sqlite_rows(sqlite_stores, "SELECT error_json FROM _max_tasks WHERE id = ?", [a.id])
    assert isinstance(text, str)
    restored = MaxError.from_wire(json.loads(text))
    assert (restored.code, restored.message, restored.data) == (
        "execution.invalid_payload",
        error.message,
        {"reason": "bad page"},
    )


# -- counts ------------------------------------------------------------------------------------


async def test_counts_and_activity(stores: Stores) -> None:
    store = stores.tasks
    assert await store.count_by_state(SYNC) == {}
    assert not await store.has_active_tasks(SYNC)
    await store.enqueue_graph(SYNC, plan_graph())
    assert await store.count_by_state(SYNC) == {PENDING: 1, AWAITING: 1, NEW: 3}
    assert await store.has_active_tasks(SYNC)

    a = await claim_one(store, SYNC)
    assert await store.count_by_state(SYNC) == {RUNNING: 1, AWAITING: 1, NEW: 3}
    assert await store.has_active_tasks(SYNC)
    await store.fail(a, ErrInvalidPayload(reason="x"))
    assert await store.count_by_state(SYNC) == {FAILED: 1, AWAITING: 1, NEW: 3}
    assert not await store.has_active_tasks(SYNC)  # new / awaiting tasks keep nothing alive
    assert await store.count_by_state("sync-404") == {}


# -- interrupt, resume, cancel (B6, B8) --------------------------


async def test_interrupt_returns_running_tasks_to_pending(stores: Stores) -> None:
    store = stores.tasks
    await stores.syncs.create(SYNC, T0)
    await store.enqueue_graph(SYNC, pending_graph(3))
    first, second = await claim_one(store, SYNC), await claim_one(store, SYNC)
    await store.finish(first, TaskOutcome())

    assert await store.interrupt(SYNC) == 1

    assert await states(store, SYNC) == {"1": COMPLETED, "2": PENDING, "3": PENDING}
    record = await stores.syncs.get(SYNC)
    assert record is not None
    assert (record.status, record.completed_at) == (SyncStatus.INTERRUPTED, None)
    assert await store.claim_many(SYNC, T0, 10) == []  # a stopped sync gives no work
    await store.prepare_resume(SYNC)
    assert (await claim_one(store, SYNC)).id == second.id  # retried first, in creation order


@pytest.mark.parametrize(
    "status",
    [SyncStatus.INTERRUPTED, SyncStatus.CANCELLED, SyncStatus.FAILED, SyncStatus.COMPLETED],
)
async def test_a_sync_whose_record_says_it_stopped_gives_no_claims(
    stores: Stores, status: SyncStatus
) -> None:
    """A joined worker's claim that lands just after the owner stopped the sync takes nothing:
    it would otherwise leave a task ``running`` in a stopped sync."""
    store = stores.tasks
    await stores.syncs.create(SYNC, T0)
    await stores.syncs.create("sync-2", T0)
    await store.enqueue_graph(SYNC, pending_graph(2))
    await store.enqueue_graph("sync-2", pending_graph(1))
    await stores.syncs.set_status(SYNC, status, T0)

    assert await store.claim_many(SYNC, T0, 10, worker="w-j", lease_ms=1_000) == []
    assert await store.claim(SYNC, T0) is None
    assert await states(store, SYNC) == {"1": PENDING, "2": PENDING}
    assert [t.id for t in await store.claim_many("sync-2", T0, 10)] == ["3"]  # others still run

    await stores.syncs.set_status(SYNC, SyncStatus.PAUSED, T0)  # a paused sync's workers go on
    assert [t.id for t in await store.claim_many(SYNC, T0, 10)] == ["1", "2"]


async def test_resume_retries_failed_tasks_and_lets_the_rest_unblock(stores: Stores) -> None:
    store = stores.tasks
    await stores.syncs.create(SYNC, T0)
    await store.enqueue_graph(SYNC, plan_graph())
    a = await claim_one(store, SYNC)
    await store.fail(a, ErrInvalidPayload(reason="first try"))
    await stores.syncs.set_status(SYNC, SyncStatus.COMPLETED, T0 + 1)

    assert await store.prepare_resume(SYNC) == 1

    retried = await get(store, a.id)
    assert (retried.state, retried.error, retried.completed_at, retried.attempts) == (
        PENDING,
        None,
        None,
        1,
    )
    record = await stores.syncs.get(SYNC)
    assert record is not None
    assert (record.status, record.completed_at) == (SyncStatus.RUNNING, None)
    while (task := await store.claim(SYNC, T0)) is not None:
        await store.finish(task, TaskOutcome())
    assert set((await states(store, SYNC)).values()) == {COMPLETED}


async def test_resume_also_returns_running_tasks(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(2))
    await claim_one(store, SYNC)

    assert await store.prepare_resume(SYNC) == 1

    assert await states(store, SYNC) == {"1": PENDING, "2": PENDING}
    assert (await get(store, "1")).attempts == 0  # it never failed


async def test_cancel_sync_cancels_every_non_terminal_task_at_once(stores: Stores) -> None:
    store = stores.tasks
    await stores.syncs.create(SYNC, T0)
    await stores.syncs.create("sync-2", T0)
    await store.enqueue_graph(SYNC, plan_graph())
    await store.enqueue_graph("sync-2", pending_graph(1))
    a = await claim_one(store, SYNC)
    await store.finish(a, TaskOutcome())
    b = await claim_one(store, SYNC)
    stores.clock.now += 7

    assert await store.cancel_sync(SYNC) == 4

    tasks = await store.tasks(SYNC)
    assert [(t.state, t.completed_at) for t in tasks] == [
        (COMPLETED, T0),
        (CANCELLED, T0 + 7),
        (CANCELLED, T0 + 7),
        (CANCELLED, T0 + 7),
        (CANCELLED, T0 + 7),
    ]
    record = await stores.syncs.get(SYNC)
    assert record is not None
    assert (record.status, record.completed_at) == (SyncStatus.CANCELLED, T0 + 7)
    other = await stores.syncs.get("sync-2")
    assert other is not None and other.status is SyncStatus.RUNNING
    assert await states(store, "sync-2") == {"6": PENDING}
    with raises_code("execution.invalid_transition"):  # the late outcome of a cancelled task
        await store.finish(b, TaskOutcome(entities=[widget("late")]))
    assert await widget_ids(stores) == []
    assert await store.claim(SYNC, T0) is None
    assert not await store.has_active_tasks(SYNC)
    assert await store.cancel_sync(SYNC) == 0


async def test_cancel_leaves_a_finished_sync_record_alone(stores: Stores) -> None:
    await stores.syncs.create(SYNC, T0)
    await stores.tasks.enqueue_graph(SYNC, pending_graph(1))
    await stores.syncs.set_status(SYNC, SyncStatus.FAILED, T0 + 1)

    assert await stores.tasks.cancel_sync(SYNC) == 1

    record = await stores.syncs.get(SYNC)
    assert record is not None
    assert (record.status, record.completed_at) == (SyncStatus.FAILED, T0 + 1)


async def test_cancelled_tasks_come_back_only_with_force(stores: Stores) -> None:
    store = stores.tasks
    await stores.syncs.create(SYNC, T0)
    await store.enqueue_graph(SYNC, plan_graph())
    a = await claim_one(store, SYNC)
    await store.finish(a, TaskOutcome())
    await store.cancel_sync(SYNC)

    assert await store.prepare_resume(SYNC) == 0
    record = await stores.syncs.get(SYNC)
    assert record is not None and record.status is SyncStatus.CANCELLED

    assert await store.prepare_resume(SYNC, force=True) == 4

    assert await states(store, SYNC) == {
        "1": COMPLETED,
        "2": AWAITING,  # it has children
        "3": PENDING,  # its blocker completed
        "4": PENDING,
        "5": NEW,  # its blocker (the group) has not
    }
    assert all(t.completed_at is None for t in (await store.tasks(SYNC))[1:])
    record = await stores.syncs.get(SYNC)
    assert record is not None
    assert (record.status, record.completed_at) == (SyncStatus.RUNNING, None)
    while (task := await store.claim(SYNC, T0)) is not None:
        await store.finish(task, TaskOutcome())
    assert set((await states(store, SYNC)).values()) == {COMPLETED}


# -- payload JSON ----------------------------------------------------------------------

SPEC_PAYLOADS = [
    '{"kind":"sync-step","target":{"kind":"forAll","entityType":"AcmeUser"},'
    '"operation":{"kind":"loadFields","fields":["displayName","email","role","active"]}}',
    '{"kind":"sync-step","target":{"kind":"forRoot","entityType":"AcmeRoot",'
    '"refKey":"ein:AcmeRoot:root"},"operation":{"kind":"loadCollection","field":"workspaces"}}',
    '{"kind":"sync-step","target":{"kind":"forAll","entityType":"AcmeUser",'
    '"cursor":"ein:AcmeUser:u500"},"operation":{"kind":"loadFields","fields":["email"]}}',
    '{"kind":"sync-group"}',
    '{"kind":"load-fields","entityType":"AcmeUser",'
    '"refKeys":["ein:AcmeUser:u1","ein:AcmeUser:u2"],"fields":["displayName","email"]}',
    '{"kind":"load-collection","entityType":"AcmeWorkspace","targetEntityType":"AcmeUser",'
    '"refKey":"ein:AcmeWorkspace:ws1","field":"users","cursor":"100"}',
    '{"kind":"load-collection","entityType":"AcmeWorkspace","refKey":"ein:AcmeWorkspace:ws1",'
    '"field":"users"}',
]


async def test_payloads_round_trip_exactly(stores: Stores) -> None:
    templates = [
        TaskTemplate(f"p{i}", PENDING, payload_from_json(text))
        for i, text in enumerate(SPEC_PAYLOADS)
    ]
    await stores.tasks.enqueue_graph(SYNC, templates)

    tasks = await stores.tasks.tasks(SYNC)

    assert [payload_to_json(t.payload) for t in tasks] == SPEC_PAYLOADS


async def test_sqlite_stores_payloads_as_the_spec_json(sqlite_stores: Stores) -> None:
    store = sqlite_stores.tasks
    templates = [
        TaskTemplate(f"p{i}", PENDING, payload_from_json(text))
        for i, text in enumerate(SPEC_PAYLOADS)
    ]
    await store.enqueue_graph(SYNC, templates)
    first = await claim_one(store, SYNC)
    child = payload_from_json(SPEC_PAYLOADS[-2])
    await store.finish(first, TaskOutcome(children=[child]))

    rows = sqlite_rows(sqlite_stores, "SELECT payload FROM _max_tasks ORDER BY rowid")

    assert [r[0] for r in rows] == [*SPEC_PAYLOADS, SPEC_PAYLOADS[-2]]


# -- SQLite only: DDL, reopening, migration ----------------------------------------------------

REFERENCE_TASKS_DDL = """
CREATE TABLE IF NOT EXISTS _max_tasks (
  id            TEXT PRIMARY KEY,
  sync_id       TEXT NOT NULL,
  state         TEXT NOT NULL,
  payload       TEXT NOT NULL,      -- JSON, see _task.py
  parent_id     TEXT,
  blocked_by    TEXT,
  not_before    INTEGER,            -- ms
  created_at    INTEGER NOT NULL,   -- ms
  completed_at  INTEGER,            -- ms
  error         TEXT
);
CREATE INDEX IF NOT EXISTS idx_tasks_claim   ON _max_tasks (sync_id, state, not_before);
CREATE INDEX IF NOT EXISTS idx_tasks_parent  ON _max_tasks (parent_id);
CREATE INDEX IF NOT EXISTS idx_tasks_blocked ON _max_tasks (blocked_by, state);
"""


async def test_tasks_table_is_the_reference_ddl_plus_four_columns(sqlite_stores: Stores) -> None:
    reference = apsw.Connection(":memory:")
    reference.execute(REFERENCE_TASKS_DDL)
    ref_columns, ref_indexes = table_shape(reference, "_max_tasks")
    assert sqlite_stores.installation is not None

    columns, indexes = table_shape(sqlite_stores.installation.database.writer, "_max_tasks")

    assert columns == [
        *ref_columns,
        ("attempts", "INTEGER", 1, "0", 0),
        ("error_json", "TEXT", 0, None, 0),
        ("lease_until", "INTEGER", 0, None, 0),
        ("worker", "TEXT", 0, None, 0),
    ]
    assert indexes == ref_indexes
    assert [i[0] for i in indexes] == [
        "idx_tasks_blocked",
        "idx_tasks_claim",
        "idx_tasks_parent",
        "sqlite_autoindex__max_tasks_1",
    ]


async def test_a_reference_file_gains_the_new_columns_and_keeps_its_rows(db_path: Path) -> None:
    conn = apsw.Connection(str(db_path))
    conn.execute(REFERENCE_TASKS_DDL)
    conn.execute(
        "INSERT INTO _max_tasks (id, sync_id, state, payload, created_at, error, completed_at) "
        "VALUES ('41', 'sync-3', 'failed', ?, 5, 'boom', 6)",
        (SPEC_PAYLOADS[0],),
    )
    conn.close()

    opened = open_sqlite_stores(db_path)
    try:
        old = await get(opened.tasks, "41")
        assert (old.state, old.error, old.attempts, old.payload) == (
            FAILED,
            "boom",
            0,
            payload_from_json(SPEC_PAYLOADS[0]),
        )
        ids = await opened.tasks.enqueue_graph("sync-4", pending_graph(1))
        assert list(ids.values()) == ["42"]
        assert await opened.tasks.prepare_resume("sync-3") == 1
        assert (await get(opened.tasks, "41")).attempts == 1
    finally:
        assert opened.installation is not None
        opened.installation.close()


async def test_a_reopened_store_continues_the_id_counter(db_path: Path) -> None:
    first = open_sqlite_stores(db_path)
    await first.tasks.enqueue_graph(SYNC, pending_graph(3))
    assert first.installation is not None
    first.installation.close()

    second = open_sqlite_stores(db_path)
    try:
        ids = await second.tasks.enqueue_graph("sync-2", pending_graph(2))
        assert list(ids.values()) == ["4", "5"]
        assert [t.id for t in await second.tasks.tasks(SYNC)] == ["1", "2", "3"]
    finally:
        assert second.installation is not None
        second.installation.close()


async def test_an_in_memory_database_holds_the_same_stores() -> None:
    store = open_installation_store(":memory:", SCHEMA)
    try:
        await store.sync_store.create(SYNC, T0)
        await store.task_store.enqueue_graph(SYNC, plan_graph())
        while (task := await store.task_store.claim(SYNC, T0)) is not None:
            await store.task_store.finish(task, TaskOutcome(entities=[widget(f"w{task.id}")]))

        assert await store.task_store.count_by_state(SYNC) == {COMPLETED: 5}
        assert await store.engine.count(Widget) == 4  # the group never runs
    finally:
        store.close()


async def test_two_open_stores_never_hand_out_the_same_id(db_path: Path) -> None:
    first, second = open_sqlite_stores(db_path), open_sqlite_stores(db_path)
    try:
        a = await first.tasks.enqueue_graph(SYNC, pending_graph(2))
        b = await second.tasks.enqueue_graph(SYNC, pending_graph(2, "u"))
        s = await claim_one(second.tasks, SYNC)
        await second.tasks.finish(s, TaskOutcome(children=[page("ein:Widget:w1")]))
        c = await first.tasks.enqueue_graph(SYNC, pending_graph(1, "v"))
    finally:
        for opened in (first, second):
            assert opened.installation is not None
            opened.installation.close()

    assert [*a.values(), *b.values(), *c.values()] == ["1", "2", "3", "4", "6"]


# -- SQLite only: other connections and processes -----------------------


async def drain(stores: Stores, claimed: list[str]) -> None:
    while (task := await stores.tasks.claim(SYNC, T0)) is not None:
        claimed.append(task.id)
        await stores.tasks.finish(task, TaskOutcome())


async def drain_in_batches(stores: Stores, claimed: list[str]) -> None:
    while batch := await stores.tasks.claim_many(SYNC, T0, 7):
        claimed.extend(task.id for task in batch)
        for task in batch:
            await stores.tasks.finish(task, TaskOutcome())


async def test_two_connections_claim_disjoint_tasks(db_path: Path) -> None:
    first, second = open_sqlite_stores(db_path), open_sqlite_stores(db_path)
    try:
        ids = await first.tasks.enqueue_graph(SYNC, pending_graph(300))
        by_first: list[str] = []
        by_second: list[str] = []
        async with trio.open_nursery() as nursery:  # two writer threads at once
            nursery.start_soon(drain, first, by_first)
            nursery.start_soon(drain_in_batches, second, by_second)

        assert not set(by_first) & set(by_second)
        assert sorted(by_first + by_second, key=int) == list(ids.values())
        assert by_first and by_second
        assert await first.tasks.count_by_state(SYNC) == {COMPLETED: 300}
    finally:
        for opened in (first, second):
            assert opened.installation is not None
            opened.installation.close()


async def test_two_processes_claim_disjoint_tasks(db_path: Path) -> None:
    parent = open_sqlite_stores(db_path)
    ids = await parent.tasks.enqueue_graph(SYNC, pending_graph(1000))
    mine: list[str] = []
    with trio.fail_after(60):
        process = await trio.lowlevel.open_process(
            [PYTHON, "-m", "tests.storage.task_store_worker", "claim", str(db_path), SYNC],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=REPO_ROOT,
        )
        try:
            assert process.stdin is not None and process.stdout is not None
            lines = LineReader(process.stdout)
            assert await lines.readline() == "ready"
            await process.stdin.send_all(b"go\n")
            await drain(parent, mine)
            theirs = []
            while (line := await lines.readline()) != "done":
                assert line is not None, "the worker ended early"
                theirs.append(line)
            assert await process.wait() == 0
        finally:
            process.kill()
            await process.wait()
    try:
        assert not set(mine) & set(theirs)
        assert sorted(mine + theirs, key=int) == list(ids.values())
        assert mine and theirs
        assert await parent.tasks.count_by_state(SYNC) == {COMPLETED: 1000}
    finally:
        assert parent.installation is not None
        parent.installation.close()


async def test_a_task_left_running_by_a_killed_process_is_resumable(db_path: Path) -> None:
    with trio.fail_after(60):
        process = await trio.lowlevel.open_process(
            [PYTHON, "-m", "tests.storage.task_store_worker", "hang", str(db_path), SYNC],
            stdout=subprocess.PIPE,
            cwd=REPO_ROOT,
        )
        try:
            assert process.stdout is not None
            line = await LineReader(process.stdout).readline()
            assert line == "claimed 2"
        finally:
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL

    opened = open_sqlite_stores(db_path)
    try:
        store = opened.tasks
        assert await states(store, SYNC) == {"1": COMPLETED, "2": RUNNING, "3": NEW}
        assert await store.claim(SYNC, T0) is None
        assert await store.has_active_tasks(SYNC)  # the reference hangs right here (B8)

        assert await store.prepare_resume(SYNC) == 1
        while (task := await store.claim(SYNC, T0)) is not None:
            await store.finish(task, TaskOutcome(entities=[widget(f"w{task.id}")]))

        assert await states(store, SYNC) == {"1": COMPLETED, "2": COMPLETED, "3": COMPLETED}
        assert await widget_ids(opened) == ["w1", "w2", "w3"]
    finally:
        assert opened.installation is not None
        opened.installation.close()
