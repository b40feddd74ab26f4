"""What ``max browse`` hands Datasette: per installation its file, its views and its metadata.

:func:`browse_config` reads each installation's ``data.db`` once, read-only (``mode=ro``, one
read transaction) and derives from the connector's schema and the file:

* the friendly views — the TEMP views of ``max sql`` (``maxtrio.sql.view_statements``), each
  with one more column, ``rowid``: the entity table's rowid, which the full-text index refers
  to (a view has no rowid of its own, and Datasette's search matches the index's rowids
  against a column of the view);
* Datasette metadata (the ``metadata.json`` shape): a title and description for the
  workspace, each installation and each entity view, a description of each ref column (the
  entity type it points to) and of ``rowid``, the label column of each entity type, facets on
  enum-like fields, the full-text index of each view (``fts_table``/``fts_pk``), and every
  table of the file hidden — bookkeeping (``_max_*``), the FTS5 index and its shadow tables,
  and the raw entity tables the views show;
* the refs: for each view, its ref columns and the view and label column of their target, so
  that the server can show a ref as a link labelled with the target's label.

An enum-like field is a string or boolean field whose values repeat and number at most
:data:`FACET_LIMIT` (``status``, ``priority``, ``role``, ``active``); it is found by reading at
most ``FACET_LIMIT + 1`` distinct values of the column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote as url_quote

import apsw

from maxtrio.core import EntityDef, FieldKind
from maxtrio.sql import SqlSource, existing_columns, view_statements
from maxtrio.storage import TextIndex, column_name, quote, table_name

#: A string or boolean field with at most this many distinct values (repeated) gets a facet.
FACET_LIMIT = 20
#: Field names that make a good label for an entity, best first.
LABEL_FIELDS = ("name", "displayName", "title", "label", "subject", "email")

_FACET_KINDS = (FieldKind.STRING, FieldKind.BOOLEAN)


def label_field(entity: EntityDef) -> str | None:
    """The field that names an entity for people (``displayName`` of ``AcmeUser``), or None."""
    strings = [n for n, f in entity.fields.items() if f.kind is FieldKind.STRING]
    for candidate in LABEL_FIELDS:
        if candidate in strings:
            return candidate
    return None


def _is_enum_like(connection: apsw.Connection, table: str, column: str) -> bool:
    """Whether the column's values repeat and number at most :data:`FACET_LIMIT`."""
    column, table = quote(column), quote(table)
    sql = (
        f"SELECT count(*) FROM (SELECT DISTINCT {column} FROM {table} "
        f"WHERE {column} IS NOT NULL LIMIT {FACET_LIMIT + 1})"
    )
    (distinct,) = next(connection.execute(sql))
    if not 0 < distinct <= FACET_LIMIT:
        return False
    (values,) = next(connection.execute(f"SELECT count({column}) FROM {table}"))
    return bool(values > distinct)


def _entity_metadata(
    connection: apsw.Connection,
    source: SqlSource,
    entity: EntityDef,
    existing: dict[str, set[str]],
) -> dict[str, Any]:
    schema, table = source.schema, table_name(entity.name)
    columns = existing[table]
    stored = [n for n, f in entity.fields.items() if f.is_stored and column_name(n) in columns]
    refs = [n for n in stored if entity.fields[n].kind is FieldKind.REF]
    # only what a column's name does not say (Datasette lists every description on the page)
    described = {n: f"→ {entity.fields[n].target(schema.get_definition).name}" for n in refs}
    described["rowid"] = "the row's number in the file (the full-text index refers to it)"
    text = [n for n in stored if entity.fields[n].kind is FieldKind.STRING]
    about = f"{entity.name} entities of {source.name} ({len(stored)} fields)"
    if refs:
        targets = ", ".join(
            f"{n} → {entity.fields[n].target(schema.get_definition).name}" for n in refs
        )
        about += f"; refs: {targets}"
    metadata: dict[str, Any] = {"description": about, "columns": described}
    label = label_field(entity)
    if label is not None:
        metadata["label_column"] = label
    facets = [
        n
        for n in stored
        if entity.fields[n].kind in _FACET_KINDS
        and _is_enum_like(connection, table, column_name(n))
    ]
    if facets:
        metadata["facets"] = facets
    index = TextIndex(table, ()).name
    if text and index in existing:
        metadata["fts_table"] = index
        metadata["fts_pk"] = "rowid"
        metadata["description"] += f"; search finds words in {', '.join(text)}"
    return metadata


def _refs(source: SqlSource, entity: EntityDef, views: set[str]) -> dict[str, dict[str, str]]:
    """The ref columns of an entity view: column → its target's view and label column."""
    refs: dict[str, dict[str, str]] = {}
    for name, field in entity.fields.items():
        if field.kind is not FieldKind.REF:
            continue
        target = field.target(source.schema.get_definition)
        label = label_field(target)
        if target.name in views and label is not None:
            refs[name] = {"view": target.name, "label": label}
    return refs


def _database(source: SqlSource) -> tuple[dict[str, Any], dict[str, Any]]:
    """One installation: what the server opens (file, views, refs) and its metadata."""
    assert source.path is not None  # ``max browse`` serves installations with a data.db
    path = source.path.resolve()
    uri = f"file:{url_quote(str(path))}?mode=ro"
    connection = apsw.Connection(uri, flags=apsw.SQLITE_OPEN_URI | apsw.SQLITE_OPEN_READONLY)
    try:
        connection.setbusytimeout(5000)
        with connection:  # one read transaction: one consistent snapshot
            existing = existing_columns(connection, "main")
            views = dict(view_statements(source.schema, "main", existing, None, rowid=True))
            tables: dict[str, Any] = {}
            refs: dict[str, Any] = {}
            for entity in source.schema.entities:
                if entity.name in views:
                    tables[entity.name] = _entity_metadata(connection, source, entity, existing)
                    refs[entity.name] = _refs(source, entity, set(views))
    finally:
        connection.close()
    for table in existing:
        tables[table] = {"hidden": True}
    served = {
        "name": source.name,
        "path": str(path),
        "views": list(views.items()),
        "refs": refs,
    }
    kinds = ", ".join(views) or "none yet"
    metadata = {
        "title": source.name,
        "description": (
            f"Installation {source.name} (connector {source.schema.namespace}), as max sync "
            f"left it. Entity types: {kinds}. Read-only."
        ),
        "tables": tables,
    }
    return served, metadata


def browse_config(sources: Sequence[SqlSource], title: str) -> dict[str, Any]:
    """The server's configuration (see the module docstring). Blocking: run it in a thread."""
    databases: list[dict[str, Any]] = []
    metadata: dict[str, Any] = {
        "title": title,
        "description": (
            "The local data max synced, one database per installation, each entity type a "
            "view (columns: _id and the fields, refs as ids). Read-only: max sync changes it."
        ),
        "databases": {},
    }
    for source in sources:
        served, database_metadata = _database(source)
        databases.append(served)
        metadata["databases"][source.name] = database_metadata
    return {"databases": databases, "metadata": metadata}
