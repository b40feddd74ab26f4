"""The claude-code loaders: the root's path and its four complete collections.

The logs under the root are listed once per sync (a ``depends_on`` source). ``projects`` and
``sessions`` page through that listing (no log is read); ``messages`` and ``toolCalls`` read
the logs, a page being consecutive logs up to :data:`PAGE_BYTES` (at least one), parsed in a
worker thread. The ``messages`` pass also writes each session's totals (counts, tokens, first
and last times, working directory, branch, summary) and each project's path; the
``toolCalls`` pass parses only the lines that mention a ``tool_use`` (the ``messages`` pass
reads tool calls too, for the sessions' counts, but does not write them). Lines that are not JSON
and logs that cannot be read are counted once, by the ``messages`` pass.
"""

from __future__ import annotations

import trio

from maxtrio.core import Dependency, EntityInput, Loader, LoaderEnv, Page, PageRequest, Ref

from ._context import ClaudeCodeContext, read_listing
from ._entities import ClaudeMessage, ClaudeProject, ClaudeRoot, ClaudeSession, ClaudeToolCall
from ._logs import Listing, SessionFile, parse_log, read_complete

PAGE_BYTES = 8 << 20
SESSION_PAGE_SIZE = 5000

Env = LoaderEnv[ClaudeCodeContext]


async def _listing(ref: Ref, env: Env) -> Listing:
    return await read_listing(env.ctx)


ListingSource = Loader.single_source("claude-code:root:listing", ClaudeRoot, _listing)


def project_input(name: str, sessions: int) -> EntityInput:
    return EntityInput(ClaudeProject.ref(name), {"name": name, "sessionCount": sessions})


def session_stub(session: SessionFile) -> EntityInput:
    return EntityInput(
        ClaudeSession.ref(session.session_id),
        {"project": ClaudeProject.ref(session.project), "file": session.path},
    )


def read_logs(sessions: list[SessionFile], messages: bool) -> tuple[list[EntityInput], int]:
    """One page of the ``messages`` (or, ``messages=False``, ``toolCalls``) pass (blocking)."""
    inputs: list[EntityInput] = []
    skipped = 0
    for session in sessions:
        try:
            data, _ = read_complete(session.path)
        except OSError:
            skipped += 1
            continue
        log = parse_log(session, data, messages=messages)
        if not messages:
            inputs.extend(log.tool_call_inputs())
            continue
        inputs.extend(log.message_inputs())
        inputs.append(log.session_input())
        if log.cwd:
            inputs.append(EntityInput(ClaudeProject.ref(session.project), {"path": log.cwd}))
        skipped += log.skipped_since()
    return inputs, skipped


def _log_page(listing: Listing, page: PageRequest) -> tuple[list[SessionFile], int]:
    """The logs of this page (consecutive, up to PAGE_BYTES) and where the next one starts."""
    start = page.parse_as_numeric_offset()
    end, size = start, 0
    while end < len(listing.sessions) and (end == start or size < PAGE_BYTES):
        size += listing.sessions[end].size
        end += 1
    return listing.sessions[start:end], end


def _next(end: int, listing: Listing) -> tuple[bool, str | None]:
    more = end < len(listing.sessions)
    return more, str(end) if more else None


async def _root_basic(ref: Ref, env: Env) -> EntityInput:
    await read_listing(env.ctx)  # the sync's first step: a missing root fails it clearly
    return EntityInput(ref, {"path": str(env.ctx.config.root)})


async def _projects(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    listing: Listing = env.deps.get_or_raise(ListingSource)
    items = [project_input(name, count) for name, count in listing.projects.items()]
    return Page(items, skipped=listing.skipped)


async def _sessions(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    listing: Listing = env.deps.get_or_raise(ListingSource)
    start = page.parse_as_numeric_offset()
    end = min(start + SESSION_PAGE_SIZE, len(listing.sessions))
    more, cursor = _next(end, listing)
    return Page([session_stub(s) for s in listing.sessions[start:end]], more, cursor)


async def _messages(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    listing: Listing = env.deps.get_or_raise(ListingSource)
    sessions, end = _log_page(listing, page)
    inputs, skipped = await trio.to_thread.run_sync(read_logs, sessions, True)
    more, cursor = _next(end, listing)
    return Page(inputs, more, cursor, skipped=skipped)


async def _tool_calls(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    listing: Listing = env.deps.get_or_raise(ListingSource)
    sessions, end = _log_page(listing, page)
    inputs, _ = await trio.to_thread.run_sync(read_logs, sessions, False)
    more, cursor = _next(end, listing)
    return Page(inputs, more, cursor)


_LISTING = [Dependency(ListingSource)]

RootBasicLoader = Loader.entity("claude-code:root:basic", ClaudeRoot, _root_basic)
RootProjectsLoader = Loader.collection(
    "claude-code:root:projects",
    ClaudeRoot,
    ClaudeProject,
    _projects,
    complete=True,
    depends_on=_LISTING,
)
RootSessionsLoader = Loader.collection(
    "claude-code:root:sessions",
    ClaudeRoot,
    ClaudeSession,
    _sessions,
    complete=True,
    depends_on=_LISTING,
)
RootMessagesLoader = Loader.collection(
    "claude-code:root:messages",
    ClaudeRoot,
    ClaudeMessage,
    _messages,
    complete=True,
    depends_on=_LISTING,
)
RootToolCallsLoader = Loader.collection(
    "claude-code:root:tool-calls",
    ClaudeRoot,
    ClaudeToolCall,
    _tool_calls,
    complete=True,
    depends_on=_LISTING,
)

CLAUDE_CODE_LOADERS = (
    RootBasicLoader,
    RootProjectsLoader,
    RootSessionsLoader,
    RootMessagesLoader,
    RootToolCallsLoader,
)
