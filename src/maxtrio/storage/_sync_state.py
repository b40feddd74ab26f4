"""Sync state beside the rows: complete listings, removals, the sync's number, the v1 fold.

The per-row half of sync state is three columns on every entity table (``_table``). The rest
is small and grows with collections, not rows:

* ``_max_listings`` — one row per collection a sync listed *completely* (every page, from a
  loader declared ``complete``): the parent, the field, the child type, the child's ``via``
  ref field, which sync and when. Keyed by (parent type, field, parent id), so it holds the
  latest complete listing of each collection (what ``--max-age`` asks) and never more rows
  than there are collections.
* When a sync **completes**, :func:`remove_unseen` deletes, per child type, the rows in the
  scope of its complete listings that the sync did not see (``_seen`` is not its number): one
  statement per (child type, via field), one scan of the child table. A failed, cancelled or
  interrupted sync never gets there, so it removes nothing.
* :func:`sync_number` — a sync's integer identity in ``_seen``: the ``rowid`` of its
  ``_max_sync`` record (``number`` on PostgreSQL), stable across resumes.

These functions are written once for both databases (a ``StoreDialect`` says how to speak to
each).
* :func:`fold_legacy_sync_meta` — a ``data.db`` written before sync state lived on the rows
  has ``_max_sync_meta`` (one row per entity and field); opening it folds those rows into the
  new columns and drops the table.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

import apsw
import attrs

from ._store_dialect import StoreDialect
from ._table import SEEN, SYNCED_AT, SYNCED_MASK, TableSpec

LISTINGS_DDL = """\
CREATE TABLE IF NOT EXISTS _max_listings (
  parent_type  TEXT NOT NULL,
  field        TEXT NOT NULL,
  parent_id    TEXT NOT NULL,
  entity_type  TEXT NOT NULL,      -- the child type listed
  via          TEXT,               -- the child's ref field naming the parent; NULL: every row
  sync_id      TEXT NOT NULL,
  listed_at    INTEGER NOT NULL,   -- ms
  PRIMARY KEY (parent_type, field, parent_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_listings_sync ON _max_listings (sync_id, entity_type, via);
"""

#: Columns maxtrio adds to ``_max_sync``: ``(name, declaration)``, added when missing.
SYNC_EXTRA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("mode", "TEXT"),  # full | incremental | partial
    ("feed_cursor", "TEXT"),  # the change-feed position this sync brings the copy to
    ("removed", "INTEGER"),  # rows removed when it completed
    ("requests", "INTEGER"),  # operation calls it made (all runs of it)
)

_UPSERT_LISTING = (
    "INSERT INTO _max_listings (parent_type, field, parent_id, entity_type, via, sync_id, "
    "listed_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (parent_type, field, parent_id) DO "
    "UPDATE SET entity_type = excluded.entity_type, via = excluded.via, "
    "sync_id = excluded.sync_id, listed_at = excluded.listed_at"
)


@attrs.frozen
class ListingRow:
    """One complete listing, as ``_max_listings`` stores it."""

    parent_type: str
    field: str
    parent_id: str
    entity_type: str
    via: str | None


def record_listings(
    d: StoreDialect, conn: Any, sync_id: str, listed_at: int, listings: Iterable[ListingRow]
) -> None:
    """Remember complete listings of ``sync_id`` (the caller's transaction)."""
    d.run_many(
        conn,
        _UPSERT_LISTING,
        [
            (r.parent_type, r.field, d.key(r.parent_id), r.entity_type, r.via, sync_id, listed_at)
            for r in listings
        ],
    )


def sync_number(d: StoreDialect, conn: Any, sync_id: str) -> int:
    """The integer a sync writes into ``_seen`` (0 without a record)."""
    rows = d.rows(conn, f"SELECT {d.sync_number} FROM _max_sync WHERE id = ?", (sync_id,))
    return int(rows[0][0]) if rows else 0


def remove_unseen(
    d: StoreDialect,
    conn: Any,
    tables: dict[str, TableSpec],
    sync_id: str,
    seen: int,
    whole: Collection[str] = (),
) -> int:
    """Delete the rows that ``sync_id``'s complete listings covered but did not see.

    Returns how many rows went. Listings of types no longer in the schema are skipped, and so
    are the types in ``whole``: every row of theirs was written by this sync (a bulk load),
    so none is unseen and their scan is saved."""
    groups = d.rows(
        conn, "SELECT DISTINCT entity_type, via FROM _max_listings WHERE sync_id = ?", (sync_id,)
    )
    removed = 0
    for entity_type, via in groups:
        table = tables.get(entity_type)
        if table is None or entity_type in whole:
            continue
        unseen = f"({SEEN} IS NULL OR {SEEN} <> ?)"
        if via is None:
            sql = f"DELETE FROM {table.quoted} WHERE {unseen}"
            params: tuple[Any, ...] = (seen,)
        else:
            column = table.by_field.get(via)
            if column is None:
                continue
            sql = (
                f"DELETE FROM {table.quoted} WHERE {unseen} AND {column.quoted} IN "
                "(SELECT parent_id FROM _max_listings WHERE sync_id = ? AND entity_type = ? "
                "AND via = ?)"
            )
            params = (seen, sync_id, entity_type, via)
        removed += d.run(conn, sql, params)  # not total_changes: the text index's triggers
    return removed


def last_listed(
    d: StoreDialect, conn: Any, parent_type: str, field: str, parent_ids: Sequence[str]
) -> dict[str, int]:
    """When each parent's collection ``field`` was last listed completely (ms), if ever."""
    if not parent_ids:
        return {}
    among, ids = d.in_list(parent_ids)
    sql = (
        "SELECT parent_id, listed_at FROM _max_listings WHERE parent_type = ? AND field = ? "
        f"AND parent_id {among}"
    )
    return {d.unkey(row[0]): int(row[1]) for row in d.rows(conn, sql, (parent_type, field, ids))}


def _has_table(conn: apsw.Connection, name: str) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return bool(list(conn.execute(sql, (name,))))


def fold_legacy_sync_meta(conn: apsw.Connection, tables: Iterable[TableSpec]) -> bool:
    """Fold ``_max_sync_meta`` rows into the rows' sync-state columns and drop the table.

    For each entity, every field with a row sets its bit; the time is the oldest of them (so
    nothing looks fresher than it was). Returns True when a legacy table was dropped."""
    if not _has_table(conn, "_max_sync_meta"):
        return False
    for table in tables:
        prefix = f"ein:{table.entity.name}:"
        # RefKeys of this type sort between the prefix and the prefix with ':' → ';'.
        bounds = (prefix, prefix[:-1] + ";")
        start = len(prefix) + 1
        for column in table.columns:
            bit = table.mask_of((column.field,))
            if not bit:
                continue
            conn.execute(
                f"UPDATE {table.quoted} SET {SYNCED_MASK} = coalesce({SYNCED_MASK}, 0) | ? "
                "WHERE _id IN (SELECT substr(ref_key, ?) FROM _max_sync_meta "
                "WHERE ref_key >= ? AND ref_key < ? AND field = ?)",
                (bit, start, *bounds, column.field),
            )
        conn.execute(
            f"UPDATE {table.quoted} SET {SYNCED_AT} = (SELECT min(synced_at) FROM "
            f"_max_sync_meta WHERE ref_key = ? || {table.quoted}._id) "
            f"WHERE {SYNCED_MASK} IS NOT NULL",
            (prefix,),
        )
    conn.execute("DROP TABLE _max_sync_meta")
    return True
