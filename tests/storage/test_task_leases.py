"""Leases of running tasks: several workers drain one sync (the TaskStore lease contract).

Every test runs on the in-memory store and on ``SqliteTaskStore`` over a real ``data.db``.
``claim_many(…, worker=, lease_ms=)`` stamps who runs a task and until when; a ``running``
task whose lease ran out is claimable again (its worker died), ``renew_leases`` keeps a live
worker's tasks, and the late ``finish``/``fail`` of a worker that lost its task writes nothing.
"""

from __future__ import annotations

from maxtrio.core import EntityInput, PageRequest
from maxtrio.execution import ErrInvalidPayload, TaskOutcome, TaskState

from .execution_stores import (
    T0,
    Stores,
    Widget,
    get,
    pending_graph,
    raises_code,
    stores_fixture,  # noqa: F401
)

SYNC = "sync-1"
LEASE = 1_000


def widget(id_: str) -> EntityInput:
    return EntityInput.create(Widget, id_, {"name": f"widget {id_}"})


async def widget_ids(stores: Stores) -> list[str]:
    page = await stores.engine.load_page(Widget, page=PageRequest(limit=1000))
    return [item.id for item in page.items]


async def test_a_claim_stamps_the_worker_and_its_lease(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(3))

    claimed = await store.claim_many(SYNC, T0, 2, worker="w-a", lease_ms=LEASE)

    assert [(t.id, t.worker, t.lease_until) for t in claimed] == [
        ("1", "w-a", T0 + LEASE),
        ("2", "w-a", T0 + LEASE),
    ]
    assert ((await get(store, "1")).worker, (await get(store, "1")).lease_until) == (
        "w-a",
        T0 + LEASE,
    )
    plain = await store.claim_many(SYNC, T0, 5)
    assert [(t.id, t.worker, t.lease_until) for t in plain] == [("3", None, None)]


async def test_without_a_lease_a_running_task_is_never_claimed_again(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(1))
    (task,) = await store.claim_many(SYNC, T0, 1)

    assert await store.claim_many(SYNC, T0 + 10**9, 5, worker="w-b", lease_ms=LEASE) == []
    assert await store.claim(SYNC, T0 + 10**9) is None
    await store.finish(task, TaskOutcome(entities=[widget("w1")]))
    assert (await get(store, task.id)).state is TaskState.COMPLETED


async def test_an_expired_lease_lets_another_worker_take_the_task(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(1))
    (lost,) = await store.claim_many(SYNC, T0, 1, worker="w-a", lease_ms=LEASE)

    # Up to and including lease_until the task is still w-a's.
    assert await store.claim_many(SYNC, T0 + LEASE, 5, worker="w-b", lease_ms=LEASE) == []
    (taken,) = await store.claim_many(SYNC, T0 + LEASE + 1, 5, worker="w-b", lease_ms=LEASE)

    assert (taken.id, taken.state, taken.worker) == (lost.id, TaskState.RUNNING, "w-b")
    assert taken.lease_until == T0 + 2 * LEASE + 1
    # The worker that lost it finishes late: refused, and nothing of its outcome is written.
    with raises_code("execution.invalid_transition") as caught:
        await store.finish(lost, TaskOutcome(entities=[widget("late")]))
    assert caught.value.message == "Task 1 cannot go from running to completed"
    with raises_code("execution.invalid_transition"):
        await store.fail(lost, ErrInvalidPayload(reason="late"))
    assert await widget_ids(stores) == []
    current = await get(store, "1")
    assert (current.state, current.worker) == (TaskState.RUNNING, "w-b")

    await store.finish(taken, TaskOutcome(entities=[widget("w1")]))
    assert await widget_ids(stores) == ["w1"]
    assert not await store.has_active_tasks(SYNC)


async def test_expired_and_pending_tasks_are_claimed_in_creation_order(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(4))
    await store.claim_many(SYNC, T0, 2, worker="w-a", lease_ms=LEASE)  # 1 and 2

    later = T0 + LEASE + 1
    first = await store.claim_many(SYNC, later, 3, worker="w-b", lease_ms=LEASE)
    rest = await store.claim_many(SYNC, later, 3, worker="w-b", lease_ms=LEASE)

    assert [t.id for t in first] == ["1", "2", "3"]
    assert [t.id for t in rest] == ["4"]
    assert {t.worker for t in (*first, *rest)} == {"w-b"}


async def test_renewing_keeps_the_tasks_of_a_live_worker(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(2))
    one, two = await store.claim_many(SYNC, T0, 2, worker="w-a", lease_ms=LEASE)

    assert await store.renew_leases("w-a", [one.id, two.id], T0 + 5 * LEASE) == 2
    assert await store.claim_many(SYNC, T0 + 2 * LEASE, 5, worker="w-b", lease_ms=LEASE) == []
    assert (await get(store, one.id)).lease_until == T0 + 5 * LEASE
    # Only the worker's own running tasks are renewed.
    assert await store.renew_leases("w-b", [one.id], T0 + 9 * LEASE) == 0
    assert await store.renew_leases("w-a", [], T0 + 9 * LEASE) == 0
    assert await store.renew_leases("w-a", ["99"], T0 + 9 * LEASE) == 0
    await store.finish(one, TaskOutcome())
    assert await store.renew_leases("w-a", [one.id, two.id], T0 + 9 * LEASE) == 1
    assert (await get(store, one.id)).state is TaskState.COMPLETED


async def test_a_task_taken_over_is_not_renewed_by_its_old_worker(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(1))
    (task,) = await store.claim_many(SYNC, T0, 1, worker="w-a", lease_ms=LEASE)
    await store.claim_many(SYNC, T0 + LEASE + 1, 1, worker="w-b", lease_ms=LEASE)

    assert await store.renew_leases("w-a", [task.id], T0 + 10 * LEASE) == 0
    assert (await get(store, task.id)).lease_until == T0 + 2 * LEASE + 1


async def test_a_lease_moved_into_the_past_releases_the_task_at_once(stores: Stores) -> None:
    store = stores.tasks
    await store.enqueue_graph(SYNC, pending_graph(1))
    (task,) = await store.claim_many(SYNC, T0, 1, worker="w-a", lease_ms=LEASE)

    assert await store.renew_leases("w-a", [task.id], 0) == 1
    (taken,) = await store.claim_many(SYNC, T0 + 1, 1, worker="w-b", lease_ms=LEASE)

    assert (taken.id, taken.worker) == (task.id, "w-b")
    assert await store.has_active_tasks(SYNC)


async def test_interrupt_and_resume_still_cover_leased_tasks(stores: Stores) -> None:
    store = stores.tasks
    await stores.syncs.create(SYNC, T0)
    await store.enqueue_graph(SYNC, pending_graph(2))
    await store.claim_many(SYNC, T0, 2, worker="w-a", lease_ms=LEASE)

    assert await store.interrupt(SYNC) == 2
    assert await store.claim_many(SYNC, T0 + 1, 2, worker="w-b", lease_ms=LEASE) == []
    assert await store.prepare_resume(SYNC) == 0  # the interrupt left nothing running
    again = await store.claim_many(SYNC, T0 + 1, 2, worker="w-b", lease_ms=LEASE)
    assert [(t.id, t.worker) for t in again] == [("1", "w-b"), ("2", "w-b")]
    assert await store.prepare_resume(SYNC) == 2
    assert [t.state for t in await store.tasks(SYNC)] == [TaskState.PENDING] * 2
