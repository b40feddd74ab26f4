"""The PostgreSQL flows store on the session's real server: the schema, claims taken by two
stores at once, which servers count as gone, and a server whose lock connection is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest
import trio

from maxtrio.flows import MonotonicMsClock, PgFlowStore, StepSpec
from tests.pg.server import PgServer

from .conftest import Database, schema_url
from .test_data_dir_lock import MaxFlowsServe
from .test_store import EXPECTED_COLUMNS, EXPECTED_INDEXES

TYPES = {"text": "text", "bigint": "bigint", "integer": "integer"}


@pytest.fixture
def url(pg_server: PgServer) -> str:
    return schema_url(pg_server, pg_server.new_schema_name("pgstore"))


def schema_of(url: str) -> str:
    return url.rsplit("%3D", 1)[1]


async def test_the_schema_is_maxq_db_with_types_mapped(url: str, pg_server: PgServer) -> None:
    for _ in range(2):  # opening again creates nothing twice
        store = await PgFlowStore.open(url, MonotonicMsClock())
        await store.close()
    schema = schema_of(url)
    with psycopg.connect(pg_server.dsn()) as conn:
        for table, expected in EXPECTED_COLUMNS.items():
            rows = conn.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                (schema, table),
            ).fetchall()
            # SQLite's implicit rowid is a real column here, after the contract's columns.
            assert rows[-1][:2] == ("rowid", "bigint")
            mapped = [(name, TYPES[kind], int(nullable == "NO")) for name, kind, nullable in rows]
            # SQLite does not enforce a text primary key's NOT NULL; PostgreSQL does.
            assert [(n, t) for n, t, _ in mapped[:-1]] == [(n, t) for n, t, _ in expected]
        indexes = {
            row[0]
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)
            )
        }
        assert indexes >= EXPECTED_INDEXES
        key = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (f"{schema}.step",),
        ).fetchall()
        assert sorted(row[0] for row in key) == ["id", "run_id"]  # D1


async def test_two_stores_claiming_at_once_never_take_one_step_twice(url: str) -> None:
    first = await PgFlowStore.open(url, MonotonicMsClock())
    second = await PgFlowStore.open(url, MonotonicMsClock())
    runs = [
        await first.create_run(flow_name="f", input=None, metadata=None, flow_title=None)
        for _ in range(2)
    ]
    for run in runs:
        steps = [StepSpec(id=f"s{i}", name="n") for i in range(150)]
        await first.schedule_stage(run.id, "all", True, steps)
    taken: dict[str, list[tuple[str, str]]] = {"first": [], "second": []}

    async def drain(name: str, store: PgFlowStore) -> None:
        while claims := await store.claim_ready_steps(7, 10_000, store.identity.id):
            taken[name] += [(claim.run_id, claim.step_id) for claim in claims]

    async with trio.open_nursery() as nursery:
        nursery.start_soon(drain, "first", first)
        nursery.start_soon(drain, "second", second)
    both = taken["first"] + taken["second"]
    assert len(both) == len(set(both)) == 300
    assert taken["first"] and taken["second"]  # really side by side
    for store in (first, second):
        await store.close()


CLAIMER = """
import sys, trio
from maxtrio.flows import MonotonicMsClock, PgFlowStore

async def main() -> None:
    store = await PgFlowStore.open(sys.argv[1], MonotonicMsClock())
    claims = await store.claim_ready_steps(3, 3, store.identity.id)
    print(store.identity.id, len(claims), flush=True)
    await trio.sleep_forever()

trio.run(main)
"""


async def test_only_the_steps_of_a_server_that_is_gone_are_requeued(url: str) -> None:
    store = await PgFlowStore.open(url, MonotonicMsClock())
    run = await store.create_run(flow_name="f", input=None, metadata=None, flow_title=None)
    await store.schedule_stage(
        run.id, "all", True, [StepSpec(id=f"s{i}", name="n") for i in range(4)]
    )
    [done] = await store.claim_ready_steps(1, 1, store.identity.id)
    await store.record_attempt(done, attempt=0, stdout="", stderr="", status="completed")
    peer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CLAIMER), url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    try:
        assert peer.stdout is not None
        peer_id, claimed = peer.stdout.readline().split()
        assert claimed == "3"
        assert await store.dead_servers() == []  # alive: its lock is held
        assert (await store.requeue_steps_of([peer_id])).steps == 0
        peer.send_signal(signal.SIGKILL)
        peer.wait()
        with trio.fail_after(10):
            while await store.dead_servers() != [peer_id]:
                await trio.sleep(0.05)
        requeued = await store.requeue_steps_of([peer_id])
        assert (requeued.servers, requeued.steps) == ((peer_id,), 3)
    finally:
        if peer.poll() is None:
            peer.kill()
            peer.wait()
        assert peer.stdout is not None
        peer.stdout.close()
    statuses = {s.step_id: s.status for s in await store.query_fields(run.id, None, None)}
    assert statuses == {"s0": "completed", "s1": "pending", "s2": "pending", "s3": "pending"}
    assert await store.dead_servers() == []  # its registration went with its steps
    again = await store.claim_ready_steps(5, 5, store.identity.id)
    assert sorted(claim.step_id for claim in again) == ["s1", "s2", "s3"]
    await store.close()


def test_a_server_that_loses_its_lock_connection_stops_with_one_line(
    url: str, pg_server: PgServer, tmp_path: Path
) -> None:
    env = {"MAXQ_DATABASE_URL": url, "LOG_LEVEL": "error"}
    server = MaxFlowsServe(tmp_path / "d", tmp_path / "f", env=env)
    try:
        server.ready()
        pg_server.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name LIKE 'maxtrio-flows lock %:{server.process.pid}:%'"
        )
        assert server.process.wait(timeout=20) == 1
        assert server.process.stderr is not None
        stderr = server.process.stderr.read()
    finally:
        server.close()
    label = f"postgresql://maxtrio_pw@127.0.0.1:{pg_server.port}/maxtrio"
    error, hint = stderr.strip().splitlines()
    assert error == (
        f"Error: cannot use the flows database {label}: "
        "the connection holding this server's lock was lost"
    )
    assert hint.strip().startswith("Hint: restart the server")


def test_nul_characters_are_stored_as_replacement_characters(url: str) -> None:
    async def main() -> str | None:
        store = await PgFlowStore.open(url, MonotonicMsClock())
        run = await store.create_run(flow_name="f", input=None, metadata=None, flow_title=None)
        await store.update_run(run.id, {"name": "a\0b"})
        stored = await store.get_run(run.id)
        await store.close()
        return None if stored is None else stored.name

    assert trio.run(main) == "a\ufffdb"
    db = Database(Path("/"), url)
    assert db.execute("SELECT count(*) AS n FROM run")[0]["n"] == 1
    db.close()
