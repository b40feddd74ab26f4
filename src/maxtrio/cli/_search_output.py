"""``max search`` output: text, json, ndjson, csv and table.

One :class:`SearchPage` per engine page; a :class:`SearchPrinter` renders pages in order, so
``--all`` streams (``streaming=True``) and a single page is just one call.

Text::

    AcmeTask: 2 results, more available          ← "AcmeTask" alone when streaming

      _id  title             status               ← column headers (dim), first page only
      t1   Write the launch  todo
      t2   Fix login redir…  in_progress          ← cells cut to the column width with "…"

    Next page: --after ein:AcmeTask:t2            ← single page with more results only
    All results: --all

Column widths come from the header and the first 20 rows of the first page, capped at 80
characters, and are kept for every later page of a stream (MAXTRIO: the reference recomputes
them per page and misaligns the rows). Every cell, the last one too, is padded to its width.
``  No results.`` only on the first page.

JSON: ``{"type", "data", "hasMore", "cursor"?}``. NDJSON: one compact object per entity, then
(single page only) ``{"_meta": {"type", "hasMore", "cursor"?, "hint"?}}``. Missing and NULL
values are left out of objects. CSV: a header row on the first page, then rows. Table: one boxed
table per page (header on the first).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ._output import Style
from ._printers import box_table, cell_text, csv_text, dumps_line, dumps_pretty
from ._stored_lines import LineEncoder, line_encoder

if TYPE_CHECKING:
    from maxtrio.storage import StoredPage

MAX_COLUMN_WIDTH = 80
WIDTH_SAMPLE_SIZE = 20
NEXT_PAGE_HINT = "Use --all to stream all results, or --after <cursor> for next page"


class SearchPage:
    """One page of results: the entity type, the items (``EntityResult``\\ s) and paging."""

    def __init__(
        self,
        entity_type: str,
        items: Sequence[Any],
        has_more: bool,
        cursor: str | None,
        selected_fields: Sequence[str] | None = None,
        *,
        stored: StoredPage | None = None,
    ) -> None:
        self.entity_type = entity_type
        self.items = items
        self.has_more = has_more
        self.cursor = cursor or None
        self.selected_fields = selected_fields
        #: The page's rows as the file holds them, instead of ``items`` (ndjson only).
        self.stored = stored

    def fields(self) -> list[str]:
        """The selected fields, else the union of the loaded fields of the page's items."""
        if self.selected_fields is not None:
            return list(self.selected_fields)
        if self.stored is not None:  # every row has every field of the page
            return list(self.stored.fields) if self.stored.rows else []
        seen: dict[str, None] = {}
        for item in self.items:
            for name in item.loaded_fields():
                seen.setdefault(name)
        return list(seen)

    def objects(self, fields: Sequence[str]) -> list[dict[str, Any]]:
        """Each item as ``{field: value}`` for the fields it has a value for."""
        out = []
        for item in self.items:
            picked: dict[str, Any] = {}
            for name in fields:
                value = item.maybe_get(name)
                if value is not None:
                    picked[name] = value
            out.append(picked)
        return out


def truncate(value: str, width: int) -> str:
    """``value`` cut to ``width`` characters, the last one replaced by ``…`` when cut."""
    if len(value) <= width:
        return value
    return value[: max(0, width - 1)] + "…"


class SearchPrinter:
    """Renders the pages of one search in one format; keeps state across streamed pages."""

    def __init__(self, output: str, style: Style, *, streaming: bool) -> None:
        self.output = output
        self.style = style
        self.streaming = streaming
        self.pages = 0
        self._fields: list[str] | None = None
        self._widths: list[int] | None = None
        self._encoder: tuple[Any, LineEncoder] | None = None

    def page(self, page: SearchPage) -> Iterator[str]:
        """The chunks for ``page`` (each is written followed by a newline)."""
        first = self.pages == 0
        self.pages += 1
        if self.output == "json":
            yield dumps_pretty(json_document(page))
        elif self.output == "ndjson":
            yield from self._ndjson(page)
        elif self.output == "csv":
            yield from self._csv(page, first)
        elif self.output == "table":
            yield from self._table(page, first)
        else:
            yield from self._text(page, first)

    def hints(self, page: SearchPage) -> list[str]:
        """Paging hints for formats that cannot carry them on stdout (csv, table)."""
        if self.output not in ("csv", "table"):
            return []
        if self.streaming or not page.has_more or not page.cursor:
            return []
        return [f"Next page: --after {page.cursor}", "All results: --all"]

    # -- formats -------------------------------------------------------------------------------

    def _columns(self, page: SearchPage) -> list[str]:
        if self._fields is None or not self.streaming:
            self._fields = page.fields()
        return self._fields

    def _text(self, page: SearchPage, first: bool) -> Iterator[str]:
        style = self.style
        lines: list[str] = []
        if first:
            title = style.underline(page.entity_type)
            if self.streaming:
                lines.append(title)
            else:
                count = len(page.items)
                more = ", more available" if page.has_more else ""
                lines.append(f"{title}: {count} result{'' if count == 1 else 's'}{more}")
            lines.append("")
        if not page.items:
            if first:
                lines.append("  No results.")
            if lines:
                yield "\n".join(lines)
            return
        fields = self._columns(page)
        rows = [[cell_text(o.get(f)) for f in fields] for o in page.objects(fields)]
        if self._widths is None or not self.streaming:
            self._widths = _sample_widths(fields, rows)
        widths = self._widths
        if first:
            cells = (style.dim(h.ljust(w)) for h, w in zip(fields, widths, strict=True))
            lines.append("  " + "  ".join(cells))
        for row in rows:
            cells = (truncate(c, w).ljust(w) for c, w in zip(row, widths, strict=True))
            lines.append("  " + "  ".join(cells))
        if not self.streaming and page.has_more and page.cursor:
            lines.append("")
            lines.append(style.dim(f"Next page: --after {page.cursor}"))
            lines.append(style.dim("All results: --all"))
        yield "\n".join(lines)

    def _stored_encoder(self, page: SearchPage, stored: StoredPage) -> LineEncoder:
        fields = tuple(self._columns(page))
        layout = (fields, stored.fields, stored.kinds)
        if self._encoder is None or self._encoder[0] != layout:
            made = line_encoder(page.entity_type, fields, stored.fields, stored.kinds)
            assert made is not None  # the fields passed writes_fields (_cmd_search)
            self._encoder = (layout, made)
        return self._encoder[1]

    def _ndjson(self, page: SearchPage) -> Iterator[str]:
        if page.stored is not None:
            lines = self._stored_encoder(page, page.stored)(page.stored.rows)
        else:
            lines = [dumps_line(o) for o in page.objects(self._columns(page))]
        if not self.streaming:
            meta: dict[str, Any] = {"type": page.entity_type, "hasMore": page.has_more}
            if page.cursor:
                meta["cursor"] = page.cursor
            if page.has_more:
                meta["hint"] = NEXT_PAGE_HINT
            lines.append(dumps_line({"_meta": meta}))
        if lines:
            yield "\n".join(lines)

    def _csv(self, page: SearchPage, first: bool) -> Iterator[str]:
        fields = self._columns(page)
        text = csv_text(fields, page.objects(fields), header=first)
        if text:
            yield text

    def _table(self, page: SearchPage, first: bool) -> Iterator[str]:
        if not page.items and not first:
            return
        fields = self._columns(page)
        yield box_table(fields, page.objects(fields), self.style, show_header=first)


def json_document(page: SearchPage) -> dict[str, Any]:
    """``{"type", "data", "hasMore", "cursor"?}`` — ``-o json`` and the MCP ``search`` tool."""
    fields = page.fields()
    document: dict[str, Any] = {
        "type": page.entity_type,
        "data": page.objects(fields),
        "hasMore": page.has_more,
    }
    if page.cursor:
        document["cursor"] = page.cursor
    return document


def _sample_widths(fields: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    widths = [len(f) for f in fields]
    for row in rows[:WIDTH_SAMPLE_SIZE]:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    return [min(w, MAX_COLUMN_WIDTH) for w in widths]
