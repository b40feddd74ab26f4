"""The ``sql`` boundary: the errors of read-only SQL (``max sql``, the MCP ``sql`` tool)."""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary, NotFound

Sql = Boundary("sql")

ErrSqlReadOnly = Sql.define(
    "read_only",
    facets=[BadInput],
    message="SQL is read-only here — {action} is not allowed",
)
ErrSqlFailed = Sql.define("failed", facets=[BadInput], message="SQL error: {reason}")
ErrSqlTimeout = Sql.define(
    "timeout",
    facets=[BadInput],
    message="SQL statement interrupted after {seconds} s (--timeout)",
)
ErrSqlDatabaseMissing = Sql.define(
    "database_missing",
    facets=[NotFound],
    message='No data yet for installation "{installation}" — {path} does not exist',
)
