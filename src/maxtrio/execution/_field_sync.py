"""Field-sync records as rows, and the freshness rule shared by every ``SyncMeta``.

A task outcome records freshness either entry by entry (:class:`FieldSyncEntry`) or as
compact batches (:class:`FieldSyncBatch`, every field of every ref at one time);
:func:`field_sync_rows` flattens both into ``(ref_key, field, synced_at)`` tuples without
building an object per pair, which is what the stores write.

Freshness: a field is fresh iff it was synced at or after
``now − max_age``; a field synced exactly ``max_age`` ago is fresh.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta

from ._stores import FieldSyncBatch, FieldSyncEntry

#: One ``_max_sync_meta`` row: ``(ref_key, field, synced_at)``.
FieldSyncRow = tuple[str, str, int]

_ROW = operator.attrgetter("ref_key", "field", "synced_at")


def field_sync_rows(
    entries: Sequence[FieldSyncEntry], batches: Iterable[FieldSyncBatch] = ()
) -> Iterator[FieldSyncRow]:
    """Every ``(ref_key, field, synced_at)`` of ``entries`` then of ``batches``, in order."""
    rows: Iterator[FieldSyncRow] = map(_ROW, entries)
    for batch in batches:
        product = itertools.product(batch.ref_keys, batch.fields, (batch.synced_at,))
        rows = itertools.chain(rows, product)
    return rows


def freshness_cutoff(now_ms: int, max_age: timedelta) -> int:
    """The oldest ``synced_at`` that is still fresh at ``now_ms`` (whole milliseconds)."""
    return now_ms - max_age // timedelta(milliseconds=1)
