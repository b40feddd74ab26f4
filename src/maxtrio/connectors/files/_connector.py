"""The files ``ConnectorDef`` and ``initialise``: config ``{root, include, exclude, gitignore}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maxtrio.connector import ConnectorDef, ConnectorModule, HealthStatus, Installation, Platform

from ._config import FilesConfig
from ._context import FilesContext
from ._entities import FilesSchema
from ._onboarding import FilesOnboarding, check_root
from ._resolvers import FILES_RESOLVERS
from ._seeder import FilesSeeder

FilesConnectorDef = ConnectorDef.create(
    name="files",
    display_name="Files",
    description="A local directory tree: directories and files with hashes and text previews",
    version="0.1.0",
    schema=FilesSchema,
    seeder=FilesSeeder,
    resolvers=FILES_RESOLVERS,
    onboarding=FilesOnboarding,
)


def initialise(config: Mapping[str, Any], platform: Platform) -> Installation[FilesContext]:
    """Pure assembly, no I/O: check the config and build the context."""
    context = FilesContext(FilesConfig.from_mapping(config))

    async def health() -> HealthStatus:  # a raised error reads as unhealthy, its message
        await check_root(context.config.root)
        return HealthStatus.healthy()

    return Installation.create(context, health=health)


connector = ConnectorModule(FilesConnectorDef, initialise)
