"""``PgSyncMeta``: the ``SyncMeta`` protocol over the sync-state columns of PostgreSQL rows —
the ``RowSyncMeta`` of ``_sync_meta`` (which states its rules) in PostgreSQL's dialect."""

from __future__ import annotations

from ._pg_engine import PgEngine
from ._pg_store_dialect import POSTGRESQL_STORES
from ._sync_meta import RowSyncMeta


class PgSyncMeta(RowSyncMeta):
    """The ``SyncMeta`` protocol over the rows of one ``PgEngine``."""

    dialect = POSTGRESQL_STORES

    def __init__(self, engine: PgEngine) -> None:
        super().__init__(engine)
