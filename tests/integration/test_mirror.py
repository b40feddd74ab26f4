"""The copy mirrors its source: deletions, cleared fields, incremental syncs, crashes.

Real Acme fake over loopback HTTP, real ``data.db`` files. Every check compares the copy with
a fresh full sync of the same server into a new file: the entity tables must be identical, row
by row and column by column (the rows' sync-state columns aside).
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from maxtrio.acme import (
    AcmeHttpClient,
    AcmeServer,
    FaultInjection,
    SeedOptions,
    TaskInput,
    TaskPatch,
)
from maxtrio.connectors.acme import AcmeSchema, connector
from maxtrio.execution import SyncMode, SyncResult, SyncStatus, run_sync
from maxtrio.storage import open_installation_store

from .conftest import StartAcme
from .data_db import entity_tables, integrity_check, sync_records
from .sync_worker import acme_installation, sync_setup
from .syncing import FAST_RETRIES
from .test_sigkill_resume import run_worker, worker_command

TASKS = "_acme_task"
PROJECTS = "_acme_project"
FILES = "_acme_file"


async def mirror_sync(db: Path, server: AcmeServer, **kw: Any) -> SyncResult:
    """One sync of the acme connector with its change feed into ``db``."""
    async with (
        acme_installation(server.url, server.api_key) as installation,
        open_installation_store(db, AcmeSchema) as store,
    ):
        setup = sync_setup(
            store,
            installation,
            retry=FAST_RETRIES,
            change_feed=connector.definition.change_feed,
            freshness=store.sync_meta,
        )
        return await run_sync(setup, seeder=connector.definition.seeder, **kw)


@asynccontextmanager
async def client_of(server: AcmeServer) -> AsyncIterator[AcmeHttpClient]:
    client = AcmeHttpClient(server.url, server.api_key)
    try:
        yield client
    finally:
        await client.aclose()


async def fresh_copy(tmp_path: Path, server: AcmeServer) -> dict[str, Any]:
    """The entity tables of a fresh full sync of ``server``."""
    db = tmp_path / f"fresh-{trio.current_time()}.db"
    result = await mirror_sync(db, server)
    assert result.status is SyncStatus.COMPLETED and result.mode is SyncMode.FULL
    return entity_tables(db)


async def change_upstream(client: AcmeHttpClient) -> dict[str, Any]:
    """Deletes (two tasks; a project with its tasks and files), a cleared description and
    assignee, an update, a creation. Returns the ids involved."""
    projects = await client.list_projects()
    doomed, kept = projects[0], projects[1]
    tasks = await client.list_tasks(kept["id"])
    creator = tasks[0]["createdById"]
    with_description = next(t for t in tasks if t["description"])
    for task in tasks[-2:]:
        await client.delete_task(task["id"])
    for task in await client.list_tasks(doomed["id"]):
        await client.delete_task(task["id"])
    for file in await client.list_files(doomed["id"]):
        await client.delete_file(file["id"])
    await client.delete_project(doomed["id"])
    await client.update_task(
        with_description["id"],
        TaskPatch(last_modified_by_id=creator, description=None, assignee_id=None),
    )
    await client.update_task(tasks[1]["id"], TaskPatch(last_modified_by_id=creator, status="done"))
    created = await client.create_task(
        TaskInput(project_id=kept["id"], title="Written later", created_by_id=creator)
    )
    return {
        "deleted_tasks": [t["id"] for t in tasks[-2:]],
        "deleted_project": doomed["id"],
        "cleared": with_description["id"],
        "created": created["id"],
    }


@pytest.mark.parametrize("mode", [SyncMode.FULL, SyncMode.INCREMENTAL])
async def test_the_copy_follows_deletes_and_cleared_fields(
    start_acme: StartAcme, tmp_path: Path, mode: SyncMode
) -> None:
    server = await start_acme(SeedOptions())
    db = tmp_path / "data.db"
    first = await mirror_sync(db, server)
    assert first.mode is SyncMode.FULL and first.status is SyncStatus.COMPLETED
    async with client_of(server) as client:
        ids = await change_upstream(client)

    second = await mirror_sync(db, server, full=mode is SyncMode.FULL)

    assert second.status is SyncStatus.COMPLETED and second.mode is mode
    tables = entity_tables(db)
    assert tables == await fresh_copy(tmp_path, server)
    assert not set(ids["deleted_tasks"]) & set(tables[TASKS])
    assert ids["deleted_project"] not in tables[PROJECTS]
    assert not [t for t in tables[TASKS].values() if ids["deleted_project"] in t]
    assert not [f for f in tables[FILES].values() if ids["deleted_project"] in f]
    assert ids["created"] in tables[TASKS]
    cleared = tables[TASKS][ids["cleared"]]
    assert cleared[2] is None and cleared[5] is None  # description, assignee
    if mode is SyncMode.INCREMENTAL:
        assert second.requests <= 5
        assert second.removed == 2 + 10 + 5 + 1  # tasks, the project's tasks and files, it
    assert integrity_check(db) == "ok"


async def test_an_expired_feed_cursor_falls_back_to_a_full_sync(
    start_acme: StartAcme, tmp_path: Path
) -> None:
    server = await start_acme(SeedOptions())
    db = tmp_path / "data.db"
    await mirror_sync(db, server)
    async with client_of(server) as client:
        await change_upstream(client)
        head = (await client.get_recent_changes(1))[0]["sequence"]
        await client.compact_changes(head + 1)

    result = await mirror_sync(db, server)

    assert result.status is SyncStatus.COMPLETED and result.mode is SyncMode.FULL
    assert entity_tables(db) == await fresh_copy(tmp_path, server)
    assert (await mirror_sync(db, server)).mode is SyncMode.INCREMENTAL


async def test_a_sync_killed_mid_way_removes_nothing(start_acme: StartAcme, tmp_path: Path) -> None:
    seed = SeedOptions(projects_per_workspace=30, tasks_per_project=40, files_per_project=2)
    server = await start_acme(seed, faults=FaultInjection(latency_ms=200))
    db = tmp_path / "data.db"
    await mirror_sync(db, server)
    async with client_of(server) as client:
        ids = await change_upstream(client)
    before = entity_tables(db)

    killed = await run_worker(worker_command(server, db), kill_after_first_line=0.3)

    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert sync_records(db)[-1][1] == "running"  # it never completed
    after = entity_tables(db)
    assert integrity_check(db) == "ok"
    for table, rows in before.items():  # every row is still there (some were updated)
        assert set(rows) <= set(after[table]), table
    assert set(ids["deleted_tasks"]) <= set(after[TASKS])
    resumed = await run_worker(worker_command(server, db, resume=killed.lines[0]))
    assert resumed.result()["status"] == "completed"
    assert entity_tables(db) == await fresh_copy(tmp_path, server)
