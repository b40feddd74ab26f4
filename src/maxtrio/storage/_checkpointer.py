"""Background checkpoints: the WAL is copied into the database file on a thread of its own.

In WAL mode every committed page is written twice: appended to ``data.db-wal`` at commit, then
copied into ``data.db`` by a *checkpoint*. SQLite's own automatic checkpoint runs inside the
commit that crosses its threshold, on the committing connection — for us the single writer,
so every write queued behind that commit waits for the copy (a first sync of 500k Acme rows:
about a second of its writer's time in checkpoints). A checkpoint needs neither the GIL nor the
write lock: SQLite lets one run on another connection while the writer appends new frames.

:class:`Checkpointer` does that. It is the writer connection's WAL hook (which also turns
SQLite's automatic checkpoint off for that connection): after a commit that leaves the WAL at
:data:`BACKGROUND_PAGES` pages or more, it wakes its thread, which runs a ``PASSIVE``
checkpoint on its own connection — copying every frame no reader still needs, while writes
and the event loop go on. The writer restarts the WAL from its beginning at its next
transaction once a pass has copied everything, so the WAL stays near the threshold (a 500k
first sync: ~40 MiB at most until its last transaction, which builds the indexes and adds some
70 MiB at once) and ``data.db`` holds nearly every row at any time; the final ``TRUNCATE``
checkpoint of a sync (:meth:`SqliteDatabase.checkpoint`) copies only the rest.

One checkpoint runs at a time in a process (SQLite returns ``SQLITE_BUSY`` to a second):
:meth:`Checkpointer.exclusive` is how the database's own full checkpoint waits for a pass
instead of failing. A reader holding an old snapshot for long (another process's query) keeps
its frames in the WAL and the WAL grows meanwhile, as it would with SQLite's own checkpoints.

The thread starts at the first pass and is stopped and joined by :meth:`close`, which the
database calls before it closes its own connections; it runs nothing but checkpoints and
swallows their errors (a checkpoint that fails leaves the WAL as it was: nothing is lost, the
next pass or the final checkpoint copies it).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import apsw

#: WAL pages (4 KiB each) after a commit that start a background pass: 32 MiB. Lower means
#: more passes copying pages that are written again soon; higher, a larger WAL and a longer
#: final checkpoint.
BACKGROUND_PAGES = 8_000


class Checkpointer:
    """Background ``PASSIVE`` checkpoints of one database file, on its own connection."""

    def __init__(self, path: str, configure: Callable[[apsw.Connection], None]) -> None:
        self.path = path
        self._configure = configure
        self._lock = threading.Lock()  # held while any checkpoint of ours runs
        self._state = threading.Condition()  # guards the three flags below
        self._due = False  # a commit asked for a pass that has not started
        self._running = False  # a pass runs
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.passes = 0  # background passes run, for statistics

    def wal_hook(self, _conn: apsw.Connection, _name: str, pages: int) -> int:
        """The writer's WAL hook (called in the writer's thread after each commit)."""
        if pages >= BACKGROUND_PAGES:
            with self._state:
                if self._stopping:
                    return apsw.SQLITE_OK
                if self._thread is None:
                    thread = threading.Thread(
                        target=self._run, name=f"maxtrio-checkpoint {self.path}", daemon=True
                    )
                    try:
                        thread.start()
                    except RuntimeError:  # no thread to be had: the final checkpoint copies all
                        self._stopping = True
                        return apsw.SQLITE_OK
                    self._thread = thread
                self._due = True
                self._state.notify_all()
        return apsw.SQLITE_OK

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """No background pass runs inside this block (waits for a running one to end)."""
        with self._lock:
            yield

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no pass is asked for or running; False when ``timeout`` passed first."""
        with self._state:
            return self._state.wait_for(lambda: not (self._due or self._running), timeout)

    def _run(self) -> None:
        conn = None
        try:
            conn = apsw.Connection(self.path)
            self._configure(conn)
        except apsw.Error:  # the file went away: the writer's next commits say so
            if conn is not None:
                conn.close()
            with self._state:
                self._stopping, self._due = True, False
                self._state.notify_all()
            return
        try:
            while self._next():
                try:
                    with self._lock, contextlib.suppress(apsw.Error):
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                        self.passes += 1
                finally:
                    with self._state:
                        self._running = False
                        self._state.notify_all()
        finally:
            conn.close()

    def _next(self) -> bool:
        """Wait for a pass to run (True, marked running) or for :meth:`close` (False)."""
        with self._state:
            self._state.wait_for(lambda: self._due or self._stopping)
            if self._stopping:
                self._due = False
                self._state.notify_all()
                return False
            self._due, self._running = False, True
            return True

    def close(self) -> None:
        """Stop the thread (after the pass it runs, if any) and close its connection."""
        with self._state:
            self._stopping = True
            self._state.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
