"""Startup cleanup of script processes left by a previous server (Decision D16).

Scripts inherit ``MAXQ_RUN_ID``; a process still carrying one is an orphan of an earlier server
*if that id is a run of our database* (the reference killed every process on the host with the
variable, including another server's children). Orphans get SIGTERM, then — only if there were
any — up to one grace period to exit (watched through pidfds, not by polling), then SIGKILL.

When servers share a PostgreSQL database, a run id in the database no longer makes a process an
orphan: a live peer on the same host runs scripts of the same runs. There the caller passes the
pids of the live servers of this host, and a process is spared when the outermost script above
it (the chain of its ancestors carrying a ``MAXQ_RUN_ID``) is still the child of one of them.
An orphan's outermost script was re-parented (to init or a subreaper) when its server died.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Iterable

import trio

RUN_ID_PREFIX = b"MAXQ_RUN_ID="


def processes_with_run_ids(proc: str = "/proc") -> dict[int, str]:
    """pid → ``MAXQ_RUN_ID`` for every readable process that has one (never our own pid)."""
    found: dict[int, str] = {}
    own = os.getpid()
    try:
        names = os.listdir(proc)
    except OSError:
        return found
    for name in names:
        if not name.isdigit() or int(name) == own:
            continue
        try:
            with open(os.path.join(proc, name, "environ"), "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        for entry in environ.split(b"\0"):
            if entry.startswith(RUN_ID_PREFIX):
                found[int(name)] = entry[len(RUN_ID_PREFIX) :].decode("utf-8", "replace")
                break
    return found


def parent_pid(pid: int, proc: str = "/proc") -> int | None:
    """The parent of ``pid`` (from ``/proc/<pid>/stat``), or None when it is gone."""
    try:
        with open(os.path.join(proc, str(pid), "stat"), "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    # "pid (comm) state ppid …" — comm may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 else None


def outermost_script_parent(pid: int, scripts: Iterable[int]) -> int | None:
    """The parent of the outermost process among ``scripts`` above (or at) ``pid``."""
    inside = set(scripts)
    current, parent = pid, parent_pid(pid)
    while parent is not None and parent in inside and parent != current:
        current, parent = parent, parent_pid(parent)
    return parent


async def kill_orphans(
    known_run_ids: Callable[[Iterable[str]], Awaitable[set[str]]],
    grace_seconds: float,
    *,
    live_servers: set[int] | None = None,
) -> list[int]:
    """Terminate the processes of our runs left from an earlier server; return their pids.

    With ``live_servers`` (pids), spare the processes whose outermost script is a child of one.
    """
    candidates = await trio.to_thread.run_sync(processes_with_run_ids)
    if not candidates:
        return []
    ours = await known_run_ids(candidates.values())
    pids = [pid for pid, run_id in candidates.items() if run_id in ours]
    if live_servers is not None:
        pids = [pid for pid in pids if outermost_script_parent(pid, candidates) not in live_servers]
    if not pids:
        return []
    handles = {pid: _pidfd(pid) for pid in pids}
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    try:
        with trio.move_on_after(grace_seconds):
            for pid, fd in handles.items():
                if fd is not None:
                    await trio.lowlevel.wait_readable(fd)
                elif _alive(pid):
                    # No pidfd (old kernel): we cannot wait for it; SIGKILL follows at once.
                    break
        for pid, fd in handles.items():
            if _alive(pid, fd):
                _signal(pid, signal.SIGKILL)
    finally:
        for fd in handles.values():
            if fd is not None:
                os.close(fd)
    return pids


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):
        return None


def _alive(pid: int, fd: int | None = None) -> bool:
    if fd is not None:
        try:
            signal.pidfd_send_signal(fd, 0)
        except ProcessLookupError:
            return False
        except OSError:
            return True
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)
