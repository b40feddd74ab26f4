"""Who runs a sync: the owner of an installation's lock, and the observer of sync starts.

A sync is recorded ``running`` in ``data.db`` while a process works on it. When that process
dies without a word (``kill -9``, a crash, the machine's power) the record would stay
``running`` forever. Every process that runs a sync of an installation holds the exclusive
``flock`` on ``.max/installations/<name>/sync.lock`` for as long as it does (``_sync_lock``: one
sync of an installation at a time); the kernel drops it however the process ends. A ``running``
sync while nobody holds the lock has lost its owner: :func:`settle_orphaned_syncs` records it
``interrupted`` (resumable), which ``max status``, ``max sync --resume`` and the sync history
then show. A sync about to start settles them while it holds the lock itself.

:data:`sync_observer` is a context variable: whoever runs a command may set a callback that
learns each sync id as the sync starts (the daemon forwards it to the launcher, which prints
the resume command should the daemon die).
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from maxtrio.execution import SyncStatus

from ._sync_lock import SYNC_LOCK_FILE_NAME

if TYPE_CHECKING:
    from maxtrio.execution import SyncStore

    from ._installation import InstallationMax

#: How many of the latest syncs are checked for a lost owner.
RECENT_SYNCS = 100

#: ``callback(installation, sync_id)`` for each sync started in this context (None: nobody).
sync_observer: ContextVar[Callable[[InstallationMax, str], None] | None] = ContextVar(
    "maxtrio_sync_observer", default=None
)


def _open_lock(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _try_flock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def syncs_have_an_owner(data_dir: Path) -> bool:
    """Whether some live process (this one included) is running a sync of the installation."""
    path = data_dir / SYNC_LOCK_FILE_NAME
    if not path.exists():
        return False
    fd = _open_lock(path)
    try:
        # A shared probe: it fails only against a holder's exclusive lock, and two probes
        # (two ``max status``) do not disturb each other.
        return not _try_flock(fd, fcntl.LOCK_SH)
    finally:
        os.close(fd)


async def settle_orphaned_syncs(
    data_dir: Path,
    store: SyncStore,
    *,
    live: Callable[[str], bool],
    now_ms: int,
    held: bool = False,
) -> list[str]:
    """Record as ``interrupted`` every ``running`` sync whose owner is gone; returns their ids.
    ``live(sync_id)``: a sync this process runs in the background (always alive). ``held``:
    the caller holds the installation's lock itself, so no other process runs a sync of it."""
    running = [r.id for r in await store.list(RECENT_SYNCS) if r.status is SyncStatus.RUNNING]
    running = [sync_id for sync_id in running if not live(sync_id)]
    if not running:
        return []
    if not held and await trio.to_thread.run_sync(syncs_have_an_owner, data_dir):
        return []
    for sync_id in running:
        await store.set_status(sync_id, SyncStatus.INTERRUPTED, now_ms)
    return running
