"""What a task store's ``finish`` writes, prepared on the event loop for either database.

:func:`plan_finish` turns a :class:`~maxtrio.execution.TaskOutcome` into the parts the SQLite
and PostgreSQL task stores commit in one transaction: the engine's prepared entity writes
(stamped as the sync's write when ``synced_at`` is set), explicit freshness rows, complete
listings, the children's payloads and the state the task moves to.
"""

from __future__ import annotations

from typing import Any

import attrs

from maxtrio.execution import (
    FieldSyncRow,
    TaskOutcome,
    TaskState,
    field_sync_rows,
    payload_to_json,
)

from ._engine_writes import PreparedWrites
from ._sync_state import ListingRow
from ._table import SyncStamp
from ._text_index import WriteRun


@attrs.frozen
class FinishPlan:
    runs: list[WriteRun]
    meta_rows: list[FieldSyncRow]
    listings: list[ListingRow]
    children: list[str]  # payload JSON

    @property
    def to(self) -> TaskState:
        return TaskState.AWAITING_CHILDREN if self.children else TaskState.COMPLETED


def plan_finish(engine: PreparedWrites, outcome: TaskOutcome, number: int | None) -> FinishPlan:
    """Prepare ``outcome``; ``number`` is the sync's number when ``outcome.synced_at`` is set."""
    stamp: SyncStamp | None = None
    if outcome.synced_at is not None:
        stamp = SyncStamp(outcome.synced_at, number or 0)
    runs: list[Any] = engine.prepare_writes(outcome.entities, stamp) if outcome.entities else []
    meta_rows = list(field_sync_rows(outcome.sync_entries))
    if stamp is None:  # freshness given explicitly rather than by a sync's write
        meta_rows.extend(field_sync_rows((), outcome.sync_batches))
    listings = [
        ListingRow(x.parent_type, x.field, x.parent_id, x.entity_type, x.via)
        for x in outcome.listings
    ]
    return FinishPlan(runs, meta_rows, listings, [payload_to_json(p) for p in outcome.children])
