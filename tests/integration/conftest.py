"""Integration fixtures: seeded Acme tenants served over loopback HTTP in the test's nursery."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack
from functools import partial

import pytest
import trio

from maxtrio.acme import AcmeServer, FaultInjection, SeedOptions, Tenant, serve_acme

StartAcme = Callable[..., Awaitable[AcmeServer]]


@pytest.fixture
async def start_acme(nursery: trio.Nursery) -> AsyncIterator[StartAcme]:
    """``await start_acme(SeedOptions(...), faults=...)``: a fresh in-memory tenant with that
    seed, served on a free loopback port until the test ends."""
    with ExitStack() as tenants:

        async def start(
            options: SeedOptions | None = None, *, faults: FaultInjection | None = None
        ) -> AcmeServer:
            tenant = tenants.enter_context(Tenant.in_memory())
            tenant.seed(options or SeedOptions())
            server: AcmeServer = await nursery.start(partial(serve_acme, tenant, faults=faults))
            return server

        yield start
        nursery.cancel_scope.cancel()
