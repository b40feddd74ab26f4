"""``InstallationStore``: everything one installation keeps in its ``data.db``, opened together.

The entity engine, the task store, the sync store and the sync meta share one
``SqliteDatabase`` (one writer connection, one writer limiter), which is what lets a task's
entity writes, sync-meta rows and state transition commit in one transaction. The same four
over one ``PgDatabase`` (an installation's schema on a PostgreSQL server) come from
``open_pg_installation_store`` (``_pg_installation_store``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import attrs

from maxtrio.core import Schema
from maxtrio.execution import Clock, wall_clock_ms

from ._database import SqliteDatabase
from ._sqlite_engine import SqliteEngine
from ._sync_meta import SqliteSyncMeta
from ._sync_store import SqliteSyncStore
from ._task_store import SqliteTaskStore

if TYPE_CHECKING:
    from ._pg_database import PgDatabase
    from ._pg_engine import PgEngine
    from ._pg_sync_meta import PgSyncMeta
    from ._pg_sync_store import PgSyncStore
    from ._pg_task_store import PgTaskStore


@attrs.frozen
class InstallationStore:
    """The four stores of one ``data.db`` (or PostgreSQL schema); closing it closes the shared
    database."""

    database: SqliteDatabase | PgDatabase
    engine: SqliteEngine | PgEngine
    task_store: SqliteTaskStore | PgTaskStore
    sync_store: SqliteSyncStore | PgSyncStore
    sync_meta: SqliteSyncMeta | PgSyncMeta

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
    return assemble_stores(
        SqliteDatabase(path),
        schema,
        clock,
        (SqliteEngine, SqliteTaskStore, SqliteSyncStore, SqliteSyncMeta),
    )


def assemble_stores(
    database: Any, schema: Schema, clock: Clock, kinds: tuple[Any, Any, Any, Any]
) -> InstallationStore:
    """The engine, task store, sync store and sync meta of ``kinds`` on ``database`` (which
    is closed again if any of them fails to open)."""
    engine_type, task_store_type, sync_store_type, sync_meta_type = kinds
    try:
        engine = engine_type(database, schema)
        return InstallationStore(
            database,
            engine,
            task_store_type(engine, clock=clock),
            sync_store_type(database),
            sync_meta_type(engine),
        )
    except BaseException:
        database.close()
        raise
