"""How the execution stores speak to their database: :class:`StoreDialect` (SQLite, apsw).

The task store, the sync store, the sync meta and the sync-state functions are written once,
with ``?`` parameters, against this small interface; ``_pg_store_dialect`` speaks PostgreSQL
(psycopg). What differs between the two databases and is more than spelling — how task ids
are handed out, how tasks are claimed — stays in each task store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

#: A result row, as the execution stores read it.
Row = tuple[Any, ...]


class StoreDialect:
    """SQLite through apsw (the default)."""

    #: The integer type of a cast (masks are 64-bit).
    integer = "INTEGER"
    #: ``_max_sync``'s number column (a sync's identity in ``_seen``), ``_max_tasks``'s order.
    sync_number = "rowid"
    task_order = "rowid"
    #: The two-argument minimum.
    least = "min"

    def sql(self, text: str) -> str:
        """``text`` (written with ``?`` parameters) in this database's spelling."""
        return text

    def rows(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of ``sql`` (consumed at once, so a ``RETURNING`` statement completes)."""
        return [tuple(row) for row in conn.execute(self.sql(sql), params)]

    def run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute ``sql``; how many rows it changed (its own, not its triggers')."""
        conn.execute(self.sql(sql), params)
        return int(conn.changes())

    def run_many(self, conn: Any, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        conn.executemany(self.sql(sql), rows)

    def key(self, text: str) -> str:
        """An id (entity, parent) as the tables store it."""
        return text

    def unkey(self, stored: str) -> str:
        return stored

    def in_list(self, values: Sequence[str]) -> tuple[str, Any]:
        """``IN …`` a list of stored ids, and its one parameter."""
        return "IN (SELECT value FROM json_each(?))", json.dumps([self.key(v) for v in values])


SQLITE = StoreDialect()
