"""Storage fixtures: every behavioural test runs against every engine.

``open_engine(schema)`` gives a ``SqliteEngine`` on a real file (``db_path``), a ``PgEngine``
in a new schema of the session's PostgreSQL server (``tests/pg``; the schema is dropped after
the test) or an ``InMemoryEngine`` — the same test body proves the engines behave alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maxtrio.core import Schema
from maxtrio.storage import Engine, InMemoryEngine, PgEngine, SqliteEngine

from ..pg.server import PgServer
from .entities import ACME

OpenEngine = Callable[[Schema], Engine]


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def open_engine(
    engine_kind: str, db_path: Path, request: pytest.FixtureRequest
) -> Iterator[OpenEngine]:
    """A factory: ``open_engine(schema)`` opens an engine of this run's kind (on ``db_path``,
    or in this test's PostgreSQL schema)."""
    with contextlib.ExitStack() as stack:
        schema_name = None
        if engine_kind == "postgresql":
            server: PgServer = request.getfixturevalue("pg_server")
            schema_name = server.new_schema_name()
            stack.callback(server.sql, f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')

        def open_(schema: Schema) -> Engine:
            if engine_kind == "memory":
                return InMemoryEngine(schema)
            engine: SqliteEngine | PgEngine
            if schema_name is not None:
                engine = PgEngine.open(server.dsn(), schema_name, schema)
            else:
                engine = SqliteEngine.open(db_path, schema)
            stack.callback(engine.close)
            return engine

        yield open_


@pytest.fixture
def engine(open_engine: OpenEngine) -> Engine:
    """An engine of this run's kind over the Acme test schema."""
    return open_engine(ACME)


@pytest.fixture
def sqlite_engine(db_path: Path) -> Iterator[SqliteEngine]:
    """A ``SqliteEngine`` on a real file, for SQLite-only checks."""
    engine = SqliteEngine.open(db_path, ACME)
    yield engine
    engine.close()
