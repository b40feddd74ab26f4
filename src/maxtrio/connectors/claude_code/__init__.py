"""maxtrio.connectors.claude_code — Claude Code's logs (docs/connector-claude-code.md).

Config ``{"root": "/abs/.claude/projects"}``; entities ClaudeRoot (the root), ClaudeProject,
ClaudeSession, ClaudeMessage, ClaudeToolCall. A full sync reads every log; after it, the change
feed (cursor = how far each log was read) writes only what was appended. ``connector`` is entry
point ``claude-code`` of ``maxtrio.connectors``.

Names are loaded on first use (PEP 562): the registry's ``connector`` comes from ``_connector``
alone, so starting the connector and asking its health (``max ls``, ``max status``) imports
neither the definition (``ClaudeCodeConnectorDef``, module ``_definition``) nor the seeder,
loaders, resolvers, onboarding, change feed and log parser it is built from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maxtrio._lazy import lazy_names

if TYPE_CHECKING:
    from ._config import (
        DEFAULT_ROOT,
        ClaudeCodeConfig,
    )
    from ._connector import (
        connector,
        initialise,
    )
    from ._context import (
        ClaudeCodeContext,
        check_root,
        ensure_root,
        read_listing,
    )
    from ._definition import (
        ClaudeCodeConnectorDef,
    )
    from ._entities import (
        ROOT_ID,
        ROOT_REF,
        ClaudeCodeSchema,
        ClaudeMessage,
        ClaudeProject,
        ClaudeRoot,
        ClaudeSession,
        ClaudeToolCall,
    )
    from ._errors import (
        ClaudeCodeConnectorBoundary,
        ErrInvalidConfig,
        ErrRootUnavailable,
    )
    from ._feed import (
        ClaudeCodeChangeFeed,
        ClaudeCursor,
    )
    from ._loaders import (
        CLAUDE_CODE_LOADERS,
        PAGE_BYTES,
        ListingSource,
        read_logs,
    )
    from ._logs import (
        Listing,
        SessionFile,
        SessionLog,
        complete_end,
        date_text,
        input_summary,
        list_sessions,
        parse_log,
        read_complete,
    )
    from ._onboarding import (
        ClaudeCodeOnboarding,
    )
    from ._resolvers import (
        CLAUDE_CODE_RESOLVERS,
        ClaudeRootResolver,
    )
    from ._seeder import (
        CLAUDE_CODE_SYNC_PLAN,
        ClaudeCodeSeeder,
    )

_SOURCES = {
    "CLAUDE_CODE_LOADERS": "._loaders",
    "CLAUDE_CODE_RESOLVERS": "._resolvers",
    "CLAUDE_CODE_SYNC_PLAN": "._seeder",
    "DEFAULT_ROOT": "._config",
    "PAGE_BYTES": "._loaders",
    "ROOT_ID": "._entities",
    "ROOT_REF": "._entities",
    "ClaudeCodeChangeFeed": "._feed",
    "ClaudeCodeConfig": "._config",
    "ClaudeCodeConnectorBoundary": "._errors",
    "ClaudeCodeConnectorDef": "._definition",
    "ClaudeCodeContext": "._context",
    "ClaudeCodeOnboarding": "._onboarding",
    "ClaudeCodeSchema": "._entities",
    "ClaudeCodeSeeder": "._seeder",
    "ClaudeCursor": "._feed",
    "ClaudeMessage": "._entities",
    "ClaudeProject": "._entities",
    "ClaudeRoot": "._entities",
    "ClaudeRootResolver": "._resolvers",
    "ClaudeSession": "._entities",
    "ClaudeToolCall": "._entities",
    "ErrInvalidConfig": "._errors",
    "ErrRootUnavailable": "._errors",
    "Listing": "._logs",
    "ListingSource": "._loaders",
    "SessionFile": "._logs",
    "SessionLog": "._logs",
    "check_root": "._context",
    "complete_end": "._logs",
    "connector": "._connector",
    "date_text": "._logs",
    "ensure_root": "._context",
    "initialise": "._connector",
    "input_summary": "._logs",
    "list_sessions": "._logs",
    "parse_log": "._logs",
    "read_complete": "._logs",
    "read_listing": "._context",
    "read_logs": "._loaders",
}

__all__ = [
    "CLAUDE_CODE_LOADERS",
    "CLAUDE_CODE_RESOLVERS",
    "CLAUDE_CODE_SYNC_PLAN",
    "DEFAULT_ROOT",
    "PAGE_BYTES",
    "ROOT_ID",
    "ROOT_REF",
    "ClaudeCodeChangeFeed",
    "ClaudeCodeConfig",
    "ClaudeCodeConnectorBoundary",
    "ClaudeCodeConnectorDef",
    "ClaudeCodeContext",
    "ClaudeCodeOnboarding",
    "ClaudeCodeSchema",
    "ClaudeCodeSeeder",
    "ClaudeCursor",
    "ClaudeMessage",
    "ClaudeProject",
    "ClaudeRoot",
    "ClaudeRootResolver",
    "ClaudeSession",
    "ClaudeToolCall",
    "ErrInvalidConfig",
    "ErrRootUnavailable",
    "Listing",
    "ListingSource",
    "SessionFile",
    "SessionLog",
    "check_root",
    "complete_end",
    "connector",
    "date_text",
    "ensure_root",
    "initialise",
    "input_summary",
    "list_sessions",
    "parse_log",
    "read_complete",
    "read_listing",
    "read_logs",
]


__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals())
