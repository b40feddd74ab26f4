"""``InMemoryEngine``: the ``Engine`` protocol in plain Python, for unit tests of upper layers.

It shares the table layout, value conversion and cursor formats of :class:`SqliteEngine` and
evaluates filters with SQLite's comparison rules (``_sqlite_semantics``), so results, order and
cursors are the same as the real engine's — the property tests check exactly that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from maxtrio.core import (
    ALL,
    EntityColumns,
    EntityDef,
    EntityInput,
    EntityQuery,
    EntityResult,
    FieldSelector,
    Op,
    Page,
    PageRequest,
    Projection,
    QueryItem,
    Ref,
    Schema,
    Where,
    WhereClause,
    WhereNot,
    expand_entities,
)

from ._cursor import (
    KeysetPosition,
)
from ._engine_reads import DerivedReads
from ._errors import (
    ErrEntityNotFound,
    ErrEntityNotRegistered,
    ErrInvalidValue,
    ErrTextSearchUnsupported,
)
from ._page_plan import plan_page
from ._sql import leaf_operand
from ._sqlite_semantics import apply_affinity, compare, contains, sort_key
from ._table import ID_COLUMN, Column, TableSpec, table_specs
from ._values import TEXT_EXPECTED, BadValue, convert_column, describe, is_utf8_text, printable

Row = dict[str, Any]

_ALL_PROJECTION = Projection.all()


class InMemoryEngine(DerivedReads):
    """Entities in dictionaries; same semantics as the SQLite engine, no I/O."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._tables = table_specs(schema)
        self._rows: dict[str, dict[str, Row]] = {name: {} for name in self._tables}

    def table(self, entity: EntityDef | str) -> TableSpec:
        name = entity if isinstance(entity, str) else entity.name
        try:
            return self._tables[name]
        except KeyError:
            raise ErrEntityNotRegistered(entityType=name) from None

    def rows(self, entity: EntityDef) -> dict[str, Row]:
        """The stored rows of a type (id → field values as stored), for tests."""
        return self._rows[self.table(entity).entity.name]

    # -- writes ------------------------------------------------------------------------------

    async def store(self, entity: EntityInput) -> Ref:
        await self.store_many([entity])
        return Ref(entity.ref.entity_def, entity.ref.id)

    async def store_many(self, entities: Sequence[EntityInput | EntityColumns]) -> None:
        prepared: list[tuple[str, str, Row]] = []
        for entity in expand_entities(entities):  # validate everything before writing anything
            table = self.table(entity.ref.entity_def)
            id_ = entity.ref.id
            if not isinstance(id_, str) or not is_utf8_text(id_):
                raise ErrInvalidValue(
                    entityType=table.entity.name,
                    field="_id",
                    entityId=printable(str(id_)),
                    expected="a string id" if not isinstance(id_, str) else TEXT_EXPECTED,
                    got=describe(id_),
                )
            values: Row = {}
            for field, value in entity.fields.items():
                column = table.by_field.get(field)
                if column is None:
                    continue
                try:
                    converted = convert_column(column.kind, [value])[0]
                    if isinstance(converted, str) and not is_utf8_text(converted):
                        raise BadValue(0, TEXT_EXPECTED, value)
                    values[field] = _stored(column, converted)
                except BadValue as bad:
                    raise ErrInvalidValue(
                        entityType=table.entity.name,
                        field=field,
                        entityId=printable(id_),
                        expected=bad.expected,
                        got=describe(bad.got),
                    ) from None
            prepared.append((table.entity.name, entity.ref.id, values))
        for type_name, id_, values in prepared:
            row = self._rows[type_name].setdefault(id_, {})
            row.update(values)

    async def delete_many(self, refs: Sequence[Ref]) -> int:
        """Delete the rows of ``refs`` (missing ones are ignored); returns how many went."""
        removed = 0
        for ref in refs:
            rows = self._rows[self.table(ref.entity_def).entity.name]
            if rows.pop(ref.id, None) is not None:
                removed += 1
        return removed

    # -- reads -------------------------------------------------------------------------------

    def _result(self, table: TableSpec, id_: str, columns: tuple[Column, ...]) -> EntityResult:
        row = self._rows[table.entity.name][id_]
        raw = (id_, *(row.get(c.field) for c in columns))
        return table.row_reader(columns)(raw)

    async def load(self, ref: Ref, selector: FieldSelector = ALL) -> EntityResult:
        table = self.table(ref.entity_def)
        if ref.id not in self._rows[table.entity.name]:
            raise ErrEntityNotFound(entityType=ref.entity_type, entityId=printable(ref.id))
        columns = table.known_columns(None if selector.is_all else selector.fields)
        return self._result(table, ref.id, columns)

    async def count(self, entity: EntityDef) -> int:
        return len(self._rows[self.table(entity).entity.name])

    async def query(self, query: EntityQuery, page: PageRequest | None = None) -> Page[QueryItem]:
        table = self.table(query.entity)
        if query.text is not None:
            raise ErrTextSearchUnsupported()
        # Checks in the SQLite engine's order: cursor, then filter, then order field.
        plan = plan_page(table, query, page)
        rows = self._rows[table.entity.name]
        matcher = _compile(table, query.where)
        ordering = query.ordering
        order_field = ordering.field if ordering is not None else ID_COLUMN
        descending = ordering is not None and ordering.descending
        if order_field != ID_COLUMN:
            table.column(order_field)

        def order_value(id_: str) -> Any:
            return id_ if order_field == ID_COLUMN else rows[id_].get(order_field)

        ids = sorted(i for i in rows if matcher(i, rows[i]))
        if order_field != ID_COLUMN or descending:
            ids.sort(key=lambda i: sort_key(order_value(i)), reverse=descending)
        if plan.after_keyset is not None:
            pos = plan.after_keyset
            ids = [i for i in ids if _after(sort_key(order_value(i)), i, pos, descending)]
        elif plan.after_id is not None:
            ids = [i for i in ids if i > plan.after_id]
        ids = ids[: plan.fetch_size]
        fetched = [(i, *(rows[i].get(c.field) for c in plan.columns)) for i in ids]
        return plan.page(fetched, [order_value(i) for i in ids])

    async def aclose(self) -> None:
        return None


def _stored(column: Column, value: Any) -> Any:
    """What SQLite keeps for a converted value: REAL affinity turns ints into floats, a NaN
    is bound as NULL, and booleans are bound as the integers 1 and 0."""
    if column.sql_type == "REAL":
        if isinstance(value, int):
            return float(value)
        if isinstance(value, float) and math.isnan(value):
            return None
    elif isinstance(value, bool):
        return int(value)
    return value


def _after(key: tuple[int, Any], id_: str, pos: KeysetPosition, descending: bool) -> bool:
    cursor_key = sort_key(pos.value)
    if key == cursor_key:
        return id_ > pos.id
    return key < cursor_key if descending else key > cursor_key


def _compile(table: TableSpec, clause: WhereClause) -> Any:
    """A predicate ``(id, row) -> bool`` for a where tree."""
    return _compile_clause(table, clause) or (lambda i, r: True)


def _compile_clause(table: TableSpec, clause: WhereClause) -> Any:
    """Like the SQL compiler: empty groups are dropped (None = no condition), and ``not`` is
    the complement of its clause (a comparison on a NULL field being false)."""
    if isinstance(clause, Where):
        return _leaf(table, clause)
    if isinstance(clause, WhereNot):
        inner = _compile_clause(table, clause.clause)
        if inner is None:
            return lambda i, r: False
        return lambda i, r: not inner(i, r)
    parts = [p for p in (_compile_clause(table, c) for c in clause.clauses) if p is not None]
    if not parts:
        return None
    if clause.kind == "and":
        return lambda i, r: all(p(i, r) for p in parts)
    return lambda i, r: any(p(i, r) for p in parts)


def _leaf(table: TableSpec, leaf: Where) -> Any:
    column, bound = leaf_operand(table, leaf)

    def get(i: str, r: Row) -> Any:
        return i if column is None else r.get(column.field)

    if leaf.op is Op.CONTAINS:
        return lambda i, r: contains(get(i, r), bound)
    if leaf.op is Op.IS_NULL:
        return lambda i, r: get(i, r) is None
    if leaf.op is Op.IS_NOT_NULL:
        return lambda i, r: get(i, r) is not None
    sql_type = "TEXT" if column is None else column.sql_type
    if leaf.op is Op.IN:
        operands = [apply_affinity(sql_type, v) for v in bound]
        return lambda i, r: any(compare("=", get(i, r), v) for v in operands)
    operand = apply_affinity(sql_type, bound)
    op = leaf.op.value
    return lambda i, r: compare(op, get(i, r), operand)
