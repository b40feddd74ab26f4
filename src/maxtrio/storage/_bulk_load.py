"""Bulk loads: a sync filling an empty SQLite table builds the table's id index once, at the end.

Rows keyed by upstream ids land at random places of the table's unique ``_id`` index, and
every transaction writes every index page it touched: the cost of a row grows with the table
(SQLite alone, 500k rows in 2,000-row transactions: 6.5 s with the index, 1.2 s appended
without it and indexed in one sort at the end; 50k rows: 0.19 s against 0.12). A first sync
is exactly that case, and the largest one. So when a sync's write of at least
:data:`BULK_LOAD_MIN_ROWS` rows finds its table **empty**, that transaction drops the table's
id index (``_max_id_<table>``) and the sync's rows go in with plain ``INSERT`` s. The load
**ends** — the index is built again, in the same transaction as whatever ends it — when:

* the sync completes (or applies a change set), before the full-text indexes catch up;
* anything else touches the table's rows in this process: a read through the engine or the
  sync metadata, a write that is not this sync's insert, a delete, a freshness update;
* the file is opened and an entity table lacks its id index (a load whose process died: a
  crash, a ``kill -9``), so a resumed sync finds the index and upserts as usual.

**An id written twice** in one load (a source listing it on two pages while it changes) is
two rows until the load ends; ending it takes those rows out, builds the index and writes each
of them again, in write order, through the table's own upsert (:meth:`TableSpec.upsert_sql`)
— the fields its ``_synced_mask`` names (which is why only tables whose every field has a
freshness bit are bulk loaded), with its time and sync — so the merge is the upserts' own.

The loading state is this process's. Another connection writing the same file is caught by
SQLite itself: an upsert on a table whose index another process dropped fails to prepare (no
conflict target), so this process ends that load and retries; an insert that meets an index
built meanwhile fails on a duplicate id, so the run is written again as upserts (the rows it
inserted first are written again with the same values). Readers of another process see the
rows as they are during a load: no index (slower lookups), and an id written twice twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import apsw
import attrs

from ._table import SEEN, SYNCED_AT, SYNCED_MASK, SyncStamp, TableSpec
from ._text_index import TextWriter, run_write

#: A sync's write starts a load only with at least this many rows for the empty table: a
#: small table gains nothing and would only have its index built again later.
BULK_LOAD_MIN_ROWS = 100

#: The memory (KiB) SQLite may sort in when it builds an id index (see ``restore_id_index``).
SORT_MEMORY_KIB = 4 * 1024

_NO_CONFLICT_TARGET = "ON CONFLICT clause does not match"


class BulkLoads:
    """The tables this process is bulk loading, and for which sync (the writer thread's).

    ``while_loading(True)`` is called when the first load starts and ``while_loading(False)``
    when the last one ends (the engine keeps the writer's page cache small meanwhile: appends
    need none, and at 500k rows the cache was a third of the sync's peak RSS)."""

    def __init__(self, while_loading: Callable[[bool], None] = lambda _: None) -> None:
        self._while_loading = while_loading
        self._loading: dict[str, int] = {}  # table name → the number of the sync loading it
        self._checked: dict[str, int] = {}  # table name → the sync that found it not empty

    @property
    def active(self) -> bool:
        return bool(self._loading)

    def loading(self, table: TableSpec) -> bool:
        return table.name in self._loading

    def begin(self, conn: apsw.Connection, table: TableSpec, seen: int, rows: int) -> bool:
        """Whether sync ``seen`` may append this run of ``rows`` rows to ``table`` without its
        id index, starting a load when the table is empty (in the caller's transaction)."""
        number = self._loading.get(table.name)
        if number is not None:
            if number == seen:
                return True
            self.end(conn, table)  # an earlier sync's load, left unfinished
            return False
        if rows < BULK_LOAD_MIN_ROWS or self._checked.get(table.name) == seen:
            return False
        self._checked[table.name] = seen
        if not has_id_index(conn, table):  # another process is loading it
            restore_id_index(conn, table)
            return False
        if list(conn.execute(f"SELECT 1 FROM {table.quoted} LIMIT 1")):
            return False
        conn.execute(f"DROP INDEX {table.id_index}")
        if table.text_index is not None:
            # The empty table's text index holds nothing: from 0, the rows wait for the
            # catch-up instead of being looked up by id.
            table.text_index.reset(conn)
        if not self._loading:
            self._while_loading(True)
        self._loading[table.name] = seen
        return True

    def forget(self, table: TableSpec) -> None:
        """The table has its index again (built by another connection)."""
        if self._loading.pop(table.name, None) is not None and not self._loading:
            self._while_loading(False)

    def end(self, conn: apsw.Connection, table: TableSpec) -> None:
        """End the load of ``table`` (the caller's transaction)."""
        self.forget(table)
        restore_id_index(conn, table)

    def end_all(self, conn: apsw.Connection, tables: Iterable[TableSpec]) -> None:
        """End every load among ``tables``."""
        for table in tables:
            if table.name in self._loading:
                self.end(conn, table)

    def loaded_by(
        self, conn: apsw.Connection, tables: Iterable[TableSpec], seen: int
    ) -> list[TableSpec]:
        """The tables sync ``seen`` is loading and that still lack their id index: it wrote
        every row they hold (they were empty when its load began, anything else in this
        process ends the load, and a row from another connection comes with the index)."""
        return [
            table
            for table in tables
            if self._loading.get(table.name) == seen and not has_id_index(conn, table)
        ]


def has_id_index(conn: apsw.Connection, table: TableSpec) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?"
    return bool(list(conn.execute(sql, (table.id_index_name,))))


def restore_missing_id_indexes(conn: apsw.Connection, tables: Iterable[TableSpec]) -> None:
    """Build the id index of every bulk-loadable table without one (opening a file)."""
    for table in tables:
        if table.bulk_loadable and not has_id_index(conn, table):
            restore_id_index(conn, table)


def restore_id_index(conn: apsw.Connection, table: TableSpec) -> None:
    """Build ``table``'s id index, merging the rows of ids written twice first."""
    # SQLite sorts the ids in memory up to the connection's cache size (the writer's grows
    # to 64 MiB) before it spills runs to temporary files: at 500k rows that held 26 MiB more
    # at once. A small cache for the build keeps the sort's memory small.
    cache = int(next(iter(conn.execute("PRAGMA cache_size")))[0])
    conn.execute(f"PRAGMA cache_size = -{SORT_MEMORY_KIB}")
    try:
        try:
            conn.execute(table.id_index_sql())
        except apsw.ConstraintError:
            merge_duplicates(conn, table)
    finally:
        conn.execute(f"PRAGMA cache_size = {cache}")


def merge_duplicates(conn: apsw.Connection, table: TableSpec) -> None:
    """Build the id index of a table holding ids written twice: their rows are taken out, the
    index built, and each row written again, in write order, as the upsert it stood for — a
    sync's write of the fields its ``_synced_mask`` names, with its time and sync; a row
    without sync state (written outside a sync), every field as the row holds it. The
    upserts keep the text index in step as any write does."""
    columns = table.columns
    names = ", ".join(["_id", *(c.quoted for c in columns), SYNCED_AT, SYNCED_MASK, SEEN])
    t = table.quoted
    rows = conn.execute(
        f"SELECT rowid, {names} FROM {t} WHERE _id IN "
        f"(SELECT _id FROM {t} GROUP BY _id HAVING count(*) > 1) ORDER BY rowid"
    ).fetchall()
    conn.executemany(f"DELETE FROM {t} WHERE rowid = ?", [row[:1] for row in rows])
    conn.execute(table.id_index_sql())
    bits = [table.mask_of((c.field,)) for c in columns]
    for _, id_, *values, at, mask, seen in rows:
        wrote: Sequence[int] = range(len(columns))
        stamp = None
        if at is not None:
            wrote = [i for i, bit in enumerate(bits) if int(mask or 0) & bit]
            stamp = SyncStamp(int(at), int(seen or 0))
        fields = tuple(columns[i].field for i in wrote)
        row = (id_, *(values[i] for i in wrote))
        run_write(conn, (table.upsert_sql(fields, stamp), [row], table.text_writer(fields)))


@attrs.frozen
class TableRun:
    """How a prepared upsert of one bulk-loadable table runs (the third part of its
    ``WriteRun``): as this sync's plain insert while the table is being loaded, else as the
    upsert — ending a load first when the write is not the loading sync's."""

    loads: BulkLoads
    table: TableSpec
    #: The sync's number and its plain insert (None: not a sync's write).
    seen: int | None
    insert_sql: str | None
    text: TextWriter | None

    def apply(self, conn: apsw.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        loads, table = self.loads, self.table
        if self.insert_sql is not None and self.seen is not None:
            if loads.begin(conn, table, self.seen, len(rows)):
                try:
                    self._run(conn, self.insert_sql, rows)
                    return
                except apsw.ConstraintError:  # another connection built the index meanwhile
                    loads.forget(table)
        elif loads.loading(table):
            loads.end(conn, table)
        try:
            self._run(conn, sql, rows)
        except apsw.SQLError as exc:
            if _NO_CONFLICT_TARGET not in str(exc):
                raise
            restore_id_index(conn, table)  # another process is loading the table
            self._run(conn, sql, rows)

    def _run(self, conn: apsw.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        run_write(conn, (sql, rows, self.text))
