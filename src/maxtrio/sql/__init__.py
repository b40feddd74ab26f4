"""maxtrio.sql — read-only SQL over installations' ``data.db`` files (``max sql``, MCP ``sql``).

:class:`ReadOnlySql` opens one installation's file (or a workspace's, each attached under its
installation's name) so that SQLite itself refuses every write, adds TEMP views named after
the entity types and their fields, and runs statements in a worker thread with a timeout.
:func:`read_sync_report` reads back what a sync did (entities synced, work units) for
``max sync`` and ``max status``.
"""

from ._errors import ErrSqlDatabaseMissing, ErrSqlFailed, ErrSqlReadOnly, ErrSqlTimeout, Sql
from ._readonly import (
    DEFAULT_TIMEOUT,
    READ_ONLY_PRAGMAS,
    ReadOnlySql,
    SqlResult,
    SqlSource,
    unique_names,
)
from ._sync_report import SyncReport, WorkUnits, read_sync_report
from ._views import (
    SYNC_STATE_COLUMNS,
    existing_columns,
    qualify_entities,
    view_name,
    view_statements,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "READ_ONLY_PRAGMAS",
    "SYNC_STATE_COLUMNS",
    "ErrSqlDatabaseMissing",
    "ErrSqlFailed",
    "ErrSqlReadOnly",
    "ErrSqlTimeout",
    "ReadOnlySql",
    "Sql",
    "SqlResult",
    "SqlSource",
    "SyncReport",
    "WorkUnits",
    "existing_columns",
    "qualify_entities",
    "read_sync_report",
    "unique_names",
    "view_name",
    "view_statements",
]
