"""Full-text search: an FTS5 index over the text fields of one entity table, kept in step.

Each entity type with string fields gets ``<table>_fts``, an *external-content* FTS5 table
(``content=<table>``, ``content_rowid=rowid``): it stores only the index, the text itself
stays in the entity table. Every string field is indexed, in declaration order.

An external-content index must be told the exact old values of a row whose text changes or
goes, and building it costs about a third of a bulk write. So the index **lags**: a watermark
per index (``_max_text_index.indexed_to``) says which rows it holds — every row whose rowid is
at most the watermark, none above it — and :meth:`TextIndex.catch_up` indexes the rows above
it in one statement and moves it. A sync catches up in the transaction that completes it (or
applies an incremental change set), and a text query catches up first when its index is
behind, so what search finds is never stale; what lags is only the work, done once for a whole
sync (50k Acme tasks: 0.2 s of index work in one statement against 0.4 s spread over fifty
transactions, most of it FTS5 merging its per-transaction segments).

Writes keep the indexed rows in step, batch by batch, in the transaction of the write:

* before an upsert statement the engine reads the rowid and text of the rows of the batch that
  are already indexed (one indexed ``IN`` lookup; none before the first catch-up) and notes the
  table's largest rowid;
* after it, indexed rows whose text really changed get their old terms removed and new ones
  added (a re-sync of unchanged rows does no index work). New rows get rowids above the noted
  largest one, so they are above the watermark and wait for the catch-up — unless deletes
  lowered the largest rowid below the watermark: new rows at or under it are indexed at once;
* deletes go through an ``AFTER DELETE`` trigger, which reads the old values from ``old`` and
  runs only for rows at or under the watermark.

Triggers on insert and update would be simpler and are far slower: with one on the table each
row of an upsert runs in its own statement journal, and FTS5 is called row by row (50k Acme
tasks: +1.4 s against +0.2 s). So every upsert of an entity table goes through
:meth:`TextWriter.apply`; nothing else writes text columns. When the set of text columns
changes (a connector adds a string field), the index is dropped and rebuilt from the table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

import apsw
import attrs

from ._naming import quote

#: The suffix of an entity table's full-text index.
SUFFIX = "_fts"
#: The tables FTS5 keeps beside an index (``<index>_data`` and so on).
SHADOW_TABLES = ("_data", "_idx", "_docsize", "_config", "_content")
#: One row per index: the largest rowid up to which it holds every row of its table.
WATERMARKS = "_max_text_index"
_WATERMARKS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {WATERMARKS} (name TEXT PRIMARY KEY, indexed_to INTEGER NOT NULL)"
)


#: FTS5 buffers the terms of the rows it indexes in memory and writes them out as a segment
#: when the buffer is full, then merges segments. Its default buffer (1 MiB) makes a sync's
#: catch-up of 500k Acme tasks write some 500 segments and merge them (1.44 s); 8 MiB, 1.02 s
#: (50k tasks: 0.096 → 0.08 s). The buffer lives only while a transaction indexes rows.
PENDING_TERMS_BYTES = 8 * 1024 * 1024
#: A catch-up of at least this many rows (by rowid) runs with FTS5's automatic merging off.
#: Each full buffer becomes a segment, and by default FTS5 merges segments as soon as four
#: share a level — inside the statement, rewriting the segments it has just written. A first
#: sync's catch-up of 500k Acme tasks writes some six segments: merging them as it goes is
#: most of the 0.2 s it costs on top of indexing (1.15 → 0.93 s), and the merged index
#: answers queries no faster. Merging resumes with the next write, a little at each.
LARGE_CATCH_UP_ROWS = 10_000
#: FTS5's default ``automerge`` (segments on one level that start a merge), restored after.
AUTOMERGE_SEGMENTS = 4


def is_text_index_table(name: str) -> bool:
    """Whether a table of ``data.db`` is a full-text index, one of FTS5's shadow tables or
    the indexes' watermarks (for code listing a file's entity tables)."""
    return (
        name == WATERMARKS
        or name.endswith(SUFFIX)
        or any(name.endswith(SUFFIX + s) for s in SHADOW_TABLES)
    )


@attrs.frozen
class TextIndex:
    """The FTS5 index of one entity table over its text columns."""

    table: str  # the entity table's name (unquoted)
    columns: tuple[str, ...]  # its text columns' names (unquoted), in declaration order

    @property
    def name(self) -> str:
        return self.table + SUFFIX

    @property
    def quoted(self) -> str:
        return quote(self.name)

    def column_list(self, prefix: str = "") -> str:
        """The text columns quoted for SQL, each after ``prefix`` (``old.``)."""
        return ", ".join(prefix + quote(c) for c in self.columns)

    # -- DDL ---------------------------------------------------------------------------------

    def ddl(self) -> list[str]:
        """Statements creating the index and its delete trigger (the table must exist)."""
        fts, cols = self.quoted, self.column_list()
        return [
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content={quote(self.table)}, "
            "content_rowid=rowid)",
            f"CREATE TRIGGER {quote(self.name + '_delete')} AFTER DELETE ON {quote(self.table)} "
            f"WHEN old.rowid <= (SELECT indexed_to FROM {WATERMARKS} WHERE name = "
            f"{_literal(self.name)}) "
            f"BEGIN INSERT INTO {fts}({fts}, rowid, {cols}) "
            f"VALUES ('delete', old.rowid, {self.column_list('old.')}); END",
        ]

    def migrate(self, conn: apsw.Connection) -> None:
        """Create the index (it then holds the rows already there) or rebuild it when its
        columns changed; nothing when it is up to date. An index of a file from before the
        watermark is complete: it gets its watermark and the trigger that reads it."""
        conn.execute(_WATERMARKS_DDL)
        present = [row[1] for row in conn.execute(f"PRAGMA table_info({self.quoted})")]
        marked = self._mark(conn) is not None
        if present == list(self.columns) and marked:
            self._tune(conn)
            return
        rebuild = present != list(self.columns)
        if not rebuild:
            conn.execute(f"DROP TRIGGER IF EXISTS {quote(self.name + '_delete')}")
            conn.execute(self.ddl()[1])
        else:
            if present:
                self.drop(conn)
            for statement in self.ddl():
                conn.execute(statement)
        self._tune(conn)
        if rebuild:
            conn.execute(f"INSERT INTO {self.quoted}({self.quoted}) VALUES ('rebuild')")
        self._set_mark(conn, self.largest_rowid(conn))

    def _tune(self, conn: apsw.Connection) -> None:
        """Give the index its pending-terms buffer (FTS5's persistent ``hashsize``)."""
        config = quote(self.name + "_config")
        current = conn.execute(f"SELECT v FROM {config} WHERE k = 'hashsize'").fetchall()
        if current != [(PENDING_TERMS_BYTES,)]:
            self._set_option(conn, "hashsize", PENDING_TERMS_BYTES)

    def _set_option(self, conn: apsw.Connection, name: str, value: int) -> None:
        """Set one of FTS5's persistent options of the index (its ``<index>_config`` row)."""
        conn.execute(f"INSERT INTO {self.quoted}({self.quoted}, rank) VALUES (?, ?)", (name, value))

    def _mark(self, conn: apsw.Connection) -> int | None:
        for (mark,) in conn.execute(
            f"SELECT indexed_to FROM {WATERMARKS} WHERE name = ?", (self.name,)
        ):
            return int(mark)
        return None

    def _set_mark(self, conn: apsw.Connection, mark: int) -> None:
        conn.execute(
            f"INSERT INTO {WATERMARKS} (name, indexed_to) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET indexed_to = excluded.indexed_to",
            (self.name, mark),
        )

    def reset(self, conn: apsw.Connection) -> None:
        """Start the watermark again from 0 — only for an empty table, whose index then
        holds no row (its rows' terms went with them through the delete trigger)."""
        self._set_mark(conn, 0)

    def largest_rowid(self, conn: apsw.Connection) -> int:
        """The table's largest rowid (0 when it is empty)."""
        for (rowid,) in conn.execute(f"SELECT max(rowid) FROM {quote(self.table)}"):
            return int(rowid or 0)
        return 0

    def watermark(self, conn: apsw.Connection) -> int:
        """The largest rowid up to which the index holds every row (0: none yet)."""
        return self._mark(conn) or 0

    def behind(self, conn: apsw.Connection) -> bool:
        """Whether rows of the table wait for :meth:`catch_up`."""
        return self.largest_rowid(conn) > self.watermark(conn)

    def catch_up(self, conn: apsw.Connection) -> int:
        """Index every row above the watermark and move it (the caller holds the write
        transaction). Returns the table's largest rowid."""
        mark, top = self.watermark(conn), self.largest_rowid(conn)
        if top > mark:
            cols = self.column_list()
            large = top - mark >= LARGE_CATCH_UP_ROWS
            if large:
                self._set_option(conn, "automerge", 0)
            conn.execute(
                f"INSERT INTO {self.quoted}(rowid, {cols}) "
                f"SELECT rowid, {cols} FROM {quote(self.table)} WHERE rowid > ?",
                (mark,),
            )
            if large:
                self._set_option(conn, "automerge", AUTOMERGE_SEGMENTS)
            self._set_mark(conn, top)
        return top

    def drop(self, conn: apsw.Connection) -> None:
        conn.execute(f"DROP TRIGGER IF EXISTS {quote(self.name + '_delete')}")
        conn.execute(f"DROP TABLE IF EXISTS {self.quoted}")
        conn.execute(f"DELETE FROM {WATERMARKS} WHERE name = ?", (self.name,))

    def problem_with(self, conn: apsw.Connection, text: str) -> str | None:
        """What FTS5 says of the text query ``text`` run alone ("fts5: syntax error near …",
        "unterminated string", "no such column: x" for a column filter); None: nothing."""
        try:
            conn.execute(
                f"SELECT rowid FROM {self.quoted} WHERE {self.quoted} MATCH ? LIMIT 1", (text,)
            ).fetchall()
        except apsw.SQLError as exc:
            return str(exc).removeprefix("SQLError: ")
        return None

    def writer(self, columns: Sequence[str]) -> TextWriter:
        """How upserts writing these columns (after ``_id``, in this order) keep the index."""
        positions = tuple((columns.index(c) + 1 if c in columns else None) for c in self.columns)
        return TextWriter(self, positions)


@attrs.frozen
class TextWriter:
    """Runs an upsert statement and keeps the index in step (see the module docstring)."""

    index: TextIndex
    #: For each text column of the index, its position in the upsert's rows (None: the
    #: statement does not write it, so it keeps its old value).
    positions: tuple[int | None, ...]

    @property
    def writes_text(self) -> bool:
        return any(p is not None for p in self.positions)

    def apply(self, conn: apsw.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        index, table = self.index, quote(self.index.table)
        if len({row[0] for row in rows}) != len(rows):
            # An id twice in one statement: the second would change a row whose first text
            # was never indexed. Both rows set the same columns, so the last alone is the same.
            rows = list({row[0]: row for row in rows}.values())
        mark = index.watermark(conn)
        changed: list[tuple[Any, ...]] = []
        if self.writes_text and mark:
            old_rows = conn.execute(
                f"SELECT _id, rowid, {index.column_list()} FROM {table} "
                "WHERE _id IN (SELECT value FROM json_each(?)) AND rowid <= ?",
                (json.dumps([row[0] for row in rows]), mark),
            ).fetchall()
            if old_rows:
                by_id = {row[0]: row for row in rows}
                positions = self.positions
                for old in old_rows:
                    new = by_id[old[0]]
                    texts = tuple(
                        old[i + 2] if p is None else new[p] for i, p in enumerate(positions)
                    )
                    if texts != old[2:]:
                        changed.append(old[1:])
        last = index.largest_rowid(conn) if mark else 0
        fts, cols = index.quoted, index.column_list()
        if changed:
            marks = ", ".join("?" * len(index.columns))
            conn.executemany(
                f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', ?, {marks})", changed
            )
        conn.executemany(sql, rows)
        if changed:
            conn.execute(
                f"INSERT INTO {fts}(rowid, {cols}) SELECT rowid, {cols} FROM {table} "
                "WHERE rowid IN (SELECT value FROM json_each(?))",
                (json.dumps([row[0] for row in changed]),),
            )
        if last < mark:  # new rows took rowids of deleted ones at or under the watermark
            conn.execute(
                f"INSERT INTO {fts}(rowid, {cols}) SELECT rowid, {cols} FROM {table} "
                "WHERE rowid > ? AND rowid <= ?",
                (last, mark),
            )


def _literal(text: str) -> str:
    """``text`` as an SQL string literal (for DDL, which takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def text_index_for(table: str, text_columns: Sequence[str]) -> TextIndex | None:
    """The index of a table with these text columns, or None when it has none."""
    return TextIndex(table, tuple(text_columns)) if text_columns else None


class RunWriter(Protocol):
    """How a prepared statement runs when it needs more than ``executemany``: keeping a text
    index in step (:class:`TextWriter`), bulk loading (``_bulk_load.TableRun``)."""

    def apply(self, conn: apsw.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None: ...


#: A prepared write: an upsert or delete statement, its rows, and how the statement runs
#: (None: ``executemany`` — a table without text index and bulk loads, or a delete).
WriteRun = tuple[str, list[tuple[Any, ...]], RunWriter | None]


def run_write(conn: apsw.Connection, run: WriteRun) -> None:
    """Execute one prepared write on ``conn`` (the caller holds the transaction)."""
    sql, rows, how = run
    if how is None:
        conn.executemany(sql, rows)
    else:
        how.apply(conn, sql, rows)
