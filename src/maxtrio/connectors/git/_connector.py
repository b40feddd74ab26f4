"""The git ``ConnectorModule``: ``initialise`` (config ``{path}``, no credentials), the schema,
and the definition, deferred to ``_definition`` (docs/connector-git.md, docs/connectors.md).

``initialise`` needs only the config, the repository helper (``_git``) and the context, so
starting the connector and asking its health (``max ls``, ``max status``) or reading its store
(``max search``) does not build the definition — the seeder, loaders, resolvers, operations,
onboarding and change feed — nor import their modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maxtrio.connector import ConnectorModule, HealthStatus, Installation, Platform

from ._config import GitConfig
from ._context import GitContext
from ._entities import GitSchema
from ._git import GitRepo


def initialise(config: Mapping[str, Any], platform: Platform) -> Installation[GitContext]:
    """Pure assembly, no I/O: check the config and build the context."""
    repo = GitRepo(GitConfig.from_mapping(config).path)

    async def health() -> HealthStatus:  # a raised error reads as unhealthy, its message
        await repo.check()
        return HealthStatus.healthy()

    return Installation.create(GitContext(repo), health=health)


connector = ConnectorModule.deferred(
    "git", "maxtrio.connectors.git._definition:GitConnectorDef", initialise, schema=GitSchema
)
