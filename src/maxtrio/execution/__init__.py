"""maxtrio.execution — plan expansion, tasks, the trio executor, flow control, dispatch.

No I/O of its own: it talks to storage through the ``TaskStore``, ``SyncStore`` and
``SyncMeta`` protocols and to upstream APIs through connector operations.
"""

from ._stores import (
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

__all__ = [
    "ErrInvalidPayload",
    "ErrInvalidTransition",
    "ErrTaskNotFound",
    "ErrUnknownTargetKind",
    "Execution",
    "FieldSyncEntry",
    "FinishReport",
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
    "payload_from_json",
    "payload_to_json",
]
