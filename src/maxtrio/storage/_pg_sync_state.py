"""Sync state beside the rows, on PostgreSQL: complete listings, removals, a sync's number.

The PostgreSQL spelling of ``_sync_state`` (which says what each part means): listings are
upserted into ``_max_listings`` with their parent ids stored as the entity tables store ids
(``_pg_values.encode_text``), so :func:`pg_remove_unseen` compares them with ref columns
directly; a sync's number is ``_max_sync.number``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ._pg_database import PgConnection
from ._pg_values import decode_text, encode_text, encode_texts
from ._sync_state import ListingRow
from ._table import SEEN, TableSpec

_UPSERT_LISTING = (
    "INSERT INTO _max_listings (parent_type, field, parent_id, entity_type, via, sync_id, "
    "listed_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (parent_type, field, parent_id) "
    "DO UPDATE SET entity_type = excluded.entity_type, via = excluded.via, "
    "sync_id = excluded.sync_id, listed_at = excluded.listed_at"
)


def pg_record_listings(
    conn: PgConnection, sync_id: str, listed_at: int, listings: Iterable[ListingRow]
) -> None:
    """Remember complete listings of ``sync_id`` (the caller's transaction)."""
    rows = [
        (r.parent_type, r.field, encode_text(r.parent_id), r.entity_type, r.via, sync_id, listed_at)
        for r in listings
    ]
    with conn.cursor() as cursor:
        cursor.executemany(_UPSERT_LISTING, rows)


def pg_sync_number(conn: PgConnection, sync_id: str) -> int:
    """The integer a sync writes into ``_seen`` (0 without a record)."""
    row = conn.execute("SELECT number FROM _max_sync WHERE id = %s", (sync_id,)).fetchone()
    return int(row[0]) if row else 0


def pg_remove_unseen(
    conn: PgConnection, tables: dict[str, TableSpec], sync_id: str, seen: int
) -> int:
    """Delete the rows that ``sync_id``'s complete listings covered but did not see."""
    groups = conn.execute(
        "SELECT DISTINCT entity_type, via FROM _max_listings WHERE sync_id = %s", (sync_id,)
    ).fetchall()
    removed = 0
    for entity_type, via in groups:
        table = tables.get(entity_type)
        if table is None:
            continue
        unseen = f"({SEEN} IS NULL OR {SEEN} <> %s)"
        params: tuple[Any, ...]
        if via is None:
            sql = f"DELETE FROM {table.quoted} WHERE {unseen}"
            params = (seen,)
        else:
            column = table.by_field.get(via)
            if column is None:
                continue
            sql = (
                f"DELETE FROM {table.quoted} WHERE {unseen} AND {column.quoted} IN "
                "(SELECT parent_id FROM _max_listings WHERE sync_id = %s AND entity_type = %s "
                "AND via = %s)"
            )
            params = (seen, sync_id, entity_type, via)
        removed += conn.execute(sql, params).rowcount
    return removed


def pg_last_listed(
    conn: PgConnection, parent_type: str, field: str, parent_ids: Sequence[str]
) -> dict[str, int]:
    """When each parent's collection ``field`` was last listed completely (ms), if ever."""
    if not parent_ids:
        return {}
    rows = conn.execute(
        "SELECT parent_id, listed_at FROM _max_listings WHERE parent_type = %s AND field = %s "
        "AND parent_id = ANY(%s)",
        (parent_type, field, list(encode_texts(parent_ids))),
    ).fetchall()
    return {decode_text(row[0]): int(row[1]) for row in rows}
