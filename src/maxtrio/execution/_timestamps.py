"""Persisted timestamps: integer milliseconds since the Unix epoch (wall clock).

Durations and rate limits use ``trio.current_time()`` (so tests can run them on a MockClock);
only values written to a store (``created_at``, ``completed_at``, ``synced_at`` …) come from
here. Stores take a ``clock`` argument defaulting to :func:`wall_clock_ms` so tests can pin it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: A source of persisted timestamps (ms since the epoch).
Clock = Callable[[], int]


def wall_clock_ms() -> int:
    """Now, in integer milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000
