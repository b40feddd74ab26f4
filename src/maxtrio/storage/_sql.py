"""Compiling queries to SQL: the where tree, ordering, keyset pagination and projections.

What PostgreSQL spells differently goes through a :class:`Dialect` (this module's default
spells SQLite; ``_pg_sql`` the other).

Every value is bound as a parameter, never spliced into SQL; identifiers are quoted.

``SELECT <cols> FROM "<table>" [WHERE <filter> [AND <after cursor>]]
ORDER BY ["<col>" ASC|DESC,] _id ASC LIMIT <limit + 1>``

NULLs sort first ascending and last descending (SQLite's rule); ``_id`` ascending breaks ties.

``~=`` is a case-insensitive (ASCII) substring match, ``instr(lower(<col>), ?) > 0`` with the
value ASCII-lowercased (``lower()`` folds ASCII letters only, as documented), or
``instr(<col>, ?) > 0`` when the value has no letter to fold. Not ``LIKE``: it reads its pattern
and the stored text as C strings, so a NUL in the value (``'%' || char(0) || '%'`` is ``'%'``)
matched every row and one in the stored text hid the rest of it, and patterns over 50,000 bytes
are an error. ``instr`` compares whole values and has no wildcards to escape.

A full-text ``text`` query adds ``rowid IN (SELECT rowid FROM "<table>_fts" WHERE … MATCH ?)``
under a user ordering; without one the rows come best match first (FTS5's ``rank``, bm25),
ties by ``_id``, paged by offset (``_cursor``).

``in`` is ``<col> IN (?, …)``; ``is null`` / ``is not null`` are ``<col> IS [NOT] NULL``.
``not`` follows the NULL rule of ``maxtrio.core`` (a comparison on a NULL field is false, and
``not`` is its complement): ``NOT c`` compiles to ``(c) IS NOT 1``, true where ``c`` is false
*or NULL*, so ``NOT (status = 'done')`` keeps the rows without a status. ``not`` of an empty
group is ``0`` (matches nothing).
"""

from __future__ import annotations

from typing import Any

import attrs

from maxtrio.core import NULL_TESTS, EntityQuery, Op, Ordering, Where, WhereClause, WhereNot

from ._cursor import KeysetPosition
from ._errors import ErrInvalidFilterValue, ErrNoTextFields
from ._table import ID_COLUMN, Column, TableSpec
from ._text_index import TextIndex
from ._values import BadFilterValue, contains_text, describe, filter_value, has_ascii_letter


@attrs.frozen
class CompiledQuery:
    sql: str
    params: tuple[Any, ...]
    columns: tuple[Column, ...]
    order_column: Column | None  # None when ordering by _id only


def _resolve(table: TableSpec, field: str) -> Column | None:
    """The column of a filterable/orderable field; None means ``_id``."""
    if field == ID_COLUMN:
        return None
    return table.column(field)


def leaf_operand(table: TableSpec, leaf: Where) -> tuple[Column | None, Any]:
    """A leaf's column (None = ``_id``) and the value it binds: the ASCII-lowercased search
    text for ``contains``, None for the NULL tests (their value is ignored), for ``in`` one
    :func:`filter_value` per listed value (a tuple), else :func:`filter_value`.
    ``storage.invalid_filter_value`` when the value can never be compared with the column
    (``active = maybe``, an ``in`` value that is not a list)."""
    col = _resolve(table, leaf.field)
    kind = None if col is None else col.kind
    value = leaf.value  # the one named in the error
    try:
        if leaf.op is Op.CONTAINS:
            return col, contains_text(value)
        if leaf.op in NULL_TESTS:
            return col, None
        if leaf.op is Op.IN:
            if not isinstance(leaf.value, list | tuple):
                raise BadFilterValue
            bound = []
            for value in leaf.value:
                bound.append(filter_value(kind, value))
            return col, tuple(bound)
        return col, filter_value(kind, value)
    except BadFilterValue:
        raise ErrInvalidFilterValue(
            entityType=table.entity.name,
            field=leaf.field,
            kind="string" if col is None else col.kind.value,
            value=describe(value),
        ) from None


class Dialect:
    """What SQLite and PostgreSQL spell differently in a compiled query; this one spells
    SQLite (``maxtrio.storage._pg_sql`` spells PostgreSQL). Each method appends the values it
    binds to ``params`` in the order its placeholders appear."""

    #: The condition that matches nothing.
    false = "0"

    def compare(
        self, col: Column | None, quoted: str, op: str, value: Any, params: list[Any]
    ) -> str:
        """``<col> <op> <value>`` (``col`` None: ``_id``)."""
        params.append(value)
        return f"{quoted} {op} ?"

    def contains(self, col: Column | None, quoted: str, needle: str, params: list[Any]) -> str:
        """``~=``: ``needle`` (ASCII-lowercased) in the column's text, ASCII case folded."""
        params.append(needle)
        if has_ascii_letter(needle):
            return f"instr(lower({quoted}), ?) > 0"
        return f"instr({quoted}, ?) > 0"  # nothing to fold: as fast as LIKE

    def is_in(
        self, col: Column | None, quoted: str, values: tuple[Any, ...], params: list[Any]
    ) -> str:
        params.extend(values)
        return f"{quoted} IN ({', '.join('?' * len(values))})"

    def negate(self, inner: str) -> str:
        """True where ``inner`` is false *or NULL* (the NULL rule of ``not``)."""
        return f"(({inner}) IS NOT 1)"

    def order(self, lead: str, descending: bool) -> str:
        """``ORDER BY`` of a column: NULLs first ascending, last descending (SQLite's rule)."""
        return f"{lead} {'DESC' if descending else 'ASC'}"

    def text_match(self, table: TableSpec, text: str, params: list[Any]) -> str:
        """The rows matching the full-text query ``text`` (FTS5's index of the table)."""
        fts = _text_index(table).quoted
        params.append(text)
        return f"rowid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)"

    def ranked(
        self,
        table: TableSpec,
        query: EntityQuery,
        columns: tuple[Column, ...],
        fetch_size: int,
        offset: int,
    ) -> CompiledQuery:
        """A text search best match first: the index's matches and ranks (bm25, lower is
        better) joined to the table on ``rowid``, the filter on the table's columns, ties by
        ``_id``."""
        fts = _text_index(table).quoted
        params: list[Any] = [query.text]
        filter_sql = where_sql(table, query.where, params, self)
        select = ", ".join(["_id", *(c.quoted for c in columns)])
        sql = (
            f"SELECT {select} FROM (SELECT rowid AS _match_rowid, rank AS _match_rank "
            f"FROM {fts} WHERE {fts} MATCH ?) "
            f"JOIN {table.quoted} ON {table.quoted}.rowid = _match_rowid"
        )
        if filter_sql:
            sql += f" WHERE {filter_sql}"
        sql += f" ORDER BY _match_rank, _id LIMIT {int(fetch_size)} OFFSET {int(offset)}"
        return CompiledQuery(sql, tuple(params), columns, None)


SQLITE = Dialect()


def _leaf_sql(table: TableSpec, leaf: Where, params: list[Any], dialect: Dialect) -> str:
    col, operand = leaf_operand(table, leaf)
    quoted = "_id" if col is None else col.quoted
    if leaf.op is Op.CONTAINS:
        return dialect.contains(col, quoted, operand, params)
    if leaf.op is Op.IS_NULL:
        return f"{quoted} IS NULL"
    if leaf.op is Op.IS_NOT_NULL:
        return f"{quoted} IS NOT NULL"
    if leaf.op is Op.IN:
        return dialect.is_in(col, quoted, operand, params)
    return dialect.compare(col, quoted, leaf.op.value, operand, params)


def where_sql(
    table: TableSpec, clause: WhereClause, params: list[Any], dialect: Dialect = SQLITE
) -> str | None:
    """SQL for a where tree (None = no condition); appends bound values to ``params``."""
    if isinstance(clause, Where):
        return _leaf_sql(table, clause, params, dialect)
    if isinstance(clause, WhereNot):
        inner = where_sql(table, clause.clause, params, dialect)
        return dialect.false if inner is None else dialect.negate(inner)
    parts = [p for p in (where_sql(table, c, params, dialect) for c in clause.clauses) if p]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    joiner = " AND " if clause.kind == "and" else " OR "
    return "(" + joiner.join(parts) + ")"


def keyset_sql(
    col: Column | None,
    ordering: Ordering,
    pos: KeysetPosition,
    params: list[Any],
    dialect: Dialect = SQLITE,
) -> str:
    """The condition selecting rows strictly after ``pos`` in ``ORDER BY col dir, _id ASC``."""
    if col is None:  # ordering by _id itself
        return dialect.compare(None, "_id", "<" if ordering.descending else ">", pos.id, params)
    c = col.quoted
    if pos.value is None:
        after = dialect.compare(None, "_id", ">", pos.id, params)
        if ordering.descending:  # NULLs come last: only later NULLs remain
            return f"({c} IS NULL AND {after})"
        return f"(({c} IS NULL AND {after}) OR {c} IS NOT NULL)"
    beyond = dialect.compare(col, c, "<" if ordering.descending else ">", pos.value, params)
    level = dialect.compare(col, c, "=", pos.value, params)
    after = dialect.compare(None, "_id", ">", pos.id, params)
    if ordering.descending:
        return f"({beyond} OR ({level} AND {after}) OR {c} IS NULL)"
    return f"({beyond} OR ({level} AND {after}))"


def _text_index(table: TableSpec) -> TextIndex:
    if table.text_index is None:
        raise ErrNoTextFields(entityType=table.entity.name)
    return table.text_index


def compile_query(
    table: TableSpec,
    query: EntityQuery,
    columns: tuple[Column, ...],
    fetch_size: int,
    after_id: str | None,
    after_keyset: KeysetPosition | None,
    ranked_offset: int | None = None,
    dialect: Dialect = SQLITE,
) -> CompiledQuery:
    if ranked_offset is not None:
        return dialect.ranked(table, query, columns, fetch_size, ranked_offset)
    params: list[Any] = []
    conditions: list[str] = []
    if query.text is not None:  # matches of a text query, in the query's own order
        conditions.append(dialect.text_match(table, query.text, params))
    filter_sql = where_sql(table, query.where, params, dialect)
    if filter_sql:
        conditions.append(filter_sql)
    ordering = query.ordering
    order_col = _resolve(table, ordering.field) if ordering is not None else None
    if ordering is not None and after_keyset is not None:
        conditions.append(keyset_sql(order_col, ordering, after_keyset, params, dialect))
    elif after_id is not None:
        conditions.append(dialect.compare(None, "_id", ">", after_id, params))
    # The raw order value comes last, so the keyset cursor can be built from the last row.
    extra = [order_col.quoted] if order_col is not None else []
    select = ", ".join(["_id", *(c.quoted for c in columns), *extra])
    sql = f"SELECT {select} FROM {table.quoted}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    order = "_id ASC"
    if ordering is not None:
        lead = "_id" if order_col is None else order_col.quoted
        order = dialect.order(lead, ordering.descending)
        order += "" if order_col is None else ", _id ASC"
    sql += f" ORDER BY {order} LIMIT {int(fetch_size)}"
    return CompiledQuery(sql, tuple(params), columns, order_col)
