"""The SQLite database under the engine: WAL, connections, transactions, cancellation and
failures (docs/architecture.md, principles 1 and 3)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apsw
import pytest
import trio
import trio.testing

from maxtrio.core import EntityInput
from maxtrio.storage import SqliteDatabase, SqliteEngine
from maxtrio.storage import _checkpointer as checkpointer_module
from maxtrio.storage import _database as database_module

from .entities import ACME, AcmeProject, AcmeTask, AcmeUser, all_ids, raises_max


def pragma(conn: apsw.Connection, name: str) -> Any:
    return next(iter(conn.execute(f"PRAGMA {name}")))[0]


def count_rows(path: Path, table: str) -> int:
    """Rows committed to the file, seen through a connection of our own."""
    conn = apsw.Connection(str(path))
    try:
        return int(next(iter(conn.execute(f'SELECT count(*) FROM "{table}"')))[0])
    finally:
        conn.close()


def mixed_batch(size: int) -> list[EntityInput]:
    """A batch of several runs (types and field sets alternate), so it is written in steps."""
    batch: list[EntityInput] = []
    for i in range(size):
        batch.append(AcmeUser.input(f"u{i}", displayName=f"user {i}"))
        batch.append(AcmeProject.input(f"p{i}", name=f"project {i}", owner=f"u{i}"))
    return batch


class TestConnections:
    def test_a_file_database_uses_wal_and_two_connections(self, db_path: Path) -> None:
        database = SqliteDatabase(db_path)
        try:
            assert database.reader is not database.writer
            for conn in (database.reader, database.writer):
                assert pragma(conn, "journal_mode") == "wal"
                assert pragma(conn, "synchronous") == 1  # NORMAL
                assert pragma(conn, "busy_timeout") == database_module.BUSY_TIMEOUT_MS
            # Temporary data goes to files the OS caches, not into the process (the sort that
            # builds a bulk-loaded table's id index, a big ``max sql`` sort).
            for conn in (database.reader, database.writer):
                assert pragma(conn, "temp_store") == 0  # the build's default (files)
        finally:
            database.close()

    async def test_the_writer_cache_grows_with_the_file_within_its_bounds(
        self, db_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A share of the file (so the id indexes of big tables stay cached), never below the
        default nor above the cap; the reader keeps the default."""
        monkeypatch.setattr(database_module, "CACHE_KIB", 64)
        monkeypatch.setattr(database_module, "MAX_WRITER_CACHE_KIB", 512)
        monkeypatch.setattr(database_module, "CACHE_REVIEW_EVERY", 1)
        share = database_module.WRITER_CACHE_SHARE
        database = SqliteDatabase(db_path)
        try:

            def fill(conn: apsw.Connection, blobs: int) -> None:
                conn.execute("CREATE TABLE IF NOT EXISTS t (b BLOB)")
                conn.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4000,)] * blobs)

            sizes = []
            for blobs in (10, 300, 300, 2_000, 0):
                await database.write(lambda conn, n=blobs: fill(conn, n))
                sizes.append(database.writer_cache_kib)
            # Each transaction looks at the file as the ones before it left it.
            assert sizes[0] == 64  # a small file: the default
            assert sizes[2] == pytest.approx(310 * 4 / share, rel=0.2)  # 310 pages of blobs
            assert sizes[-1] == 512  # ~10 MB: capped
            assert pragma(database.writer, "cache_size") == -512
            assert pragma(database.reader, "cache_size") == -64
        finally:
            database.close()

    def test_an_in_memory_database_has_one_connection(self) -> None:
        database = SqliteDatabase(":memory:")
        try:
            assert database.memory
            assert database.reader is database.writer
            assert database.read_limiter is database.write_limiter
        finally:
            database.close()

    def test_opening_creates_missing_parent_directories(self, tmp_path: Path) -> None:
        path = tmp_path / "a" / "b" / "data.db"
        SqliteEngine.open(path, ACME).close()
        assert path.is_file()

    async def test_a_second_engine_on_the_same_file_sees_committed_rows(
        self, db_path: Path
    ) -> None:
        async with (
            SqliteEngine.open(db_path, ACME) as first,
            SqliteEngine.open(db_path, ACME) as second,
        ):
            await first.store(AcmeUser.input("u1", displayName="Alice"))
            assert await second.load_field(AcmeUser.ref("u1"), "displayName") == "Alice"
            await second.store(AcmeUser.input("u1", email="alice@acme.test"))
            loaded = await first.load(AcmeUser.ref("u1"))
            assert (loaded.get("displayName"), loaded.get("email")) == ("Alice", "alice@acme.test")

    async def test_readers_do_not_see_or_wait_for_an_open_transaction(
        self, sqlite_engine: SqliteEngine, db_path: Path
    ) -> None:
        """WAL: another process's uncommitted write is invisible and does not block reads."""
        await sqlite_engine.store(AcmeUser.input("u1"))
        other = apsw.Connection(str(db_path))
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO \"_acme_user\" (_id) VALUES ('u2')")
            assert await all_ids(sqlite_engine, AcmeUser) == ["u1"]
            other.execute("COMMIT")
        finally:
            other.close()
        assert await all_ids(sqlite_engine, AcmeUser) == ["u1", "u2"]

    async def test_close_is_idempotent_and_async_with_closes(self, db_path: Path) -> None:
        async with SqliteEngine.open(db_path, ACME) as engine:
            await engine.store(AcmeUser.input("u1"))
        with pytest.raises(apsw.ConnectionClosedError):
            engine.database.reader.execute("SELECT 1")
        engine.close()
        await engine.aclose()
        assert count_rows(db_path, "_acme_user") == 1

    def test_statistics(self, sqlite_engine: SqliteEngine, db_path: Path) -> None:
        stats = sqlite_engine.database.statistics()
        assert stats["path"] == str(db_path)
        assert stats["writer"].total_tokens == 1
        assert stats["writer"].borrowed_tokens == 0


class TestTransactions:
    async def test_an_exception_inside_a_write_rolls_everything_back(
        self, sqlite_engine: SqliteEngine, db_path: Path
    ) -> None:
        def half_then_fail(conn: apsw.Connection) -> None:
            conn.execute("INSERT INTO \"_acme_user\" (_id) VALUES ('u1')")
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await sqlite_engine.database.write(half_then_fail)
        assert count_rows(db_path, "_acme_user") == 0
        await sqlite_engine.store(AcmeUser.input("u2"))  # the writer is usable again
        assert count_rows(db_path, "_acme_user") == 1

    async def test_a_sqlite_error_inside_a_write_is_a_max_error(
        self, sqlite_engine: SqliteEngine, db_path: Path
    ) -> None:
        def bad_sql(conn: apsw.Connection) -> None:
            conn.execute("INSERT INTO \"_acme_user\" (_id) VALUES ('u1')")
            conn.execute("INSERT INTO no_such_table VALUES (1)")

        with raises_max("storage.write_failed") as caught:
            await sqlite_engine.database.write(bad_sql)
        assert "no such table" in caught.value.message
        assert str(db_path) in caught.value.message
        assert count_rows(db_path, "_acme_user") == 0

    async def test_a_crash_between_runs_of_a_batch_writes_none_of_it(
        self, sqlite_engine: SqliteEngine, db_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        apply = SqliteEngine.apply_writes

        def first_run_then_crash(conn: apsw.Connection, runs: list[Any]) -> None:
            apply(conn, runs[:1])
            raise KeyboardInterrupt

        monkeypatch.setattr(SqliteEngine, "apply_writes", staticmethod(first_run_then_crash))
        with pytest.raises(KeyboardInterrupt):
            await sqlite_engine.store_many(mixed_batch(10))
        assert count_rows(db_path, "_acme_user") == 0
        assert count_rows(db_path, "_acme_project") == 0

    async def test_a_locked_database_is_a_write_failed_error(
        self, db_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 20)
        async with SqliteEngine.open(db_path, ACME) as engine:
            other = apsw.Connection(str(db_path))
            try:
                other.execute("BEGIN IMMEDIATE")
                with raises_max("storage.write_failed") as caught:
                    await engine.store(AcmeUser.input("u1"))
                assert "locked" in caught.value.message
                other.execute("ROLLBACK")
            finally:
                other.close()
            await engine.store(AcmeUser.input("u1"))
            assert await engine.count(AcmeUser) == 1


class TestCancellation:
    async def test_cancelling_a_store_mid_transaction_keeps_the_whole_batch(
        self, sqlite_engine: SqliteEngine, db_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The writer thread is not abandoned: the transaction it started commits whole."""
        inside = threading.Event()
        release = threading.Event()
        apply = SqliteEngine.apply_writes

        def paused_after_first_run(conn: apsw.Connection, runs: list[Any]) -> None:
            apply(conn, runs[:1])
            inside.set()
            release.wait(10)
            apply(conn, runs[1:])

        monkeypatch.setattr(SqliteEngine, "apply_writes", staticmethod(paused_after_first_run))
        scope = trio.CancelScope()

        async def store() -> None:
            with scope:
                await sqlite_engine.store_many(mixed_batch(50))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(store)
            await trio.to_thread.run_sync(inside.wait)
            assert count_rows(db_path, "_acme_user") == 0  # nothing committed yet
            scope.cancel()
            await trio.testing.wait_all_tasks_blocked()
            release.set()
        assert count_rows(db_path, "_acme_user") == 50
        assert count_rows(db_path, "_acme_project") == 50

    async def test_cancelling_a_store_waiting_for_the_writer_writes_nothing(
        self, sqlite_engine: SqliteEngine, db_path: Path
    ) -> None:
        release = threading.Event()
        holding = trio.Event()

        async def hold_the_writer() -> None:
            await sqlite_engine.database.write(lambda conn: holding_then_wait(release))

        def holding_then_wait(event: threading.Event) -> None:
            trio.from_thread.run_sync(holding.set)
            event.wait(10)

        scope = trio.CancelScope()

        async def store() -> None:
            with scope:
                await sqlite_engine.store_many(mixed_batch(20))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(hold_the_writer)
            await holding.wait()
            nursery.start_soon(store)
            await trio.testing.wait_all_tasks_blocked()
            scope.cancel()
            await trio.testing.wait_all_tasks_blocked()
            release.set()
        assert scope.cancelled_caught
        assert count_rows(db_path, "_acme_user") == 0
        await sqlite_engine.store_many(mixed_batch(3))
        assert count_rows(db_path, "_acme_user") == 3

    async def test_a_deadline_around_a_big_store_gives_all_or_nothing(
        self, sqlite_engine: SqliteEngine, db_path: Path
    ) -> None:
        batch = [AcmeTask.input(f"t{i:05d}", title=f"task {i}", priority=i) for i in range(10_000)]
        for deadline in (0.0, 0.001, 0.01):
            with trio.move_on_after(deadline):
                await sqlite_engine.store_many(batch)
            assert count_rows(db_path, "_acme_task") in (0, len(batch))


class TestOpenFailures:
    @pytest.mark.parametrize(
        "make_path",
        [
            lambda tmp: tmp,  # a directory
            lambda tmp: _file(tmp / "plain") / "data.db",  # parent is a file
        ],
        ids=["directory", "parent-is-a-file"],
    )
    def test_an_unopenable_path(self, tmp_path: Path, make_path: Callable[[Path], Path]) -> None:
        path = make_path(tmp_path)
        with raises_max("storage.open_failed") as caught:
            SqliteEngine.open(path, ACME)
        assert caught.value.has("NotFound")
        assert caught.value.message.startswith(f"Could not open database {path}: ")

    def test_a_file_that_is_not_a_database(self, tmp_path: Path) -> None:
        path = tmp_path / "data.db"
        path.write_bytes(b"this is not a SQLite database\n" * 200)
        with raises_max("storage.open_failed") as caught:
            SqliteEngine.open(path, ACME)
        assert "not a database" in caught.value.message


def _file(path: Path) -> Path:
    path.write_text("not a directory")
    return path


class TestGroupCommitCancellation:
    async def test_a_leader_cancelled_before_its_transaction_does_not_strand_later_writes(
        self, db_path: Path
    ) -> None:
        """A leads; B and C queue behind it; B is handed the lead with C in its group, but the
        writer is busy; then C and B are cancelled. Neither ran, and a later write still runs
        (it used to wait forever: C was handed the lead while unwinding and never took it)."""
        database = SqliteDatabase(db_path)
        database.write_sync(lambda conn: conn.execute("CREATE TABLE t (v)"))

        def insert(value: str) -> Callable[[apsw.Connection], None]:
            return lambda conn: conn.execute("INSERT INTO t VALUES (?)", (value,))

        gate = threading.Event()
        a_done = trio.Event()

        def blocked_insert(conn: apsw.Connection) -> None:
            gate.wait()
            insert("a")(conn)

        async def write_a() -> None:
            await database.write(blocked_insert)
            a_done.set()

        async def write_cancellable(value: str, scope: trio.CancelScope) -> None:
            with scope:
                await database.write(insert(value))

        b_scope, c_scope = trio.CancelScope(), trio.CancelScope()
        busy = object()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(write_a)
                await trio.testing.wait_all_tasks_blocked()
                nursery.start_soon(write_cancellable, "b", b_scope)
                await trio.testing.wait_all_tasks_blocked()
                nursery.start_soon(write_cancellable, "c", c_scope)
                await trio.testing.wait_all_tasks_blocked()
                nursery.start_soon(database.write_limiter.acquire_on_behalf_of, busy)
                await trio.testing.wait_all_tasks_blocked()
                gate.set()
                await a_done.wait()
                await trio.testing.wait_all_tasks_blocked()
                assert database.write_limiter.statistics().tasks_waiting == 1  # B, leading
                c_scope.cancel()
                await trio.testing.wait_all_tasks_blocked()
                b_scope.cancel()
                await trio.testing.wait_all_tasks_blocked()
                database.write_limiter.release_on_behalf_of(busy)
                with trio.fail_after(10):
                    await database.write(insert("d"))
            assert b_scope.cancelled_caught and c_scope.cancelled_caught
            assert [v for (v,) in database.reader.execute("SELECT v FROM t ORDER BY v")] == [
                "a",
                "d",
            ]
        finally:
            database.close()


class TestGroupCommit:
    async def test_writes_queued_together_share_one_transaction(self, db_path: Path) -> None:
        database = SqliteDatabase(db_path)
        database.write_sync(lambda conn: conn.execute("CREATE TABLE t (v)"))
        gate = threading.Event()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(database.write, lambda conn: gate.wait())
                await trio.testing.wait_all_tasks_blocked()
                for value in "abc":
                    nursery.start_soon(
                        database.write,
                        lambda conn, v=value: conn.execute("INSERT INTO t VALUES (?)", (v,)),
                    )
                await trio.testing.wait_all_tasks_blocked()
                gate.set()
            assert database.transactions == 2  # the gate's, then a, b and c together
            assert [v for (v,) in database.reader.execute("SELECT v FROM t ORDER BY v")] == [
                "a",
                "b",
                "c",
            ]
        finally:
            database.close()

    async def test_a_failing_write_fails_alone_and_the_others_of_its_group_commit(
        self, db_path: Path
    ) -> None:
        """A group runs without savepoints; when one of its writes raises, everything rolls
        back and each write runs again in a transaction of its own: the first write of the
        group runs twice (its first run undone), the failing one fails for its caller only,
        the last one commits."""
        database = SqliteDatabase(db_path)
        database.write_sync(lambda conn: conn.execute("CREATE TABLE t (v UNIQUE)"))
        gate = threading.Event()
        runs: list[str] = []
        outcomes: dict[str, object] = {}

        def insert(value: str) -> Callable[[apsw.Connection], int]:
            def fn(conn: apsw.Connection) -> int:
                runs.append(value)
                conn.execute("INSERT INTO t VALUES (?)", (value,))
                if value == "bad":
                    raise RuntimeError("boom")
                return int(next(iter(conn.execute("SELECT count(*) FROM t")))[0])

            return fn

        async def write(value: str) -> None:
            try:
                outcomes[value] = await database.write(insert(value))
            except RuntimeError as exc:
                outcomes[value] = exc

        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(database.write, lambda conn: gate.wait())
                await trio.testing.wait_all_tasks_blocked()
                for value in ("first", "bad", "last"):
                    nursery.start_soon(write, value)
                    await trio.testing.wait_all_tasks_blocked()
                gate.set()
            assert runs == ["first", "bad", "first", "bad", "last"]
            assert outcomes["first"] == 1 and outcomes["last"] == 2
            assert isinstance(outcomes["bad"], RuntimeError)
            assert [v for (v,) in database.reader.execute("SELECT v FROM t ORDER BY v")] == [
                "first",
                "last",
            ]
            # The writer is usable again and holds no transaction.
            assert not database.writer.in_transaction
        finally:
            database.close()


class TestBackgroundCheckpoints:
    """The WAL is copied into the file on a thread of its own once it passes a threshold (here
    a few pages), while the writer goes on; the database's own checkpoint copies the rest."""

    @pytest.fixture(autouse=True)
    def small_threshold(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(checkpointer_module, "BACKGROUND_PAGES", 16)

    @staticmethod
    def fill(database: SqliteDatabase, rows: range) -> None:
        database.write_sync(
            lambda conn: conn.executemany(
                "INSERT INTO t VALUES (?, ?)", [(i, "x" * 500) for i in rows]
            )
        )

    @staticmethod
    def rows_in_the_file_alone(path: Path, tmp: Path) -> int:
        """The rows a copy of ``data.db`` without its ``-wal`` holds."""
        copy = tmp / "copy.db"
        copy.write_bytes(path.read_bytes())
        return count_rows(copy, "t")

    def test_a_growing_wal_is_copied_into_the_file_while_writes_go_on(
        self, db_path: Path, tmp_path: Path
    ) -> None:
        database = SqliteDatabase(db_path)
        try:
            assert database.checkpointer is not None
            database.write_sync(lambda conn: conn.execute("CREATE TABLE t (i, v)"))
            wal = Path(f"{db_path}-wal")
            largest = 0
            for start in range(0, 4000, 200):
                self.fill(database, range(start, start + 200))  # ~25 pages a commit
                assert database.checkpointer.wait_idle(timeout=30)
                # Every row committed before the last pass is in the file itself.
                assert self.rows_in_the_file_alone(db_path, tmp_path) == start + 200
                largest = max(largest, wal.stat().st_size)
            assert database.checkpointer.passes >= 20
            # The writer restarts a WAL a pass copied whole: it never holds the 2 MB written.
            assert largest < 100 * 4096
        finally:
            database.close()

    async def test_the_final_checkpoint_waits_for_a_pass_instead_of_failing(
        self, db_path: Path
    ) -> None:
        """SQLite answers a second checkpoint running at once with SQLITE_BUSY; ours waits for
        the background pass and then copies and truncates everything."""
        database = SqliteDatabase(db_path)
        try:
            database.write_sync(lambda conn: conn.execute("CREATE TABLE t (i, v)"))
            for start in range(0, 3000, 100):
                self.fill(database, range(start, start + 100))  # each commit asks for a pass
                assert await database.checkpoint() == (0, 0, 0)  # never busy; WAL truncated
                assert Path(f"{db_path}-wal").stat().st_size == 0
        finally:
            database.close()

    def test_closing_stops_the_thread_and_leaves_no_wal(self, db_path: Path) -> None:
        database = SqliteDatabase(db_path)
        database.write_sync(lambda conn: conn.execute("CREATE TABLE t (i, v)"))
        self.fill(database, range(1000))
        assert any(t.name.startswith("maxtrio-checkpoint") for t in threading.enumerate())
        database.close()
        assert not any(t.name.startswith("maxtrio-checkpoint") for t in threading.enumerate())
        assert not Path(f"{db_path}-wal").exists()  # the last connection copied and removed it
        assert count_rows(db_path, "t") == 1000

    def test_an_in_memory_database_has_none(self) -> None:
        database = SqliteDatabase(":memory:")
        try:
            assert database.checkpointer is None
            assert database.checkpoint_sync() == (0, 0, 0)
        finally:
            database.close()
