"""What both engines do around a query: resolve the page request, the projection and the
cursor before fetching, and turn ``limit + 1`` fetched rows into a ``Page`` after.

Fetching is the engine's own business (SQL, or Python over dictionaries); everything that
decides limits, cursors and result shapes lives here, so the two engines cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from maxtrio.core import (
    DEFAULT_PAGE_LIMIT,
    EntityQuery,
    FieldKind,
    Ordering,
    Page,
    PageRequest,
    ProjectionKind,
    QueryItem,
    Ref,
)

from ._cursor import (
    KeysetPosition,
    decode_id_cursor,
    decode_keyset,
    decode_text_cursor,
    encode_id_cursor,
    encode_keyset,
    encode_text_cursor,
)
from ._errors import ErrInvalidLimit
from ._table import ID_COLUMN, Column, TableSpec


@attrs.frozen
class StoredPage:
    """A page of rows as a SQLite ``data.db`` holds them, for callers that turn many rows
    straight into text (``SqliteEngine.query_stored``): ``fields`` names the values of each row
    (``_id`` first, then the projection's fields), ``kinds`` gives the kind of each and, for
    refs, the target type's name. The values are in their stored form — strings; numbers;
    booleans as 0/1; dates as UTC text (``2026-03-08T14:03:27.512Z``, or older text a file may
    hold); refs as the target's id. ``has_more`` and ``cursor`` are those of the same query."""

    fields: tuple[str, ...]
    kinds: tuple[tuple[FieldKind, str | None], ...]
    rows: Sequence[tuple[Any, ...]]
    has_more: bool
    cursor: str | None


@attrs.frozen
class PagePlan:
    """A query resolved against its table and page request, ready to fetch."""

    table: TableSpec
    query: EntityQuery
    limit: int
    columns: tuple[Column, ...]
    keyset: bool  # True when the cursor is a keyset token (a user ordering)
    after_id: str | None = None
    after_keyset: KeysetPosition | None = None
    #: A full-text search in rank order: the rows to skip (None: not such a search).
    ranked_offset: int | None = None

    @property
    def fetch_size(self) -> int:
        return self.limit + 1

    def page(self, rows: Sequence[tuple[Any, ...]], order_values: Sequence[Any]) -> Page[QueryItem]:
        """Build the page from fetched ``(_id, *columns)`` rows and their order values."""
        has_more, rows, cursor = self.paged(rows, order_values)
        items: list[QueryItem]
        if self.query.projection.kind is ProjectionKind.REFS:
            entity = self.table.entity
            items = [Ref(entity, row[0]) for row in rows]
        else:
            read = self.table.row_reader(self.columns)
            items = [read(row) for row in rows]
        return Page(items, has_more, cursor)

    def stored_page(
        self, rows: Sequence[tuple[Any, ...]], order_values: Sequence[Any]
    ) -> StoredPage:
        """:meth:`page` with the fetched rows left as they are."""
        has_more, rows, cursor = self.paged(rows, order_values)
        columns = self.columns
        fields = (ID_COLUMN, *(c.field for c in columns))
        kinds = (
            (FieldKind.STRING, None),
            *((c.kind, None if c.target is None else c.target.name) for c in columns),
        )
        return StoredPage(fields, kinds, rows, has_more, cursor)

    def paged(
        self, rows: Sequence[tuple[Any, ...]], order_values: Sequence[Any]
    ) -> tuple[bool, Sequence[tuple[Any, ...]], str | None]:
        """Whether there is more, the rows of the page and the cursor after them."""
        has_more = len(rows) > self.limit
        rows = rows[: self.limit]
        cursor = None
        if has_more and rows:
            last_id = rows[-1][0]
            if self.ranked_offset is not None:
                assert self.query.text is not None
                cursor = encode_text_cursor(
                    self.table.entity.name, self.query.text, self.ranked_offset + len(rows)
                )
            elif self.keyset:
                assert self.query.ordering is not None
                cursor = encode_keyset(
                    self.query.ordering,
                    order_values[len(rows) - 1],
                    last_id,
                    self.table.entity.name,
                )
            else:
                cursor = encode_id_cursor(self.table.entity.name, last_id)
        return has_more, rows, cursor


def plan_page(table: TableSpec, query: EntityQuery, page: PageRequest | None) -> PagePlan:
    """Check the limit, resolve the projection's columns and decode the cursor."""
    request = (page or PageRequest()).default_limit(DEFAULT_PAGE_LIMIT)
    if request.limit < 0:
        raise ErrInvalidLimit(limit=request.limit)
    projection = query.projection
    if projection.kind is ProjectionKind.REFS:
        columns: tuple[Column, ...] = ()
    elif projection.kind is ProjectionKind.SELECT:
        columns = table.select_columns(projection.fields)
    else:
        columns = table.columns
    ordering = query.ordering
    keyset = ordering is not None and not (ordering.field == ID_COLUMN and not ordering.descending)
    after_id = after_keyset = None
    entity_type = table.entity.name
    if query.text is not None and ordering is None:  # best match first
        offset = 0
        if request.cursor:
            offset = decode_text_cursor(request.cursor, entity_type, query.text)
        return PagePlan(table, query, request.limit, columns, False, ranked_offset=offset)
    if request.cursor:
        if keyset:
            assert ordering is not None
            after_keyset = decode_keyset(
                request.cursor, ordering, entity_type, _order_type(table, ordering)
            )
        else:
            after_id = decode_id_cursor(request.cursor, entity_type)
    return PagePlan(table, query, request.limit, columns, keyset, after_id, after_keyset)


def _order_type(table: TableSpec, ordering: Ordering) -> str | None:
    """The SQL type of the order column; None for an unknown field (reported after the cursor
    and the filter, in the engines' usual order)."""
    if ordering.field == ID_COLUMN:
        return "TEXT"
    column = table.by_field.get(ordering.field)
    return None if column is None else column.sql_type
