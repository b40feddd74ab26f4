"""Fixtures of the execution tests: stores per kind (in memory, and apsw on a real file)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maxtrio.core import Limit, Schema

from .connector import API_LIMIT, SCHEMA, FakeApi
from .harness import Harness, Stores, harness_on, open_stores

MakeStores = Callable[[Schema], Stores]
MakeHarness = Callable[..., Harness]


@pytest.fixture(params=["memory", "sqlite"])
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def make_stores(store_kind: str, tmp_path: Path) -> Iterator[MakeStores]:
    """``make_stores(schema)``: a fresh set of stores of this run's kind (a new file each)."""
    made: list[Stores] = []

    def make(schema: Schema) -> Stores:
        stores = open_stores(schema, store_kind, tmp_path / f"data-{len(made)}.db")
        made.append(stores)
        return stores

    yield make
    for stores in made:
        stores.close()


@pytest.fixture
def make_harness(make_stores: MakeStores) -> MakeHarness:
    """``make_harness(api, limit=...)``: the test connector over ``api`` on fresh stores."""

    def make(api: FakeApi, limit: Limit | None = API_LIMIT) -> Harness:
        return harness_on(make_stores(SCHEMA), api, limit)

    return make
