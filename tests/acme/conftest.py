"""Acme fixtures: in-memory tenants, a real server on a loopback port, and both clients."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import trio

from maxtrio.acme import (
    AcmeHttpClient,
    AcmeInProcessClient,
    AcmeServer,
    IdFactory,
    Tenant,
    serve_acme,
)

FIXED_EPOCH = 1_773_000_000.0  # 2026-03-08T20:00:00Z


def counting_ids() -> IdFactory:
    """Ids ``<prefix>_000…001``, ``…002`` … — deterministic, same shape as the real ones."""
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}_{next(counter):032x}"


def fixed_clock(start: float = FIXED_EPOCH, step: float = 0.001) -> Callable[[], float]:
    """A clock that advances one millisecond per reading."""
    ticks = itertools.count()
    return lambda: start + step * next(ticks)


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    """A fresh, empty in-memory tenant named ``test``."""
    with Tenant.in_memory() as fresh:
        yield fresh


@pytest.fixture
def acme_tenant(tenant: Tenant) -> Tenant:
    """An in-memory tenant with the default seed (1 workspace, 6 users, 3 projects, 30 tasks…)."""
    tenant.seed()
    return tenant


@pytest.fixture
async def acme_server(acme_tenant: Tenant, nursery: trio.Nursery) -> AsyncIterator[AcmeServer]:
    """The seeded tenant served over HTTP on a free loopback port, in the test's nursery."""
    server: AcmeServer = await nursery.start(serve_acme, acme_tenant)
    yield server
    nursery.cancel_scope.cancel()


@pytest.fixture
async def http_client(acme_server: AcmeServer) -> AsyncIterator[AcmeHttpClient]:
    async with AcmeHttpClient(acme_server.url, acme_server.api_key) as client:
        yield client


@pytest.fixture
async def acme_client(acme_tenant: Tenant) -> AcmeInProcessClient:
    return AcmeInProcessClient(acme_tenant)
