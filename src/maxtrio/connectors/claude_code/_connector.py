"""The claude-code ``ConnectorModule``: ``initialise`` (config ``{root}``, no credentials), the
schema, and the definition, deferred to ``_definition`` (docs/connector-claude-code.md,
docs/connectors.md).

``initialise`` needs only the config and the context (with its root check), so starting the
connector and asking its health (``max ls``, ``max status``) or reading its store (``max
search``) does not build the definition — the seeder, loaders, resolvers, onboarding and
change feed — nor import their modules or the log parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maxtrio.connector import ConnectorModule, HealthStatus, Installation, Platform

from ._config import ClaudeCodeConfig
from ._context import ClaudeCodeContext, check_root
from ._entities import ClaudeCodeSchema


def initialise(config: Mapping[str, Any], platform: Platform) -> Installation[ClaudeCodeContext]:
    """Pure assembly, no I/O: check the config and build the context."""
    context = ClaudeCodeContext(ClaudeCodeConfig.from_mapping(config))

    async def health() -> HealthStatus:  # a raised error reads as unhealthy, its message
        await check_root(context.config.root)
        return HealthStatus.healthy()

    return Installation.create(context, health=health)


connector = ConnectorModule.deferred(
    "claude-code",
    "maxtrio.connectors.claude_code._definition:ClaudeCodeConnectorDef",
    initialise,
    schema=ClaudeCodeSchema,
)
