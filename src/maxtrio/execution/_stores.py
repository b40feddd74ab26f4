"""The storage seams of execution: ``TaskStore``, ``SyncStore`` and ``SyncMeta`` protocols.

Implemented in memory here (unit tests, ephemeral installations) and over apsw in
``maxtrio.storage`` (``SqliteTaskStore``, ``SqliteSyncStore``, ``SqliteSyncMeta``) in the same
``data.db`` as the entity tables.

The key contract is :meth:`TaskStore.finish`: a task's entity writes, its sync-meta entries, its
children and its state transition (with completion propagation and unblocking) commit in **one
transaction**, so a crash or a cancellation never leaves half of a task behind.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Literal, Protocol

import attrs

from maxtrio.core import BadInput, ChangeSet, EntityColumns, EntityInput, MaxError, NotFound

from ._sync_status import SyncStatus as SyncStatus
from ._task import Execution, Task, TaskPayload, TaskState, TaskTemplate

ErrSyncNotFound = Execution.define(
    "sync_not_found", facets=[NotFound], message="Sync not found: {syncId}"
)
ErrSyncExists = Execution.define(
    "sync_exists", facets=[BadInput], message="Sync already exists: {syncId}"
)


@attrs.frozen
class FieldSyncEntry:
    """``field`` of the entity ``ref_key`` was synced at ``synced_at`` (ms)."""

    ref_key: str
    field: str
    synced_at: int


@attrs.frozen
class FieldSyncBatch:
    """Every field of ``fields`` of every entity of ``ref_keys`` was synced at ``synced_at``.

    The compact form of ``len(ref_keys) × len(fields)`` :class:`FieldSyncEntry` values: a page
    of entities written with the same fields records its freshness without one object per
    (entity, field) pair.
    """

    ref_keys: Sequence[str]
    fields: Sequence[str]
    synced_at: int


@attrs.frozen
class Progress:
    """How many entities a finished task wrote, for progress displays."""

    entity_type: str
    operation: Literal["load-fields", "load-collection"]
    count: int
    skipped: int = 0  # source items the loader left out (``Page.skipped``)


@attrs.frozen
class CompleteListing:
    """A collection a task finished listing completely (its last page, from a loader declared
    ``complete``): the parent's ``field`` lists every ``entity_type`` whose ``via`` ref names
    the parent (every row of the type when ``via`` is None)."""

    parent_type: str
    parent_id: str
    field: str
    entity_type: str
    via: str | None


@attrs.frozen
class TaskOutcome:
    """What running a task produced; committed atomically by :meth:`TaskStore.finish`.

    ``synced_at`` marks ``entities`` as a sync's write at that time: the store records their
    freshness and that the sync saw them (rows a complete listing did not see are removed when
    the sync completes). ``sync_entries``/``sync_batches`` record freshness explicitly (stores
    derive it from ``entities`` when ``synced_at`` is set)."""

    entities: Sequence[EntityInput | EntityColumns] = ()
    sync_entries: Sequence[FieldSyncEntry] = ()
    children: Sequence[TaskPayload] = ()
    progress: Progress | None = None
    sync_batches: Sequence[FieldSyncBatch] = ()  # recorded like ``sync_entries``
    synced_at: int | None = None
    listings: Sequence[CompleteListing] = ()


@attrs.frozen
class FinishReport:
    """What :meth:`TaskStore.finish` did."""

    completed: bool  # True: the task completed; False: it now awaits its children
    propagated: tuple[str, ...] = ()  # ancestors completed by propagation, innermost first
    unblocked: int = 0  # tasks moved new → pending


class SyncMode(enum.StrEnum):
    FULL = "full"  # the connector's whole plan: listings may remove rows, the feed cursor moves
    INCREMENTAL = "incremental"  # the change feed since the stored cursor
    PARTIAL = "partial"  # a plan given by the user: removes what it listed, cursor unchanged


@attrs.frozen
class SyncRecord:
    id: str
    status: SyncStatus
    started_at: int
    completed_at: int | None = None
    mode: SyncMode = SyncMode.FULL
    feed_cursor: str | None = None
    removed: int = 0
    requests: int = 0


class TaskStore(Protocol):
    """Durable task graph of syncs. Every method is one transaction."""

    async def enqueue_graph(
        self, sync_id: str, templates: Sequence[TaskTemplate]
    ) -> Mapping[str, str]:
        """Insert a plan's templates; returns temp id → real id. Ids are decimal strings."""
        ...

    async def claim(self, sync_id: str, now_ms: int) -> Task | None:
        """Atomically move the oldest claimable ``pending`` task to ``running`` and return it."""
        ...

    async def claim_many(
        self,
        sync_id: str,
        now_ms: int,
        limit: int,
        *,
        worker: str = "",
        lease_ms: int | None = None,
    ) -> Sequence[Task]:
        """Claim up to ``limit`` tasks at once (oldest first), in one transaction.

        Claimable: ``pending`` tasks (``not_before`` unset or ``<= now_ms``) and ``running``
        tasks whose lease expired (``lease_until < now_ms``: their worker died or stalled).
        Each claimed task records ``worker`` (None for ``""``) and ``lease_until = now_ms +
        lease_ms`` (None without ``lease_ms``: such a task is never claimed again while it
        runs — one process, today's behaviour).

        Nothing is claimed once the sync's record says it stopped (interrupted, cancelled,
        failed, completed): the check and the claim are one step, so a joined worker's claim
        that lands just after the owner's :meth:`interrupt` takes nothing instead of leaving
        a task ``running`` in a stopped sync. A sync without a record is claimable."""
        ...

    async def renew_leases(self, worker: str, task_ids: Sequence[str], until_ms: int) -> int:
        """Move the lease of ``worker``'s ``running`` tasks among ``task_ids`` to ``until_ms``.

        Returns how many were renewed: a task another worker claimed meanwhile (its lease had
        expired) is not. ``until_ms`` in the past releases the tasks to the next claimer."""
        ...

    async def finish(self, task: Task, outcome: TaskOutcome) -> FinishReport:
        """Commit a running task's outcome in one transaction (see module docstring).

        Children are inserted ``pending`` with ``parent_id = task.id``; with children the task
        becomes ``awaiting_children``, otherwise ``completed``, its dependents are unblocked and
        completion propagates to ancestors whose children are all completed. A task that is
        not ``running``, or that another worker claimed since (``worker`` differs from
        ``task.worker``: the lease had expired), raises ``execution.invalid_transition`` and
        nothing is written.
        """
        ...

    async def fail(self, task: Task, error: MaxError) -> None:
        """``running`` → ``failed`` with the error's message and ``completed_at`` (guarded as
        :meth:`finish`, on the state and on the worker)."""
        ...

    async def get(self, task_id: str) -> Task | None: ...

    async def tasks(self, sync_id: str) -> Sequence[Task]: ...

    async def has_active_tasks(self, sync_id: str) -> bool:
        """True while some task of the sync is ``pending`` or ``running``."""
        ...

    async def count_by_state(self, sync_id: str) -> Mapping[TaskState, int]: ...

    async def interrupt(self, sync_id: str) -> int:
        """The process is stopping: ``running`` → ``pending``. Returns how many."""
        ...

    async def prepare_resume(self, sync_id: str, *, force: bool = False) -> int:
        """``failed``, ``running``, ``paused`` → ``pending`` (error cleared). Returns how many.

        A failed task's ``attempts`` grows by one. With ``force``, ``cancelled`` tasks come back
        too (to ``new`` while their blocker is not completed, ``awaiting_children`` if they have
        children, else ``pending``).
        """
        ...

    async def cancel_sync(self, sync_id: str) -> int:
        """Every non-terminal task of the sync → ``cancelled``. Returns how many."""
        ...

    async def complete_sync(self, sync_id: str, at: int, requests: int = 0) -> int:
        """The sync drained with every task completed: in one transaction, remove the rows its
        complete listings did not see, and mark the sync ``completed`` (with ``requests``).
        Returns how many rows were removed."""
        ...

    async def apply_changes(
        self,
        sync_id: str,
        changes: ChangeSet,
        *,
        started_at: int,
        at: int,
        requests: int = 0,
    ) -> int:
        """An incremental sync: in one transaction, create the sync record (``completed``,
        mode ``incremental``, ``feed_cursor = changes.cursor``), write ``changes.upserts`` as
        the sync's rows and delete ``changes.deletes``. Returns how many rows were removed."""
        ...


class SyncStore(Protocol):
    """Sync records (``_max_sync``)."""

    async def next_id(self) -> str:
        """``sync-<n>``, continuing after the highest stored number."""
        ...

    async def create(
        self,
        sync_id: str,
        started_at: int,
        *,
        mode: SyncMode = SyncMode.FULL,
        feed_cursor: str | None = None,
    ) -> SyncRecord:
        """A new ``running`` record; an existing id raises ``execution.sync_exists``.

        ``feed_cursor`` is the change-feed position a full sync read before listing anything;
        once the sync completes it is where the next incremental sync starts."""
        ...

    async def feed_cursor(self) -> str | None:
        """Where the next incremental sync starts: the cursor of the latest completed full or
        incremental sync, or None (never completed one: the next sync is full)."""
        ...

    async def set_status(self, sync_id: str, status: SyncStatus, at: int) -> None:
        """Terminal statuses also set ``completed_at``; others clear it.

        An unknown id raises ``execution.sync_not_found``.
        """
        ...

    async def get(self, sync_id: str) -> SyncRecord | None: ...

    async def list(self, limit: int = 10) -> Sequence[SyncRecord]:
        """Most recent first."""
        ...


class SyncMeta(Protocol):
    """Per-field sync times (``_max_sync_meta``), keyed by RefKey and field name."""

    async def record_field_sync_batch(self, entries: Sequence[FieldSyncEntry]) -> None: ...

    async def get_field_sync_time(self, ref_key: str, field: str) -> int | None: ...

    async def stale_fields(
        self, ref_key: str, fields: Sequence[str], max_age: timedelta, now_ms: int
    ) -> list[str]:
        """The fields never synced or synced more than ``max_age`` before ``now_ms``."""
        ...

    async def invalidate_fields(
        self, ref_key: str, fields: Sequence[str] | None = None
    ) -> None: ...
