"""maxtrio.execution — plan expansion, tasks, the trio executor, flow control, dispatch.

No I/O of its own: it talks to storage through the ``TaskStore``, ``SyncStore`` and
``SyncMeta`` protocols and to upstream APIs through connector operations.
"""

from ._field_sync import FieldSyncRow, field_sync_rows, freshness_cutoff
from ._memory_stores import InMemorySyncMeta, InMemorySyncStore, InMemoryTaskStore
from ._stores import (
    ErrSyncExists,
    ErrSyncNotFound,
    FieldSyncBatch,
    FieldSyncEntry,
    FinishReport,
    Progress,
    SyncMeta,
    SyncRecord,
    SyncStatus,
    SyncStore,
    TaskOutcome,
    TaskStore,
)
from ._task import (
    ErrInvalidPayload,
    ErrInvalidTransition,
    ErrTaskNotFound,
    ErrUnknownTargetKind,
    Execution,
    LoadCollectionPayload,
    LoadFieldsPayload,
    StepOperationPayload,
    StepTarget,
    SyncGroupPayload,
    SyncStepPayload,
    Task,
    TaskPayload,
    TaskState,
    TaskTemplate,
    payload_from_json,
    payload_to_json,
)
from ._timestamps import Clock, wall_clock_ms

__all__ = [
    "Clock",
    "ErrInvalidPayload",
    "ErrInvalidTransition",
    "ErrSyncExists",
    "ErrSyncNotFound",
    "ErrTaskNotFound",
    "ErrUnknownTargetKind",
    "Execution",
    "FieldSyncBatch",
    "FieldSyncEntry",
    "FieldSyncRow",
    "FinishReport",
    "InMemorySyncMeta",
    "InMemorySyncStore",
    "InMemoryTaskStore",
    "LoadCollectionPayload",
    "LoadFieldsPayload",
    "Progress",
    "StepOperationPayload",
    "StepTarget",
    "SyncGroupPayload",
    "SyncMeta",
    "SyncRecord",
    "SyncStatus",
    "SyncStepPayload",
    "SyncStore",
    "Task",
    "TaskOutcome",
    "TaskPayload",
    "TaskState",
    "TaskStore",
    "TaskTemplate",
    "field_sync_rows",
    "freshness_cutoff",
    "payload_from_json",
    "payload_to_json",
    "wall_clock_ms",
]
