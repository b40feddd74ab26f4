"""What only the PostgreSQL task store has to prove beyond the shared contract
(``test_task_store``, ``test_sync_store``, ``test_sync_meta`` run on it too): claims from two
connections at once with ``FOR UPDATE SKIP LOCKED``, leases that return a dead worker's tasks,
and a connection dropped in the middle of ``finish`` leaving nothing half-written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trio

from maxtrio.core import EntityInput, PageRequest
from maxtrio.execution import FieldSyncEntry, TaskOutcome, TaskState

from ..pg.server import PgServer
from .execution_stores import (
    T0,
    Stores,
    Widget,
    claim_one,
    open_pg_stores,
    page,
    pending_graph,
    raises_code,
    states,
    step,
)

SYNC = "sync-1"


@pytest.fixture
def schema_name(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.new_schema_name("stores")
    yield name
    pg_server.sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def pair(pg_server: PgServer, schema_name: str) -> Iterator[tuple[Stores, Stores]]:
    """Two sets of stores on the same schema: two processes' worth of connections."""
    first = open_pg_stores(pg_server, schema_name)
    second = open_pg_stores(pg_server, schema_name)
    yield first, second
    for opened in (first, second):
        assert opened.installation is not None
        opened.installation.close()


async def _drain(stores: Stores, claimed: list[str], batch: int) -> None:
    while tasks := await stores.tasks.claim_many(SYNC, T0, batch):
        claimed.extend(task.id for task in tasks)
        for task in tasks:
            await stores.tasks.finish(task, TaskOutcome())
        await trio.sleep(0)


async def test_two_connections_claim_disjoint_tasks(pair: tuple[Stores, Stores]) -> None:
    first, second = pair
    ids = await first.tasks.enqueue_graph(SYNC, pending_graph(400))
    by_first: list[str] = []
    by_second: list[str] = []
    async with trio.open_nursery() as nursery:  # two writer connections at once
        nursery.start_soon(_drain, first, by_first, 1)
        nursery.start_soon(_drain, second, by_second, 7)

    assert not set(by_first) & set(by_second)
    assert sorted(by_first + by_second, key=int) == list(ids.values())
    assert by_first and by_second
    assert await first.tasks.count_by_state(SYNC) == {TaskState.COMPLETED: 400}


async def test_a_lapsed_lease_returns_the_task_to_another_worker(
    pair: tuple[Stores, Stores],
) -> None:
    first, second = pair
    a, b = first.tasks, second.tasks
    await a.enqueue_graph(SYNC, pending_graph(3))

    mine = await a.claim_many(SYNC, T0, 2, worker="a", lease_ms=1_000)  # type: ignore[call-arg]
    assert [t.id for t in mine] == ["1", "2"]
    assert [t.id for t in await b.claim_many(SYNC, T0 + 500, 5, worker="b", lease_ms=1_000)] == [  # type: ignore[call-arg]
        "3"
    ]
    assert await b.claim_many(SYNC, T0 + 999, 5, worker="b", lease_ms=1_000) == []  # type: ignore[call-arg]
    assert await a.renew_leases("a", ["1"], T0 + 2_000) == 1  # type: ignore[attr-defined]

    # "a" kept task 1 alive; task 2's lease lapsed at T0 + 1000 and "b" takes it over.
    taken = await b.claim_many(SYNC, T0 + 1_001, 5, worker="b", lease_ms=1_000)  # type: ignore[call-arg]
    assert [t.id for t in taken] == ["2"]
    assert await a.renew_leases("a", ["1", "2"], T0 + 3_000) == 1  # type: ignore[attr-defined]
    assert await b.renew_leases("b", ["2", "3"], T0 + 3_000) == 2  # type: ignore[attr-defined]
    assert await b.claim_many(SYNC, T0 + 2_500, 5, worker="b") == []  # type: ignore[call-arg]

    await b.finish(taken[0], TaskOutcome())
    assert await states(a, SYNC) == {
        "1": TaskState.RUNNING,
        "2": TaskState.COMPLETED,
        "3": TaskState.RUNNING,
    }
    # Without a lease (today's claims) a running task is never taken over.
    assert await a.interrupt(SYNC) == 2
    assert [t.id for t in await a.claim_many(SYNC, T0, 5)] == ["1", "3"]
    assert await b.claim_many(SYNC, T0 + 10**9, 5) == []


async def test_a_claim_racing_an_interrupt_takes_nothing_once_it_commits(
    pair: tuple[Stores, Stores], pg_server: PgServer, schema_name: str
) -> None:
    """An interrupt on another connection has run both its statements (record, then running
    tasks back to pending) but not committed: a claim arriving then waits on the record's row
    and takes nothing once the interrupt commits. (Read without the lock, the record still
    said ``running`` and the claim took the pending tasks behind the interrupt's back.)"""
    import psycopg

    first, second = pair
    await first.syncs.create(SYNC, T0)
    await first.tasks.enqueue_graph(SYNC, pending_graph(3))
    await first.tasks.claim_many(SYNC, T0, 1)  # task 1 runs
    claimed: list[list[str]] = []

    async def claim() -> None:
        tasks = await second.tasks.claim_many(SYNC, T0, 5, worker="w-j", lease_ms=1_000)  # type: ignore[call-arg]
        claimed.append([t.id for t in tasks])

    with psycopg.connect(pg_server.dsn()) as owner:  # the owner's interrupt, left open
        owner.execute(f'SET search_path TO "{schema_name}"')
        owner.execute("UPDATE _max_sync SET status = 'interrupted' WHERE id = %s", (SYNC,))
        owner.execute(
            "UPDATE _max_tasks SET state = 'pending' WHERE sync_id = %s AND state = 'running'",
            (SYNC,),
        )
        async with trio.open_nursery() as nursery:
            nursery.start_soon(claim)
            await _until_a_backend_waits_on_a_lock(pg_server)
            assert claimed == []
            owner.commit()
    assert claimed == [[]]
    assert await states(first.tasks, SYNC) == {
        "1": TaskState.PENDING,
        "2": TaskState.PENDING,
        "3": TaskState.PENDING,
    }


async def _until_a_backend_waits_on_a_lock(pg_server: PgServer) -> None:
    """Return once some backend of the server is waiting for a lock (a condition, polled)."""
    import psycopg

    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        with trio.fail_after(30):
            while not conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()[0]:  # type: ignore[index]
                await trio.sleep(0.01)


#: A trigger that drops its own connection: the server ends the backend in the middle of the
#: transaction that inserts a child task (the last statements of ``finish``).
_DROP_CONNECTION = """
CREATE FUNCTION drop_connection() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_terminate_backend(pg_backend_pid());
  RETURN NEW;
END $$;
CREATE TRIGGER drop_connection BEFORE INSERT ON _max_tasks
  FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL) EXECUTE FUNCTION drop_connection();
"""


async def test_a_connection_dropped_mid_finish_writes_nothing(
    pg_server: PgServer, schema_name: str
) -> None:
    stores = open_pg_stores(pg_server, schema_name)
    assert stores.installation is not None
    try:
        await stores.tasks.enqueue_graph(SYNC, pending_graph(1))
        task = await claim_one(stores.tasks, SYNC)
        outcome = TaskOutcome(
            entities=[EntityInput.create(Widget, "w1", {"name": "one"})],
            sync_entries=[FieldSyncEntry("ein:Widget:w1", "name", T0)],
            children=[page("ein:Widget:w1")],
        )
        pg_server.sql(f'SET search_path TO "{schema_name}"; {_DROP_CONNECTION}')

        with raises_code("storage.store_unreachable") as caught:
            await stores.tasks.finish(task, outcome)
        assert "postgresql://" in caught.value.message

        # The writer reconnects on the next call; the task and the rows are as before.
        assert await states(stores.tasks, SYNC) == {task.id: TaskState.RUNNING}
        loaded = await stores.engine.load_page(Widget, page=PageRequest(limit=10))
        assert loaded.items == []
        assert await stores.meta.get_field_sync_time("ein:Widget:w1", "name") is None

        pg_server.sql(f'DROP TRIGGER drop_connection ON "{schema_name}"._max_tasks')
        assert not (await stores.tasks.finish(task, outcome)).completed
        tasks = await stores.tasks.tasks(SYNC)
        assert [(t.state, t.parent_id) for t in tasks] == [
            (TaskState.AWAITING_CHILDREN, None),
            (TaskState.PENDING, task.id),  # its id is new: sequences never go back
        ]
        loaded = await stores.engine.load_page(Widget, page=PageRequest(limit=10))
        assert [item.id for item in loaded.items] == ["w1"]
    finally:
        stores.installation.close()


async def test_connections_the_server_closed_are_replaced(
    pg_server: PgServer, schema_name: str
) -> None:
    stores = open_pg_stores(pg_server, schema_name)
    assert stores.installation is not None
    try:
        await stores.tasks.enqueue_graph(SYNC, [*pending_graph(2)])
        database = stores.installation.database
        pids = [database.writer.info.backend_pid, database.reader.info.backend_pid]  # type: ignore[union-attr]
        pg_server.sql(*(f"SELECT pg_terminate_backend({pid})" for pid in pids))
        with raises_code("storage.store_unreachable"):
            await stores.tasks.claim(SYNC, T0)  # the writer's connection was closed under it
        assert (await claim_one(stores.tasks, SYNC)).id == "1"  # a new connection
        assert len(await stores.tasks.tasks(SYNC)) == 2  # reads retry once on a new one
        assert step("E0") == (await stores.tasks.tasks(SYNC))[0].payload
    finally:
        stores.installation.close()
