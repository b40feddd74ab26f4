"""Incremental syncs: replay a connector's change feed since the stored cursor.

After a completed full sync of a connector with a :class:`~maxtrio.core.ChangeFeed`, the
installation's sync store knows the feed cursor the copy is at. An incremental sync:

1. asks the feed for the changes after that cursor (through the sync's operation dispatcher,
   so limits, retries and request counts apply);
2. if the feed no longer knows the cursor (``core.feed_cursor_expired``) or holds more changes
   than are worth replaying (``ChangeSet.overflow``), returns ``None`` — the caller runs a full
   sync instead, and the requests made here count toward it;
3. otherwise writes everything in **one transaction** (``TaskStore.apply_changes``): the sync
   record (``completed``, mode ``incremental``, the new cursor), the changed entities as the
   sync's rows (cleared fields cleared) and the deletions. A crash or Ctrl-C before that commit
   leaves the copy and the cursor as they were; running ``max sync`` again replays the same
   changes. There is no task graph: nothing to resume.

Events mirror a full sync's for observers: ``SyncStarted``, one ``TaskCompleted`` per entity
type written (``count`` rows), ``SyncCompleted``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import trio

from maxtrio.core import ChangeFeed, ErrFeedCursorExpired, LoaderEnv, MaxError

from ._dispatch import CountingMiddleware, RetryTally
from ._events import SyncCompleted, SyncEvent, SyncStarted, TaskCompleted
from ._result import SyncResult
from ._stores import SyncMode, SyncStatus, SyncStore, TaskStore
from ._timestamps import Clock

INCREMENTAL_TASK = "incremental"


async def run_incremental(
    feed: ChangeFeed[object],
    cursor: str,
    *,
    env: LoaderEnv[object],
    counting: CountingMiddleware,
    task_store: TaskStore,
    sync_store: SyncStore,
    max_changes: int,
    now_ms: Clock,
    sync_id: str | None = None,
    on_event: Callable[[SyncEvent], None] | None = None,
    retries: RetryTally | None = None,
) -> SyncResult | None:
    """Replay the feed since ``cursor``; None when a full sync is needed instead. ``retries``
    counts the calls retried meanwhile (the caller observes them), for the result."""
    started = trio.current_time()
    started_ms = now_ms()
    try:
        changes = await feed.changes(cursor, env, max_changes)
    except MaxError as err:
        if ErrFeedCursorExpired.matches(err):
            return None
        raise
    if changes.overflow:
        return None
    sync_id = sync_id or await sync_store.next_id()
    emit = on_event or (lambda _event: None)
    emit(SyncStarted(sync_id, 0))
    removed = await task_store.apply_changes(
        sync_id,
        changes,
        started_at=started_ms,
        at=now_ms(),
        requests=counting.counts().total,
    )
    written = Counter(entity.ref.entity_type for entity in changes.upserts)
    for entity_type, count in written.items():
        emit(TaskCompleted(sync_id, INCREMENTAL_TASK, entity_type, "load-collection", count))
    operations = counting.counts()
    result = SyncResult(
        sync_id=sync_id,
        status=SyncStatus.COMPLETED,
        tasks_completed=0,
        tasks_failed=0,
        duration=trio.current_time() - started,
        operations=operations,
        mode=SyncMode.INCREMENTAL,
        requests=operations.total,
        removed=removed,
        skipped=changes.skipped,
        retries=retries.retries if retries is not None else 0,
        backoff=retries.backoff if retries is not None else 0.0,
    )
    emit(SyncCompleted(sync_id, result))
    return result
