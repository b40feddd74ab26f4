"""Garbage collection during a sync: fewer collections while rows pour in.

A sync allocates millions of short-lived objects (decoded JSON, entity inputs, row tuples),
almost none of them in reference cycles. With CPython's default generation-0 threshold (700
allocations) the cyclic collector runs thousands of times during a 50,000-row sync and walks
every live page still waiting for the writer each time: about a third of the sync's time on
this workload. :func:`sync_gc` raises the threshold for as long as at least one sync runs in the
process (syncs may overlap in the daemon) and restores it after; cycles are still collected,
just in bigger batches.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Allocations between two generation-0 collections while a sync runs.
SYNC_GEN0_THRESHOLD = 100_000

_active = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def sync_gc() -> Iterator[None]:
    """Raise the generation-0 threshold for the block (nested and overlapping blocks share it)."""
    global _active, _saved
    if _active == 0:
        _saved = gc.get_threshold()
        gen0, gen1, gen2 = _saved
        gc.set_threshold(max(gen0, SYNC_GEN0_THRESHOLD), gen1, gen2)
    _active += 1
    try:
        yield
    finally:
        _active -= 1
        if _active == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None
