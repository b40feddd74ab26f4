"""``SqliteEngine``: the apsw entity engine — a table per entity type, merge upserts, queries.

Writes are merge upserts (``INSERT … ON CONFLICT(_id) DO UPDATE SET`` only the provided
columns): storing some fields of an existing entity keeps its other fields, and an explicit
``None`` clears a field. ``store_many`` validates a whole batch before writing and writes it in
one transaction, one ``executemany`` per run of inputs with the same type and fields, in input
order. A bad value raises ``storage.invalid_value`` and nothing of the batch is written. A
sync filling an empty table appends its rows without the table's id index and the index is
built once when that load ends (``_bulk_load``; :meth:`SqliteEngine.settle` ends it before a
read).

Ordered queries over large tables get an index on ``(column, _id)`` the first time they run
(see :data:`AUTO_INDEX_MIN_ROWS`): sorting a million rows takes ~90 ms, walking an index < 1 ms.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import apsw

from maxtrio.core import (
    ALL,
    EntityDef,
    EntityQuery,
    EntityResult,
    FieldSelector,
    Page,
    PageRequest,
    Projection,
    QueryItem,
    Ref,
    Schema,
)

from ._bulk_load import BulkLoads, TableRun, restore_missing_id_indexes
from ._database import SqliteDatabase
from ._errors import (
    TEXT_QUERY_HINT,
    ErrEntityNotFound,
    ErrInvalidTextQuery,
)
from ._naming import quote
from ._page_plan import PagePlan, StoredPage, plan_page
from ._sql import CompiledQuery, compile_query
from ._sql_engine import SqlEngineBase
from ._sync_state import fold_legacy_sync_meta
from ._table import Column, SyncStamp, TableSpec, table_specs
from ._text_index import WriteRun, run_write
from ._values import (
    is_utf8_text,
    printable,
)

#: Ordered queries on tables with at least this many rows create an index on the order column.
AUTO_INDEX_MIN_ROWS = 20_000

_ALL_PROJECTION = Projection.all()


class SqliteEngine(SqlEngineBase):
    """Entity storage in one SQLite database (a file, or ``:memory:``)."""

    database: SqliteDatabase

    def __init__(self, database: SqliteDatabase, schema: Schema) -> None:
        self.database = database
        self.schema = schema
        self._tables = table_specs(schema)
        self._indexed: set[str] = set()
        #: Tables a sync of this process is filling without their id index (``_bulk_load``).
        self.bulk = BulkLoads(while_loading=database.hold_writer_cache)
        if database.write_sync(self._migrate) and not database.memory:
            # The old one-row-per-field table was folded and dropped: give its pages back.
            database.writer.execute("VACUUM")

    @classmethod
    def open(cls, path: str | os.PathLike[str], schema: Schema) -> SqliteEngine:
        """Open (creating if needed) a database and bring its tables up to ``schema``."""
        database = SqliteDatabase(path)
        try:
            return cls(database, schema)
        except BaseException:
            database.close()
            raise

    # -- registration ------------------------------------------------------------------------

    def _migrate(self, conn: apsw.Connection) -> bool:
        """Bring every table up to the schema; True when a v1 sync-meta table was folded."""
        upgraded = [table for table in self._tables.values() if table.migrate(conn)]
        restore_missing_id_indexes(conn, self._tables.values())  # a load cut short
        return bool(upgraded) and fold_legacy_sync_meta(conn, upgraded)

    # -- writes ------------------------------------------------------------------------------

    def write_run(
        self,
        table: TableSpec,
        fields: tuple[str, ...],
        ids: Sequence[str],
        columns: list[Sequence[Any]],
        stamp: SyncStamp | None,
    ) -> WriteRun:
        rows = list(zip(ids, *columns))  # noqa: B905 - every column has len(ids) values
        sql, text = table.upsert_sql(fields, stamp), table.text_writer(fields)
        if not table.bulk_loadable:
            return sql, rows, text
        if stamp is None:
            return sql, rows, TableRun(self.bulk, table, None, None, text)
        insert = table.insert_sql(fields, stamp)
        return sql, rows, TableRun(self.bulk, table, stamp.seen, insert, text)

    @staticmethod
    def apply_writes(conn: apsw.Connection, batches: list[WriteRun]) -> None:
        """Execute prepared runs on ``conn`` (the caller holds the transaction); a table's
        text index is kept in step in the same transaction."""
        for run in batches:
            run_write(conn, run)

    def end_bulk_loads(self, conn: apsw.Connection, seen: int | None = None) -> set[str]:
        """End this process's bulk loads (the caller holds the write transaction): before
        rows are updated or deleted by id, and when a sync completes. Returns the entity types
        whose every row sync ``seen`` wrote (its loads: nothing of theirs is unseen)."""
        if not self.bulk.active:
            return set()
        tables = self._tables.values()
        whole = {t.entity.name for t in self.bulk.loaded_by(conn, tables, seen)} if seen else set()
        self.bulk.end_all(conn, tables)
        return whole

    async def settle(self, table: TableSpec | None = None) -> None:
        """End the bulk load of ``table`` (None: every one) in a write of its own, if there
        is one: before a read of its rows, which would otherwise scan without the id index
        and could see an id written twice as two rows."""
        bulk = self.bulk
        if table is None:
            if bulk.active:
                await self.database.write(self.end_bulk_loads)
        elif bulk.loading(table):
            await self.database.write(lambda conn: bulk.end(conn, table))

    def catch_up_text(self, conn: apsw.Connection) -> None:
        """Bring every full-text index up to date (the caller holds the write transaction):
        what a sync does in the transaction that completes it."""
        self.end_bulk_loads(conn)  # a load keeps its table's index at 0: it catches up whole
        for table in self._tables.values():
            if table.text_index is not None:
                table.text_index.catch_up(conn)

    async def index_text(self) -> None:
        """:meth:`catch_up_text` in a write of its own, when some index lags."""

        def behind(conn: apsw.Connection) -> bool:
            return any(t.text_index.behind(conn) for t in self._tables.values() if t.text_index)

        if await self.database.read(behind):
            await self.database.write(self.catch_up_text)

    def prepare_deletes(self, refs: Sequence[Ref]) -> list[WriteRun]:
        """``(sql, rows)`` runs deleting ``refs`` (one statement per type), for
        :meth:`apply_writes`."""
        by_table: dict[str, list[tuple[Any, ...]]] = {}
        for ref in refs:
            table = self.table(ref.entity_def)
            if is_utf8_text(ref.id):  # never stored otherwise
                by_table.setdefault(table.quoted, []).append((ref.id,))
        # Deletes need no index work here: the index's trigger removes the rows' terms.
        return [
            (f"DELETE FROM {name} WHERE _id = ?", rows, None) for name, rows in by_table.items()
        ]

    async def delete_many(self, refs: Sequence[Ref]) -> int:
        """Delete the rows of ``refs`` (missing ones are ignored); returns how many went."""
        runs = self.prepare_deletes(refs)

        return await self.database.write(lambda conn: self.apply_deletes(conn, runs)) if runs else 0

    def apply_deletes(self, conn: apsw.Connection, runs: list[WriteRun]) -> int:
        """Execute prepared deletes on ``conn``; returns how many rows went. Counted statement
        by statement: ``total_changes`` would count the full-text index's trigger work too."""
        if runs:
            self.end_bulk_loads(conn)
        removed = 0
        for sql, rows, _ in runs:
            for row in rows:
                conn.execute(sql, row)
                removed += conn.changes()
        return removed

    # -- single-entity reads -----------------------------------------------------------------

    async def load(self, ref: Ref, selector: FieldSelector = ALL) -> EntityResult:
        table = self.table(ref.entity_def)
        await self.settle(table)
        if not is_utf8_text(ref.id):  # never stored (see store_many), and apsw cannot bind it
            raise ErrEntityNotFound(entityType=ref.entity_type, entityId=printable(ref.id))
        columns = table.known_columns(None if selector.is_all else selector.fields)
        select = ", ".join(["_id", *(c.quoted for c in columns)])
        sql = f"SELECT {select} FROM {table.quoted} WHERE _id = ?"
        rows = await self.database.read(lambda conn: list(conn.execute(sql, (ref.id,))))
        if not rows:
            raise ErrEntityNotFound(entityType=ref.entity_type, entityId=printable(ref.id))
        return table.row_reader(columns)(rows[0])

    async def count(self, entity: EntityDef) -> int:
        table = self.table(entity)
        await self.settle(table)
        sql = f"SELECT count(*) FROM {table.quoted}"
        rows = await self.database.read(lambda conn: list(conn.execute(sql)))
        return int(rows[0][0])

    # -- pages and queries -------------------------------------------------------------------

    async def query(self, query: EntityQuery, page: PageRequest | None = None) -> Page[QueryItem]:
        plan, rows, order_values = await self._fetch_page(query, page)
        return plan.page(rows, order_values)

    async def query_stored(self, query: EntityQuery, page: PageRequest | None = None) -> StoredPage:
        """:meth:`query` with the rows as the file holds them (see :class:`StoredPage`): for
        callers that turn many rows straight into text (``search --all -o ndjson``)."""
        plan, rows, order_values = await self._fetch_page(query, page)
        return plan.stored_page(rows, order_values)

    async def _fetch_page(
        self, query: EntityQuery, page: PageRequest | None
    ) -> tuple[PagePlan, list[tuple[Any, ...]], list[Any]]:
        """The plan of a query and its fetched ``(_id, *columns)`` rows and order values."""
        table = self.table(query.entity)
        await self.settle(table)
        plan = plan_page(table, query, page)
        compiled = compile_query(
            table,
            query,
            plan.columns,
            plan.fetch_size,
            plan.after_id,
            plan.after_keyset,
            plan.ranked_offset,
        )
        if compiled.order_column is not None and query.ordering is not None:
            await self._ensure_order_index(table, compiled.order_column, query.ordering.descending)
        index = table.text_index
        # Rows a sync has not indexed yet: index them before the query reads the index.
        if query.text is not None and index is not None and await self.database.read(index.behind):
            await self.database.write(index.catch_up)
        try:
            rows = await self.database.read(lambda conn: _fetch(conn, compiled))
        except apsw.SQLError:
            text = query.text
            if index is None or text is None:
                raise
            # FTS5 reads the text query as the statement runs: ask the index alone whether the
            # text query is the culprit.
            reason = await self.database.read(lambda conn: index.problem_with(conn, text))
            if reason is None:
                raise
            raise ErrInvalidTextQuery(text=text, reason=reason, hint=TEXT_QUERY_HINT) from None
        width = len(plan.columns) + 1
        if compiled.order_column is None:  # ordered by _id (or not ordered): the id is the value
            order_values = [row[0] for row in rows]
        else:  # the raw order value is the last column
            order_values = [row[-1] for row in rows]
        if rows and len(rows[0]) != width:  # an order value or a rank after the columns
            rows = [row[:width] for row in rows]
        return plan, rows, order_values

    async def _ensure_order_index(self, table: TableSpec, column: Column, descending: bool) -> None:
        direction = "desc" if descending else "asc"
        name = f"{table.name}__by_{column.name}_{direction}"
        if name in self._indexed:
            return
        size_sql = f"SELECT coalesce(max(rowid), 0) FROM {table.quoted}"
        size = (await self.database.read(lambda conn: list(conn.execute(size_sql))))[0][0]
        if size < AUTO_INDEX_MIN_ROWS:
            return
        ddl = (
            f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {table.quoted}"
            f"({column.quoted} {direction.upper()}, _id ASC)"
        )
        await self.database.write(lambda conn: conn.execute(ddl))
        self._indexed.add(name)


def _fetch(conn: apsw.Connection, compiled: CompiledQuery) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(compiled.sql, compiled.params)]
