"""Acme connector fixtures: a seeded Acme fake on a loopback port and a started installation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import trio

from maxtrio.acme import AcmeServer, Tenant, serve_acme
from maxtrio.connector import InMemoryCredentialStore, Installation, Platform
from maxtrio.connectors.acme import AcmeAppContext, connector
from maxtrio.core import BasicOperationExecutor, LoaderEnv


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    """An in-memory Acme tenant with the default seed: 1 workspace, 6 users, 3 projects…"""
    with Tenant.in_memory() as fresh:
        fresh.seed()
        yield fresh


@pytest.fixture
async def acme_server(tenant: Tenant, nursery: trio.Nursery) -> AsyncIterator[AcmeServer]:
    """The tenant served over real HTTP on a free loopback port, in the test's nursery."""
    server: AcmeServer = await nursery.start(serve_acme, tenant)
    yield server
    nursery.cancel_scope.cancel()


def platform_with_token(token: str) -> Platform:
    return Platform.for_connector(
        connector.definition, InMemoryCredentialStore({"api_token": token})
    )


@pytest.fixture
async def installation(acme_server: AcmeServer) -> AsyncIterator[Installation[AcmeAppContext]]:
    """The acme connector initialised for the server, started for the test's duration."""
    config = {"baseUrl": acme_server.url, "workspaceId": "ws-any"}
    installed = connector.initialise(config, platform_with_token(acme_server.api_key))
    async with installed.running():
        yield installed


@pytest.fixture
def env(installation: Installation[AcmeAppContext]) -> LoaderEnv[AcmeAppContext]:
    """What loaders receive in tests: the context and operations without middleware."""
    ctx = installation.context
    return LoaderEnv(ctx, BasicOperationExecutor(ctx))
