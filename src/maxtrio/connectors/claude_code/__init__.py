"""maxtrio.connectors.claude_code — Claude Code's logs (docs/connector-claude-code.md).

Config ``{"root": "/abs/.claude/projects"}``; entities ClaudeRoot (the root), ClaudeProject,
ClaudeSession, ClaudeMessage, ClaudeToolCall. A full sync reads every log; after it, the change
feed (cursor = how far each log was read) writes only what was appended. ``connector`` is entry
point ``claude-code`` of ``maxtrio.connectors``.
"""

from ._config import DEFAULT_ROOT, ClaudeCodeConfig
from ._connector import ClaudeCodeConnectorDef, connector, initialise
from ._context import ClaudeCodeContext, ensure_root, read_listing
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
from ._errors import ClaudeCodeConnectorBoundary, ErrInvalidConfig, ErrRootUnavailable
from ._feed import ClaudeCodeChangeFeed, ClaudeCursor
from ._loaders import CLAUDE_CODE_LOADERS, PAGE_BYTES, ListingSource, read_logs
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
from ._onboarding import ClaudeCodeOnboarding, check_root
from ._resolvers import CLAUDE_CODE_RESOLVERS, ClaudeRootResolver
from ._seeder import CLAUDE_CODE_SYNC_PLAN, ClaudeCodeSeeder

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
