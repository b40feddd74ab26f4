"""Federation fixtures: the test's own ``MAX_HOME`` (set by the autouse fixture of
``tests/conftest.py``), real project directories, and a seeded Acme fake on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trio

from maxtrio.acme import AcmeServer, Tenant, serve_acme
from maxtrio.execution import RetryPolicy
from maxtrio.federation import GlobalMax, InstallationInfo, MaxHome, WorkspaceMax

FAST_RETRIES = RetryPolicy(attempts=5, base=0.001, cap=0.01)


@pytest.fixture
def home() -> MaxHome:
    return MaxHome.from_env()


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    """The default seed: 1 workspace, 6 users, 3 projects, 30 tasks."""
    with Tenant.in_memory() as fresh:
        fresh.seed()
        yield fresh


@pytest.fixture
async def acme(tenant: Tenant, nursery: trio.Nursery) -> AcmeServer:
    server: AcmeServer = await nursery.start(serve_acme, tenant)
    return server


@pytest.fixture
async def gmax(home: MaxHome) -> AsyncIterator[GlobalMax]:
    async with GlobalMax.open(home, retry=FAST_RETRIES) as opened:
        yield opened


@pytest.fixture
async def workspace(gmax: GlobalMax, tmp_path: Path) -> WorkspaceMax:
    info = await gmax.create_workspace(tmp_path / "my-project")
    return await gmax.workspace(info.name)


async def connect_acme(
    workspace: WorkspaceMax, server: AcmeServer, name: str | None = None
) -> InstallationInfo:
    """``max connect acme`` with the values onboarding would collect."""
    return await workspace.create_installation(
        "acme",
        name=name,
        config={"baseUrl": server.url, "workspaceId": "ws-any"},
        credentials={"api_token": server.api_key},
    )
