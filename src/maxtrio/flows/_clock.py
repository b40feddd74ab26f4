"""A strictly increasing millisecond clock for every timestamp the server writes.

The reference test-suite asserts *strict* ordering between a dependency's ``completed_at`` and
its dependant's ``started_at``; an event-driven scheduler can write both within the same
millisecond, so each reading is ``max(now_ms, previous + 1)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class MonotonicMsClock:
    """Epoch milliseconds that never repeat and never go backwards within one process.

    Thread-safe: the store calls it from worker threads.
    """

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            reading = max(int(self._source() * 1000), self._last + 1)
            self._last = reading
            return reading
