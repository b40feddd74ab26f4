"""One entity table in PostgreSQL: typed columns, migration and the upserts' spelling.

The layout is SQLite's (docs/storage.md) with PostgreSQL types: ``_id text PRIMARY KEY``,
string/date/ref ``text COLLATE "C"`` (byte order, as SQLite compares text), number
``double precision``, boolean ``boolean``, and the sync-state columns ``bigint``. The table
lives in the installation's schema (the connection's ``search_path``). Migration creates the
table or adds missing columns, never drops or retypes one; a column's sync-mask bit is its
position (``information_schema.columns.ordinal_position`` − 1, so ``_id`` is 0 as in SQLite).
A table with string fields gets a full-text index (``_pg_text``) at its first text query; it is
rebuilt when they change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from maxtrio.core import EntityDef, FieldKind

from ._naming import quote
from ._pg_text import index_ddl as text_index_ddl
from ._pg_text import index_name as text_index_name
from ._pg_values import pg_reader_for
from ._table import SYNC_COLUMNS, TableSpec

_TEXT = 'text COLLATE "C"'
PG_TYPES: dict[FieldKind, str] = {
    FieldKind.STRING: _TEXT,
    FieldKind.DATE: _TEXT,
    FieldKind.REF: _TEXT,
    FieldKind.NUMBER: "double precision",
    FieldKind.BOOLEAN: "boolean",
}


class PgTableSpec(TableSpec):
    """The PostgreSQL table of one registered entity type."""

    mark = "%s"
    least = "LEAST"
    value_reader = staticmethod(pg_reader_for)

    def __init__(self, entity: EntityDef, resolve: Callable[[str], EntityDef | None]) -> None:
        super().__init__(entity, resolve)
        self.text_index = None

    def existing(self, column: str) -> str:
        """PostgreSQL needs the table's name: the bare name is ambiguous with ``excluded``'s."""
        return f"{self.quoted}.{column}"

    def create_sql(self) -> str:
        cols = "".join(f", {c.quoted} {PG_TYPES[c.kind]}" for c in self.columns)
        sync = "".join(f", {name} bigint" for name in SYNC_COLUMNS)
        return f"CREATE TABLE IF NOT EXISTS {self.quoted} (_id {_TEXT} PRIMARY KEY{cols}{sync})"

    def migrate(self, conn: Any) -> bool:
        """Create the table or add its missing columns (the caller holds the transaction)."""
        assert isinstance(conn, psycopg.Connection)
        existing = self._positions(conn)
        if not existing:
            conn.execute(self.create_sql())
        else:
            for c in self.columns:
                if c.name not in existing:
                    conn.execute(
                        f"ALTER TABLE {self.quoted} ADD COLUMN {c.quoted} {PG_TYPES[c.kind]}"
                    )
            for name in SYNC_COLUMNS:
                if name not in existing:
                    conn.execute(f"ALTER TABLE {self.quoted} ADD COLUMN {name} bigint")
        positions = self._positions(conn)
        self.positions = {c.field: positions[c.name] for c in self.columns}
        self._upsert_sql.clear()
        self._migrate_text_index(conn)
        return False

    def _migrate_text_index(self, conn: psycopg.Connection[Any]) -> None:
        """Drop a full-text index over another column list than the current string columns
        (``_pg_text``), and build the current one in its place: the index exists once a text
        query asked for it, and then follows the columns."""
        current = text_index_name(self)
        rows = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexname LIKE %s",
            (self.name, self.name.replace("_", "\\_") + "\\_\\_text\\_%"),
        ).fetchall()
        stale = [name for (name,) in rows if name != current]
        for name in stale:
            conn.execute(f"DROP INDEX IF EXISTS {quote(name)}")
        if stale:
            for statement in text_index_ddl(self):
                conn.execute(statement)

    def _positions(self, conn: psycopg.Connection[Any]) -> dict[str, int]:
        rows = conn.execute(
            "SELECT column_name, ordinal_position FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (self.name,),
        ).fetchall()
        return {str(name): int(position) - 1 for name, position in rows}
