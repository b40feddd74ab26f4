"""One SQLite database file: a writer connection, a reader connection, and the trio seam.

SQLite calls block, so every call runs in a worker thread through ``trio.to_thread.run_sync``:
writes through a ``CapacityLimiter(1)`` on the single writer connection (explicit
``BEGIN IMMEDIATE`` transactions, so a second process waits on ``busy_timeout`` instead of
failing), reads through their own limiter on a separate reader connection (WAL lets it read
while the writer writes). An in-memory database has one connection for both.

Thread calls are not abandoned on cancellation: a transaction that started always finishes
(commit or rollback) before the cancelled task unwinds, so the file never holds half a batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import apsw
import trio

from ._errors import ErrOpenFailed, ErrWriteFailed

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5_000


def _configure(conn: apsw.Connection, *, memory: bool) -> None:
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    if not memory:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")


class SqliteDatabase:
    """A SQLite file (or ``:memory:``) opened for one process."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:" or self.path == ""
        try:
            if not self.memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.writer = apsw.Connection(self.path)
            _configure(self.writer, memory=self.memory)
            if self.memory:
                self.reader = self.writer
            else:
                self.reader = apsw.Connection(self.path)
                _configure(self.reader, memory=False)
        except (apsw.Error, OSError) as exc:
            raise ErrOpenFailed(path=self.path, reason=_reason(exc)) from None
        self.write_limiter = trio.CapacityLimiter(1)
        self.read_limiter = self.write_limiter if self.memory else trio.CapacityLimiter(1)
        self._closed = False

    # -- synchronous core (runs in a worker thread) ------------------------------------------

    def write_sync(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(writer)`` inside one ``BEGIN IMMEDIATE`` transaction."""
        conn = self.writer
        try:
            conn.execute("BEGIN IMMEDIATE")
        except apsw.Error as exc:
            raise ErrWriteFailed(path=self.path, reason=_reason(exc)) from None
        try:
            result = fn(conn)
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, apsw.Error):
                raise ErrWriteFailed(path=self.path, reason=_reason(exc)) from None
            raise
        try:
            conn.execute("COMMIT")
        except apsw.Error as exc:
            conn.execute("ROLLBACK")
            raise ErrWriteFailed(path=self.path, reason=_reason(exc)) from None
        return result

    def read_sync(self, fn: Callable[[apsw.Connection], T]) -> T:
        return fn(self.reader)

    # -- async API ---------------------------------------------------------------------------

    async def write(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(writer)`` in one transaction, off the event loop, one writer at a time."""
        return await trio.to_thread.run_sync(self.write_sync, fn, limiter=self.write_limiter)

    async def read(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(reader)`` off the event loop."""
        return await trio.to_thread.run_sync(self.read_sync, fn, limiter=self.read_limiter)

    def statistics(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "writer": self.write_limiter.statistics(),
            "reader": self.read_limiter.statistics(),
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.reader is not self.writer:
            self.reader.close()
        self.writer.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
