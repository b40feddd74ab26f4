"""The claude-code schema: projects, sessions, messages and tool calls of Claude Code's logs.

Ids: a project's directory name under the root (``-home-ann-src-app``); a session's id (its
log file's name); a message's ``uuid``; a tool call's ``tool_use`` id. ``ClaudeRoot`` (id
``root``) lists every project, session, message and tool call (collections without ``via``:
complete listings of the whole types), so what the logs no longer hold is removed.
"""

from __future__ import annotations

from maxtrio.core import EntityDef, Field, Schema

ROOT_ID = "root"

ClaudeProject = EntityDef.create(
    "ClaudeProject",
    {
        "name": Field.string(),
        "path": Field.string(),
        "sessionCount": Field.number(),
        "sessions": Field.collection("ClaudeSession", via="project"),
    },
)

ClaudeSession = EntityDef.create(
    "ClaudeSession",
    {
        "project": Field.ref(ClaudeProject),
        "file": Field.string(),
        "cwd": Field.string(),
        "gitBranch": Field.string(),
        "version": Field.string(),
        "summary": Field.string(),
        "startedAt": Field.date(),
        "endedAt": Field.date(),
        "messageCount": Field.number(),
        "userMessageCount": Field.number(),
        "assistantMessageCount": Field.number(),
        "toolCallCount": Field.number(),
        "inputTokens": Field.number(),
        "outputTokens": Field.number(),
        "cacheReadTokens": Field.number(),
        "cacheCreationTokens": Field.number(),
        "messages": Field.collection("ClaudeMessage", via="session"),
        "toolCalls": Field.collection("ClaudeToolCall", via="session"),
    },
)

ClaudeMessage = EntityDef.create(
    "ClaudeMessage",
    {
        "session": Field.ref(ClaudeSession),
        "role": Field.string(),
        "timestamp": Field.date(),
        "text": Field.string(),
        "model": Field.string(),
        "isToolResult": Field.boolean(),
        "isSidechain": Field.boolean(),
        "parent": Field.string(),
        "inputTokens": Field.number(),
        "outputTokens": Field.number(),
        "cacheReadTokens": Field.number(),
        "cacheCreationTokens": Field.number(),
    },
)

ClaudeToolCall = EntityDef.create(
    "ClaudeToolCall",
    {
        "session": Field.ref(ClaudeSession),
        "message": Field.ref(ClaudeMessage),
        "name": Field.string(),
        "inputSummary": Field.string(),
        "input": Field.string(),
        "outcome": Field.string(),
        "result": Field.string(),
        "timestamp": Field.date(),
    },
)

ClaudeRoot = EntityDef.create(
    "ClaudeRoot",
    {
        "path": Field.string(),
        "projects": Field.collection(ClaudeProject),
        "sessions": Field.collection(ClaudeSession),
        "messages": Field.collection(ClaudeMessage),
        "toolCalls": Field.collection(ClaudeToolCall),
    },
)

ClaudeCodeSchema = Schema.create(
    "claude-code",
    [ClaudeRoot, ClaudeProject, ClaudeSession, ClaudeMessage, ClaudeToolCall],
    roots=[ClaudeRoot],
)

ROOT_REF = ClaudeRoot.ref(ROOT_ID)
