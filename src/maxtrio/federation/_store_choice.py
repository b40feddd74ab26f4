"""Where an installation keeps its data: its ``data.db`` (the default) or a PostgreSQL schema.

``max connect … --store postgresql://…`` (or ``$MAX_STORE_URL``, the workspace's default for
new installations) puts an installation on PostgreSQL. The URL is a credential — it may hold a
password — and is kept like one: in ``<data dir>/store-url`` (mode 0600), read only to connect.
``max.json`` records just its password-free label (``deployment.store``:
``postgresql://host:port/db``), which is what ``max status`` shows. The installation's tables
live in its own schema, ``<name>_<first 8 hex digits of its id>``, so installations of several
workspaces can share one database.

:func:`open_store` opens either kind behind the same ``InstallationStore``, :func:`open_engine`
just its entity engine (to read it);
:func:`pg_sync_report` reads back what a sync did from the schema, as
``maxtrio.sql.read_sync_report`` reads it from a ``data.db``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maxtrio.core import BadInput, Schema, quote_input

from ._errors import App
from ._files import write_text_atomic

if TYPE_CHECKING:
    from maxtrio.sql import SyncReport
    from maxtrio.storage import InstallationStore, PgEngine, SqliteEngine

    from ._records import InstallationInfo

STORE_URL_FILE_NAME = "store-url"
STORE_URL_ENV = "MAX_STORE_URL"
DATA_FILE_NAME = "data.db"
_SCHEMES = ("postgresql://", "postgres://")

ErrInvalidStoreUrl = App.define(
    "invalid_store_url",
    facets=[BadInput],
    message=lambda data: f'Invalid store URL "{quote_input(data["store"])}": {data["reason"]}',
)
ErrStoreUrlMissing = App.define(
    "store_url_missing",
    facets=[BadInput],
    message="The store URL of installation {installation} is missing ({path})",
)


def store_url_label(url: str) -> str:
    """The URL's label without user or password (``postgresql://host:port/db``); a URL that is
    not a PostgreSQL URL raises ``app.invalid_store_url`` (without echoing a password)."""
    from maxtrio.storage import dsn_label

    if not url.startswith(_SCHEMES):
        shown = url if "@" not in url else "…@" + url.rsplit("@", 1)[1]
        raise ErrInvalidStoreUrl(
            store=shown,
            reason="expected postgresql://[user[:password]@]host[:port]/database",
            hint="e.g. --store postgresql://max@db.internal:5432/max",
        )
    where = str(dsn_label(url)).split("://", 1)[1]
    return "postgresql://" + where.rsplit("@", 1)[-1]


def default_store_url(environ: Mapping[str, str] | None = None) -> str | None:
    """``$MAX_STORE_URL`` of ``environ`` (default: this process's) when set and not empty."""
    return (os.environ if environ is None else environ).get(STORE_URL_ENV) or None


def store_schema_name(info: InstallationInfo) -> str:
    """The installation's PostgreSQL schema: its name and the start of its id."""
    return f"{info.name}_{info.id.replace('-', '')[:8]}"


def probe_store(url: str) -> None:
    """Connect to ``url`` once (blocking): ``storage.store_unreachable`` when it cannot."""
    from maxtrio.storage import PgDatabase

    PgDatabase(url, "public").close()


def probe_installation_store(info: InstallationInfo) -> None:
    """Reach a PostgreSQL installation's server once (blocking): ``storage.store_unreachable``
    or ``app.store_url_missing`` when it cannot be."""
    url = _store_url(info)
    if url is None:
        raise _url_missing(info)
    probe_store(url)


def write_store_url(data_dir: Path, url: str) -> None:
    """Keep the store URL in the installation's data directory, readable by the owner only."""
    write_text_atomic(data_dir / STORE_URL_FILE_NAME, url, private=True)


def drop_store(info: InstallationInfo) -> None:
    """Drop a PostgreSQL installation's schema (blocking; ``max disconnect``): nothing for an
    installation on its ``data.db`` or whose store URL is gone (nothing left to reach)."""
    url = _store_url(info) if info.deployment.store is not None else None
    if url is not None:
        from maxtrio.storage import drop_pg_installation_store

        drop_pg_installation_store(url, store_schema_name(info))


def _store_url(info: InstallationInfo) -> str | None:
    """The URL kept by :func:`write_store_url`; None when the file is gone."""
    try:
        return (info.data_dir / STORE_URL_FILE_NAME).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def open_store(info: InstallationInfo, schema: Schema) -> InstallationStore:
    """The installation's store (blocking: connecting may take a while)."""
    if info.deployment.store is None:
        from maxtrio.storage import open_installation_store  # not psycopg: SQLite only

        return open_installation_store(info.data_dir / DATA_FILE_NAME, schema)
    from maxtrio.storage import open_pg_installation_store

    url = _store_url(info)
    if url is None:
        raise _url_missing(info)
    return open_pg_installation_store(url, store_schema_name(info), schema)


def open_engine(info: InstallationInfo, schema: Schema) -> SqliteEngine | PgEngine:
    """The installation's entity engine alone (blocking), for reading its rows: the entity
    tables brought up to ``schema`` as :func:`open_store` does, and no task, sync or
    sync-meta store (nor the execution modules they import)."""
    if info.deployment.store is None:
        from maxtrio.storage import SqliteEngine

        return SqliteEngine.open(info.data_dir / DATA_FILE_NAME, schema)
    from maxtrio.storage import PgEngine

    url = _store_url(info)
    if url is None:
        raise _url_missing(info)
    return PgEngine.open(url, store_schema_name(info), schema)


def open_table_rows(info: InstallationInfo, *, time_limit: float | None = None) -> Any:
    """A PostgreSQL installation's tables as ``maxtrio.sql`` reads them at the workspace level
    (a ``storage.PgTableRows``: one read-only snapshot; blocking)."""
    from maxtrio.storage import PgTableRows

    url = _store_url(info)
    if url is None:
        raise _url_missing(info)
    return PgTableRows(url, store_schema_name(info), time_limit=time_limit)


def _url_missing(info: InstallationInfo) -> Exception:
    return ErrStoreUrlMissing(
        installation=info.name,
        path=str(info.data_dir / STORE_URL_FILE_NAME),
        hint=f"max connect {info.name} --update cannot restore it: connect the "
        "installation again with --store",
    )


def pg_sync_report(store: InstallationStore, schema: Schema, sync_id: str | None) -> Any:
    """The report of ``sync_id`` (None: the latest) from a PostgreSQL store (blocking)."""
    from maxtrio.sql import SyncReport, WorkUnits
    from maxtrio.storage import quote, table_name

    database: Any = store.database

    def read(conn: Any) -> SyncReport | None:
        columns = "number, id, status, started_at, completed_at, mode, requests, removed"
        if sync_id is None:
            sql = f"SELECT {columns} FROM _max_sync ORDER BY started_at DESC, number DESC LIMIT 1"
            row = conn.execute(sql).fetchone()
        else:
            row = conn.execute(f"SELECT {columns} FROM _max_sync WHERE id = %s", (sync_id,))
            row = row.fetchone()
        if row is None:
            return None
        number, *record = row
        entities: dict[str, int] = {}
        for entity in schema.entity_types:
            sql = f"SELECT count(*) FROM {quote(table_name(entity))} WHERE _seen = %s"
            count = int(conn.execute(sql, (number,)).fetchone()[0])
            if count:
                entities[entity] = count
        states = conn.execute(
            "SELECT state, count(*) FROM _max_tasks WHERE sync_id = %s GROUP BY state",
            (record[0],),
        ).fetchall()
        return SyncReport.of(record, entities, WorkUnits.of(dict(states)))

    result: SyncReport | None = database.read_sync(read)
    return result


async def pg_sql_query(
    store: InstallationStore, schema: Schema, query: str, *, time_limit: float, limit: int | None
) -> Any:
    """``max sql`` on a PostgreSQL store: ``query`` runs in a READ ONLY transaction
    (rolled back at the end) on the store's reader connection, interrupted after
    ``time_limit`` seconds by the server (``statement_timeout``), with the installation's
    schema on the ``search_path`` and the friendly views of ``maxtrio.sql`` (``AcmeTask``
    with the field names) as TEMP views of the connection — also under the lower-case name
    PostgreSQL folds an unquoted ``AcmeTask`` to (field names with capitals are quoted:
    ``"displayName"``). Returns a ``SqlResult`` of at most ``limit`` rows."""
    import psycopg

    from maxtrio.sql import (
        ErrSqlFailed,
        ErrSqlReadOnly,
        ErrSqlTimeout,
        SqlResult,
        unique_names,
        view_statements,
    )
    from maxtrio.storage import decode_text

    database: Any = store.database

    def run(conn: Any) -> SqlResult:
        existing: dict[str, set[str]] = {}
        for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s",
            (database.schema,),
        ).fetchall():
            existing.setdefault(table, set()).add(column)
        for name, create in view_statements(schema, database.schema, existing, None):
            create = create.replace("CREATE TEMP VIEW", "CREATE OR REPLACE TEMP VIEW", 1)
            conn.execute(create)
            if name != name.lower():  # ``AcmeTask`` unquoted is ``acmetask`` to PostgreSQL
                conn.execute(create.replace(f'"{name}"', f'"{name.lower()}"', 1))
        conn.execute("BEGIN READ ONLY")
        try:
            conn.execute("SELECT 1")  # the transaction has begun: it cannot turn read-write
            timeout_ms = max(1, int(time_limit * 1000)) if time_limit < 10**9 else 0
            conn.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
            try:
                cursor = conn.execute(query)
            except psycopg.errors.QueryCanceled:
                raise ErrSqlTimeout(seconds=f"{time_limit:g}") from None
            except psycopg.errors.ReadOnlySqlTransaction:
                action = (query.split() or ["?"])[0].upper()
                raise ErrSqlReadOnly(action=action) from None
            except psycopg.Error as exc:
                reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
                raise ErrSqlFailed(reason=reason) from None
            if cursor.description is None:
                return SqlResult((), ())
            names = [column.name for column in cursor.description]
            fetched = cursor.fetchall() if limit is None else cursor.fetchmany(limit + 1)
        finally:
            conn.execute("ROLLBACK")
        truncated = limit is not None and len(fetched) > limit
        rows = tuple(tuple(_cell(v, decode_text) for v in row) for row in fetched[:limit])
        return SqlResult(unique_names(names), rows, truncated)

    return await database.read(run)


def _cell(value: Any, decode: Any) -> Any:
    """A value as SQLite's ``max sql`` shows it: booleans as 0/1, text unescaped."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return decode(value)
    return value
