"""Claude Code's session logs: finding them, reading whole lines, parsing records into inputs.

Layout (``~/.claude/projects``): one directory per project (its working directory with ``/``
turned into ``-``), one ``<session id>.jsonl`` per session, one JSON record per line. Records
of type ``user`` and ``assistant`` are messages (``message.content`` is a string or a list of
blocks: ``text``, ``thinking``, ``tool_use``, ``tool_result``); ``summary`` records name the
session; every other type (``system``, ``file-history-snapshot``, future ones) is ignored.

Tolerance, by design: a line that is not a JSON object is skipped and counted; a value of the
wrong type reads as missing; a last line without its newline is still being written and is left
for a later sync (:func:`read_complete` stops at the last newline). Plain blocking functions:
the loaders run them in a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from maxtrio.core import EntityInput

from ._entities import ClaudeMessage, ClaudeProject, ClaudeSession, ClaudeToolCall

SUMMARY_CHARS = 200
INPUT_CHARS = 4000
RESULT_CHARS = 500
TAIL_BYTES = 32
_SUMMARY_KEYS = (
    "command",
    "file_path",
    "path",
    "pattern",
    "url",
    "query",
    "description",
    "prompt",
)
_CANONICAL_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").fullmatch
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)").fullmatch


@attrs.frozen
class SessionFile:
    project: str
    session_id: str
    path: str  # absolute
    size: int

    @property
    def rel(self) -> str:
        return f"{self.project}/{self.session_id}.jsonl"


@attrs.frozen
class Listing:
    projects: dict[str, int]  # directory name → how many session logs it holds
    sessions: list[SessionFile]
    skipped: int  # unreadable project directories, broken symlinks


def list_sessions(root: Path) -> Listing:
    """Every project directory of ``root`` and every ``*.jsonl`` log directly in it, sorted."""
    projects: dict[str, int] = {}
    sessions: list[SessionFile] = []
    skipped = 0
    with os.scandir(root) as it:
        folders = sorted((e for e in it if e.is_dir()), key=lambda e: e.name)
    for folder in folders:
        try:
            with os.scandir(folder.path) as it:
                logs = sorted((e for e in it if e.name.endswith(".jsonl")), key=lambda e: e.name)
        except OSError:
            skipped += 1
            continue
        count = 0
        for log in logs:
            try:
                if not log.is_file():
                    continue
                size = log.stat().st_size
            except OSError:  # a broken symlink, a loop
                skipped += 1
                continue
            sessions.append(SessionFile(folder.name, log.name[: -len(".jsonl")], log.path, size))
            count += 1
        projects[folder.name] = count
    return Listing(projects, sessions, skipped)


def read_complete(path: str, start: int = 0) -> tuple[bytes, int]:
    """The whole lines of ``path`` from ``start``, and the offset after the last newline."""
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read()
    end = data.rfind(b"\n")
    if end < 0:
        return b"", start
    return data[: end + 1], start + end + 1


def complete_end(path: str) -> tuple[int, str]:
    """Where the last whole line of ``path`` ends, and :func:`tail_mark` there."""
    with open(path, "rb") as handle:
        position = handle.seek(0, os.SEEK_END)
        while position > 0:
            step = min(65536, position)
            handle.seek(position - step)
            chunk = handle.read(step)
            found = chunk.rfind(b"\n")
            if found >= 0:
                end = position - step + found + 1
                return end, _mark_at(handle, end)
            position -= step
    return 0, tail_mark(b"")


def mark_at(path: str, end: int) -> str:
    """:func:`tail_mark` of the bytes of ``path`` just before ``end``."""
    with open(path, "rb") as handle:
        return _mark_at(handle, end)


def _mark_at(handle: Any, end: int) -> str:
    handle.seek(max(0, end - TAIL_BYTES))
    return tail_mark(handle.read(min(end, TAIL_BYTES)))


def tail_mark(before: bytes) -> str:
    """A short hash of the last bytes of ``before``: a rewritten log no longer matches it."""
    return hashlib.sha256(before[-TAIL_BYTES:]).hexdigest()[:16]


def date_text(value: object) -> str | None:
    """An ISO-8601 timestamp as the engine's date text; anything else None."""
    if not isinstance(value, str):
        return None
    if _CANONICAL_DATE(value):
        return value
    if not _ISO_DATE(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.isoformat(timespec="milliseconds")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int:
    return value if type(value) is int else 0


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _block_text(content: object) -> str:
    """The text of a message or tool result: a string, or the ``text`` blocks of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n\n".join(
            b["text"]
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        )
    return ""


def input_summary(value: object) -> tuple[str, str]:
    """(a one-line summary, the compact JSON) of a tool call's input."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = ""
    if isinstance(value, dict):
        for key in _SUMMARY_KEYS:
            chosen = value.get(key)
            if isinstance(chosen, str) and chosen.strip():
                line = " ".join(chosen.split())
                return _clip(line, SUMMARY_CHARS), _clip(text, INPUT_CHARS)
    return _clip(text, SUMMARY_CHARS), _clip(text, INPUT_CHARS)


@attrs.define
class _ToolCall:
    fields: dict[str, object]
    used_at: int  # byte offset of the line with the tool_use
    answered_at: int = -1  # and of the line with its tool_result


@attrs.define
class SessionLog:
    """What one pass over (part of) a log found. Offsets are byte offsets of line starts."""

    session: SessionFile
    messages: list[tuple[int, EntityInput]] = attrs.field(factory=list)
    tool_calls: dict[str, _ToolCall] = attrs.field(factory=dict)
    skipped_at: list[int] = attrs.field(factory=list)
    usage: dict[str, tuple[int, int, int, int]] = attrs.field(factory=dict)
    started: str | None = None
    ended: str | None = None
    cwd: str | None = None
    branch: str | None = None
    version: str | None = None
    summary: str | None = None
    users: int = 0
    assistants: int = 0

    def session_fields(self) -> dict[str, object]:
        """The session's totals (complete: every field the connector syncs)."""
        totals = [sum(u[i] for u in self.usage.values()) for i in range(4)]
        return {
            "project": ClaudeProject.ref(self.session.project),
            "file": self.session.path,
            "cwd": self.cwd,
            "gitBranch": self.branch,
            "version": self.version,
            "summary": self.summary,
            "startedAt": self.started,
            "endedAt": self.ended,
            "messageCount": self.users + self.assistants,
            "userMessageCount": self.users,
            "assistantMessageCount": self.assistants,
            "toolCallCount": len(self.tool_calls),
            "inputTokens": totals[0],
            "outputTokens": totals[1],
            "cacheReadTokens": totals[2],
            "cacheCreationTokens": totals[3],
        }

    def session_input(self) -> EntityInput:
        return EntityInput(ClaudeSession.ref(self.session.session_id), self.session_fields())

    def tool_call_inputs(self, since: int = 0) -> list[EntityInput]:
        """Tool calls used or answered at or after offset ``since``."""
        return [
            EntityInput(ClaudeToolCall.ref(call_id), call.fields)
            for call_id, call in self.tool_calls.items()
            if call.used_at >= since or call.answered_at >= since
        ]

    def message_inputs(self, since: int = 0) -> list[EntityInput]:
        return [item for offset, item in self.messages if offset >= since]

    def skipped_since(self, since: int = 0) -> int:
        return sum(1 for offset in self.skipped_at if offset >= since)


def _lines(data: bytes, base: int) -> Iterator[tuple[int, bytes]]:
    position = 0
    size = len(data)
    while position < size:
        end = data.find(b"\n", position)
        if end < 0:
            end = size
        line = data[position:end]
        if line.strip():
            yield base + position, line
        position = end + 1


def parse_log(
    session: SessionFile, data: bytes, *, messages: bool = True, tools: bool = True
) -> SessionLog:
    """Parse whole lines ``data`` of ``session``'s log (read from offset 0)."""
    log = SessionLog(session)
    session_ref = ClaudeSession.ref(session.session_id)
    for offset, line in _lines(data, 0):
        if not messages and b"tool_use" not in line:
            continue  # only tool_use blocks and tool results (tool_use_id) matter here
        try:
            record = json.loads(line)
        except ValueError:
            log.skipped_at.append(offset)
            continue
        if not isinstance(record, dict):
            log.skipped_at.append(offset)
            continue
        kind = record.get("type")
        if kind == "summary":
            log.summary = _str(record.get("summary")) or log.summary
            continue
        if kind not in ("user", "assistant"):
            continue  # system records, snapshots and types added later
        message = record.get("message")
        if not isinstance(message, dict):
            message = {}
        timestamp = date_text(record.get("timestamp"))
        message_id = _str(record.get("uuid")) or f"{session.session_id}:{offset}"
        content = message.get("content")
        if tools and isinstance(content, list):
            _tool_blocks(log, content, offset, session_ref, message_id, timestamp)
        if not messages:
            continue
        if timestamp is not None:
            log.started = log.started or timestamp
            log.ended = timestamp
        log.cwd = _str(record.get("cwd")) or log.cwd
        log.branch = _str(record.get("gitBranch")) or log.branch
        log.version = _str(record.get("version")) or log.version
        usage = message.get("usage")
        tokens = (0, 0, 0, 0)
        if isinstance(usage, dict):
            tokens = (
                _int(usage.get("input_tokens")),
                _int(usage.get("output_tokens")),
                _int(usage.get("cache_read_input_tokens")),
                _int(usage.get("cache_creation_input_tokens")),
            )
            # one API message is logged as one record per content block, each with its usage
            log.usage[_str(message.get("id")) or message_id] = tokens
        if kind == "user":
            log.users += 1
        else:
            log.assistants += 1
        text = _block_text(content)
        is_result = isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        )
        log.messages.append(
            (
                offset,
                EntityInput(
                    ClaudeMessage.ref(message_id),
                    {
                        "session": session_ref,
                        "role": _str(message.get("role")) or kind,
                        "timestamp": timestamp,
                        "text": text or None,
                        "model": _str(message.get("model")),
                        "isToolResult": is_result,
                        "isSidechain": record.get("isSidechain") is True,
                        "parent": _str(record.get("parentUuid")),
                        "inputTokens": tokens[0],
                        "outputTokens": tokens[1],
                        "cacheReadTokens": tokens[2],
                        "cacheCreationTokens": tokens[3],
                    },
                ),
            )
        )
    return log


def _tool_blocks(
    log: SessionLog,
    content: list[Any],
    offset: int,
    session_ref: Any,
    message_id: str,
    timestamp: str | None,
) -> None:
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "tool_use":
            call_id = _str(block.get("id"))
            if not call_id:
                continue
            summary, full = input_summary(block.get("input"))
            log.tool_calls[call_id] = _ToolCall(
                {
                    "session": session_ref,
                    "message": ClaudeMessage.ref(message_id),
                    "name": _str(block.get("name")),
                    "inputSummary": summary or None,
                    "input": full or None,
                    "outcome": "pending",
                    "result": None,
                    "timestamp": timestamp,
                },
                offset,
            )
        elif kind == "tool_result":
            call_id = _str(block.get("tool_use_id"))
            call = log.tool_calls.get(call_id) if call_id else None
            if call is None:
                continue  # its tool_use is not in this log (or was unreadable)
            call.fields["outcome"] = "error" if block.get("is_error") is True else "ok"
            call.fields["result"] = _clip(_block_text(block.get("content")), RESULT_CHARS) or None
            call.answered_at = offset
