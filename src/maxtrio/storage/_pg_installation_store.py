"""``open_pg_installation_store``: an installation's four stores in a PostgreSQL schema.

The entity engine, the task store, the sync store and the sync meta share one ``PgDatabase``
(one writer connection), so a task's entity writes, sync state and state transition commit in
one transaction, as on SQLite.
"""

from __future__ import annotations

from maxtrio.core import Schema
from maxtrio.execution import Clock, wall_clock_ms

from ._installation_store import InstallationStore, assemble_stores
from ._pg_database import PgDatabase
from ._pg_engine import PgEngine
from ._pg_sync_meta import PgSyncMeta
from ._pg_sync_store import PgSyncStore
from ._pg_task_store import PgTaskStore


def open_pg_installation_store(
    dsn: str, schema_name: str, schema: Schema, *, clock: Clock = wall_clock_ms
) -> InstallationStore:
    """Connect to ``dsn`` and open (creating if needed) the schema ``schema_name`` with the
    entity tables of ``schema`` and the execution tables."""
    return assemble_stores(
        PgDatabase(dsn, schema_name),
        schema,
        clock,
        (PgEngine, PgTaskStore, PgSyncStore, PgSyncMeta),
    )
