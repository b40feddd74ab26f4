"""One entity table: its columns, DDL, migration, upsert statements and row readers.

Layout: ``_id TEXT NOT NULL`` then one column per scalar or ref field in declaration order
(string/date/ref TEXT, number REAL, boolean INTEGER); collections have no column. The ids are
unique through a separate index, ``_max_id_<table>``, so a sync filling an empty table can
drop it and build it once at the end (``_bulk_load``). Tables created before that keep their
``_id TEXT PRIMARY KEY`` (never bulk loaded; everything else is the same). Migration creates
the table, renames a legacy ``id`` key column, and adds missing columns; it never drops,
renames or retypes a column.

Sync state rides on the rows (docs/storage.md, "Sync state"): three ``INTEGER`` columns that
a sync writes in the same upsert as the entity's fields —

* ``_synced_at`` — when a sync last wrote fields of the row (ms);
* ``_synced_mask`` — which fields a sync has written: bit ``p`` is the field whose column is at
  position ``p`` of the table (``PRAGMA table_info``; positions never change because columns
  are only ever appended). A field is fresh when its bit is set and ``_synced_at`` is recent
  enough. Writing a subset of the fields already synced keeps the older time (freshness errs
  toward stale, never toward fresh);
* ``_seen`` — the number of the last sync that wrote or listed the row; a complete listing
  removes the rows of its scope that it did not see.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import apsw
import attrs

from maxtrio.core import SQL_TYPES, EntityDef, EntityResult, FieldKind, Ref, Schema, quote_input

from ._errors import ErrColumnCollision, ErrFieldNotFound, ErrTableCollision
from ._naming import column_name, quote, table_name
from ._text_index import TextWriter, text_index_for
from ._values import reader_for

ID_COLUMN = "_id"
#: The prefix of an entity table's unique id index (``_max_`` names are never entity tables).
ID_INDEX_PREFIX = "_max_id_"
SYNCED_AT = "_synced_at"
SYNCED_MASK = "_synced_mask"
SEEN = "_seen"
#: The sync-state columns every entity table carries, in the order they are added.
SYNC_COLUMNS = (SYNCED_AT, SYNCED_MASK, SEEN)
#: Fields at column positions from here on have no freshness bit (they always read stale).
MASK_BITS = 62


@attrs.frozen
class SyncStamp:
    """What a sync writes beside the fields: the time and the sync's number."""

    synced_at: int
    seen: int


@attrs.frozen
class Column:
    field: str
    name: str
    kind: FieldKind
    sql_type: str
    target: EntityDef | None

    @property
    def quoted(self) -> str:
        return quote(self.name)


class TableSpec:
    """The table of one registered entity type (in SQLite; ``PgTableSpec`` in PostgreSQL)."""

    #: How the upserts spell a placeholder and the two-argument minimum.
    mark = "?"
    least = "min"
    #: The read converter of a column kind.
    value_reader = staticmethod(reader_for)
    #: Whether a sync may fill the empty table without its id index (``_bulk_load``): a
    #: SQLite table whose ids are unique through :attr:`id_index` and whose every field has a
    #: freshness bit (ending a load merges an id written twice by those bits). Set by
    #: :meth:`migrate`.
    bulk_loadable = False

    def __init__(self, entity: EntityDef, resolve: Callable[[str], EntityDef | None]) -> None:
        self.entity = entity
        self.name = table_name(entity.name)
        if self.name.startswith("_max_"):
            raise ErrTableCollision(
                entityType=entity.name,
                table=self.name,
                reason="which is reserved for Max's own tables",
            )
        columns: list[Column] = []
        seen: dict[str, str] = {ID_COLUMN: "_id"}
        for fname, field in entity.fields.items():
            if not field.is_stored:
                continue
            cname = column_name(fname)
            if cname in seen:
                raise ErrColumnCollision(
                    entityType=entity.name, first=seen[cname], second=fname, column=cname
                )
            seen[cname] = fname
            target = field.target(resolve) if field.kind is FieldKind.REF else None
            columns.append(Column(fname, cname, field.kind, SQL_TYPES[field.kind], target))
        self.columns: tuple[Column, ...] = tuple(columns)
        self.by_field: Mapping[str, Column] = {c.field: c for c in columns}
        #: The full-text index over the string fields (None when there are none).
        self.text_index = text_index_for(
            self.name, [c.name for c in columns if c.kind is FieldKind.STRING]
        )
        self._upsert_sql: dict[tuple[str, ...], str] = {}
        self._text_writers: dict[tuple[str, ...], TextWriter] = {}
        # Column position (``PRAGMA table_info`` cid) of each field, read by ``migrate``; the
        # declaration order until then (the order a fresh table gets).
        self.positions: dict[str, int] = {c.field: i + 1 for i, c in enumerate(columns)}

    @property
    def quoted(self) -> str:
        return quote(self.name)

    @property
    def id_index_name(self) -> str:
        """The unique index on ``_id`` (unquoted)."""
        return ID_INDEX_PREFIX + self.name

    @property
    def id_index(self) -> str:
        return quote(self.id_index_name)

    # -- DDL ---------------------------------------------------------------------------------

    def create_sql(self) -> str:
        cols = "".join(f", {c.quoted} {c.sql_type}" for c in self.columns)
        sync = "".join(f", {name} INTEGER" for name in SYNC_COLUMNS)
        return f"CREATE TABLE IF NOT EXISTS {self.quoted} (_id TEXT NOT NULL{cols}{sync})"

    def id_index_sql(self) -> str:
        return f"CREATE UNIQUE INDEX IF NOT EXISTS {self.id_index} ON {self.quoted} (_id)"

    def migrate(self, conn: apsw.Connection) -> bool:
        """Create the table or bring an existing one up to the schema (idempotent).

        Returns True when the table existed without the sync-state columns (a file written
        before sync state lived on the rows), so the caller can fold the old state in."""
        info = list(conn.execute(f"PRAGMA table_info({self.quoted})"))
        existing = [row[1] for row in info]
        keyed = any(row[5] for row in info)  # a table from before the separate id index
        if existing and "id" in existing and ID_COLUMN not in existing:
            conn.execute(f'ALTER TABLE {self.quoted} RENAME COLUMN "id" TO _id')
            existing = [ID_COLUMN if n == "id" else n for n in existing]
        upgraded = False
        if not existing:
            conn.execute(self.create_sql())
            conn.execute(self.id_index_sql())
        else:
            upgraded = SYNCED_AT not in existing
            for c in self.columns:
                if c.name not in existing:
                    conn.execute(f"ALTER TABLE {self.quoted} ADD COLUMN {c.quoted} {c.sql_type}")
            for name in SYNC_COLUMNS:
                if name not in existing:
                    conn.execute(f"ALTER TABLE {self.quoted} ADD COLUMN {name} INTEGER")
        cids = {row[1]: int(row[0]) for row in conn.execute(f"PRAGMA table_info({self.quoted})")}
        self.positions = {c.field: cids[c.name] for c in self.columns}
        self.bulk_loadable = not keyed and all(p < MASK_BITS for p in self.positions.values())
        if self.text_index is not None:
            self.text_index.migrate(conn)
        self._upsert_sql.clear()
        return upgraded

    def mask_of(self, fields: tuple[str, ...]) -> int:
        """The freshness bits of ``fields`` (stored fields only; see :data:`MASK_BITS`)."""
        mask = 0
        for f in fields:
            position = self.positions.get(f)
            if position is not None and position < MASK_BITS:
                mask |= 1 << position
        return mask

    # -- writes ------------------------------------------------------------------------------

    def upsert_sql(self, fields: tuple[str, ...], stamp: SyncStamp | None = None) -> str:
        """Merge upsert of ``_id`` plus these fields' columns (others are left untouched).

        With a ``stamp`` (a sync's write) the statement also writes the sync-state columns:
        the stamp's values are SQL literals (integers we made), so each row binds only its
        id and fields."""
        if stamp is not None:
            return self._sync_upsert_sql(fields, stamp)
        sql = self._upsert_sql.get(fields)
        if sql is None:
            cols = [self.by_field[f].quoted for f in fields]
            marks = ", ".join([self.mark] * (len(cols) + 1))
            names = ", ".join(["_id", *cols])
            if cols:
                updates = ", ".join(f"{c} = excluded.{c}" for c in cols)
                tail = f"ON CONFLICT(_id) DO UPDATE SET {updates}"
            else:
                tail = "ON CONFLICT(_id) DO NOTHING"
            sql = f"INSERT INTO {self.quoted} ({names}) VALUES ({marks}) {tail}"
            self._upsert_sql[fields] = sql
        return sql

    def _sync_upsert_sql(self, fields: tuple[str, ...], stamp: SyncStamp) -> str:
        cols = [self.by_field[f].quoted for f in fields]
        mask = self.mask_of(fields)
        at = int(stamp.synced_at)
        updates = [f"{c} = excluded.{c}" for c in cols]
        if mask:
            # Writing every field synced so far (or more) renews the time; writing fewer keeps
            # the older one, so an unwritten field never looks fresher than it is.
            at_, mask_ = self.existing(SYNCED_AT), self.existing(SYNCED_MASK)
            updates.append(
                f"{SYNCED_AT} = CASE WHEN coalesce({mask_}, 0) & ~{mask} = 0 "
                f"OR {at_} IS NULL THEN {at} ELSE {self.least}({at_}, {at}) END"
            )
            updates.append(f"{SYNCED_MASK} = coalesce({mask_}, 0) | {mask}")
        updates.append(f"{SEEN} = {int(stamp.seen)}")
        conflict = f"ON CONFLICT(_id) DO UPDATE SET {', '.join(updates)}"
        return f"{self.insert_sql(fields, stamp)} {conflict}"

    def insert_sql(self, fields: tuple[str, ...], stamp: SyncStamp) -> str:
        """A sync's plain ``INSERT`` of ``_id`` plus these fields and the row's sync state (the
        head of :meth:`upsert_sql`'s statement; alone, what a bulk load appends)."""
        cols = [self.by_field[f].quoted for f in fields]
        literals = [str(int(stamp.synced_at)), str(self.mask_of(fields)), str(int(stamp.seen))]
        names = ", ".join(["_id", *cols, *SYNC_COLUMNS])
        marks = ", ".join([self.mark] * (len(cols) + 1) + literals)
        return f"INSERT INTO {self.quoted} ({names}) VALUES ({marks})"

    def existing(self, column: str) -> str:
        """A column of the existing row inside ``ON CONFLICT DO UPDATE`` (SQLite resolves the
        bare name to it)."""
        return column

    def text_writer(self, fields: tuple[str, ...]) -> TextWriter | None:
        """How an upsert of these fields keeps the text index in step (None: no index)."""
        if self.text_index is None:
            return None
        writer = self._text_writers.get(fields)
        if writer is None:
            writer = self.text_index.writer([self.by_field[f].name for f in fields])
            self._text_writers[fields] = writer
        return writer

    # -- reads -------------------------------------------------------------------------------

    def column(self, field: str) -> Column:
        """The column of a stored field; ``storage.field_not_found`` otherwise."""
        try:
            return self.by_field[field]
        except KeyError:
            raise ErrFieldNotFound(
                entityType=self.entity.name, field=quote_input(field, 60)
            ) from None

    def select_columns(self, fields: tuple[str, ...] | None) -> tuple[Column, ...]:
        """Columns for a field list (None = all); unknown names raise ``field_not_found``."""
        if fields is None:
            return self.columns
        out: list[Column] = []
        for f in fields:
            if f == ID_COLUMN:
                continue
            col = self.column(f)
            if col not in out:
                out.append(col)
        return tuple(out)

    def known_columns(self, fields: tuple[str, ...] | None) -> tuple[Column, ...]:
        """Like :meth:`select_columns` but silently ignoring unknown names (``load``)."""
        if fields is None:
            return self.columns
        wanted = set(fields)
        return tuple(c for c in self.columns if c.field in wanted)

    @cached_property
    def _readers(self) -> dict[str, Callable[[Any], Any] | None]:
        return {c.field: self.value_reader(c.kind, c.target) for c in self.columns}

    def row_reader(self, columns: tuple[Column, ...]) -> Callable[[tuple[Any, ...]], EntityResult]:
        """A function turning ``(_id, *columns)`` rows into EntityResults."""
        entity = self.entity
        names = tuple(c.field for c in columns)
        convs = [(i + 1, self._readers[c.field]) for i, c in enumerate(columns)]
        convs = [(i, fn) for i, fn in convs if fn is not None]

        def read(row: tuple[Any, ...]) -> EntityResult:
            if convs:
                values = list(row)
                for i, fn in convs:
                    values[i] = fn(values[i])  # type: ignore[misc]
                row = tuple(values)
            return EntityResult(Ref(entity, row[0]), dict(zip(names, row[1:], strict=True)))

        return read


def table_specs(schema: Schema, spec: type[TableSpec] | None = None) -> dict[str, TableSpec]:
    """The table of every entity type of ``schema``, by type name.

    Two types whose names map to one table (``FooBar`` and ``Foo_bar``) are rejected with
    ``storage.table_collision``; a type registered twice under one name keeps the later def.
    """
    tables: dict[str, TableSpec] = {}
    for entity in schema.entities:
        table = (spec or TableSpec)(entity, schema.get_definition)
        for other in tables.values():
            if other.name == table.name and other.entity.name != entity.name:
                raise ErrTableCollision(
                    entityType=entity.name, table=table.name, reason=f"as {other.entity.name} does"
                )
        tables[entity.name] = table
    # ``Foo`` with text fields owns ``_foo_fts`` and FTS5's ``_foo_fts_*`` tables.
    for table in tables.values():
        for other in tables.values():
            index = other.text_index
            if index is not None and table.name.startswith(index.name):
                raise ErrTableCollision(
                    entityType=table.entity.name,
                    table=table.name,
                    reason=f"which belongs to the full-text index of {other.entity.name}",
                )
    return tables
