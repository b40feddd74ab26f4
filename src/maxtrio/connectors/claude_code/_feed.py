"""The claude-code change feed: the cursor is how far each log has been read.

Cursor: ``{"v": 1, "projects": [names], "files": {"<project>/<session>.jsonl": [end, mark]}}``
where ``end`` is the byte offset after the last whole line read and ``mark`` a hash of the
bytes just before it. ``changes(cursor)``:

* a log whose size is still ``end`` is not read at all;
* a log that grew is re-parsed (its session's totals need every line) and only what comes at
  or after ``end`` is written: new messages, tool calls used or answered since, the session's
  new totals; a new log is read whole;
* a last line still being written stays for a later sync.

Anything the offsets cannot express — a log or project that disappeared (Claude Code deletes
old sessions), a log that shrank or whose bytes before ``end`` changed, a cursor that is not
ours — raises ``core.feed_cursor_expired``: the engine runs a full sync, whose complete
listings remove what is gone.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import trio

from maxtrio.core import ChangeFeed, ChangeSet, EntityInput, ErrFeedCursorExpired, LoaderEnv

from ._context import ClaudeCodeContext, read_listing
from ._entities import ClaudeProject
from ._loaders import project_input
from ._logs import Listing, complete_end, mark_at, parse_log, read_complete, tail_mark

Env = LoaderEnv[ClaudeCodeContext]
CURSOR_VERSION = 1
Marks = dict[str, tuple[int, str]]


@attrs.frozen
class ClaudeCursor:
    projects: tuple[str, ...]
    files: Marks

    def encode(self) -> str:
        files = {rel: [end, mark] for rel, (end, mark) in sorted(self.files.items())}
        document = {"v": CURSOR_VERSION, "projects": sorted(self.projects), "files": files}
        return json.dumps(document, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> ClaudeCursor:
        """The cursor ``text`` holds; anything else is ``core.feed_cursor_expired``."""
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
            raise expired(text)
        projects, files = data.get("projects"), data.get("files")
        if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
            raise expired(text)
        if not isinstance(files, dict):
            raise expired(text)
        marks: Marks = {}
        for rel, mark in files.items():
            if not (
                isinstance(mark, list)
                and len(mark) == 2
                and type(mark[0]) is int
                and mark[0] >= 0
                and isinstance(mark[1], str)
            ):
                raise expired(text)
            marks[rel] = (mark[0], mark[1])
        return cls(tuple(projects), marks)


class _Expired(Exception):
    """Raised in the worker thread; becomes ``core.feed_cursor_expired`` in the caller."""


def expired(cursor: str) -> Exception:
    return ErrFeedCursorExpired(cursor=cursor if len(cursor) <= 60 else cursor[:57] + "...")


def _heads(listing: Listing) -> Marks:
    marks: Marks = {}
    for session in listing.sessions:
        try:
            marks[session.rel] = complete_end(session.path)
        except OSError:
            continue  # unreadable now: read whole when it can be
    return marks


async def _head(env: Env) -> str:
    listing = await read_listing(env.ctx)
    marks = await trio.to_thread.run_sync(_heads, listing)
    return ClaudeCursor(tuple(listing.projects), marks).encode()


def _changes_since(old: ClaudeCursor, listing: Listing, max_changes: int) -> ChangeSet:
    current = {session.rel: session for session in listing.sessions}
    if set(old.files) - set(current) or set(old.projects) - set(listing.projects):
        raise _Expired
    upserts: list[EntityInput] = []
    marks: Marks = {}
    skipped = 0
    for rel, session in current.items():
        previous = old.files.get(rel)
        since = previous[0] if previous is not None else 0
        try:
            if previous is not None and session.size == since:
                if mark_at(session.path, since) != previous[1]:
                    raise _Expired
                marks[rel] = previous
                continue
            if previous is not None and session.size < since:
                raise _Expired
            data, end = read_complete(session.path)
        except OSError:
            skipped += 1
            if previous is not None:
                marks[rel] = previous
            continue
        if previous is not None and tail_mark(data[:since]) != previous[1]:
            raise _Expired
        log = parse_log(session, data)
        upserts.extend(log.message_inputs(since))
        upserts.extend(log.tool_call_inputs(since))
        upserts.append(log.session_input())
        if log.cwd:
            upserts.append(EntityInput(ClaudeProject.ref(session.project), {"path": log.cwd}))
        skipped += log.skipped_since(since)
        marks[rel] = (end, tail_mark(data[:end]))
        if len(upserts) > max_changes:
            return ChangeSet(overflow=True)
    upserts.extend(project_input(name, count) for name, count in listing.projects.items())
    cursor = ClaudeCursor(tuple(listing.projects), marks).encode()
    return ChangeSet(upserts=upserts, cursor=cursor, skipped=skipped)


async def _changes(cursor: str, env: Env, max_changes: int) -> ChangeSet:
    old = ClaudeCursor.decode(cursor)
    listing = await read_listing(env.ctx)
    try:
        return await trio.to_thread.run_sync(_changes_since, old, listing, max_changes)
    except _Expired:
        raise expired(cursor) from None


ClaudeCodeChangeFeed = ChangeFeed.create("claude-code:offsets", head=_head, changes=_changes)
