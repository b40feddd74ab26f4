"""``PgSyncStore``: sync records in ``_max_sync`` of an installation's PostgreSQL schema — the
``SqlSyncStore`` of ``_sync_store`` (which says what the records mean) in PostgreSQL's dialect.
"""

from __future__ import annotations

from ._pg_database import PgDatabase
from ._pg_execution_tables import ensure_pg_execution_tables
from ._pg_store_dialect import POSTGRESQL_STORES
from ._sync_store import SqlSyncStore


class PgSyncStore(SqlSyncStore):
    """The ``SyncStore`` protocol over ``_max_sync`` in one ``PgDatabase``."""

    dialect = POSTGRESQL_STORES
    max_number_sql = (
        "SELECT coalesce(max(CAST(substr(id, 6) AS bigint)), 0) FROM _max_sync "
        "WHERE id ~ '^sync-[0-9]{1,18}$'"
    )

    def __init__(self, database: PgDatabase) -> None:
        super().__init__(database)
        database.write_sync(ensure_pg_execution_tables)
