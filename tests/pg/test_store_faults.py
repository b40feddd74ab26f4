"""Faults of a PostgreSQL store, on a server of the test's own (it is stopped and started):
a server restarted in the middle of a sync fails the sync resumably, in one line with the
resume command, and ``--resume`` ends with the same data as an uninterrupted sync; a
connection dropped in the middle of a transaction leaves nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import trio

from maxtrio.acme import SeedOptions

from ..cli.conftest import (
    AcmeService,
    connect_args,
    max_proc,
    seeded_tenant,
    spawn_max,
    start_acme_server,
    stop_process,
)
from .server import PASSWORD, PgServer, ServerUnavailable, running_server


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    """A PostgreSQL server for this test alone."""
    try:
        with running_server() as server:
            yield server
    except ServerUnavailable as exc:
        pytest.fail(f"PostgreSQL test server unavailable: {exc}", pytrace=False)


@pytest.fixture
def slow_acme(tmp_path: Path) -> Iterator[AcmeService]:
    """An Acme server answering every request after 20 ms (a sync of a few seconds)."""
    seeded_tenant(
        tmp_path / "tenants", "slow", SeedOptions(projects_per_workspace=12, tasks_per_project=30)
    )
    process, started = start_acme_server(tmp_path / "tenants", "slow", "--latency-ms", "20")
    try:
        yield AcmeService(started["url"], started["apiKey"], process)
    finally:
        stop_process(process)


def _count(server: PgServer, sql: str, schema_prefix: str | None = None) -> int:
    """``sql``'s count (in the first schema named ``schema_prefix…``); 0 while there is none."""
    try:
        with psycopg.connect(server.dsn(), autocommit=True, connect_timeout=5) as conn:
            if schema_prefix is not None:
                found = conn.execute(
                    "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
                    (schema_prefix,),
                ).fetchone()
                if found is None:
                    return 0
                conn.execute(f'SET search_path TO "{found[0]}"')  # type: ignore[arg-type]
            row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    except psycopg.Error:
        return 0  # not created yet
    return int(row[0]) if row else 0


async def test_a_server_restarted_mid_sync_fails_resumably_and_resume_finishes(
    tmp_path: Path, own_server: PgServer, slow_acme: AcmeService
) -> None:
    home, root = tmp_path / "home", tmp_path / "faults"
    assert (await max_proc("init", "faults", cwd=tmp_path, home=home)).code == 0
    url = own_server.url()
    for name, extra in (("on-pg", ["--store", url]), ("on-file", [])):
        done = await max_proc(
            *connect_args(slow_acme, "--no-input", "--name", name, *extra), cwd=root, home=home
        )
        assert done.code == 0, done

    process = await spawn_max("sync", "on-pg", cwd=root, home=home)
    assert process.stderr is not None
    with trio.fail_after(60):  # some of the sync is committed, and it still runs
        while _count(own_server, _COMPLETED_TASKS, "on-pg_") < 3:
            await trio.sleep(0.05)
    own_server.halt()  # every connection closed, open transactions rolled back
    with trio.fail_after(60):
        code = await process.wait()
    own_server.restart()
    err = await _read_all(process.stderr)
    assert code == 1, err
    assert err.startswith("Error: cannot reach the store postgresql://"), err
    assert "max -t faults/on-pg sync --resume sync-1 continues it" in err
    assert PASSWORD not in err and "Traceback" not in err
    idle = "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"
    assert _count(own_server, idle) == 0

    resumed = await max_proc(
        "sync", "on-pg", "--resume", "sync-1", "-o", "json", cwd=root, home=home
    )
    assert resumed.code == 0, resumed
    assert json.loads(resumed.out)["status"] == "completed"
    on_file = await max_proc("sync", "on-file", "-o", "json", cwd=root, home=home)
    assert on_file.code == 0, on_file
    for entity in ("AcmeTask", "AcmeUser", "AcmeProject", "AcmeWorkspace"):
        on_pg_rows = await _rows(root, home, "on-pg", entity)
        assert on_pg_rows == await _rows(root, home, "on-file", entity), entity


_COMPLETED_TASKS = "SELECT count(*) FROM _max_tasks WHERE state = 'completed'"


async def _read_all(stream: trio.abc.ReceiveStream) -> str:
    chunks = []
    while chunk := await stream.receive_some():
        chunks.append(chunk)
    return b"".join(chunks).decode()


async def _rows(root: Path, home: Path, installation: str, entity: str) -> list[dict[str, object]]:
    found = await max_proc(
        "search", installation, entity, "--all", "-o", "ndjson", cwd=root, home=home
    )
    assert found.code == 0, found
    rows = [json.loads(line) for line in found.out.splitlines()]
    return sorted((r for r in rows if "_meta" not in r), key=lambda r: str(r["_id"]))
