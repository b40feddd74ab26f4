"""The states of a sync (``running`` … ``cancelled``).

Its own module, importing nothing, so that reporting a sync's status (``max ls``, ``max status``)
does not import the execution stack.
"""

from __future__ import annotations

import enum


class SyncStatus(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    INTERRUPTED = "interrupted"  # the process stopped (Ctrl-C, crash); resumable
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (SyncStatus.COMPLETED, SyncStatus.FAILED, SyncStatus.CANCELLED)

    @property
    def takes_claims(self) -> bool:
        """Whether task stores hand out the sync's tasks: while it runs or is paused (a
        joined worker does not pause). Once it is interrupted, cancelled or ended, a late
        claim takes nothing — it would leave a task ``running`` in a stopped sync."""
        return self in (SyncStatus.RUNNING, SyncStatus.PAUSED)
