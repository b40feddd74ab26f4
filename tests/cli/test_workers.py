"""Many worker processes on one sync: ``max sync --workers N`` and ``max worker --join``.

Real processes against a real Acme server (its own process, 400 ms per request, 200 projects,
so the sync lasts a few seconds and a joined worker gets work). Every sync's data is compared,
table by table and row by row, with an uninterrupted single-process sync of the same tenant
(the sync-state columns, which hold times, left out).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from maxtrio.acme import SeedOptions

from .conftest import MAX, AcmeService, max_env, seeded_tenant, start_acme_server, stop_process
from .test_terminal_sync import PROGRESS_LINE, Workspace, connected

PROJECTS = 200
SYNC_COLUMNS = {"_synced_at", "_synced_mask", "_seen"}
Snapshot = dict[str, list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def many_acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AcmeService]:
    data = tmp_path_factory.mktemp("workers-tenants")
    seeded_tenant(
        data,
        "many",
        SeedOptions(projects_per_workspace=PROJECTS, tasks_per_project=5, files_per_project=1),
    )
    process, started = start_acme_server(data, "many", "--latency-ms", "400")
    yield AcmeService(started["url"], started["apiKey"], process)
    stop_process(process)


@pytest.fixture(scope="module")
def reference(many_acme: AcmeService, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The data of one uninterrupted single-process sync."""
    workspace = connected(tmp_path_factory.mktemp("reference"), many_acme)
    code, _, err = workspace.run("sync", "acme-1")
    assert code == 0, err
    return snapshot(workspace.data_db)


def read(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []  # the sync has not opened its file yet
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            return [tuple(row) for row in conn.execute(sql, params)]
        except sqlite3.OperationalError:
            return []  # the tables are not there yet


def snapshot(db: Path) -> Snapshot:
    """Every entity table's rows, ordered by id, without the sync-state columns."""
    tables = [
        name
        for (name,) in read(db, "SELECT name FROM sqlite_master WHERE type = 'table'")
        if name.startswith("_acme_") and "_fts" not in name
    ]
    out: Snapshot = {}
    for table in sorted(tables):
        columns = [r[1] for r in read(db, f"PRAGMA table_info({table})")]
        kept = ", ".join(f'"{c}"' for c in columns if c not in SYNC_COLUMNS)
        out[table] = read(db, f'SELECT {kept} FROM "{table}" ORDER BY _id')
    assert out["_acme_task"], "a snapshot of a synced file"
    return out


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Poll another process's progress (in data.db) with a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def task_workers(db: Path) -> dict[str | None, int]:
    return dict(read(db, "SELECT worker, count(*) FROM _max_tasks GROUP BY worker"))


def child_pids(db: Path) -> set[int]:
    """The processes named in the tasks' ``worker`` column (``host:pid:random``)."""
    return {int(w.split(":")[-2]) for w in task_workers(db) if w is not None}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_drain_one_sync_in_several_processes(
    tmp_path: Path, many_acme: AcmeService, reference: Snapshot
) -> None:
    workspace = connected(tmp_path, many_acme)

    code, out, err = workspace.run("sync", "acme-1", "--workers", "3")

    assert code == 0, err
    assert out.startswith("Sync completed in ") and "(sync-1)" in out, out
    workers = task_workers(workspace.data_db)
    assert workers.get(None), "the starting process ran tasks"
    assert child_pids(workspace.data_db), f"a worker process ran tasks: {workers}"
    assert not any(alive(pid) for pid in child_pids(workspace.data_db))
    assert snapshot(workspace.data_db) == reference
    assert read(workspace.data_db, "SELECT status FROM _max_sync") == [("completed",)]

    # A finished or unknown sync cannot be joined: one line and a hint, exit 1.
    code, out, err = workspace.run("worker", "acme-1", "--join", "sync-1")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "Error: Sync sync-1 is completed: only a running sync can be joined",
        "  Hint: start a new sync with max sync acme-1 --workers N",
    ]
    code, _, err = workspace.run("worker", "acme-1", "--join", "sync-9")
    assert code == 1
    assert err.splitlines()[0] == "Error: Sync not found: sync-9"
    assert err.splitlines()[1].startswith("  Hint: ")
    code, _, err = workspace.run("sync", "acme-1", "--workers", "0")
    assert code == 2 and "--workers" in err and "Traceback" not in err


def test_a_worker_killed_with_kill_9_loses_nothing(
    tmp_path: Path, many_acme: AcmeService, reference: Snapshot
) -> None:
    workspace = connected(tmp_path, many_acme)
    db = workspace.data_db
    env = max_env(workspace.home)
    spawn = {"cwd": workspace.root, "env": env, "stdout": subprocess.PIPE}
    main = subprocess.Popen([MAX, "sync", "acme-1"], stderr=subprocess.PIPE, **spawn)
    try:
        wait_until(lambda: read(db, "SELECT count(*) FROM _max_tasks")[0:1] > [(0,)])
        joined = subprocess.Popen(
            [MAX, "worker", "acme-1", "--join", "sync-1", "--lease", "1s"],
            stderr=subprocess.PIPE,
            **spawn,
        )
        mark = f"%:{joined.pid}:%"
        held_sql = "SELECT id FROM _max_tasks WHERE state = 'running' AND worker LIKE ?"
        wait_until(lambda: bool(read(db, held_sql, (mark,))))
        joined.send_signal(signal.SIGKILL)
        assert joined.wait(timeout=30) == -signal.SIGKILL
        held = [task_id for (task_id,) in read(db, held_sql, (mark,))]
        out, err = main.communicate(timeout=120)
    finally:
        main.kill()
    assert main.returncode == 0, err
    assert out.decode().startswith("Sync completed in "), out
    assert snapshot(db) == reference
    if held:  # still the dead worker's when it died: another worker finished them
        marks = ",".join("?" * len(held))
        after = read(db, f"SELECT state, worker FROM _max_tasks WHERE id IN ({marks})", (*held,))
        assert {state for state, _ in after} == {"completed"}
        assert not any(w is not None and f":{joined.pid}:" in w for _, w in after)


def test_ctrl_c_stops_every_worker_and_the_sync_resumes(
    tmp_path: Path, many_acme: AcmeService, reference: Snapshot
) -> None:
    workspace: Workspace = connected(tmp_path, many_acme)
    db = workspace.data_db
    with workspace.terminal("sync", "acme-1", "--workers", "3") as terminal:
        terminal.expect(re.compile(PROGRESS_LINE.format(name="AcmeProject"), re.MULTILINE))
        deadline = time.monotonic() + 60
        while not child_pids(db):  # a worker process took tasks
            assert time.monotonic() < deadline, terminal.text()
            terminal.expect(re.compile(r"AcmeTask|AcmeFile|AcmeUser"), timeout=30)
        terminal.ctrl_c()
        code = terminal.finish()
        screen = terminal.text()
    assert code == 130, screen
    assert "Traceback" not in screen and "Error" not in screen, screen
    resume = "max sync acme-1 --resume sync-1"
    assert screen.rstrip().splitlines()[-1] == f"Sync interrupted. Resume with: {resume}"
    assert not any(alive(pid) for pid in child_pids(db))
    assert read(db, "SELECT status FROM _max_sync") == [("interrupted",)]
    assert read(db, "SELECT count(*) FROM _max_tasks WHERE state = 'running'") == [(0,)]

    code, out, err = workspace.run(*resume.split()[1:], "--workers", "2")
    assert code == 0, err
    assert out.startswith("Sync resumed completed in "), out
    assert snapshot(db) == reference
