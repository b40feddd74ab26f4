"""Fixtures of the execution tests: stores per kind (in memory, apsw on a real file, and a
schema of the session's real PostgreSQL server)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maxtrio.core import Limit, Schema

from ..pg.server import PgServer
from .connector import API_LIMIT, SCHEMA, FakeApi
from .harness import Harness, Stores, harness_on, open_pg_stores, open_stores

MakeStores = Callable[[Schema], Stores]
MakeHarness = Callable[..., Harness]


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def make_stores(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[MakeStores]:
    """``make_stores(schema)``: a fresh set of stores of this run's kind (a new file or
    PostgreSQL schema each, dropped afterwards)."""
    made: list[Stores] = []
    server: PgServer | None = None
    if store_kind == "postgresql":
        server = request.getfixturevalue("pg_server")

    def make(schema: Schema) -> Stores:
        if server is not None:
            stores = open_pg_stores(schema, server.dsn(), server.new_schema_name())
        else:
            stores = open_stores(schema, store_kind, tmp_path / f"data-{len(made)}.db")
        made.append(stores)
        return stores

    yield make
    for stores in made:
        stores.close()
        if server is not None and stores.pg_schema is not None:
            server.sql(f'DROP SCHEMA IF EXISTS "{stores.pg_schema}" CASCADE')


@pytest.fixture
def make_harness(make_stores: MakeStores) -> MakeHarness:
    """``make_harness(api, limit=...)``: the test connector over ``api`` on fresh stores."""

    def make(api: FakeApi, limit: Limit | None = API_LIMIT) -> Harness:
        return harness_on(make_stores(SCHEMA), api, limit)

    return make
