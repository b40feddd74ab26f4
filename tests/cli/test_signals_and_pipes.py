"""Real processes, real signals, real pipes: ``| head`` on ``search --all`` ends quietly,
Ctrl-C interrupts a sync that ``--resume`` then finishes, and the progress display appears
only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import trio

from maxtrio.acme import SeedOptions

from .conftest import (
    MAX,
    AcmeService,
    Synced,
    connect_args,
    max_env,
    max_proc,
    seeded_tenant,
    spawn_max,
    start_acme_server,
    stop_process,
)


async def test_head_on_search_all_ends_quietly(synced: Synced) -> None:
    """``max search … --all -o ndjson | head -1``: exit 0, nothing on stderr."""
    process = await spawn_max(
        "search", "acme-1", "AcmeTask", "--all", "--limit", "5", "-o", "ndjson",
        cwd=synced.root, home=synced.home,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    with trio.fail_after(30):
        received = b""
        while b"\n" not in received:
            received += await process.stdout.receive_some(4096)
        await process.stdout.aclose()  # the reader goes away, like head does
        err = b""
        while chunk := await process.stderr.receive_some(4096):
            err += chunk
        code = await process.wait()
    assert json.loads(received.split(b"\n")[0])["_id"]
    assert code == 0
    assert err == b""


async def test_head_on_text_search_all_ends_quietly(synced: Synced) -> None:
    result = await trio.run_process(
        f"'{MAX}' search acme-1 AcmeTask --all --limit 3 | head -2",
        shell=True,
        cwd=str(synced.root),
        env=max_env(synced.home),
        capture_stdout=True,
        capture_stderr=True,
    )
    assert result.stdout.decode().splitlines() == ["AcmeTask", ""]
    assert result.stderr == b""


@attrs.frozen
class SlowAcme:
    service: AcmeService
    tasks: int


@pytest.fixture(scope="module")
def slow_acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlowAcme]:
    """A tenant served with 60 ms of latency per request, so a sync takes a few seconds."""
    data = tmp_path_factory.mktemp("slow-tenants")
    seeded_tenant(data, "slow", SeedOptions(projects_per_workspace=6, tasks_per_project=120))
    process, started = start_acme_server(data, "slow", "--latency-ms", "60")
    yield SlowAcme(AcmeService(started["url"], started["apiKey"], process), 6 * 120)
    stop_process(process)


def _completed_tasks(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute("SELECT count(*) FROM _max_tasks WHERE state = 'completed'")
            return int(row.fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # the tables are not there yet


async def test_ctrl_c_interrupts_a_sync_and_resume_finishes_it(
    tmp_path: Path, slow_acme: SlowAcme
) -> None:
    home = tmp_path / "home"
    project = tmp_path / "p"
    assert (await max_proc("init", str(project), cwd=tmp_path, home=home)).code == 0
    connected = await max_proc(*connect_args(slow_acme.service), cwd=project, home=home)
    assert connected.code == 0, connected

    db = project / ".max" / "installations" / "acme-1" / "data.db"
    process = await spawn_max("sync", "acme-1", cwd=project, home=home)
    assert process.stdout is not None and process.stderr is not None
    with trio.fail_after(60):
        while _completed_tasks(db) < 2:  # the sync is under way
            await trio.sleep(0.02)
        process.send_signal(signal.SIGINT)
        out, err = b"", b""
        while chunk := await process.stdout.receive_some(4096):
            out += chunk
        while chunk := await process.stderr.receive_some(4096):
            err += chunk
        code = await process.wait()
    assert code == 130, (out, err)
    assert err.decode().strip() == "Sync interrupted. Resume with: max sync acme-1 --resume sync-1"
    assert out == b""

    status = await max_proc("-t", "acme-1", "status", "-o", "json", cwd=project, home=home)
    assert json.loads(status.out)["lastSync"]["status"] == "interrupted"

    resumed = await max_proc("sync", "acme-1", "--resume", "sync-1", cwd=project, home=home)
    assert resumed.code == 0, resumed
    assert resumed.out.splitlines()[0].startswith("Sync resumed completed in ")

    tasks = await max_proc(
        "search", "acme-1", "AcmeTask", "--all", "-o", "ndjson", "--fields", "_id",
        cwd=project, home=home,
    )  # fmt: skip
    assert len(tasks.out.splitlines()) == slow_acme.tasks

    unknown = await max_proc("sync", "acme-1", "--resume", "sync-9", cwd=project, home=home)
    assert unknown.code == 1 and unknown.err.startswith("Error: ")
    assert "sync-9" in unknown.err and "Traceback" not in unknown.err


async def test_progress_is_drawn_on_a_terminal_only(synced: Synced, tmp_path: Path) -> None:
    """stderr a pseudo-terminal → the live display (ANSI, entity lines, elapsed clock)."""
    home = tmp_path / "home"
    project = tmp_path / "tty"
    assert (await max_proc("init", str(project), cwd=tmp_path, home=home)).code == 0
    assert (await max_proc(*connect_args(synced.acme), cwd=project, home=home)).code == 0
    main, child = pty.openpty()
    drawn = bytearray()
    out = bytearray()

    async def read_terminal(stream: trio.lowlevel.FdStream) -> None:
        while True:
            try:
                chunk = await stream.receive_some(65536)
            except trio.BrokenResourceError:  # EIO: the child side is closed
                return
            if not chunk:
                return
            drawn.extend(chunk)

    try:
        process = await trio.lowlevel.open_process(
            [MAX, "sync", "acme-1"],
            cwd=str(project),
            env=max_env(home, TERM="xterm"),
            stdout=subprocess.PIPE,
            stderr=child,
        )
        os.close(child)
        assert process.stdout is not None
        async with trio.lowlevel.FdStream(os.dup(main)) as terminal:
            with trio.fail_after(60):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(read_terminal, terminal)
                    while chunk := await process.stdout.receive_some(4096):
                        out.extend(chunk)
                    await process.wait()
    finally:
        os.close(main)
    text = drawn.decode(errors="replace")
    assert process.returncode == 0
    assert "\x1b[" in text and "AcmeTask" in text and "elapsed" in text
    assert bytes(out).decode().startswith("Sync completed in ")
    assert b"\x1b[" not in out  # stdout is a pipe: no colour there


async def test_closed_stdout_and_a_deleted_directory(synced: Synced, tmp_path: Path) -> None:
    closed = await trio.run_process(
        f"'{MAX}' ls >&-",
        shell=True,
        cwd=str(synced.root),
        env=max_env(synced.home),
        capture_stderr=True,
        check=False,
    )
    assert (closed.returncode, closed.stderr) == (0, b"")
    gone = tmp_path / "gone"
    gone.mkdir()
    deleted = await trio.run_process(
        f"cd '{gone}' && rmdir '{gone}' && '{MAX}' status",
        shell=True,
        env=max_env(synced.home),
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert deleted.returncode == 1 and deleted.stdout == b""
    assert deleted.stderr.decode() == (
        "Error: The current directory no longer exists (cd to an existing one)\n"
    )
