"""One sync (or lifecycle change) of an installation at a time: ``<data dir>/sync.lock``.

Whoever syncs, disconnects or updates an installation first takes an exclusive, non-blocking
``fcntl.flock`` on ``.max/installations/<name>/sync.lock`` and holds it until it is done. The
kernel releases the lock when the holder's file is closed — also when the process is killed
(``kill -9``), so a crashed sync never leaves a stale lock behind. ``flock`` locks belong to
the open file, so two commands in one process (the workspace daemon) exclude each other too.

While it holds the lock, the holder writes what it is doing into the file, one JSON object:
``{"operation": "sync", "syncId": "sync-3", "pid": 4242}`` (or ``"disconnect"`` /
``"update"``). A second command that finds the lock taken reads that and fails at once, without
disturbing the holder:

* a sync behind a sync → ``app.sync_already_running``
  (``a sync of acme-1 is already running: sync-3``);
* anything else → ``app.installation_busy``
  (``Cannot disconnect acme-1 now — sync-3 is running``).

The file itself stays (removing a lock file while someone may be opening it invites two
holders); a lock found on a file that was unlinked meanwhile (the installation was
disconnected) is ``app.installation_not_found``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import trio

from ._errors import (
    ErrFileWriteFailed,
    ErrInstallationBusy,
    ErrInstallationNotFound,
    ErrSyncAlreadyRunning,
)
from ._files import make_private_dirs

SYNC_LOCK_FILE_NAME = "sync.lock"
#: How long a command that found the lock taken waits for the holder to say what it does
#: (it writes that right after taking the lock).
HOLDER_WAIT = 1.0


class InstallationLock:
    """The held lock: :meth:`record` says what the holder does; closing releases it."""

    def __init__(self, fd: int, path: Path, operation: str) -> None:
        self._fd = fd
        self.path = path
        self.operation = operation

    def record(self, sync_id: str | None = None) -> None:
        """Write ``{"operation", "syncId"?, "pid"}`` into the lock file for others to read."""
        holder: dict[str, Any] = {"operation": self.operation}
        if sync_id is not None:
            holder["syncId"] = sync_id
        holder["pid"] = os.getpid()
        data = json.dumps(holder).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)  # releases the flock


@contextlib.asynccontextmanager
async def installation_lock(
    data_dir: Path,
    installation: str,
    operation: str,
    *,
    hint: Callable[[str], str] | None = None,
) -> AsyncIterator[InstallationLock]:
    """Hold the installation's lock for the block (``operation``: ``sync``, ``disconnect``,
    ``update``), or raise at once when someone else holds it (see the module docstring).
    ``hint(sync_id)`` is the hint of the ``app.sync_already_running`` error."""
    path = data_dir / SYNC_LOCK_FILE_NAME
    try:
        make_private_dirs(data_dir)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise ErrFileWriteFailed(path=str(path), reason=exc.strerror or str(exc)) from exc
    lock = InstallationLock(fd, path, operation)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise ErrFileWriteFailed(path=str(path), reason=exc.strerror or str(exc)) from exc
            holder = await _holder(fd)
            raise _busy(installation, operation, holder, hint) from None
        if os.fstat(fd).st_nlink == 0:  # disconnected while we were getting here
            raise ErrInstallationNotFound(installation=installation)
        lock.record()
        yield lock
    finally:
        lock.close()


async def _holder(fd: int) -> dict[str, Any]:
    """What the lock's holder wrote (it may not have yet: wait a little for it)."""
    with trio.move_on_after(HOLDER_WAIT):
        while True:
            holder = _read_holder(fd)
            if holder.get("operation") != "sync" or holder.get("syncId"):
                return holder
            await trio.sleep(0.02)
    return _read_holder(fd)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        value = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _busy(
    installation: str,
    operation: str,
    holder: dict[str, Any],
    hint: Callable[[str], str] | None,
) -> Exception:
    holding = str(holder.get("operation") or "another max command")
    sync_id = str(holder.get("syncId") or "") or None
    if holding == "sync" and operation == "sync":
        shown = sync_id or "(starting)"
        data = {"installation": installation, "syncId": shown}
        if hint is not None:
            data["hint"] = hint(shown)
        return ErrSyncAlreadyRunning(**data)
    what = f"{sync_id} is running" if sync_id else f"a {holding} of it is running"
    return ErrInstallationBusy(
        operation=operation,
        installation=installation,
        holder=what,
        hint="wait for it to end (max status shows a running sync), then try again",
    )
