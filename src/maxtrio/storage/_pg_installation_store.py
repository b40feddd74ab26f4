"""``open_pg_installation_store``: an installation's four stores in a PostgreSQL schema (and
``drop_pg_installation_store``, the schema's end).

The entity engine, the task store, the sync store and the sync meta share one ``PgDatabase``
(one writer connection), so a task's entity writes, sync state and state transition commit in
one transaction, as on SQLite.
"""

from __future__ import annotations

from psycopg import sql

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


def drop_pg_installation_store(dsn: str, schema_name: str) -> None:
    """Drop the schema ``schema_name`` and everything in it: an installation's data going
    with ``max disconnect``. Nothing when it is not there; ``storage.store_unreachable`` when
    the server cannot be reached."""
    database = PgDatabase(dsn, schema_name)
    statement = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name))
    try:
        database.write_sync(lambda conn: conn.execute(statement))
    finally:
        database.close()
