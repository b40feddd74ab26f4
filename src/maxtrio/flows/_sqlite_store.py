"""The apsw implementation of :class:`~maxtrio.flows._store.FlowStore` over ``maxq.db``.

The statements are :class:`~maxtrio.flows._sql_store.SqlFlowStore`'s; this module opens the
file (creating the schema when absent, keeping a reference-created one as it is) and runs them.
Every write is one ``BEGIN IMMEDIATE`` transaction (WAL, busy timeout 5 s, foreign keys on), so
one writer at a time, across processes too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import apsw

from ._clock import MonotonicMsClock
from ._errors import ErrStepIdTaken
from ._models import dump_json
from ._schema import KNEX_MIGRATION_ROW, KNEX_TABLES, MIGRATION_NAME, TABLES
from ._sql_store import SqlFlowStore, in_worker_thread

BUSY_TIMEOUT_MS = 5000


class SqliteFlowStore(SqlFlowStore):
    """``maxq.db`` through apsw. Create with :meth:`open`; close with :meth:`close`."""

    def __init__(self, connection: apsw.Connection, clock: MonotonicMsClock) -> None:
        super().__init__(clock)
        self._db = connection

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str | os.PathLike[str], clock: MonotonicMsClock) -> SqliteFlowStore:
        """Open (creating directory, file and schema when absent) the database at ``path``."""
        import trio

        connection = await trio.to_thread.run_sync(cls._connect, Path(path), clock)
        return cls(connection, clock)

    @staticmethod
    def _connect(path: Path, clock: MonotonicMsClock) -> apsw.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = apsw.Connection(str(path))
        connection.setbusytimeout(BUSY_TIMEOUT_MS)
        with contextlib.suppress(apsw.BusyError):
            # Needs a moment of exclusive access; if another process holds the file right
            # now, keep its journal mode (WAL is an optimisation, not a requirement).
            connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(TABLES)
            knex_present = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'knex_migrations'"
            ).fetchone()
            if knex_present is None:
                connection.execute(KNEX_TABLES)
                connection.execute(KNEX_MIGRATION_ROW, (MIGRATION_NAME, clock.now()))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            connection.close()
            raise
        return connection

    @in_worker_thread
    def close(self) -> None:
        self._db.close()

    @in_worker_thread
    def ping(self) -> bool:
        try:
            return bool(self._one("SELECT 1") == (1,))
        except apsw.Error:
            return False

    # -- primitives ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._db.execute(sql, params)
        return int(self._db.changes())

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._db.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._db.execute(sql, params).fetchall()

    def _insert_steps(self, run_id: str, rows: list[tuple[Any, ...]]) -> None:
        try:
            super()._insert_steps(run_id, rows)
        except apsw.ConstraintError:
            # A reference-created file keys steps by id alone (Decision D1).
            taken = self._one(
                f"SELECT id FROM step WHERE run_id != ? AND {self.in_json_list('id')} LIMIT 1",
                (run_id, dump_json([row[0] for row in rows])),
            )
            if taken is not None:
                raise ErrStepIdTaken(step=taken[0]) from None
            raise
