"""Real ``max`` processes with workspace daemons, in a temporary ``MAX_HOME``.

:class:`Machine` is one temporary machine: a ``MAX_HOME``, workspaces made with direct-mode
``max init``, and helpers to run ``max`` through the launcher with daemons enabled (the suite
turns them off by default, see ``tests/conftest.py``). Every daemon a test starts is stopped
when the test ends (:meth:`Machine.stop_all`), and a test that leaves a daemon process behind
fails.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import attrs
import trio

import max_launcher

MAX = str(Path(sys.executable).parent / "max")
PYTHON = sys.executable
#: Daemons a test forgets are gone after this many idle seconds anyway.
TEST_IDLE_SECONDS = "120"


@attrs.frozen
class Result:
    code: int
    out: str
    err: str

    def warnings(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("max: ")]


def daemon_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``max`` that may use daemons (``MAX_NO_DAEMON`` removed)."""
    env = dict(os.environ)
    for name in ("MAX_NO_DAEMON", "MAX_TARGET", "FORCE_COLOR", "MAXTRIO_CONNECTORS_DIR"):
        env.pop(name, None)
    env["MAX_HOME"] = str(home)
    env["MAX_DAEMON_IDLE"] = TEST_IDLE_SECONDS
    env.update(extra)
    return env


class Machine:
    """A temporary ``MAX_HOME`` with workspaces and their daemons."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.home = base / "home"
        self.seen_pids: set[int] = set()

    def env(self, **extra: str) -> dict[str, str]:
        return daemon_env(self.home, **extra)

    def run(
        self,
        *args: str,
        cwd: Path,
        stdin: bytes = b"",
        timeout: float = 60,
        command: Sequence[str] = (MAX,),
        **env: str,
    ) -> Result:
        """``max ARGS`` through the launcher (daemons allowed unless ``env`` says otherwise)."""
        done = subprocess.run(
            [*command, *args],
            cwd=cwd,
            env=self.env(**env),
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        self._remember_daemons()
        return Result(done.returncode, done.stdout.decode(), done.stderr.decode())

    async def arun(self, *args: str, cwd: Path, timeout: float = 60, **env: str) -> Result:
        with trio.fail_after(timeout):
            done = await trio.run_process(
                [MAX, *args],
                cwd=str(cwd),
                env=self.env(**env),
                stdin=b"",
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
        self._remember_daemons()
        return Result(done.returncode, done.stdout.decode(), done.stderr.decode())

    def direct(self, *args: str, cwd: Path, timeout: float = 60) -> Result:
        return self.run(*args, cwd=cwd, timeout=timeout, MAX_NO_DAEMON="1")

    def workspace(self, name: str) -> Path:
        """A new registered workspace ``base/<name>`` (made in direct mode)."""
        root = self.base / name
        result = self.direct("init", str(root), cwd=self.base)
        assert result.code == 0, result
        return root.resolve()

    def paths(self, root: Path) -> max_launcher.DaemonPaths:
        return max_launcher.DaemonPaths.for_root(str(root), str(self.home))

    def state(self, root: Path) -> max_launcher.DaemonState:
        return max_launcher.daemon_state(self.paths(root))

    def wait_running(self, root: Path, timeout: float = 30) -> int:
        """The PID of the workspace's daemon once it has written it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(root)
            if state.status == "running" and state.pid is not None:
                self.seen_pids.add(state.pid)
                return state.pid
            time.sleep(0.02)
        raise AssertionError(f"no daemon running for {root}: {self.state(root).to_json()}")

    def daemon_directories(self) -> list[max_launcher.DaemonPaths]:
        directory = Path(max_launcher.daemons_directory(str(self.home)))
        if not directory.is_dir():
            return []
        return [max_launcher.DaemonPaths(str(d)) for d in sorted(directory.iterdir())]

    def _remember_daemons(self) -> None:
        for paths in self.daemon_directories():
            pid = max_launcher.read_pid(paths)
            if pid is not None and max_launcher.process_is_daemon(pid, None):
                self.seen_pids.add(pid)

    def stop_all(self) -> list[int]:
        """Stop every daemon of this machine; returns the PIDs that had to be killed."""
        self._remember_daemons()
        for paths in self.daemon_directories():
            max_launcher.stop_daemon(paths, timeout=15)
        killed = []
        for pid in self.seen_pids:
            if wait_gone(pid, 5):
                continue
            if max_launcher.process_is_daemon(pid, None):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        return killed


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().split(b") ", 1)[1][:1] != b"Z"
    except (OSError, IndexError):
        return True


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return not alive(pid)


def start_daemon_process(machine: Machine, root: Path, *extra: str) -> subprocess.Popen[bytes]:
    """``python -m maxtrio.daemon --root ROOT EXTRA`` in its own session (a test's own
    daemon, e.g. one that advertises another version)."""
    machine.paths(root).ensure_directory()
    log = open(machine.paths(root).log, "ab")  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            [PYTHON, "-m", "maxtrio.daemon", "--root", str(root), *extra],
            env=machine.env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd="/",
            start_new_session=True,
        )
    finally:
        log.close()


def after_ready(messages: list[dict[str, object]]) -> list[dict[str, object]]:
    """The daemon's answer after its ``ready`` greeting (which must come first)."""
    assert messages, "the daemon said nothing"
    first = messages[0]
    assert first["kind"] == "ready" and isinstance(first["pid"], int), messages
    return messages[1:]


def exchange(
    paths: max_launcher.DaemonPaths, payload: bytes, *, timeout: float = 30
) -> list[dict[str, object]]:
    """Send raw bytes on a fresh connection and read every line the daemon answers until it
    closes the connection (the ``ready`` greeting checked and left out)."""
    import json
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        with max_launcher.SocketAddress(paths.socket) as address:
            sock.connect(address)
        sock.sendall(payload)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
    return after_ready([json.loads(line) for line in received.splitlines() if line.strip()])


def request_line(root: Path, *argv: str, **fields: object) -> bytes:
    import json

    document: dict[str, object] = {
        "kind": "run",
        "version": max_launcher.launcher_version(),
        "argv": list(argv),
        "cwd": str(root),
        "env": {},
        "tty": {"stdin": False, "stdout": False, "stderr": False},
    }
    document.update(fields)
    return json.dumps(document).encode() + b"\n"


def count_in_data_db(root: Path, sql: str) -> int:
    """A ``count(*)`` query over acme-1's ``data.db`` in the workspace at ``root``, read-only
    (the file may be mid-sync); 0 while the file or its tables do not exist yet."""
    database = root / ".max/installations/acme-1/data.db"
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
