"""Is a workspace daemon alive, which process is it, and stopping it safely.

Liveness is the directory's lock (see ``_claim``). A PID is only ever signalled after checking
that the process really is this workspace's daemon — its command line (``/proc/<pid>/cmdline``)
runs the daemon entry with ``--root <this workspace>`` — so a PID file naming a recycled
process id never gets an unrelated process killed.
"""

from __future__ import annotations

import os

from ._claim import lock_is_held, remove_stale_files, try_lock
from ._entry import DAEMON_MODULE, PYZ_DAEMON_ENTRY
from ._home import DaemonPaths
from ._wire import decode_json, encode_json

RUNNING = "running"
STARTING = "starting"
STOPPED = "stopped"
STALE = "stale"


class DaemonState:
    """What ``max daemon status`` reports for one daemon directory."""

    __slots__ = ("enabled", "paths", "pid", "project", "root", "stale_files", "status")

    def __init__(
        self,
        paths: DaemonPaths,
        status: str,
        pid: int | None,
        enabled: bool,
        stale_files: list[str],
        project: dict[str, object] | None,
    ) -> None:
        self.paths = paths
        self.status = status
        self.pid = pid
        self.enabled = enabled
        self.stale_files = stale_files
        self.project = project
        root = project.get("root") if project is not None else None
        self.root = root if isinstance(root, str) else None

    @property
    def running(self) -> bool:
        return self.status in (RUNNING, STARTING)

    def to_json(self) -> dict[str, object]:
        return {
            "root": self.root,
            "hash": self.paths.key,
            "status": self.status,
            "pid": self.pid,
            "socket": self.paths.socket,
            "enabled": self.enabled,
        }


def read_pid(paths: DaemonPaths) -> int | None:
    try:
        with open(paths.pid, "rb") as file:
            text = file.read(32).strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def read_project(paths: DaemonPaths) -> dict[str, object] | None:
    try:
        with open(paths.project, "rb") as file:
            value = decode_json(file.read())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_project(paths: DaemonPaths, document: dict[str, object]) -> None:
    write_atomic(paths.project, encode_json(document) + "\n")


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` (0600) through a temporary file and a rename."""
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(temporary, path)


def process_is_daemon(pid: int, root: str | None) -> bool:
    """Whether ``pid`` is alive and (where ``/proc`` tells) a maxtrio daemon for ``root``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: never ours
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            args = file.read().split(b"\0")
    except FileNotFoundError:
        return not os.path.isdir("/proc/self")  # no /proc here: trust the signal
    except OSError:
        return False
    if DAEMON_MODULE.encode() not in args and PYZ_DAEMON_ENTRY.encode() not in args:
        return False
    if root is None:
        return True
    try:
        value = args[args.index(b"--root") + 1]
    except (ValueError, IndexError):
        return False
    return os.path.realpath(os.fsdecode(value)) == os.path.realpath(root)


def daemon_state(paths: DaemonPaths) -> DaemonState:
    enabled = not os.path.exists(paths.disabled)
    project = read_project(paths)
    root = project.get("root") if project is not None else None
    root = root if isinstance(root, str) else None
    pid = read_pid(paths)
    leftovers = [p for p in (paths.socket, paths.pid) if os.path.exists(p)]
    if lock_is_held(paths):
        if pid is not None and process_is_daemon(pid, root):
            return DaemonState(paths, RUNNING, pid, enabled, [], project)
        return DaemonState(paths, STARTING, None, enabled, [], project)
    status = STALE if leftovers else STOPPED
    return DaemonState(paths, status, None, enabled, leftovers, project)


def stop_daemon(paths: DaemonPaths, *, timeout: float = 10.0) -> bool:
    """SIGTERM the daemon (after checking it is one) and wait until it let go of its lock;
    clean up files a dead daemon left. True when a live daemon was stopped."""
    import signal
    import time

    state = daemon_state(paths)
    deadline = time.monotonic() + timeout
    while state.status == STARTING and time.monotonic() < deadline:  # PID not written yet
        time.sleep(0.02)
        state = daemon_state(paths)
    stopped = False
    if state.running and state.pid is not None:
        os.kill(state.pid, signal.SIGTERM)
        while lock_is_held(paths) and time.monotonic() < deadline:
            time.sleep(0.02)
        # it lets go of the lock first, then finishes its commands (≤ 5 s) and exits
        while process_is_daemon(state.pid, state.root) and time.monotonic() < deadline:
            time.sleep(0.02)
        if process_is_daemon(state.pid, state.root):
            os.kill(state.pid, signal.SIGKILL)
            while lock_is_held(paths) and time.monotonic() < deadline + 2:
                time.sleep(0.02)
        stopped = True
    lock_fd = try_lock(paths) if os.path.isdir(paths.directory) else None
    if lock_fd is not None:
        try:
            remove_stale_files(paths)
        finally:
            os.close(lock_fd)
    return stopped


def list_daemons(home: str) -> list[DaemonState]:
    """Every daemon directory under ``home`` that has a ``project.json``, sorted by root."""
    from ._home import daemons_directory

    directory = daemons_directory(home)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    states = []
    for name in names:
        paths = DaemonPaths(os.path.join(directory, name))
        if os.path.exists(paths.project):
            states.append(daemon_state(paths))
    return sorted(states, key=lambda s: s.root or "")
