"""Errors of the execution layer, on the ``execution`` boundary (codes that cross the wire).

The task-model errors (``task_not_found``, ``invalid_payload``, ``invalid_transition``,
``unknown_target_kind``) live beside the task model in ``_task.py``; these are the ones the
registry, the runner, flow control and the executor raise.
"""

from __future__ import annotations

from maxtrio.core import BadInput, HasEntityField, HasEntityType, InvariantViolated, NotFound

from ._task import Execution

ErrNoResolver = Execution.define(
    "no_resolver", facets=[NotFound, HasEntityType], message="No resolver for entity: {entityType}"
)
ErrNoCollectionLoader = Execution.define(
    "no_collection_loader",
    facets=[NotFound, HasEntityField],
    message="No collection loader for field '{field}' on {entityType}",
)
ErrLimitStrategyConflict = Execution.define(
    "limit_strategy_conflict",
    facets=[BadInput],
    message='Limit "{limitName}" registered with {existing} but requested with {requested}',
)
ErrPageWithoutCursor = Execution.define(
    "page_without_cursor",
    facets=[InvariantViolated],
    message="{source} said more pages follow but gave no new cursor (for {refKey})",
)
ErrInvalidLoaderResult = Execution.define(
    "invalid_loader_result",
    facets=[InvariantViolated],
    message="{loader} returned {got}, expected {expected}",
)
ErrInvalidDependency = Execution.define(
    "invalid_dependency",
    facets=[BadInput],
    message="{loader} cannot depend on {source}: {reason}",
)
ErrDependencyFailed = Execution.define(
    "dependency_failed",
    facets=[],
    message="Dependency {source} of {loader} failed for {refKey}",
)
ErrSyncNotResumable = Execution.define(
    "sync_not_resumable",
    facets=[BadInput],
    message="Sync {syncId} is {status} and cannot be resumed",
)
ErrSyncNotRunning = Execution.define(
    "sync_not_running",
    facets=[BadInput],
    message="Sync {syncId} is {status}: only a running sync can be joined",
)
ErrSyncHasNoTasks = Execution.define(
    "sync_has_no_tasks",
    facets=[BadInput],
    message=(
        "Sync {syncId} stopped before its tasks were stored and cannot be resumed; start a new sync"
    ),
)
ErrExecutorNotStarted = Execution.define(
    "executor_not_started",
    facets=[InvariantViolated],
    message=(
        "The executor has no nursery: use `async with SyncExecutor(...) as executor` "
        "or `executor.running(plan)`"
    ),
)
