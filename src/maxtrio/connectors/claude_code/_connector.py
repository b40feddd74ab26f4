"""The claude-code ``ConnectorDef`` and ``initialise``: config ``{root}``, no credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maxtrio.connector import ConnectorDef, ConnectorModule, HealthStatus, Installation, Platform

from ._config import ClaudeCodeConfig
from ._context import ClaudeCodeContext
from ._entities import ClaudeCodeSchema
from ._feed import ClaudeCodeChangeFeed
from ._onboarding import ClaudeCodeOnboarding, check_root
from ._resolvers import CLAUDE_CODE_RESOLVERS
from ._seeder import ClaudeCodeSeeder

ClaudeCodeConnectorDef = ConnectorDef.create(
    name="claude-code",
    display_name="Claude Code",
    description="Claude Code's conversation logs: projects, sessions, messages and tool calls",
    version="0.1.0",
    schema=ClaudeCodeSchema,
    seeder=ClaudeCodeSeeder,
    resolvers=CLAUDE_CODE_RESOLVERS,
    onboarding=ClaudeCodeOnboarding,
    change_feed=ClaudeCodeChangeFeed,
)


def initialise(config: Mapping[str, Any], platform: Platform) -> Installation[ClaudeCodeContext]:
    """Pure assembly, no I/O: check the config and build the context."""
    context = ClaudeCodeContext(ClaudeCodeConfig.from_mapping(config))

    async def health() -> HealthStatus:  # a raised error reads as unhealthy, its message
        await check_root(context.config.root)
        return HealthStatus.healthy()

    return Installation.create(context, health=health)


connector = ConnectorModule(ClaudeCodeConnectorDef, initialise)
