"""The git ``ConnectorDef`` and ``initialise``: config ``{path}``, no credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maxtrio.connector import ConnectorDef, ConnectorModule, HealthStatus, Installation, Platform

from ._config import GitConfig
from ._entities import GitSchema
from ._feed import GitChangeFeed
from ._git import GitRepo
from ._onboarding import GitOnboarding
from ._operations import GIT_OPERATIONS, GitContext
from ._resolvers import GIT_RESOLVERS
from ._seeder import GitSeeder

GitConnectorDef = ConnectorDef.create(
    name="git",
    display_name="Git",
    description="A local git repository: commits, authors, branches and tags",
    version="0.1.0",
    schema=GitSchema,
    seeder=GitSeeder,
    resolvers=GIT_RESOLVERS,
    operations=GIT_OPERATIONS,
    onboarding=GitOnboarding,
    change_feed=GitChangeFeed,
)


def initialise(config: Mapping[str, Any], platform: Platform) -> Installation[GitContext]:
    """Pure assembly, no I/O: check the config and build the context."""
    repo = GitRepo(GitConfig.from_mapping(config).path)

    async def health() -> HealthStatus:  # a raised error reads as unhealthy, its message
        await repo.check()
        return HealthStatus.healthy()

    return Installation.create(GitContext(repo), health=health)


connector = ConnectorModule(GitConnectorDef, initialise)
