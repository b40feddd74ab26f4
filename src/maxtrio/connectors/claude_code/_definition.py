"""The claude-code ``ConnectorDef`` (with its change feed), built on import: schema, seeder,
resolvers, onboarding and change feed (docs/connector-claude-code.md, docs/connectors.md).

Imported on the first use of ``connector.definition`` (see ``_connector``), not by a command
that only starts the connector and asks its health.
"""

from __future__ import annotations

from maxtrio.connector import ConnectorDef

from ._entities import ClaudeCodeSchema
from ._feed import ClaudeCodeChangeFeed
from ._onboarding import ClaudeCodeOnboarding
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
