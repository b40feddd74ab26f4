"""``PgSyncMeta``: the ``SyncMeta`` protocol over the sync-state columns of PostgreSQL rows.

The same rules as ``SqliteSyncMeta`` (``_sync_meta`` states them): a field is fresh when its
bit is set and ``_synced_at`` is recent enough; one row has one time, and recording a subset of
the fields already synced keeps the older time. Ids are matched in their stored form
(``_pg_values.encode_text``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta

from maxtrio.execution import FieldSyncEntry, FieldSyncRow, field_sync_rows, freshness_cutoff

from ._pg_database import PgConnection
from ._pg_engine import PgEngine
from ._pg_sync_state import pg_last_listed
from ._pg_values import decode_text, encode_text, encode_texts
from ._sync_meta import fresh_mask, locate_ref, sync_masks_by_ref
from ._table import SYNCED_AT, SYNCED_MASK, TableSpec


def pg_apply_field_sync_rows(
    conn: PgConnection, tables: Mapping[str, TableSpec], rows: Iterable[FieldSyncRow]
) -> None:
    """Record ``(ref_key, field, synced_at)`` rows on the entities' own rows (the caller's
    transaction)."""
    for (table, entity_id), (mask, at) in sync_masks_by_ref(tables, rows).items():
        conn.execute(
            f"UPDATE {table.quoted} SET {SYNCED_AT} = CASE WHEN "
            f"coalesce({SYNCED_MASK}, 0) & ~%(mask)s::bigint = 0 OR {SYNCED_AT} IS NULL "
            f"THEN %(at)s ELSE LEAST({SYNCED_AT}, %(at)s) END, "
            f"{SYNCED_MASK} = coalesce({SYNCED_MASK}, 0) | %(mask)s::bigint WHERE _id = %(id)s",
            {"mask": mask, "at": at, "id": encode_text(entity_id)},
        )


class PgSyncMeta:
    """The ``SyncMeta`` protocol over the rows of one ``PgEngine``."""

    def __init__(self, engine: PgEngine) -> None:
        self.engine = engine
        self.database = engine.database

    async def _state(self, ref_key: str) -> tuple[TableSpec, int | None, int] | None:
        """The row's table, ``_synced_at`` and mask; None when it has no row."""
        located = locate_ref(self.engine.tables_by_type, ref_key)
        if located is None:
            return None
        table, entity_id = located
        sql = f"SELECT {SYNCED_AT}, {SYNCED_MASK} FROM {table.quoted} WHERE _id = %s"
        key = encode_text(entity_id)
        rows = await self.database.read(lambda conn: conn.execute(sql, (key,)).fetchall())
        if not rows:
            return None
        at, mask = rows[0]
        return table, at, int(mask or 0)

    async def record_field_sync_batch(self, entries: Sequence[FieldSyncEntry]) -> None:
        if not entries:
            return
        rows = list(field_sync_rows(entries))
        tables = self.engine.tables_by_type
        await self.database.write(lambda conn: pg_apply_field_sync_rows(conn, tables, rows))

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
        keep = 0 if fields is None else ~table.mask_of(tuple(fields))
        sql = (
            f"UPDATE {table.quoted} SET {SYNCED_MASK} = coalesce({SYNCED_MASK}, 0) & %s::bigint "
            "WHERE _id = %s"
        )
        params = (keep, encode_text(entity_id))
        await self.database.write(lambda conn: conn.execute(sql, params))

    # -- what ``--max-age`` asks: one query per page of refs -------------------------------------

    async def fresh_ids(
        self, entity_type: str, ids: Sequence[str], fields: Sequence[str], since_ms: int
    ) -> set[str]:
        table = self.engine.tables_by_type.get(entity_type)
        mask = fresh_mask(table, ids, fields)
        if table is None or mask is None:
            return set()
        sql = (
            f"SELECT _id FROM {table.quoted} WHERE _id = ANY(%s) "
            f"AND {SYNCED_AT} >= %s AND coalesce({SYNCED_MASK}, 0) & %s::bigint = %s"
        )
        params = (list(encode_texts(ids)), since_ms, mask, mask)
        rows = await self.database.read(lambda conn: conn.execute(sql, params).fetchall())
        return {decode_text(row[0]) for row in rows}

    async def listed_ids(
        self, parent_type: str, field: str, ids: Sequence[str], since_ms: int
    ) -> set[str]:
        listed = await self.database.read(
            lambda conn: pg_last_listed(conn, parent_type, field, list(ids))
        )
        return {parent for parent, at in listed.items() if at >= since_ms}
