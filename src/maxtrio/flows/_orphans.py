"""Startup cleanup of script processes left by a previous server (Decision D16).

Scripts inherit ``MAXQ_RUN_ID``; a process still carrying one is an orphan of an earlier server
*if that id is a run of our database* (the reference killed every process on the host with the
variable, including another server's children). Orphans get SIGTERM, then — only if there were
any — up to one grace period to exit (watched through pidfds, not by polling), then SIGKILL.
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


async def kill_orphans(
    known_run_ids: Callable[[Iterable[str]], Awaitable[set[str]]], grace_seconds: float
) -> list[int]:
    """Terminate the processes of our runs left from an earlier server; return their pids."""
    candidates = await trio.to_thread.run_sync(processes_with_run_ids)
    if not candidates:
        return []
    ours = await known_run_ids(candidates.values())
    pids = [pid for pid, run_id in candidates.items() if run_id in ours]
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
