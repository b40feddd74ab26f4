"""The SQL engines the storage tests run on: SQLite and PostgreSQL.

``open_sql_engine(store, schema)`` is a context manager giving a fresh, empty engine of the
store: an in-memory SQLite database, or a new schema in the session's PostgreSQL server
(``tests/pg``), dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from maxtrio.core import Schema
from maxtrio.storage import Engine, PgEngine, SqliteEngine

from ..pg.server import PgServer

SQL_STORES = ["sqlite", "postgresql"]


@contextmanager
def pg_engine(server: PgServer, schema: Schema) -> Iterator[PgEngine]:
    """An engine in a new schema of ``server``'s database, dropped at the end."""
    name = server.new_schema_name()
    engine = PgEngine.open(server.dsn(), name, schema)
    try:
        yield engine
    finally:
        engine.database.writer.execute(f'DROP SCHEMA "{name}" CASCADE')  # type: ignore[arg-type]
        engine.close()


@contextmanager
def open_sql_engine(server: PgServer | None, schema: Schema) -> Iterator[Engine]:
    """A fresh engine: PostgreSQL given a server, else SQLite in memory."""
    if server is not None:
        with pg_engine(server, schema) as engine:
            yield engine
        return
    sqlite = SqliteEngine.open(":memory:", schema)
    try:
        yield sqlite
    finally:
        sqlite.close()
