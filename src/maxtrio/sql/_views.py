"""Friendly views over ``data.db``: one TEMP view per entity type, named as the CLI names it.

``AcmeTask`` is a view over the table ``_acme_task`` whose columns carry the field names the
CLI shows (``displayName``, not ``display_name``), with ``_id`` first, refs as the target's id
and none of the sync-state columns (``_synced_at``, ``_synced_mask``, ``_seen``). Collections
have no column and no view column.

The views are TEMP: they live in the connection's own temporary schema and are never written
into the file. A non-TEMP view may only read tables of its own schema, so the views of an
attached database cannot live *in* that schema; at the workspace level the view of installation
``acme-1`` is therefore the TEMP view ``"acme-1.AcmeTask"``, and :func:`qualify_entities`
rewrites the spelling people write — ``"acme-1".AcmeTask`` — into it (outside string literals,
comments and other quoted names only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

import apsw

from maxtrio.core import FieldKind, Schema
from maxtrio.storage import column_name, quote, table_name

#: Columns every entity table ends with that belong to the sync machinery, not to users.
SYNC_STATE_COLUMNS = frozenset({"_synced_at", "_synced_mask", "_seen"})


def view_name(entity_type: str, prefix: str | None) -> str:
    """The TEMP view's name: the entity type, or ``<installation>.<entity type>``."""
    return entity_type if prefix is None else f"{prefix}.{entity_type}"


def view_statements(
    schema: Schema,
    database: str,
    existing: dict[str, set[str]],
    prefix: str | None,
    *,
    rowid: bool = False,
) -> Iterator[tuple[str, str]]:
    """``(view name, CREATE TEMP VIEW …)`` for each entity whose table exists in ``database``.

    ``existing`` maps each table of the database to its column names (only those are used, so
    a file written by an older schema still gets its views). ``rowid``: the view ends with a
    column ``rowid``, the table's rowid — what its full-text index refers to (``max browse``
    searches the views through it)."""
    for entity in schema.entities:
        table = table_name(entity.name)
        columns = existing.get(table)
        if columns is None:
            continue
        selected = ['"_id" AS "_id"'] if "_id" in columns else []
        for name, field in entity.fields.items():
            if field.kind is FieldKind.COLLECTION:
                continue
            column = column_name(name)
            if column in columns and column not in SYNC_STATE_COLUMNS:
                selected.append(f"{quote(column)} AS {quote(name)}")
        if not selected:
            continue
        if rowid:
            selected.append('rowid AS "rowid"')
        name = view_name(entity.name, prefix)
        body = ", ".join(selected)
        source = f"{quote(database)}.{quote(table)}"
        yield name, f"CREATE TEMP VIEW {quote(name)} AS SELECT {body} FROM {source}"


def existing_columns(connection: apsw.Connection, database: str) -> dict[str, set[str]]:
    """Each table of ``database`` (a schema name of ``connection``) → its column names."""
    existing: dict[str, set[str]] = {}
    master = f"{quote(database)}.sqlite_master"
    for (table,) in connection.execute(f"SELECT name FROM {master} WHERE type = 'table'"):
        info = f"PRAGMA {quote(database)}.table_info({quote(table)})"
        existing[table] = {row[1] for row in connection.execute(info)}
    return existing


# -- "acme-1".AcmeTask → "acme-1.AcmeTask" ---------------------------------------------------------

# Parts of SQL the rewrite leaves alone: string literals, quoted names of other shapes, comments.
_OPAQUE = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?(?:\*/|$)", re.DOTALL)


def qualify_entities(sql: str, installations: Iterable[str], entities: Sequence[str]) -> str:
    """Rewrite ``<installation>.<Entity>`` (installation double-quoted, or bare when it is a plain
    identifier; entity bare or double-quoted) into the quoted TEMP view name."""
    names = sorted(set(installations), key=len, reverse=True)
    if not names or not entities:
        return sql
    alternatives = "|".join(
        [f'"{re.escape(n)}"' for n in names]
        + [rf"\b{re.escape(n)}" for n in names if re.fullmatch(r"[A-Za-z_]\w*", n)]
    )
    kinds = "|".join(re.escape(e) for e in sorted(entities, key=len, reverse=True))
    pattern = re.compile(rf'({alternatives})\s*\.\s*(?:"({kinds})"|\b({kinds})\b)')

    def replace(match: re.Match[str]) -> str:
        installation = match.group(1).strip('"')
        entity = match.group(2) or match.group(3)
        return quote(view_name(entity, installation))

    out: list[str] = []
    position = 0
    for opaque in _OPAQUE.finditer(sql):
        out.append(pattern.sub(replace, sql[position : opaque.start()]))
        out.append(opaque.group(0))
        position = opaque.end()
    out.append(pattern.sub(replace, sql[position:]))
    return "".join(out)
