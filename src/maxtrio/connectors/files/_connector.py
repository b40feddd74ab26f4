"""The files ``ConnectorModule``: ``initialise`` (config ``{root, include, exclude,
gitignore}``, no credentials), the schema, and the definition, deferred to ``_definition``
(docs/connector-files.md, docs/connectors.md).

``initialise`` needs only the config, the root check (``_root``) and the context, so starting
the connector and asking its health (``max ls``, ``max status``) or reading its store (``max
search``) does not build the definition — the seeder, loaders, resolvers and onboarding — nor
import their modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maxtrio.connector import ConnectorModule, HealthStatus, Installation, Platform

from ._config import FilesConfig
from ._context import FilesContext
from ._entities import FilesSchema
from ._root import check_root


def initialise(config: Mapping[str, Any], platform: Platform) -> Installation[FilesContext]:
    """Pure assembly, no I/O: check the config and build the context."""
    context = FilesContext(FilesConfig.from_mapping(config))

    async def health() -> HealthStatus:  # a raised error reads as unhealthy, its message
        await check_root(context.config.root)
        return HealthStatus.healthy()

    return Installation.create(context, health=health)


connector = ConnectorModule.deferred(
    "files",
    "maxtrio.connectors.files._definition:FilesConnectorDef",
    initialise,
    schema=FilesSchema,
)
