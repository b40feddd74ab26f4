"""``RowSyncMeta``: the ``SyncMeta`` protocol over the sync-state columns of the rows, written
once for SQLite (``SqliteSyncMeta``) and PostgreSQL (``PgSyncMeta``).

Freshness lives on each entity row (``_synced_at``, ``_synced_mask``; see ``_table``), written
by a sync in the same upsert as the fields. This class is the per-(RefKey, field) face of those
columns, for callers that ask about one entity:

* a field is **fresh** when its bit is set and ``_synced_at >= now − max_age`` (a field synced
  exactly ``max_age`` ago is fresh); anything else — no row, no bit, an older time — is stale;
* one row has one time: recording a subset of the fields already synced keeps the older time,
  so a field never reads fresher than it is (it may read older than it is);
* RefKeys outside the installation scope (``ews:…``, ``egl:…``) and entities that have no row
  have no sync state: recording for them is a no-op and they read as never synced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from maxtrio.core import INSTALLATION, try_parse_ref_key
from maxtrio.execution import FieldSyncEntry, FieldSyncRow, field_sync_rows, freshness_cutoff

from ._sqlite_engine import SqliteEngine
from ._store_dialect import SQLITE, StoreDialect
from ._sync_state import last_listed
from ._table import SYNCED_AT, SYNCED_MASK, TableSpec


def locate_ref(tables: Mapping[str, TableSpec], ref_key: str) -> tuple[TableSpec, str] | None:
    """The table and entity id of an installation-scoped RefKey (None for any other)."""
    parsed = try_parse_ref_key(ref_key)
    if parsed is None or parsed.scope != INSTALLATION:
        return None
    table = tables.get(parsed.entity_type)
    return (table, parsed.entity_id) if table is not None else None


def apply_field_sync_rows(
    d: StoreDialect, conn: Any, tables: Mapping[str, TableSpec], rows: Iterable[FieldSyncRow]
) -> None:
    """Record ``(ref_key, field, synced_at)`` rows on the entities' own rows (the caller's
    transaction): per entity, the fields' bits are set and the time follows the rule above
    (the oldest time given for it in this call)."""
    per_ref: dict[tuple[TableSpec, str], tuple[int, int]] = {}  # → (mask, oldest time)
    for ref_key, field, synced_at in rows:
        located = locate_ref(tables, ref_key)
        if located is None:
            continue
        bit = located[0].mask_of((field,))
        mask, oldest = per_ref.get(located, (0, synced_at))
        per_ref[located] = (mask | bit, min(oldest, synced_at))
    mask_sql = f"CAST(? AS {d.integer})"
    for (table, entity_id), (mask, at) in per_ref.items():
        d.run(
            conn,
            f"UPDATE {table.quoted} SET {SYNCED_AT} = CASE WHEN "
            f"coalesce({SYNCED_MASK}, 0) & ~{mask_sql} = 0 OR {SYNCED_AT} IS NULL THEN ? "
            f"ELSE {d.least}({SYNCED_AT}, ?) END, "
            f"{SYNCED_MASK} = coalesce({SYNCED_MASK}, 0) | {mask_sql} WHERE _id = ?",
            (mask, at, at, mask, d.key(entity_id)),
        )


class RowSyncMeta:
    """The ``SyncMeta`` protocol over the rows of one SQL engine (``SqliteEngine`` or
    ``PgEngine``: ``tables_by_type`` and a ``database`` to ``read``/``write``)."""

    dialect: StoreDialect = SQLITE

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.database = engine.database

    async def _settle(self) -> None:
        """Before rows are read or updated by id (SQLite: end the engine's bulk loads)."""

    async def _state(self, ref_key: str) -> tuple[TableSpec, int | None, int] | None:
        """The row's table, ``_synced_at`` and mask; None when it has no row."""
        located = locate_ref(self.engine.tables_by_type, ref_key)
        if located is None:
            return None
        await self._settle()
        table, entity_id = located
        d, key = self.dialect, self.dialect.key(entity_id)
        sql = f"SELECT {SYNCED_AT}, {SYNCED_MASK} FROM {table.quoted} WHERE _id = ?"
        rows = await self.database.read(lambda conn: d.rows(conn, sql, (key,)))
        if not rows:
            return None
        at, mask = rows[0]
        return table, at, int(mask or 0)

    async def record_field_sync_batch(self, entries: Sequence[FieldSyncEntry]) -> None:
        if not entries:
            return
        rows = list(field_sync_rows(entries))
        d, tables = self.dialect, self.engine.tables_by_type
        await self._settle()
        await self.database.write(lambda conn: apply_field_sync_rows(d, conn, tables, rows))

    async def get_field_sync_time(self, ref_key: str, field: str) -> int | None:
        state = await self._state(ref_key)
        if state is None:
            return None
        table, at, mask = state
        bit = table.mask_of((field,))
        return int(at) if at is not None and bit and mask & bit else None

    async def stale_fields(
        self, ref_key: str, fields: Sequence[str], max_age: timedelta, now_ms: int
    ) -> list[str]:
        if not fields:
            return []
        state = await self._state(ref_key)
        if state is None:
            return list(fields)
        table, at, mask = state
        if at is None or at < freshness_cutoff(now_ms, max_age):
            return list(fields)
        return [f for f in fields if not (mask & table.mask_of((f,)))]

    async def invalidate_fields(self, ref_key: str, fields: Sequence[str] | None = None) -> None:
        located = locate_ref(self.engine.tables_by_type, ref_key)
        if located is None or (fields is not None and not fields):
            return
        table, entity_id = located
        d = self.dialect
        keep = 0 if fields is None else ~table.mask_of(tuple(fields))
        sql = (
            f"UPDATE {table.quoted} SET {SYNCED_MASK} = coalesce({SYNCED_MASK}, 0) & "
            f"CAST(? AS {d.integer}) WHERE _id = ?"
        )
        params = (keep, d.key(entity_id))
        await self._settle()
        await self.database.write(lambda conn: d.run(conn, sql, params))

    # -- what ``--max-age`` asks: one query per page of refs -------------------------------------

    async def fresh_ids(
        self, entity_type: str, ids: Sequence[str], fields: Sequence[str], since_ms: int
    ) -> set[str]:
        table = self.engine.tables_by_type.get(entity_type)
        if table is None or not ids:
            return set()
        wanted = tuple(f for f in fields if f in table.by_field)
        mask = table.mask_of(wanted)
        if len(wanted) != len(fields) or mask.bit_count() != len(wanted):
            return set()  # a field without freshness (a collection, beyond the bits) is stale
        d = self.dialect
        among, listed = d.in_list(ids)
        sql = (
            f"SELECT _id FROM {table.quoted} WHERE _id {among} AND {SYNCED_AT} >= ? "
            f"AND coalesce({SYNCED_MASK}, 0) & CAST(? AS {d.integer}) = ?"
        )
        params = (listed, since_ms, mask, mask)
        await self._settle()
        rows = await self.database.read(lambda conn: d.rows(conn, sql, params))
        return {d.unkey(row[0]) for row in rows}

    async def listed_ids(
        self, parent_type: str, field: str, ids: Sequence[str], since_ms: int
    ) -> set[str]:
        d = self.dialect
        listed = await self.database.read(
            lambda conn: last_listed(d, conn, parent_type, field, list(ids))
        )
        return {parent for parent, at in listed.items() if at >= since_ms}


class SqliteSyncMeta(RowSyncMeta):
    """The ``SyncMeta`` protocol over the rows of one ``SqliteEngine``."""

    def __init__(self, engine: SqliteEngine) -> None:
        super().__init__(engine)
        self.engine: SqliteEngine = engine

    async def _settle(self) -> None:
        await self.engine.settle()
