"""``PgEngine``: the entity engine on PostgreSQL — a schema per installation, typed columns,
merge upserts, keyset cursors, and the filter language with SQLite's meaning.

It shares everything that is not SQL with ``SqliteEngine``: write validation and conversion
(``_engine_writes``), page planning and cursors (``_page_plan``), query compilation
(``_sql`` with the PostgreSQL dialect of ``_pg_sql``), the derived reads. Writes are
``INSERT … ON CONFLICT (_id) DO UPDATE SET`` of the given columns only, one ``executemany``
(psycopg pipelines it) per run of inputs with the same type and fields, the whole batch in one
transaction. Full-text search (``EntityQuery.text``) runs FTS5's query language as a
``tsquery`` on an expression GIN index of each table's string columns (``_pg_text``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import sql

from maxtrio.core import (
    ALL,
    EntityDef,
    EntityQuery,
    EntityResult,
    FieldSelector,
    Page,
    PageRequest,
    QueryItem,
    Ref,
    Schema,
)

from ._errors import ErrEntityNotFound
from ._naming import quote
from ._page_plan import plan_page
from ._pg_database import PgConnection, PgDatabase
from ._pg_sql import POSTGRESQL, REAL_TEXT_FUNCTION
from ._pg_table import PgTableSpec
from ._pg_text import index_ddl as text_index_ddl
from ._pg_text import index_name as text_index_name
from ._pg_text import text_columns
from ._pg_values import decode_text, encode_text, encode_texts, order_value, write_column
from ._sql import CompiledQuery, compile_query
from ._sql_engine import SqlEngineBase
from ._table import SyncStamp, TableSpec, table_specs
from ._text_index import WriteRun
from ._values import is_utf8_text, printable

#: Ordered queries on tables of at least this many rows create an index on the order column.
AUTO_INDEX_MIN_ROWS = 20_000


class PgEngine(SqlEngineBase):
    """Entity storage in one schema of a PostgreSQL database."""

    database: PgDatabase

    def __init__(self, database: PgDatabase, schema: Schema) -> None:
        self.database = database
        self.schema = schema
        self._tables = table_specs(schema, PgTableSpec)
        self._indexed: set[str] = set()
        database.write_sync(self._migrate)

    @classmethod
    def open(cls, dsn: str, schema_name: str, schema: Schema) -> PgEngine:
        """Connect, create the installation's schema if needed and bring its tables up to
        ``schema``."""
        database = PgDatabase(dsn, schema_name)
        try:
            return cls(database, schema)
        except BaseException:
            database.close()
            raise

    def _migrate(self, conn: PgConnection) -> None:
        # One migration at a time per schema: two workers opening a new installation at once
        # would otherwise race on CREATE … IF NOT EXISTS.
        name = self.database.schema
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("maxtrio:" + name,))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(name)))
        conn.execute(REAL_TEXT_FUNCTION)
        for table in self._tables.values():
            assert isinstance(table, PgTableSpec)
            table.migrate(conn)

    # -- writes ------------------------------------------------------------------------------

    def write_run(
        self,
        table: TableSpec,
        fields: tuple[str, ...],
        ids: Sequence[str],
        columns: list[Sequence[Any]],
        stamp: SyncStamp | None,
    ) -> WriteRun:
        kinds = [table.by_field[f].kind for f in fields]
        converted = [write_column(kind, col) for kind, col in zip(kinds, columns, strict=True)]
        rows = list(zip(encode_texts(ids), *converted))  # noqa: B905 - len(ids) values each
        return table.upsert_sql(fields, stamp), rows, None

    @staticmethod
    def apply_writes(conn: PgConnection, batches: list[WriteRun]) -> None:
        """Execute prepared runs on ``conn`` (the caller holds the transaction)."""
        with conn.cursor() as cursor:
            for statement, rows, _ in batches:
                cursor.executemany(statement, rows)

    def prepare_deletes(self, refs: Sequence[Ref]) -> list[tuple[str, list[str]]]:
        """One ``DELETE … WHERE _id = ANY(%s)`` per type, with its (stored) ids."""
        by_table: dict[str, list[str]] = {}
        for ref in refs:
            table = self.table(ref.entity_def)
            if is_utf8_text(ref.id):  # never stored otherwise
                by_table.setdefault(table.quoted, []).append(encode_text(ref.id))
        return [(f"DELETE FROM {name} WHERE _id = ANY(%s)", ids) for name, ids in by_table.items()]

    async def delete_many(self, refs: Sequence[Ref]) -> int:
        """Delete the rows of ``refs`` (missing ones are ignored); returns how many went."""
        runs = self.prepare_deletes(refs)
        return await self.database.write(lambda conn: self.apply_deletes(conn, runs)) if runs else 0

    @staticmethod
    def apply_deletes(conn: PgConnection, runs: list[tuple[str, list[str]]]) -> int:
        removed = 0
        for statement, ids in runs:
            removed += conn.execute(statement, (ids,)).rowcount
        return removed

    # -- reads -------------------------------------------------------------------------------

    async def load(self, ref: Ref, selector: FieldSelector = ALL) -> EntityResult:
        table = self.table(ref.entity_def)
        if not is_utf8_text(ref.id):  # never stored (see store_many)
            raise ErrEntityNotFound(entityType=ref.entity_type, entityId=printable(ref.id))
        columns = table.known_columns(None if selector.is_all else selector.fields)
        select = ", ".join(["_id", *(c.quoted for c in columns)])
        statement = f"SELECT {select} FROM {table.quoted} WHERE _id = %s"
        key = encode_text(ref.id)
        rows = await self.database.read(lambda conn: conn.execute(statement, (key,)).fetchall())
        if not rows:
            raise ErrEntityNotFound(entityType=ref.entity_type, entityId=printable(ref.id))
        return table.row_reader(columns)((ref.id, *rows[0][1:]))

    async def count(self, entity: EntityDef) -> int:
        table = self.table(entity)
        statement = f"SELECT count(*) FROM {table.quoted}"
        rows = await self.database.read(lambda conn: conn.execute(statement).fetchall())
        return int(rows[0][0])

    async def query(self, query: EntityQuery, page: PageRequest | None = None) -> Page[QueryItem]:
        table = self.table(query.entity)
        if query.text is not None:
            await self._ensure_text_index(table)
        plan = plan_page(table, query, page)
        compiled = compile_query(
            table,
            query,
            plan.columns,
            plan.fetch_size,
            plan.after_id,
            plan.after_keyset,
            plan.ranked_offset,
            POSTGRESQL,
        )
        if compiled.order_column is not None and query.ordering is not None:
            await self._ensure_order_index(table, compiled, query.ordering.descending)
        rows = await self.database.read(lambda conn: _fetch(conn, compiled))
        width = len(plan.columns) + 1
        ids = [decode_text(row[0]) for row in rows]
        if compiled.order_column is None:  # ordered by _id (or not ordered): the id is the value
            order_values: list[Any] = ids
        else:  # the raw order value is the last column
            kind = compiled.order_column.kind
            order_values = [order_value(kind, row[-1]) for row in rows]
        fetched = [(id_, *row[1:width]) for id_, row in zip(ids, rows, strict=True)]
        return plan.page(fetched, order_values)

    async def _ensure_text_index(self, table: TableSpec) -> None:
        """Build ``table``'s full-text index if it has none yet (``_pg_text``): the first text
        query of a table pays for it (about a second per 50,000 Acme tasks), and only tables
        searched by text make their writes keep one (it triples the cost of an upsert)."""
        name = text_index_name(table)
        if name in self._indexed or not text_columns(table):
            return
        exists = "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = %s"
        found = await self.database.read(lambda conn: conn.execute(exists, (name,)).fetchall())
        if not found:
            statements = text_index_ddl(table)

            def create(conn: PgConnection) -> None:
                for statement in statements:
                    conn.execute(statement)

            await self.database.write(create)
        self._indexed.add(name)

    async def _ensure_order_index(
        self, table: TableSpec, compiled: CompiledQuery, descending: bool
    ) -> None:
        column = compiled.order_column
        assert column is not None
        direction = "desc" if descending else "asc"
        name = f"{table.name}__by_{column.name}_{direction}"
        if name in self._indexed:
            return
        size_sql = "SELECT coalesce(reltuples, 0) FROM pg_class WHERE oid = %s::regclass"
        size = await self.database.read(
            lambda conn: conn.execute(size_sql, (table.quoted,)).fetchall()
        )
        if not size or size[0][0] < AUTO_INDEX_MIN_ROWS:
            return
        nulls = "NULLS LAST" if descending else "NULLS FIRST"
        ddl = (
            f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {table.quoted}"
            f"({column.quoted} {direction.upper()} {nulls}, _id ASC)"
        )
        await self.database.write(lambda conn: conn.execute(ddl))
        self._indexed.add(name)


def _fetch(conn: PgConnection, compiled: CompiledQuery) -> list[tuple[Any, ...]]:
    return conn.execute(compiled.sql, compiled.params).fetchall()
