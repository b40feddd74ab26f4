"""One SQLite database file: a writer connection, a reader connection, and the trio seam.

SQLite calls block, so every call runs in a worker thread through ``trio.to_thread.run_sync``:
writes through a ``CapacityLimiter(1)`` on the single writer connection (explicit
``BEGIN IMMEDIATE`` transactions, so a second process waits on ``busy_timeout`` instead of
failing), reads through their own limiter on a separate reader connection (WAL lets it read
while the writer writes). An in-memory database has one connection for both.

**Group commit.** Concurrent :meth:`SqliteDatabase.write` calls share transactions: while one
transaction runs, later writes queue up, and the next transaction runs all of them. Each write
is still all-or-nothing and durable when its call returns, but a busy sync commits a few large
transactions instead of one per task. That matters because rows keyed by upstream ids land on
random B-tree pages: every transaction rewrites every page it touched, so fifty one-task
transactions write far more pages than five ten-task ones.

A group runs **optimistically**, without a savepoint per write: SQLite copies every page a
savepoint first changes into a sub-journal, which cost a 50k-row sync 8–15% of its write time
for a rollback that almost never happens. When a write of the group raises, the whole
transaction rolls back and the group's writes run again one transaction each, in order, so the
failing write fails alone and every other write commits as if the failure had not happened. A
write function may therefore run twice (the first run rolled back): it must be a function of
the database and of what it captured, with no other effect — every write of this package is.

No background task runs the queue: the caller that finds no transaction running leads — it
runs one transaction holding every queued write in a worker thread, then hands the lead to the
oldest write that queued meanwhile. Thread calls are not abandoned on cancellation: a
transaction that started always finishes (commit or rollback) before the cancelled task
unwinds, so the file never holds half a write; a write cancelled before its transaction ran it
is withdrawn and never runs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import apsw
import attrs
import outcome
import trio

from ._checkpointer import Checkpointer
from ._errors import ErrOpenFailed, ErrWriteFailed

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5_000
#: SQLite page cache per connection, in KiB (negative = KiB for ``PRAGMA cache_size``).
CACHE_KIB = 8 * 1024
#: The writer's cache grows with the file: a 1/:data:`WRITER_CACHE_SHARE` share of it, between
#: :data:`CACHE_KIB` and :data:`MAX_WRITER_CACHE_KIB`. Upserts keyed by upstream ids probe and
#: change random pages of each table's id index; once the indexes outgrow the cache every probe
#: is a read from the OS and the cost per row climbs with the table (8 MiB at 500k Acme rows:
#: 2.6 GiB of page reads in one sync). The id indexes are about a tenth of an entity file.
WRITER_CACHE_SHARE = 8
MAX_WRITER_CACHE_KIB = 64 * 1024
#: Write transactions between two looks at the file's size for the writer's cache.
CACHE_REVIEW_EVERY = 16


#: The background checkpointer's page cache: it copies frames, nothing is worth keeping.
CHECKPOINTER_CACHE_KIB = 64


def _configure(
    conn: apsw.Connection, *, memory: bool = False, cache_kib: int | None = None
) -> None:
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    if not memory:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB if cache_kib is None else cache_kib}")


@attrs.define(eq=False)
class _Write:
    """One queued write: its function, and what its caller waits for."""

    fn: Callable[[apsw.Connection], Any]
    done: trio.Event = attrs.field(factory=trio.Event)
    result: outcome.Outcome[Any] | None = None
    lead: bool = False  # set with ``done`` when this write is handed the lead
    withdrawn: bool = False  # its caller was cancelled after a leader took it: skip if not run


class SqliteDatabase:
    """A SQLite file (or ``:memory:``) opened for one process."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:" or self.path == ""
        try:
            if not self.memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                _owner_only(self.path)
            self.writer = apsw.Connection(self.path)
            _configure(self.writer, memory=self.memory)
            self.checkpointer: Checkpointer | None = None
            if self.memory:
                self.reader = self.writer
            else:
                self.reader = apsw.Connection(self.path)
                _configure(self.reader, memory=False)
                self.checkpointer = Checkpointer(
                    self.path, functools.partial(_configure, cache_kib=CHECKPOINTER_CACHE_KIB)
                )
                self.writer.set_wal_hook(self.checkpointer.wal_hook)
        except (apsw.Error, OSError) as exc:
            raise ErrOpenFailed(path=self.path, reason=_reason(exc)) from None
        self.write_limiter = trio.CapacityLimiter(1)
        self.read_limiter = self.write_limiter if self.memory else trio.CapacityLimiter(1)
        self._closed = False
        self._queue: list[_Write] = []
        self._leading = False
        self.transactions = 0  # write transactions committed or rolled back, for statistics
        self.writer_cache_kib = CACHE_KIB
        #: Keep the writer's cache at :data:`CACHE_KIB` whatever the file's size (a bulk load:
        #: it appends rows and probes no index, so a large cache only holds memory).
        self.writer_cache_held = False
        self.writes = 0  # writes run inside them

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

    def _run_group(self, group: list[_Write]) -> None:
        """One transaction for ``group`` if every write succeeds, else one each (worker thread)."""
        self.transactions += 1
        self.writes += len(group)
        if (self.transactions - 1) % CACHE_REVIEW_EVERY == 0 and not self.memory:
            self._review_writer_cache()
        if self._run_together(group):
            for write in group:  # a write raised: nothing of the group was kept
                write.result = None
                self._run_together([write])

    def _run_together(self, group: list[_Write]) -> bool:
        """Run ``group`` in one transaction and set each write's result. True: a write of a
        group of several raised and everything was rolled back (the results mean nothing); a
        group of one keeps its error as its result."""
        conn = self.writer
        try:
            conn.execute("BEGIN IMMEDIATE")
        except apsw.Error as exc:
            failed = outcome.Error(ErrWriteFailed(path=self.path, reason=_reason(exc)))
            for write in group:
                write.result = failed
            return False
        for write in group:
            if write.withdrawn:  # read under the GIL: either skipped here or run in full
                write.result = outcome.Error(RuntimeError("withdrawn: its caller was cancelled"))
                continue
            try:
                write.result = outcome.Value(write.fn(conn))
            except BaseException as exc:
                if conn.in_transaction:  # some errors (a full disk) end it themselves
                    conn.execute("ROLLBACK")
                if len(group) > 1:
                    return True
                if isinstance(exc, apsw.Error):
                    exc = ErrWriteFailed(path=self.path, reason=_reason(exc))
                write.result = outcome.Error(exc)
                return False
        try:
            conn.execute("COMMIT")
        except apsw.Error as exc:
            conn.execute("ROLLBACK")
            failed = outcome.Error(ErrWriteFailed(path=self.path, reason=_reason(exc)))
            for write in group:
                if isinstance(write.result, outcome.Value):
                    write.result = failed
        return False

    def hold_writer_cache(self, held: bool) -> None:
        """Keep the writer's cache at its minimum (True) or let it follow the file again,
        from the next look at the file's size (worker thread)."""
        self.writer_cache_held = held
        if held and not self.memory:
            self._set_writer_cache(CACHE_KIB)

    def _review_writer_cache(self) -> None:
        """Resize the writer's page cache to its share of the file (worker thread)."""
        conn = self.writer
        pages = int(next(iter(conn.execute("PRAGMA page_count")))[0])
        page_size = int(next(iter(conn.execute("PRAGMA page_size")))[0])
        want = 0 if self.writer_cache_held else pages * page_size // 1024 // WRITER_CACHE_SHARE
        self._set_writer_cache(min(MAX_WRITER_CACHE_KIB, max(CACHE_KIB, want)))

    def _set_writer_cache(self, kib: int) -> None:
        if kib != self.writer_cache_kib:
            self.writer.execute(f"PRAGMA cache_size = -{kib}")
            self.writer_cache_kib = kib

    # -- async API ---------------------------------------------------------------------------

    async def write(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(writer)`` atomically, off the event loop; concurrent writes share commits.

        ``fn`` runs in a transaction that may hold other writes; if it raises, the transaction
        rolls back, the others run again without it, and the error is raised here (so ``fn``
        may run twice: see the module docstring).
        """
        write = _Write(fn)
        self._queue.append(write)
        if self._leading:
            try:
                await write.done.wait()
            except trio.Cancelled:
                if write in self._queue:  # not started (or handed the lead): withdraw
                    self._queue.remove(write)
                    if write.lead:
                        self._hand_on_lead()
                    raise
                # A leader took it: the transaction skips it unless it already ran it, and
                # either way ends before the cancellation goes on.
                write.withdrawn = True
                with trio.CancelScope(shield=True):
                    await write.done.wait()
                raise
            if not write.lead:
                assert write.result is not None
                return write.result.unwrap()  # type: ignore[no-any-return]
        result: T = await self._lead(write)
        return result

    async def _lead(self, write: _Write) -> Any:
        self._leading = True
        group = self._queue[:]
        self._queue.clear()
        ran = False
        try:
            await trio.to_thread.run_sync(self._run_group, group, limiter=self.write_limiter)
            ran = True
        finally:
            if not ran:  # cancelled before the thread started: requeue the others
                self._queue[:0] = [
                    w for w in group if w is not write and w.result is None and not w.withdrawn
                ]
            for other in group:
                if other is not write and (other.result is not None or other.withdrawn):
                    other.done.set()
            self._hand_on_lead()
        assert write.result is not None
        return write.result.unwrap()

    def _hand_on_lead(self) -> None:
        """Wake the oldest queued write as the next leader, or stop leading."""
        if self._queue:
            nxt = self._queue[0]
            nxt.lead = True
            nxt.done.set()
        else:
            self._leading = False

    def checkpoint_sync(self) -> tuple[int, int, int]:
        """Copy the whole WAL into the database file and truncate the WAL (worker thread).

        Returns SQLite's ``(busy, wal pages, pages checkpointed)``; ``busy`` is 1 when a reader
        of another connection kept part of the WAL alive past the busy timeout."""
        if self.checkpointer is None:
            return (0, 0, 0)
        with self.checkpointer.exclusive():  # a background pass would make it fail at once
            row = next(iter(self.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")))
        return (int(row[0]), int(row[1]), int(row[2]))

    async def checkpoint(self) -> tuple[int, int, int]:
        """:meth:`checkpoint_sync` off the event loop, between write transactions: afterwards
        ``data.db`` alone holds every committed row (copying it copies the data)."""
        return await trio.to_thread.run_sync(self.checkpoint_sync, limiter=self.write_limiter)

    async def read(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(reader)`` off the event loop."""
        return await trio.to_thread.run_sync(self.read_sync, fn, limiter=self.read_limiter)

    def statistics(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "writer": self.write_limiter.statistics(),
            "reader": self.read_limiter.statistics(),
            "queued_writes": len(self._queue),
            "transactions": self.transactions,
            "writes": self.writes,
            "writer_cache_kib": self.writer_cache_kib,
            "checkpoint_passes": self.checkpointer.passes if self.checkpointer else 0,
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.checkpointer is not None:
            self.checkpointer.close()
        if self.reader is not self.writer:
            self.reader.close()
        self.writer.close()


def _owner_only(path: str) -> None:
    """Create ``path`` readable and writable by its owner only (SQLite gives ``-wal`` and
    ``-shm`` the same mode), or take group and other access away from an existing file."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
        return
    os.close(fd)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
