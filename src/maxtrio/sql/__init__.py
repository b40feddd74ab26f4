"""maxtrio.sql — read-only SQL over installations' ``data.db`` files (``max sql``, MCP ``sql``).

:class:`ReadOnlySql` opens one installation's file (or a workspace's, each attached under its
installation's name; one kept on PostgreSQL as virtual tables, :class:`ServerTables`) so that
SQLite itself refuses every write, adds TEMP views named after the entity types and their
fields, and runs statements in a worker thread with a timeout.
:func:`read_sync_report` reads back what a sync did (entities synced, work units) for
``max sync`` and ``max status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maxtrio._lazy import lazy_names

if TYPE_CHECKING:
    from ._errors import ErrSqlDatabaseMissing, ErrSqlFailed, ErrSqlReadOnly, ErrSqlTimeout, Sql
    from ._readonly import (
        DEFAULT_TIMEOUT,
        READ_ONLY_PRAGMAS,
        ReadOnlySql,
        SqlResult,
        SqlSource,
        unique_names,
    )
    from ._server_tables import ServerTables, TableRows
    from ._sync_report import SyncReport, WorkUnits, read_sync_report
    from ._views import (
        SYNC_STATE_COLUMNS,
        existing_columns,
        qualify_entities,
        view_name,
        view_statements,
    )

_SOURCES = {
    "ErrSqlDatabaseMissing": "_errors",
    "ErrSqlFailed": "_errors",
    "ErrSqlReadOnly": "_errors",
    "ErrSqlTimeout": "_errors",
    "Sql": "_errors",
    "DEFAULT_TIMEOUT": "_readonly",
    "READ_ONLY_PRAGMAS": "_readonly",
    "ReadOnlySql": "_readonly",
    "SqlResult": "_readonly",
    "SqlSource": "_readonly",
    "unique_names": "_readonly",
    "ServerTables": "_server_tables",
    "TableRows": "_server_tables",
    "SyncReport": "_sync_report",
    "WorkUnits": "_sync_report",
    "read_sync_report": "_sync_report",
    "SYNC_STATE_COLUMNS": "_views",
    "existing_columns": "_views",
    "qualify_entities": "_views",
    "view_name": "_views",
    "view_statements": "_views",
}

__all__ = [
    "DEFAULT_TIMEOUT",
    "READ_ONLY_PRAGMAS",
    "SYNC_STATE_COLUMNS",
    "ErrSqlDatabaseMissing",
    "ErrSqlFailed",
    "ErrSqlReadOnly",
    "ErrSqlTimeout",
    "ReadOnlySql",
    "ServerTables",
    "Sql",
    "SqlResult",
    "SqlSource",
    "SyncReport",
    "TableRows",
    "WorkUnits",
    "existing_columns",
    "qualify_entities",
    "read_sync_report",
    "unique_names",
    "view_name",
    "view_statements",
]

__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals())
