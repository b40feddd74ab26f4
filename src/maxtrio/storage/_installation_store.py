"""``InstallationStore``: everything one installation keeps in its ``data.db``, opened together.

The entity engine, the task store, the sync store and the sync meta share one
``SqliteDatabase`` (one writer connection, one writer limiter), which is what lets a task's
entity writes, sync-meta rows and state transition commit in one transaction.
"""

from __future__ import annotations

import os

import attrs

from maxtrio.core import Schema
from maxtrio.execution import Clock, wall_clock_ms

from ._database import SqliteDatabase
from ._sqlite_engine import SqliteEngine
from ._sync_meta import SqliteSyncMeta
from ._sync_store import SqliteSyncStore
from ._task_store import SqliteTaskStore


@attrs.frozen
class InstallationStore:
    """The four stores of one ``data.db``; closing it closes the shared database."""

    database: SqliteDatabase
    engine: SqliteEngine
    task_store: SqliteTaskStore
    sync_store: SqliteSyncStore
    sync_meta: SqliteSyncMeta

    def close(self) -> None:
        self.database.close()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> InstallationStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


def open_installation_store(
    path: str | os.PathLike[str], schema: Schema, *, clock: Clock = wall_clock_ms
) -> InstallationStore:
    """Open (creating if needed) ``path`` with the entity tables of ``schema`` and the
    execution tables; ``":memory:"`` gives a private in-memory database."""
    database = SqliteDatabase(path)
    try:
        engine = SqliteEngine(database, schema)
        return InstallationStore(
            database,
            engine,
            SqliteTaskStore(engine, clock=clock),
            SqliteSyncStore(database),
            SqliteSyncMeta(engine),
        )
    except BaseException:
        database.close()
        raise
