"""maxtrio.sql — read-only SQL over installations' ``data.db`` files (``max sql``, MCP ``sql``).

:class:`ReadOnlySql` opens one installation's file (or a workspace's, each attached under its
installation's name) so that SQLite itself refuses every write, adds TEMP views named after
the entity types and their fields, and runs statements in a worker thread with a timeout.
"""

from ._errors import ErrSqlDatabaseMissing, ErrSqlFailed, ErrSqlReadOnly, ErrSqlTimeout, Sql
from ._readonly import DEFAULT_TIMEOUT, READ_ONLY_PRAGMAS, ReadOnlySql, SqlResult, SqlSource
from ._views import SYNC_STATE_COLUMNS, qualify_entities, view_name, view_statements

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
    "qualify_entities",
    "view_name",
    "view_statements",
]
