"""What a finished sync reports: :class:`SyncResult` and the :class:`TaskFailure` entries in it."""

from __future__ import annotations

from typing import Any

import attrs

from ._dispatch import OperationCounts
from ._stores import SyncMode, SyncStatus


@attrs.frozen
class TaskFailure:
    """One task that failed during the run: its payload kind, entity type and error."""

    task_id: str
    kind: str  # payload kind: sync-step, load-fields, load-collection
    entity_type: str
    error: str  # the error's message
    code: str  # the error's code (``uncaught`` domain codes for non-MaxErrors)

    def to_json(self) -> dict[str, Any]:
        return {
            "taskId": self.task_id,
            "kind": self.kind,
            "entityType": self.entity_type,
            "error": self.error,
            "code": self.code,
        }


@attrs.frozen
class SyncResult:
    """How a sync run ended.

    ``status`` is ``completed`` only when every task completed; ``failed`` when a task failed
    (or work was left stranded behind one) or the orchestration itself broke (``error``);
    ``cancelled`` after ``cancel()``; ``interrupted`` when the process stopped (resumable).
    Counters cover this run only (a resumed run counts what it did): ``tasks_completed`` are
    tasks their own worker completed (parents completed by propagation and tasks that spawned
    children are not counted), ``tasks_failed`` tasks that raised. ``stranded`` is how many
    tasks were left ``new``/``awaiting_children``/``paused`` behind failures. ``duration`` is
    in seconds on the trio clock; ``operations`` counts the operation calls of this run.
    ``mode`` says what kind of sync ran (full, incremental, partial), ``requests`` the operation
    calls made for it (a full sync's include the feed's head and any incremental attempt that
    fell back to it), ``removed`` the rows it removed (unseen by complete listings, or deleted
    upstream according to the change feed), ``skipped`` the source items loaders (or the
    feed) could not read and left out — a bad file or log line never fails a sync.
    ``retries`` counts upstream calls repeated after a retryable error (429, 5xx) — for
    ``run_sync`` also those before the tasks (the feed's position, an incremental attempt) —
    and ``backoff`` the seconds they waited before those attempts (summed over calls that
    waited at the same time).
    """

    sync_id: str
    status: SyncStatus
    tasks_completed: int
    tasks_failed: int
    duration: float
    operations: OperationCounts = attrs.field(factory=OperationCounts)
    failures: tuple[TaskFailure, ...] = ()
    stranded: int = 0
    error: str | None = None
    mode: SyncMode = SyncMode.FULL
    requests: int = 0  # operation calls made for the sync (the run's, and any before it)
    removed: int = 0  # rows removed: unseen by complete listings, or deleted upstream
    skipped: int = 0  # source items left out as unreadable (``Page.skipped``)
    retries: int = 0  # upstream calls repeated after a retryable error
    backoff: float = 0.0  # seconds those retries waited, summed

    @property
    def duration_ms(self) -> int:
        return round(self.duration * 1000)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "syncId": self.sync_id,
            "status": self.status.value,
            "tasksCompleted": self.tasks_completed,
            "tasksFailed": self.tasks_failed,
            "durationMs": self.duration_ms,
            "operations": self.operations.to_json(),
            "failures": [f.to_json() for f in self.failures],
            "stranded": self.stranded,
            "mode": self.mode.value,
            "requests": self.requests,
            "removed": self.removed,
            "skipped": self.skipped,
            "retries": self.retries,
            "backoffSeconds": round(self.backoff, 3),
        }
        if self.error is not None:
            out["error"] = self.error
        return out
