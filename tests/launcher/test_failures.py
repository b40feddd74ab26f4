"""The launcher when the daemon fails it, with real processes, sockets and signals: a stopped
(``SIGSTOP``) daemon, a foreign process on ``daemon.sock`` that never answers or answers
garbage, a daemon killed (``-9``) in the middle of a sync, and commands that must never start
a daemon (``--version``, ``--help``, ``completion``)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.daemon.conftest import PROJECTS, TASKS_PER_PROJECT, Acme, _serve, connect_args
from tests.daemon.harness import MAX, PYTHON, Machine, Result, count_in_data_db, wait_gone

#: The bound docs/daemon.md promises for a daemon that does not answer, plus the cost of
#: starting the direct CLI on a loaded machine.
READY_BOUND = 2.0
DIRECT_COST = 15.0

NOT_RESPONDING = re.compile(r"^max: daemon not responding \(.+\); running directly$")


def sync_rows(root: Path) -> list[tuple[str, str]]:
    database = root / ".max/installations/acme-1/data.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        return [tuple(r) for r in db.execute("SELECT id, status FROM _max_sync ORDER BY id")]


def running_syncs(root: Path) -> int:
    return count_in_data_db(root, "SELECT count(*) FROM _max_sync WHERE status = 'running'")


def timed(machine: Machine, *args: str, cwd: Path) -> tuple[float, Result]:
    started = time.monotonic()
    result = machine.run(*args, cwd=cwd, timeout=60)
    return time.monotonic() - started, result


# -- a daemon that does not answer --------------------------------------------------------------


def test_a_stopped_daemon_costs_two_seconds_then_the_command_runs_directly(
    machine: Machine,
) -> None:
    root = machine.workspace("proj")
    direct = machine.direct("status", cwd=root)
    assert machine.run("status", cwd=root).out == direct.out
    pid = machine.wait_running(root)
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        result = machine.run("status", cwd=root, timeout=60)
        elapsed = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert (result.code, result.out) == (0, direct.out), result
    assert len(result.err.splitlines()) == 1 and NOT_RESPONDING.match(result.err.strip()), result
    assert READY_BOUND <= elapsed < READY_BOUND + DIRECT_COST, elapsed
    # the stopped daemon never received the command: once running again it serves as before
    assert machine.run("ls", cwd=root).code == 0
    log = Path(machine.paths(root).log).read_text()
    assert log.count("run status") == 1, log  # the first one only
    assert machine.wait_running(root) == pid


def test_a_stopped_daemon_never_runs_a_side_effecting_command_twice(
    machine: Machine, acme: Acme
) -> None:
    root = machine.workspace("proj")
    machine.run("ls", cwd=root)
    pid = machine.wait_running(root)
    os.kill(pid, signal.SIGSTOP)
    try:
        result = machine.run(*connect_args(acme), cwd=root, timeout=60)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert result.code == 0, result
    assert [NOT_RESPONDING.match(w) is not None for w in result.warnings()] == [True]
    listed = machine.run("ls", cwd=root)  # answered by the resumed daemon
    assert "acme-1  max://@/proj/acme-1" in listed.out and "acme-2" not in listed.out, listed
    assert "run connect" not in Path(machine.paths(root).log).read_text()


FOREIGN = """
import socket, sys, time
import max_launcher
mode, path = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX)
with max_launcher.SocketAddress(path) as address:
    sock.bind(address)
sock.listen(8)
print("listening", flush=True)
while True:
    if mode == "silent":
        time.sleep(3600)
    conn, _ = sock.accept()
    conn.sendall(b"220 smtp.example.org ESMTP ready\\r\\n")
    conn.close()
"""


@contextmanager
def foreign_listener(machine: Machine, root: Path, mode: str) -> Iterator[None]:
    paths = machine.paths(root)
    paths.ensure_directory()
    process = subprocess.Popen(
        [PYTHON, "-c", FOREIGN, mode, paths.socket], stdout=subprocess.PIPE, env=machine.env()
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == b"listening\n"
        yield
    finally:
        process.kill()
        process.wait()


def test_a_foreign_process_on_the_socket_is_never_waited_for_long(machine: Machine) -> None:
    root = machine.workspace("proj")
    direct = machine.direct("ls", cwd=root)
    for mode in ("silent", "garbage"):
        with foreign_listener(machine, root, mode):
            elapsed, result = timed(machine, "ls", cwd=root)
        assert (result.code, result.out) == (0, direct.out), (mode, result)
        warnings = result.warnings()
        assert len(warnings) == 1 and NOT_RESPONDING.match(warnings[0]), (mode, result)
        assert elapsed < READY_BOUND + DIRECT_COST, (mode, elapsed)
        if mode == "silent":
            assert elapsed >= READY_BOUND
        os.unlink(machine.paths(root).socket)


# -- a daemon killed in the middle of a sync ------------------------------------------------------


@pytest.fixture(scope="module")
def slower_acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acme]:
    """Every request takes a second: a sync lasts several seconds, long enough to kill it
    after some pages are stored."""
    yield from _serve(tmp_path_factory, "slower", "--latency-ms", "1000")


def completed_tasks(root: Path) -> int:
    return count_in_data_db(root, "SELECT count(*) FROM _max_tasks WHERE state = 'completed'")


def test_a_daemon_killed_mid_sync_exits_1_with_the_resume_command(
    machine: Machine, slower_acme: Acme
) -> None:
    root = machine.workspace("proj")
    assert machine.run(*connect_args(slower_acme), cwd=root).code == 0
    daemon = machine.wait_running(root)
    sync = subprocess.Popen(
        [MAX, "sync", "acme-1"],
        cwd=root,
        env=machine.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while running_syncs(root) == 0 or completed_tasks(root) == 0:  # some pages stored
            assert sync.poll() is None, sync.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(daemon, signal.SIGKILL)
        out, err = sync.communicate(timeout=60)
    finally:
        if sync.poll() is None:
            sync.kill()
            sync.wait()
    assert wait_gone(daemon, 10)
    lines = err.decode().splitlines()
    assert sync.returncode == 1, (out, err)
    assert lines[-2].startswith("Error: the workspace daemon died while running 'max sync' ")
    assert lines[-2].endswith("the command was not run again."), lines
    assert lines[-1] == "  Hint: resume the sync with: max sync acme-1 --resume sync-1", lines
    assert "Traceback" not in err.decode()
    # not re-run directly: one sync, left running by the dead daemon ...
    assert sync_rows(root) == [("sync-1", "running")]
    # ... which status (through a fresh daemon) shows as interrupted, not running
    status = machine.run("status", cwd=root)
    assert status.code == 0 and "interrupted" in status.out, status
    assert sync_rows(root) == [("sync-1", "interrupted")]
    hint = lines[-1].split("with: ", 1)[1]
    assert shlex.split(hint)[0] == "max"
    resumed = machine.run(*shlex.split(hint)[1:], cwd=root, timeout=180)  # exactly the hint
    assert resumed.code == 0, resumed
    assert resumed.out.startswith("Sync resumed completed in ")
    assert sync_rows(root) == [("sync-1", "completed")]
    # the same data as a sync that was never interrupted
    reference = machine.workspace("reference")
    assert machine.direct(*connect_args(slower_acme), cwd=reference).code == 0
    assert machine.direct("sync", "acme-1", cwd=reference, timeout=180).code == 0
    query = ("search", "acme-1", "AcmeTask", "--all", "-o", "ndjson")
    ours = sorted(machine.run(*query, cwd=root).out.splitlines())
    theirs = sorted(machine.direct(*query, cwd=reference).out.splitlines())
    assert len(ours) == PROJECTS * TASKS_PER_PROJECT
    assert ours == theirs


def test_a_read_only_command_whose_daemon_dies_silently_runs_directly(machine: Machine) -> None:
    """The daemon greets, takes the request and dies before writing: ``ls`` is safe to repeat."""
    root = machine.workspace("proj")
    direct = machine.direct("ls", cwd=root)
    script = """
import socket, sys, max_launcher
sock = socket.socket(socket.AF_UNIX)
with max_launcher.SocketAddress(sys.argv[1]) as address:
    sock.bind(address)
sock.listen(8)
print("listening", flush=True)
conn, _ = sock.accept()
conn.sendall(b'{"kind":"ready","pid":1}\\n')
conn.recv(65536)
conn.close()
"""
    paths = machine.paths(root)
    paths.ensure_directory()
    fake = subprocess.Popen([PYTHON, "-c", script, paths.socket], stdout=subprocess.PIPE)
    try:
        assert fake.stdout is not None and fake.stdout.readline() == b"listening\n"
        result = machine.run("ls", cwd=root)
    finally:
        fake.kill()
        fake.wait()
    assert (result.code, result.out) == (0, direct.out), result
    assert result.warnings() == [
        "max: the daemon went away (the daemon closed the connection unexpectedly); "
        "running directly"
    ]


# -- commands that never start a daemon -----------------------------------------------------------


def test_version_help_and_completion_never_start_a_daemon(machine: Machine) -> None:
    root = machine.workspace("proj")
    for args in (["--version"], ["--help"], ["-h"], ["completion", "bash"], ["help"]):
        result = machine.run(*args, cwd=root)
        assert result.code == 0 and result.out and result.err == "", (args, result)
        assert not Path(machine.paths(root).socket).exists(), args
        assert machine.state(root).status == "stopped", args
    # a shell sourcing the completion script: still no daemon
    bash = subprocess.run(
        ["bash", "--norc", "-c", f'source <("{MAX}" completion bash) && complete -p max'],
        cwd=root,
        env=machine.env(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert bash.returncode == 0 and b"max" in bash.stdout, bash
    assert machine.state(root).status == "stopped"
    assert machine.daemon_directories() == []
    # with a daemon running they use it (and stay fast)
    machine.run("ls", cwd=root)
    pid = machine.wait_running(root)
    served = Path(machine.paths(root).log).read_text().count("run ")
    for args in (["--help"], ["completion", "bash"]):
        answer = machine.run(*args, cwd=root)
        assert answer.code == 0 and answer.out == machine.direct(*args, cwd=root).out
    assert Path(machine.paths(root).log).read_text().count("run ") == served + 2
    # --version is the launcher's own answer, the CLI's very line, daemon or not
    version = machine.run("--version", cwd=root)
    assert version.code == 0 and version.out == machine.direct("--version", cwd=root).out
    assert Path(machine.paths(root).log).read_text().count("run ") == served + 2
    assert machine.wait_running(root) == pid


# -- workspace identity is the path ---------------------------------------------------------------


def test_same_named_workspaces_coexist_each_with_its_daemon(machine: Machine) -> None:
    (machine.base / "a").mkdir()
    (machine.base / "b").mkdir()
    first = machine.direct("init", "proj", cwd=machine.base / "a")
    second = machine.direct("init", "proj", cwd=machine.base / "b")
    assert first.code == second.code == 0, (first, second)
    one, two = (machine.base / "a" / "proj").resolve(), (machine.base / "b" / "proj").resolve()
    assert machine.run("ls", cwd=one).out.startswith("Node: max://@/proj  [workspace]")
    assert machine.run("ls", cwd=two).out.startswith("Node: max://@/proj-2  [workspace]")
    assert machine.wait_running(one) != machine.wait_running(two)
    for root in (one, two):
        stopped = machine.run("daemon", "stop", cwd=root)
        assert stopped.out.startswith("Daemon stopped."), stopped
        assert machine.state(root).status == "stopped"


def test_daemon_stop_finds_the_daemon_of_a_moved_or_copied_workspace(machine: Machine) -> None:
    root = machine.workspace("proj")
    (machine.base / "moved").mkdir()
    moved = machine.base / "moved" / "proj"
    root.rename(moved)
    listed = machine.run("ls", cwd=moved)  # a daemon keyed by the new path; the entry re-keyed
    assert listed.code == 0 and listed.out.startswith("Node: max://@/proj  [workspace]"), listed
    pid = machine.wait_running(moved)
    status = machine.run("daemon", "status", cwd=moved)
    assert f"● running (pid {pid})" in status.out, status
    stopped = machine.run("daemon", "stop", cwd=moved)
    assert stopped.out.startswith("Daemon stopped."), stopped
    assert wait_gone(pid, 15) and machine.state(moved).status == "stopped"
    # a copy is not registered: its commands say so, and its daemon can still be stopped
    copy = machine.base / "copy"
    shutil.copytree(moved, copy)
    refused = machine.run("ls", cwd=copy)
    assert refused.code == 1 and "max init --force ." in refused.err, refused
    copy_pid = machine.wait_running(copy)
    assert machine.run("daemon", "stop", cwd=copy).out.startswith("Daemon stopped.")
    assert wait_gone(copy_pid, 15)
    assert machine.run("ls", cwd=moved).out.startswith("Node: max://@/proj  [workspace]")


OLD_DAEMON = """
import fcntl, json, os, signal, socket, sys, time
import max_launcher
root = sys.argv[3]
paths = max_launcher.DaemonPaths.for_root(root)
lock = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(lock, fcntl.LOCK_EX)
sock = socket.socket(socket.AF_UNIX)
with max_launcher.SocketAddress(paths.socket) as address:
    sock.bind(address)
sock.listen(8)
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
max_launcher.write_atomic(paths.pid, str(os.getpid()))
project = {"root": root, "name": "proj", "version": "1:old", "pid": os.getpid()}
max_launcher.write_project(paths, project)
print("listening", flush=True)
time.sleep(3600)
"""


def test_a_daemon_of_an_older_build_that_never_greets_is_replaced(machine: Machine) -> None:
    """A daemon from before the ``ready`` greeting (its ``project.json`` names another build):
    it never answers, so the launcher stops it (it is checked to be this workspace's daemon)
    and starts a fresh one, without a warning."""
    root = machine.workspace("proj")
    machine.paths(root).ensure_directory()
    # ``maxtrio.daemon --root ROOT`` in its command line, as a real daemon's
    old = subprocess.Popen(
        [PYTHON, "-c", OLD_DAEMON, "maxtrio.daemon", "--root", str(root)],
        stdout=subprocess.PIPE,
        env=machine.env(),
    )
    try:
        assert old.stdout is not None and old.stdout.readline() == b"listening\n"
        result = machine.run("ls", cwd=root)
        assert old.wait(timeout=15) == 0  # stopped with SIGTERM
    finally:
        if old.poll() is None:
            old.kill()
            old.wait()
    assert (result.code, result.err) == (0, ""), result
    assert result.out.startswith("Node: max://@/proj  [workspace]")
    assert machine.wait_running(root) != old.pid
