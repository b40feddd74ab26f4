"""Claude Code session logs for the tests: JSONL records in the shape Claude Code writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class SessionWriter:
    """Appends records to ``<root>/<project>/<session>.jsonl``; times advance a second each."""

    def __init__(self, root: Path, project: str, session: str, cwd: str) -> None:
        self.path = root / project / f"{session}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.session = session
        self.cwd = cwd
        self.count = 0
        self.last: str | None = None

    def _base(self, kind: str) -> dict[str, Any]:
        self.count += 1
        uuid = f"{self.session}-m{self.count}"
        record = {
            "parentUuid": self.last,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session,
            "version": "1.0.51",
            "gitBranch": "main",
            "type": kind,
            "uuid": uuid,
            "timestamp": f"2025-06-01T12:00:{self.count:02d}.000Z",
        }
        self.last = uuid
        return record

    def raw(self, text: str) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)

    def write(self, record: dict[str, Any]) -> str:
        self.raw(json.dumps(record) + "\n")
        return str(record.get("uuid", ""))

    def user(self, text: str) -> str:
        return self.write({**self._base("user"), "message": {"role": "user", "content": text}})

    def assistant(
        self, text: str, tools: list[tuple[str, str, dict[str, Any]]] = (), msg_id: str = ""
    ) -> str:
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        content += [{"type": "tool_use", "id": i, "name": n, "input": inp} for i, n, inp in tools]
        message = {
            "id": msg_id or f"msg-{self.count}",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4",
            "content": content,
            "usage": {
                "input_tokens": 10,
                "output_tokens": 5,
                "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 1,
            },
        }
        return self.write({**self._base("assistant"), "message": message})

    def result(self, tool_id: str, output: str, error: bool = False) -> str:
        block = {
            "type": "tool_result",
            "tool_use_id": tool_id,
            "content": output,
            "is_error": error,
        }
        return self.write({**self._base("user"), "message": {"role": "user", "content": [block]}})
