"""Leases of the tasks a worker runs: its name, the default lease, and the keeper loop.

Several workers (processes, machines) may drain one sync from a shared task store. Each
claims with a lease (``TaskStore.claim_many(…, worker=, lease_ms=)``): a ``running`` task whose
lease ran out is claimable again, so the tasks of a worker that died (``kill -9``, a lost
machine) come back to the others after at most one lease. A live worker keeps its leases:
:func:`keep_leases` renews the leases of the tasks it runs every third of the lease, and —
for a worker that joined someone else's sync — watches the sync record, so it stops when the
sync is no longer running (completed, cancelled, or interrupted by the process that owns it).
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import TYPE_CHECKING

import trio

from ._stores import SyncStatus, SyncStore, TaskStore
from ._timestamps import Clock

if TYPE_CHECKING:
    from ._handle import SyncHandle

#: How long a claimed task stays a worker's without a renewal (ms).
DEFAULT_LEASE_MS = 10_000
#: How often a joined worker without a lease looks at the sync record (seconds).
WATCH_INTERVAL = 1.0
#: Record statuses under which a joined worker keeps working.
_LIVE = (SyncStatus.RUNNING, SyncStatus.PAUSED)


def worker_name() -> str:
    """A name for this process's worker, unique across machines: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


async def keep_leases(
    handle: SyncHandle,
    *,
    task_store: TaskStore,
    sync_store: SyncStore,
    worker: str,
    lease_ms: int | None,
    now_ms: Clock,
) -> None:
    """Renew the leases of ``handle``'s running tasks every ``lease_ms / 3`` and, for a joined
    worker, stop the run (:meth:`SyncHandle.stop_elsewhere`) once the sync record says it is no
    longer running. Runs until cancelled."""
    interval = lease_ms / 3000 if lease_ms is not None else WATCH_INTERVAL
    while True:
        await trio.sleep(interval)
        if lease_ms is not None:
            running = handle.running_ids()
            if running:
                await task_store.renew_leases(worker, running, now_ms() + lease_ms)
        if not handle.owner:
            record = await sync_store.get(handle.id)
            status = record.status if record is not None else SyncStatus.CANCELLED
            if status not in _LIVE:
                handle.stop_elsewhere(status)
                return


async def release_leases(handle: SyncHandle, task_store: TaskStore, worker: str) -> None:
    """Hand ``handle``'s running tasks to the next claimer at once (a joined worker stops):
    their leases are moved into the past."""
    running = handle.running_ids()
    if running:
        await task_store.renew_leases(worker, running, 0)
