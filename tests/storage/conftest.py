"""Storage fixtures: every behavioural test runs against both engines.

``open_engine(schema)`` gives a ``SqliteEngine`` on a real file (``db_path``) or an
``InMemoryEngine`` — the same test body proves the in-memory engine used by the upper layers'
unit tests behaves like the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maxtrio.core import Schema
from maxtrio.storage import Engine, InMemoryEngine, SqliteEngine

from .entities import ACME

OpenEngine = Callable[[Schema], Engine]


@pytest.fixture(params=["sqlite", "memory"])
def engine_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def open_engine(engine_kind: str, db_path: Path) -> Iterator[OpenEngine]:
    """A factory: ``open_engine(schema)`` opens an engine of this run's kind on ``db_path``."""
    opened: list[SqliteEngine] = []

    def open_(schema: Schema) -> Engine:
        if engine_kind == "memory":
            return InMemoryEngine(schema)
        engine = SqliteEngine.open(db_path, schema)
        opened.append(engine)
        return engine

    yield open_
    for engine in opened:
        engine.close()


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
