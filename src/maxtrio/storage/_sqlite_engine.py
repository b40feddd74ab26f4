"""``SqliteEngine``: the apsw entity engine — a table per entity type, merge upserts, queries.

Writes are merge upserts (``INSERT … ON CONFLICT(_id) DO UPDATE SET`` only the provided
columns): storing some fields of an existing entity keeps its other fields, and an explicit
``None`` clears a field. ``store_many`` validates a whole batch before writing and writes it in
one transaction, one ``executemany`` per run of inputs with the same type and fields, in input
order. A bad value raises ``storage.invalid_value`` and nothing of the batch is written.

Ordered queries over large tables get an index on ``(column, _id)`` the first time they run
(see :data:`AUTO_INDEX_MIN_ROWS`): sorting a million rows takes ~90 ms, walking an index < 1 ms.
"""

from __future__ import annotations

import itertools
import operator
import os
from collections.abc import Sequence
from typing import Any

import apsw

from maxtrio.core import (
    ALL,
    EntityColumns,
    EntityDef,
    EntityInput,
    EntityQuery,
    EntityResult,
    FieldSelector,
    MaxError,
    Page,
    PageRequest,
    Projection,
    QueryItem,
    Ref,
    Schema,
    expand_entities,
)

from ._database import SqliteDatabase
from ._engine_reads import DerivedReads
from ._errors import (
    ErrEntityNotFound,
    ErrEntityNotRegistered,
    ErrInvalidTextQuery,
    ErrInvalidValue,
)
from ._naming import quote
from ._page_plan import plan_page
from ._sql import CompiledQuery, compile_query
from ._sync_state import fold_legacy_sync_meta
from ._table import Column, SyncStamp, TableSpec, table_specs
from ._text_index import TextIndex, WriteRun
from ._values import (
    TEXT_EXPECTED,
    BadValue,
    convert_column,
    describe,
    is_utf8_text,
    printable,
)

TEXT_QUERY_HINT = (
    'FTS5 syntax: words (all must match), "a phrase", OR, NOT, prefix*, (groups), '
    "column:word; put words with punctuation in double quotes"
)

#: Ordered queries on tables with at least this many rows create an index on the order column.
AUTO_INDEX_MIN_ROWS = 20_000

_ALL_PROJECTION = Projection.all()


class SqliteEngine(DerivedReads):
    """Entity storage in one SQLite database (a file, or ``:memory:``)."""

    def __init__(self, database: SqliteDatabase, schema: Schema) -> None:
        self.database = database
        self.schema = schema
        self._tables = table_specs(schema)
        self._indexed: set[str] = set()
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
        return bool(upgraded) and fold_legacy_sync_meta(conn, upgraded)

    def table(self, entity: EntityDef | str) -> TableSpec:
        name = entity if isinstance(entity, str) else entity.name
        try:
            return self._tables[name]
        except KeyError:
            raise ErrEntityNotRegistered(entityType=name) from None

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        return tuple(self._tables.values())

    @property
    def tables_by_type(self) -> dict[str, TableSpec]:
        """Every table by entity type name (a copy)."""
        return dict(self._tables)

    # -- writes ------------------------------------------------------------------------------

    async def store(self, entity: EntityInput) -> Ref:
        await self.store_many([entity])
        return Ref(entity.ref.entity_def, entity.ref.id)

    async def store_many(
        self, entities: Sequence[EntityInput | EntityColumns], stamp: SyncStamp | None = None
    ) -> None:
        """Merge-upsert ``entities`` in one transaction; with a ``stamp``, as a sync's write
        (the rows' sync state is updated too)."""
        if not entities:
            return
        batches = self.prepare_writes(entities, stamp)
        try:
            await self.database.write(lambda conn: self.apply_writes(conn, batches))
        except UnicodeEncodeError:
            # apsw cannot bind a str with lone surrogates; the transaction was rolled back.
            raise self._unencodable_value(expand_entities(entities)) from None

    def _unencodable_value(self, entities: Sequence[EntityInput]) -> MaxError:
        """The ``invalid_value`` error naming the first text of a batch SQLite cannot hold."""
        for entity in entities:
            id_ = entity.ref.id
            by_field = self.table(entity.ref.entity_def).by_field
            values = [("_id", id_), *((f, v) for f, v in entity.fields.items() if f in by_field)]
            for field, value in values:
                text = value.id if isinstance(value, Ref) else value
                if isinstance(text, str) and not is_utf8_text(text):
                    return ErrInvalidValue(
                        entityType=entity.ref.entity_type,
                        field=field,
                        entityId=printable(id_),
                        expected=TEXT_EXPECTED,
                        got=describe(value),
                    )
        raise AssertionError("UnicodeEncodeError without unencodable text")  # pragma: no cover

    def prepare_writes(
        self, entities: Sequence[EntityInput | EntityColumns], stamp: SyncStamp | None = None
    ) -> list[WriteRun]:
        """Validate and convert a batch into ``(sql, rows)`` runs, in input order.

        Pure Python (no database access), so callers that combine entity writes with other
        writes in one transaction (the task store) can prepare outside the writer thread. The
        common case — every input of one type with the same fields — is checked and converted
        column by column with C-level ``map``/``zip``; mixed batches fall back to runs.
        :class:`EntityColumns` arrive as columns already and are converted as they are.
        """
        if not any(isinstance(e, EntityColumns) for e in entities):
            return self._prepare_inputs(entities, stamp)  # type: ignore[arg-type]
        out: list[WriteRun] = []
        pending: list[EntityInput] = []
        for item in entities:
            if isinstance(item, EntityColumns):
                if pending:
                    out += self._prepare_inputs(pending, stamp)
                    pending = []
                if len(item):
                    out.append(self._prepare_columns(item, stamp))
            else:
                pending.append(item)
        if pending:
            out += self._prepare_inputs(pending, stamp)
        return out

    def _prepare_columns(self, batch: EntityColumns, stamp: SyncStamp | None) -> WriteRun:
        table = self.table(batch.entity_def)
        type_name = batch.entity_def.name
        ids = batch.ids
        if not set(map(type, ids)) <= {str}:
            bad = next(i for i in ids if not isinstance(i, str))
            raise ErrInvalidValue(
                entityType=type_name,
                field="_id",
                entityId=printable(str(bad)),
                expected="a string id",
                got=describe(bad),
            )
        fields = tuple(f for f in batch.columns if f in table.by_field)
        columns: list[Sequence[Any]] = []
        for field in fields:
            try:
                columns.append(convert_column(table.by_field[field].kind, batch.columns[field]))
            except BadValue as bad:
                raise ErrInvalidValue(
                    entityType=type_name,
                    field=field,
                    entityId=printable(ids[bad.index]),
                    expected=bad.expected,
                    got=describe(bad.got),
                ) from None
        rows = list(zip(ids, *columns))  # noqa: B905 - every column has len(ids) values
        return table.upsert_sql(fields, stamp), rows, table.text_writer(fields)

    def _prepare_inputs(
        self, entities: Sequence[EntityInput], stamp: SyncStamp | None = None
    ) -> list[WriteRun]:
        fields_list = list(map(_FIELDS, entities))
        first = fields_list[0]
        refs = list(map(_REF, entities))
        if (
            len(set(map(_DEF, refs))) == 1
            and set(map(len, fields_list)) == {len(first)}
            # Only when every key is a column: an ignored key (unknown or collection) in the
            # first input would hide a different key in another input of the same size.
            and all(map(self.table(refs[0].entity_def).by_field.__contains__, first))
        ):
            try:
                return [self._prepare_run(refs, fields_list, tuple(first), stamp)]
            except KeyError:
                pass  # same sizes, different keys: take the general path
        out = []
        for (_, keys), run in itertools.groupby(entities, key=_run_key):
            items = list(run)
            refs_of_run = list(map(_REF, items))
            out.append(self._prepare_run(refs_of_run, list(map(_FIELDS, items)), keys, stamp))
        return out

    def _prepare_run(
        self,
        refs: list[Ref],
        fields_list: list[Any],
        keys: tuple[str, ...],
        stamp: SyncStamp | None,
    ) -> WriteRun:
        """Inputs of one type with the same keys, taken apart into columns and prepared as a
        column batch. Raises ``KeyError`` when an input lacks one of ``keys`` (the caller then
        falls back to runs)."""
        entity = refs[0].entity_def
        table = self.table(entity)
        columns = {
            field: list(map(operator.itemgetter(field), fields_list))
            for field in keys
            if field in table.by_field
        }
        return self._prepare_columns(EntityColumns(entity, list(map(_ID, refs)), columns), stamp)

    @staticmethod
    def apply_writes(conn: apsw.Connection, batches: list[WriteRun]) -> None:
        """Execute prepared runs on ``conn`` (the caller holds the transaction); a table's
        text index is kept in step in the same transaction."""
        for sql, rows, text in batches:
            if text is None:
                conn.executemany(sql, rows)
            else:
                text.apply(conn, sql, rows)

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

    @staticmethod
    def apply_deletes(conn: apsw.Connection, runs: list[WriteRun]) -> int:
        """Execute prepared deletes on ``conn``; returns how many rows went. Counted statement
        by statement: ``total_changes`` would count the full-text index's trigger work too."""
        removed = 0
        for sql, rows, _ in runs:
            for row in rows:
                conn.execute(sql, row)
                removed += conn.changes()
        return removed

    # -- single-entity reads -----------------------------------------------------------------

    async def load(self, ref: Ref, selector: FieldSelector = ALL) -> EntityResult:
        table = self.table(ref.entity_def)
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
        sql = f"SELECT count(*) FROM {table.quoted}"
        rows = await self.database.read(lambda conn: list(conn.execute(sql)))
        return int(rows[0][0])

    # -- pages and queries -------------------------------------------------------------------

    async def query(self, query: EntityQuery, page: PageRequest | None = None) -> Page[QueryItem]:
        table = self.table(query.entity)
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
        try:
            rows = await self.database.read(lambda conn: _fetch(conn, compiled))
        except apsw.SQLError:
            if query.text is None or table.text_index is None:
                raise
            # FTS5 reads the text query as the statement runs ("fts5: syntax error near …",
            # "unterminated string", "no such column: x" for a column filter): ask the index
            # alone whether the text query is the culprit.
            reason = await self.database.read(
                lambda conn: _text_query_problem(conn, table.text_index, query.text)
            )
            if reason is None:
                raise
            raise ErrInvalidTextQuery(
                text=query.text, reason=reason, hint=TEXT_QUERY_HINT
            ) from None
        width = len(plan.columns) + 1
        if compiled.order_column is None:  # ordered by _id (or not ordered): the id is the value
            order_values = [row[0] for row in rows]
        else:  # the raw order value is the last column
            order_values = [row[-1] for row in rows]
        return plan.page([row[:width] for row in rows], order_values)

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

    # -- lifecycle ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        self.database.close()

    async def __aenter__(self) -> SqliteEngine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


_FIELDS = operator.attrgetter("fields")
_REF = operator.attrgetter("ref")
_ID = operator.attrgetter("id")
_DEF = operator.attrgetter("entity_def")


def _run_key(entity: EntityInput) -> tuple[str, tuple[str, ...]]:
    return entity.ref.entity_def.name, tuple(entity.fields)


def _text_query_problem(
    conn: apsw.Connection, index: TextIndex | None, text: str | None
) -> str | None:
    """What FTS5 says of ``text`` run alone against ``index`` (None: nothing)."""
    assert index is not None and text is not None
    try:
        conn.execute(
            f"SELECT rowid FROM {index.quoted} WHERE {index.quoted} MATCH ? LIMIT 1", (text,)
        ).fetchall()
    except apsw.SQLError as exc:
        return str(exc).removeprefix("SQLError: ")
    return None


def _fetch(conn: apsw.Connection, compiled: CompiledQuery) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(compiled.sql, compiled.params)]
