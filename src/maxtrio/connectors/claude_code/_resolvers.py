"""The claude-code resolver: the root's path and its four complete collections."""

from __future__ import annotations

from maxtrio.core import Resolver

from ._entities import ClaudeRoot
from ._loaders import (
    RootBasicLoader,
    RootMessagesLoader,
    RootProjectsLoader,
    RootSessionsLoader,
    RootToolCallsLoader,
)

ClaudeRootResolver = Resolver.for_(
    ClaudeRoot,
    {
        "path": RootBasicLoader,
        "projects": RootProjectsLoader,
        "sessions": RootSessionsLoader,
        "messages": RootMessagesLoader,
        "toolCalls": RootToolCallsLoader,
    },
)

CLAUDE_CODE_RESOLVERS = (ClaudeRootResolver,)
