"""In-memory ``TaskStore``, ``SyncStore`` and ``SyncMeta``: unit tests and ephemeral installs.

Same contract as the apsw stores of ``maxtrio.storage`` (the contract tests run against both):
guarded transitions (``execution.invalid_transition``), unknown ids raise
``execution.task_not_found``, FIFO claims that honour ``not_before``, and
:meth:`InMemoryTaskStore.finish` applying a task's whole outcome — entity writes, sync-meta
rows, children, the transition, completion propagation and unblocking — as one step.

Atomicity under trio: every method checkpoints once, on entry, before it reads anything, and
then runs to the end without another checkpoint — except ``finish``, which awaits the engine's
``store_many`` and the sync meta (neither checkpoints for :class:`InMemoryEngine` and
:class:`InMemorySyncMeta`, so the step is indivisible there). With an engine that does
checkpoint, the task's state is checked again after the writes, and a task that changed state
meanwhile (say, its sync was cancelled) raises ``execution.invalid_transition``; its entity
writes, being merge upserts, have then landed but nothing else has.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import attrs
import trio

from maxtrio.core import (
    ChangeSet,
    Engine,
    MaxError,
    PageRequest,
    Projection,
    Ref,
    expand_entities,
)

from ._field_sync import FieldSyncRow, field_sync_rows, freshness_cutoff
from ._stores import (
    CompleteListing,
    ErrSyncExists,
    ErrSyncNotFound,
    FieldSyncEntry,
    FinishReport,
    SyncMeta,
    SyncMode,
    SyncRecord,
    SyncStatus,
    TaskOutcome,
)
from ._task import ErrInvalidTransition, ErrTaskNotFound, Task, TaskState, TaskTemplate
from ._timestamps import Clock, wall_clock_ms

_SYNC_NUMBER = re.compile(r"sync-(\d+)\Z")

#: States a sync cancel moves to ``cancelled``.
_NON_TERMINAL_STATES = frozenset(s for s in TaskState if not s.is_terminal)


class InMemorySyncMeta:
    """Sync state in a dict: RefKey → (fields synced, one ``synced_at``), with the rule of the
    rows' sync state in ``data.db``: recording a subset of the fields already synced keeps the
    older time, so a field never reads fresher than it is."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[frozenset[str], int]] = {}
        self._listed: dict[tuple[str, str, str], int] = {}  # (type, field, id) → listed at

    def record_listing(self, listing: CompleteListing, at: int) -> None:
        """A collection was listed completely at ``at`` (no checkpoint)."""
        self._listed[(listing.parent_type, listing.field, listing.parent_id)] = at

    def record_rows(self, rows: Iterable[FieldSyncRow]) -> None:
        """Record ``(ref_key, field, synced_at)`` rows (no checkpoint)."""
        batch: dict[str, tuple[set[str], int]] = {}
        for ref_key, field, synced_at in rows:
            fields, oldest = batch.setdefault(ref_key, (set(), synced_at))
            fields.add(field)
            batch[ref_key] = (fields, min(oldest, synced_at))
        for ref_key, (fields, at) in batch.items():
            known, old_at = self._state.get(ref_key, (frozenset(), at))
            keep_older = bool(known - fields)
            self._state[ref_key] = (known | fields, min(old_at, at) if keep_older else at)

    async def record_field_sync_batch(self, entries: Sequence[FieldSyncEntry]) -> None:
        await trio.lowlevel.checkpoint()
        self.record_rows(field_sync_rows(entries))

    async def get_field_sync_time(self, ref_key: str, field: str) -> int | None:
        await trio.lowlevel.checkpoint()
        fields, at = self._state.get(ref_key, (frozenset(), 0))
        return at if field in fields else None

    async def stale_fields(
        self, ref_key: str, fields: Sequence[str], max_age: timedelta, now_ms: int
    ) -> list[str]:
        await trio.lowlevel.checkpoint()
        known, at = self._state.get(ref_key, (frozenset(), 0))
        if at < freshness_cutoff(now_ms, max_age):
            return list(fields)
        return [f for f in fields if f not in known]

    async def invalidate_fields(self, ref_key: str, fields: Sequence[str] | None = None) -> None:
        await trio.lowlevel.checkpoint()
        state = self._state.get(ref_key)
        if state is None:
            return
        if fields is None:
            del self._state[ref_key]
            return
        self._state[ref_key] = (state[0] - set(fields), state[1])

    async def fresh_ids(
        self, entity_type: str, ids: Sequence[str], fields: Sequence[str], since_ms: int
    ) -> set[str]:
        await trio.lowlevel.checkpoint()
        out = set()
        for id_ in ids:
            known, at = self._state.get(f"ein:{entity_type}:{id_}", (frozenset(), 0))
            if at >= since_ms and known.issuperset(fields):
                out.add(id_)
        return out

    async def listed_ids(
        self, parent_type: str, field: str, ids: Sequence[str], since_ms: int
    ) -> set[str]:
        await trio.lowlevel.checkpoint()
        listed = self._listed
        return {i for i in ids if listed.get((parent_type, field, i), since_ms - 1) >= since_ms}


class InMemorySyncStore:
    """Sync records in a dict; ``sync-<n>`` ids continue after the highest one created."""

    def __init__(self) -> None:
        self._records: dict[str, SyncRecord] = {}
        self._last_number = 0

    async def next_id(self) -> str:
        await trio.lowlevel.checkpoint()
        self._last_number += 1
        return f"sync-{self._last_number}"

    async def create(
        self,
        sync_id: str,
        started_at: int,
        *,
        mode: SyncMode = SyncMode.FULL,
        feed_cursor: str | None = None,
    ) -> SyncRecord:
        await trio.lowlevel.checkpoint()
        return self.insert(
            SyncRecord(sync_id, SyncStatus.RUNNING, started_at, mode=mode, feed_cursor=feed_cursor)
        )

    def insert(self, record: SyncRecord) -> SyncRecord:
        """Add a record (no checkpoint); an existing id raises ``execution.sync_exists``."""
        if record.id in self._records:
            raise ErrSyncExists(syncId=record.id)
        self._records[record.id] = record
        number = _SYNC_NUMBER.match(record.id)
        if number:
            self._last_number = max(self._last_number, int(number.group(1)))
        return record

    async def feed_cursor(self) -> str | None:
        await trio.lowlevel.checkpoint()
        done = [
            r
            for r in self._records.values()
            if r.status is SyncStatus.COMPLETED
            and r.feed_cursor is not None
            and r.mode in (SyncMode.FULL, SyncMode.INCREMENTAL)
        ]
        if not done:
            return None
        return max(enumerate(done), key=lambda x: (x[1].completed_at or 0, x[0]))[1].feed_cursor

    def mark_completed(self, sync_id: str, at: int, removed: int, requests: int) -> None:
        record = self._records.get(sync_id)
        if record is not None:
            self._records[sync_id] = attrs.evolve(
                record,
                status=SyncStatus.COMPLETED,
                completed_at=at,
                removed=removed,
                requests=requests,
            )

    async def set_status(self, sync_id: str, status: SyncStatus, at: int) -> None:
        await trio.lowlevel.checkpoint()
        record = self._records.get(sync_id)
        if record is None:
            raise ErrSyncNotFound(syncId=sync_id)
        self._records[sync_id] = attrs.evolve(
            record, status=status, completed_at=at if status.is_terminal else None
        )

    async def get(self, sync_id: str) -> SyncRecord | None:
        await trio.lowlevel.checkpoint()
        return self._records.get(sync_id)

    async def list(self, limit: int = 10) -> Sequence[SyncRecord]:
        await trio.lowlevel.checkpoint()
        records = list(self._records.values())  # creation order: a stable tie-break
        records.reverse()
        records.sort(key=lambda r: r.started_at, reverse=True)
        return records[: max(limit, 0)]

    # -- sync-record side of the task store's sync-wide transitions (no checkpoint) ----------

    def takes_claims(self, sync_id: str) -> bool:
        """Whether claims may take the sync's tasks (``SyncStatus.takes_claims``; a sync
        without a record: yes)."""
        record = self._records.get(sync_id)
        return record is None or record.status.takes_claims

    def mark_interrupted(self, sync_id: str) -> None:
        record = self._records.get(sync_id)
        if record is not None and not record.status.is_terminal:
            self._records[sync_id] = attrs.evolve(
                record, status=SyncStatus.INTERRUPTED, completed_at=None
            )

    def mark_cancelled(self, sync_id: str, at: int) -> None:
        record = self._records.get(sync_id)
        if record is not None and not record.status.is_terminal:
            self._records[sync_id] = attrs.evolve(
                record, status=SyncStatus.CANCELLED, completed_at=at
            )

    def mark_resumed(self, sync_id: str, *, force: bool) -> None:
        record = self._records.get(sync_id)
        if record is not None and (force or record.status is not SyncStatus.CANCELLED):
            self._records[sync_id] = attrs.evolve(
                record, status=SyncStatus.RUNNING, completed_at=None
            )


class InMemoryTaskStore:
    """The task graph of syncs in dictionaries, with the indexes the hot paths need.

    ``sync_store``, when given, gets the sync-record half of ``interrupt`` (→ ``interrupted``),
    ``cancel_sync`` (→ ``cancelled``) and ``prepare_resume`` (→ ``running``) in the same step,
    as the SQLite store does in the same transaction.
    """

    def __init__(
        self,
        engine: Engine,
        sync_meta: SyncMeta,
        *,
        sync_store: InMemorySyncStore | None = None,
        clock: Clock = wall_clock_ms,
    ) -> None:
        self.engine = engine
        self.sync_meta = sync_meta
        self._sync_store = sync_store
        self._clock = clock
        self._tasks: dict[str, Task] = {}
        self._last_id = 0
        self._by_sync: dict[str, list[str]] = {}
        self._counts: dict[str, Counter[TaskState]] = {}
        self._children: dict[str, list[str]] = {}
        self._open_children: dict[str, int] = {}  # parent → children not yet completed
        self._dependents: dict[str, list[str]] = {}  # blocker → tasks blocked by it
        self._ready: dict[str, list[int]] = {}  # sync → heap of pending ids (lazy deletion)
        self._delayed: dict[str, dict[str, None]] = {}  # sync → pending ids with not_before
        self._leased: dict[str, dict[str, None]] = {}  # sync → running ids with a lease
        self._seen: dict[tuple[str, str], str] = {}  # (type, id) → last sync that wrote it
        # (parent type, field, parent id) → the latest complete listing of that collection
        self._listings: dict[tuple[str, str, str], tuple[CompleteListing, str, int]] = {}

    # -- bookkeeping (never checkpoints) -----------------------------------------------------

    def _insert(self, task: Task) -> None:
        self._tasks[task.id] = task
        self._by_sync.setdefault(task.sync_id, []).append(task.id)
        self._counts.setdefault(task.sync_id, Counter())[task.state] += 1
        if task.parent_id is not None:
            self._children.setdefault(task.parent_id, []).append(task.id)
            if task.state is not TaskState.COMPLETED:
                self._open_children[task.parent_id] = self._open_children.get(task.parent_id, 0) + 1
        if task.blocked_by is not None:
            self._dependents.setdefault(task.blocked_by, []).append(task.id)
        if task.state is TaskState.PENDING:
            self._make_claimable(task)

    def _set_state(self, task: Task, state: TaskState, **changes: Any) -> Task:
        updated = attrs.evolve(task, state=state, **changes)
        self._tasks[task.id] = updated
        counts = self._counts[task.sync_id]
        counts[task.state] -= 1
        counts[state] += 1
        if state is TaskState.PENDING and task.state is not TaskState.PENDING:
            self._make_claimable(updated)
        if state is TaskState.COMPLETED and task.parent_id is not None:
            self._open_children[task.parent_id] -= 1
        return updated

    def _make_claimable(self, task: Task) -> None:
        if task.not_before is None:
            heapq.heappush(self._ready.setdefault(task.sync_id, []), int(task.id))
        else:
            self._delayed.setdefault(task.sync_id, {})[task.id] = None

    def _next_id(self) -> str:
        self._last_id += 1
        return str(self._last_id)

    def _require(self, task_id: str) -> Task:
        task = self._tasks.get(task_id)
        if task is None:
            raise ErrTaskNotFound(taskId=task_id)
        return task

    def _require_running(self, claimed: Task, to: TaskState) -> Task:
        """The current row of ``claimed``, still ``running`` under the worker that claimed it
        (else ``execution.invalid_transition``: it ended, or another worker took it over)."""
        task = self._require(claimed.id)
        if task.state is not TaskState.RUNNING or task.worker != claimed.worker:
            raise ErrInvalidTransition(taskId=task.id, state=task.state.value, to=to.value)
        return task

    def _unblock(self, blocker_id: str) -> int:
        moved = 0
        for task_id in self._dependents.get(blocker_id, ()):
            task = self._tasks[task_id]
            if task.state is TaskState.NEW:
                self._set_state(task, TaskState.PENDING)
                moved += 1
        return moved

    def _propagate(self, task: Task, now: int) -> FinishReport:
        """``task`` just completed: unblock its dependents and complete finished ancestors."""
        unblocked = self._unblock(task.id)
        propagated: list[str] = []
        parent_id = task.parent_id
        while parent_id is not None and self._open_children.get(parent_id) == 0:
            parent = self._tasks[parent_id]
            if parent.state is not TaskState.AWAITING_CHILDREN:
                break
            self._set_state(parent, TaskState.COMPLETED, completed_at=now)
            propagated.append(parent_id)
            unblocked += self._unblock(parent_id)
            parent_id = parent.parent_id
        return FinishReport(True, tuple(propagated), unblocked)

    # -- TaskStore ---------------------------------------------------------------------------

    async def enqueue_graph(
        self, sync_id: str, templates: Sequence[TaskTemplate]
    ) -> Mapping[str, str]:
        await trio.lowlevel.checkpoint()
        ids = {t.temp_id: self._next_id() for t in templates}
        now = self._clock()
        for t in templates:
            self._insert(
                Task(
                    ids[t.temp_id],
                    sync_id,
                    t.state,
                    t.payload,
                    now,
                    parent_id=ids.get(t.parent) if t.parent is not None else None,
                    blocked_by=ids.get(t.blocked_by) if t.blocked_by is not None else None,
                    not_before=t.not_before,
                )
            )
        return ids

    async def claim(self, sync_id: str, now_ms: int) -> Task | None:
        await trio.lowlevel.checkpoint()
        return self._claim_next(sync_id, now_ms)

    async def claim_many(
        self,
        sync_id: str,
        now_ms: int,
        limit: int,
        *,
        worker: str = "",
        lease_ms: int | None = None,
    ) -> Sequence[Task]:
        await trio.lowlevel.checkpoint()
        claimed: list[Task] = []
        while len(claimed) < limit:
            task = self._claim_next(sync_id, now_ms, worker=worker, lease_ms=lease_ms)
            if task is None:
                break
            claimed.append(task)
        return claimed

    async def renew_leases(self, worker: str, task_ids: Sequence[str], until_ms: int) -> int:
        await trio.lowlevel.checkpoint()
        renewed = 0
        for task_id in task_ids:
            task = self._tasks.get(task_id)
            if task is None or task.state is not TaskState.RUNNING:
                continue
            if (task.worker or "") != worker:
                continue
            self._tasks[task_id] = attrs.evolve(task, lease_until=until_ms)
            self._leased.setdefault(task.sync_id, {})[task_id] = None
            renewed += 1
        return renewed

    def _expired(self, sync_id: str, now_ms: int) -> str | None:
        """The oldest ``running`` task of the sync whose lease ran out (no checkpoint)."""
        leased = self._leased.get(sync_id)
        if not leased:
            return None
        tasks = self._tasks
        best: str | None = None
        for task_id in list(leased):
            task = tasks[task_id]
            if task.state is not TaskState.RUNNING or task.lease_until is None:
                del leased[task_id]
            elif task.lease_until < now_ms and (best is None or int(task_id) < int(best)):
                best = task_id
        return best

    def _claim_next(
        self, sync_id: str, now_ms: int, *, worker: str = "", lease_ms: int | None = None
    ) -> Task | None:
        """The oldest claimable task of the sync, now ``running`` (no checkpoint)."""
        if self._sync_store is not None and not self._sync_store.takes_claims(sync_id):
            return None
        tasks = self._tasks
        heap = self._ready.get(sync_id)
        best: str | None = None
        while heap:
            top = str(heap[0])
            if tasks[top].state is TaskState.PENDING:
                best = top
                break
            heapq.heappop(heap)  # stale entry: the task left pending since it was pushed
        source = "ready"
        delayed = self._delayed.get(sync_id)
        if delayed:
            for task_id in list(delayed):
                task = tasks[task_id]
                if task.state is not TaskState.PENDING:
                    del delayed[task_id]
                elif (
                    task.not_before is not None
                    and task.not_before <= now_ms
                    and (best is None or int(task_id) < int(best))
                ):
                    best, source = task_id, "delayed"
        expired = self._expired(sync_id, now_ms)
        if expired is not None and (best is None or int(expired) < int(best)):
            best, source = expired, "expired"
        if best is None:
            return None
        if source == "delayed":
            assert delayed is not None
            del delayed[best]
        elif source == "ready":
            assert heap is not None
            heapq.heappop(heap)
        lease_until = now_ms + lease_ms if lease_ms is not None else None
        if lease_until is not None:
            self._leased.setdefault(sync_id, {})[best] = None
        task = tasks[best]
        if task.state is TaskState.RUNNING:  # taken over from a worker whose lease ran out
            taken = attrs.evolve(task, worker=worker or None, lease_until=lease_until)
            tasks[best] = taken
            return taken
        return self._set_state(
            task, TaskState.RUNNING, worker=worker or None, lease_until=lease_until
        )

    async def finish(self, task: Task, outcome: TaskOutcome) -> FinishReport:
        await trio.lowlevel.checkpoint()
        to = TaskState.AWAITING_CHILDREN if outcome.children else TaskState.COMPLETED
        self._require_running(task, to)
        entities = expand_entities(outcome.entities)
        if entities:
            await self.engine.store_many(entities)
        if outcome.sync_entries or outcome.sync_batches:
            if isinstance(self.sync_meta, InMemorySyncMeta):
                self.sync_meta.record_rows(
                    field_sync_rows(outcome.sync_entries, outcome.sync_batches)
                )
            else:
                entries = [
                    FieldSyncEntry(*row)
                    for row in field_sync_rows(outcome.sync_entries, outcome.sync_batches)
                ]
                await self.sync_meta.record_field_sync_batch(entries)
        current = self._require_running(task, to)  # again: the awaits may have yielded
        now = self._clock()
        if outcome.synced_at is not None:
            for entity in entities:
                self._seen[(entity.ref.entity_type, entity.ref.id)] = current.sync_id
        for listing in outcome.listings:
            key = (listing.parent_type, listing.field, listing.parent_id)
            self._listings[key] = (listing, current.sync_id, now)
            if isinstance(self.sync_meta, InMemorySyncMeta):
                self.sync_meta.record_listing(listing, now)
        if outcome.children:
            for payload in outcome.children:
                self._insert(
                    Task(
                        self._next_id(),
                        current.sync_id,
                        TaskState.PENDING,
                        payload,
                        now,
                        parent_id=current.id,
                    )
                )
            self._set_state(current, TaskState.AWAITING_CHILDREN)
            return FinishReport(False)
        completed = self._set_state(current, TaskState.COMPLETED, completed_at=now)
        return self._propagate(completed, now)

    async def fail(self, task: Task, error: MaxError) -> None:
        await trio.lowlevel.checkpoint()
        current = self._require_running(task, TaskState.FAILED)
        self._set_state(current, TaskState.FAILED, error=error.message, completed_at=self._clock())

    async def get(self, task_id: str) -> Task | None:
        await trio.lowlevel.checkpoint()
        return self._tasks.get(task_id)

    async def tasks(self, sync_id: str) -> Sequence[Task]:
        await trio.lowlevel.checkpoint()
        return [self._tasks[i] for i in self._by_sync.get(sync_id, ())]

    async def has_active_tasks(self, sync_id: str) -> bool:
        await trio.lowlevel.checkpoint()
        counts = self._counts.get(sync_id)
        return bool(counts and (counts[TaskState.PENDING] or counts[TaskState.RUNNING]))

    async def count_by_state(self, sync_id: str) -> Mapping[TaskState, int]:
        await trio.lowlevel.checkpoint()
        counts = self._counts.get(sync_id, Counter())
        return {state: n for state, n in counts.items() if n}

    async def interrupt(self, sync_id: str) -> int:
        await trio.lowlevel.checkpoint()
        moved = self._move(sync_id, {TaskState.RUNNING})
        if self._sync_store is not None:
            self._sync_store.mark_interrupted(sync_id)
        return moved

    async def prepare_resume(self, sync_id: str, *, force: bool = False) -> int:
        await trio.lowlevel.checkpoint()
        tasks = [self._tasks[i] for i in self._by_sync.get(sync_id, ())]
        moved = 0
        for task in tasks:
            if task.state is TaskState.FAILED:
                self._set_state(
                    task,
                    TaskState.PENDING,
                    error=None,
                    completed_at=None,
                    attempts=task.attempts + 1,
                )
            elif task.state in (TaskState.RUNNING, TaskState.PAUSED):
                self._set_state(task, TaskState.PENDING)
            elif force and task.state is TaskState.CANCELLED:
                self._set_state(task, self._revived_state(task), completed_at=None)
            else:
                continue
            moved += 1
        if self._sync_store is not None:
            self._sync_store.mark_resumed(sync_id, force=force)
        return moved

    def _revived_state(self, task: Task) -> TaskState:
        """Where a cancelled task goes back to on a forced resume."""
        if self._children.get(task.id):
            return TaskState.AWAITING_CHILDREN
        if task.blocked_by is not None:
            blocker = self._tasks.get(task.blocked_by)
            if blocker is None or blocker.state is not TaskState.COMPLETED:
                return TaskState.NEW
        return TaskState.PENDING

    async def cancel_sync(self, sync_id: str) -> int:
        await trio.lowlevel.checkpoint()
        now = self._clock()
        moved = self._move(sync_id, _NON_TERMINAL_STATES, TaskState.CANCELLED, completed_at=now)
        if self._sync_store is not None:
            self._sync_store.mark_cancelled(sync_id, now)
        return moved

    def _move(
        self,
        sync_id: str,
        from_states: frozenset[TaskState] | set[TaskState],
        to: TaskState = TaskState.PENDING,
        **changes: Any,
    ) -> int:
        moved = 0
        for task_id in self._by_sync.get(sync_id, ()):
            task = self._tasks[task_id]
            if task.state in from_states:
                self._set_state(task, to, **changes)
                moved += 1
        return moved

    # -- the mirror: removals and change sets ------------------------------------------------

    async def _unseen(self, sync_id: str) -> list[Ref]:
        """Rows in the scope of ``sync_id``'s complete listings that it did not see."""
        scopes: dict[tuple[str, str | None], set[str]] = {}
        for listing, owner, _ in self._listings.values():
            if owner == sync_id:
                scopes.setdefault((listing.entity_type, listing.via), set()).add(listing.parent_id)
        doomed: list[Ref] = []
        schema_types = {e.name: e for e in self.engine.schema.entities}
        for (type_name, via), parents in scopes.items():
            entity = schema_types.get(type_name)
            if entity is None:
                continue
            projection = Projection.select(via) if via is not None else Projection.refs()
            cursor: str | None = None
            while True:
                page = await self.engine.load_page(entity, projection, PageRequest(cursor, 1000))
                for item in page.items:
                    ref = item if isinstance(item, Ref) else item.ref
                    if self._seen.get((type_name, ref.id)) == sync_id:
                        continue
                    if via is not None:
                        parent = item.values.get(via) if not isinstance(item, Ref) else None
                        parent_id = parent.id if isinstance(parent, Ref) else parent
                        if parent_id not in parents:
                            continue
                    doomed.append(ref)
                if not page.has_more:
                    break
                cursor = page.cursor
        return doomed

    async def complete_sync(self, sync_id: str, at: int, requests: int = 0) -> int:
        await trio.lowlevel.checkpoint()
        removed = await self.engine.delete_many(await self._unseen(sync_id))
        if self._sync_store is not None:
            self._sync_store.mark_completed(sync_id, at, removed, requests)
        return removed

    async def apply_changes(
        self,
        sync_id: str,
        changes: ChangeSet,
        *,
        started_at: int,
        at: int,
        requests: int = 0,
    ) -> int:
        await trio.lowlevel.checkpoint()
        deleted = {(ref.entity_type, ref.id) for ref in changes.deletes}
        upserts = [e for e in changes.upserts if (e.ref.entity_type, e.ref.id) not in deleted]
        if self._sync_store is not None:
            self._sync_store.insert(
                SyncRecord(
                    sync_id,
                    SyncStatus.COMPLETED,
                    started_at,
                    at,
                    mode=SyncMode.INCREMENTAL,
                    feed_cursor=changes.cursor,
                    requests=requests,
                )
            )
        await self.engine.store_many(upserts)
        for entity in upserts:
            self._seen[(entity.ref.entity_type, entity.ref.id)] = sync_id
        removed = await self.engine.delete_many(changes.deletes)
        if self._sync_store is not None:
            self._sync_store.mark_completed(sync_id, at, removed, requests)
        return removed
