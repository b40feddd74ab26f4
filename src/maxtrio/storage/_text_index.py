"""Full-text search: an FTS5 index over the text fields of one entity table, kept in step.

Each entity type with string fields gets ``<table>_fts``, an *external-content* FTS5 table
(``content=<table>``, ``content_rowid=rowid``): it stores only the index, the text itself
stays in the entity table. Every string field is indexed, in declaration order.

An external-content index must be told the exact old values of a row whose text changes or
goes. Keeping it in step costs little on the hot path because the engine does the work of
upserts itself, batch by batch, in the transaction of the write:

* before an upsert statement it reads the rowid and text of the rows of the batch that
  already exist (one indexed ``IN`` lookup) and notes the table's largest rowid;
* after it, rows whose text really changed get their old terms removed and new ones added
  (a re-sync of unchanged rows does no index work), and every row above the noted rowid — new
  rows always get rowids above the largest one — is indexed with one ``INSERT … SELECT``;
* deletes go through an ``AFTER DELETE`` trigger, which reads the old values from ``old``.

Triggers on insert and update would be simpler and are far slower: with one on the table each
row of an upsert runs in its own statement journal, and FTS5 is called row by row (50k Acme
tasks: +1.4 s against +0.2 s). So every upsert of an entity table goes through
:meth:`TextWriter.apply`; nothing else writes text columns. When the set of text columns
changes (a connector adds a string field), the index is dropped and rebuilt from the table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import apsw
import attrs

from ._naming import quote

#: The suffix of an entity table's full-text index.
SUFFIX = "_fts"
#: The tables FTS5 keeps beside an index (``<index>_data`` and so on).
SHADOW_TABLES = ("_data", "_idx", "_docsize", "_config", "_content")


def is_text_index_table(name: str) -> bool:
    """Whether a table of ``data.db`` is a full-text index or one of FTS5's shadow tables
    (for code listing a file's entity tables)."""
    return name.endswith(SUFFIX) or any(name.endswith(SUFFIX + s) for s in SHADOW_TABLES)


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
            f"BEGIN INSERT INTO {fts}({fts}, rowid, {cols}) "
            f"VALUES ('delete', old.rowid, {self.column_list('old.')}); END",
        ]

    def migrate(self, conn: apsw.Connection) -> None:
        """Create the index (indexing the rows already there) or rebuild it when its columns
        changed; nothing when it is up to date."""
        present = [row[1] for row in conn.execute(f"PRAGMA table_info({self.quoted})")]
        if present == list(self.columns):
            return
        if present:
            self.drop(conn)
        for statement in self.ddl():
            conn.execute(statement)
        conn.execute(f"INSERT INTO {self.quoted}({self.quoted}) VALUES ('rebuild')")

    def drop(self, conn: apsw.Connection) -> None:
        conn.execute(f"DROP TRIGGER IF EXISTS {quote(self.name + '_delete')}")
        conn.execute(f"DROP TABLE IF EXISTS {self.quoted}")

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
        changed: list[tuple[Any, ...]] = []
        if self.writes_text:
            old_rows = conn.execute(
                f"SELECT _id, rowid, {index.column_list()} FROM {table} "
                "WHERE _id IN (SELECT value FROM json_each(?))",
                (json.dumps([row[0] for row in rows]),),
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
        last = 0
        for (rowid,) in conn.execute(f"SELECT max(rowid) FROM {table}"):
            last = int(rowid or 0)
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
        conn.execute(
            f"INSERT INTO {fts}(rowid, {cols}) SELECT rowid, {cols} FROM {table} WHERE rowid > ?",
            (last,),
        )


def text_index_for(table: str, text_columns: Sequence[str]) -> TextIndex | None:
    """The index of a table with these text columns, or None when it has none."""
    return TextIndex(table, tuple(text_columns)) if text_columns else None


#: A prepared write: an upsert or delete statement, its rows, and how the statement keeps the
#: table's text index in step (None: the table has none, or the statement is a delete).
WriteRun = tuple[str, list[tuple[Any, ...]], TextWriter | None]
