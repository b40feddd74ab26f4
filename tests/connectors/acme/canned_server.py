"""A tiny raw HTTP/1.1 server on trio for answers a real Acme never gives.

Each path (query string ignored) maps to a :class:`Canned` answer: any status, body and headers,
or a misbehaviour — ``drop`` (close without answering), ``truncate`` (promise more bytes than
sent, then close) or ``hang`` (never answer). Every request is recorded with its headers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import trio


@attrs.frozen
class Canned:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    mode: Literal["answer", "drop", "truncate", "hang"] = "answer"

    @classmethod
    def json(
        cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Canned:
        return cls(status, json.dumps(value).encode(), headers=tuple((headers or {}).items()))

    @classmethod
    def text(cls, body: str, status: int = 200, content_type: str = "text/plain") -> Canned:
        return cls(status, body.encode(), content_type)


@attrs.frozen
class Recorded:
    target: str
    headers: dict[str, str]


_NOT_FOUND = Canned.json({"error": "Not found"}, 404)
_REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many"}


class CannedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Canned] = {}
        self.requests: list[Recorded] = []
        self.url = ""

    async def serve(self, *, task_status: trio.TaskStatus[CannedServer]) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self._handle, listeners)
            task_status.started(self)

    async def _handle(self, stream: trio.SocketStream) -> None:
        async with stream:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    return
                head += chunk
            lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.requests.append(Recorded(target, headers))
            canned = self.routes.get(target.split("?", 1)[0], _NOT_FOUND)
            if canned.mode == "hang":
                await trio.sleep_forever()
            if canned.mode == "drop":
                return
            declared = len(canned.body) + (100 if canned.mode == "truncate" else 0)
            reason = _REASONS.get(canned.status, "Status")
            out = [f"HTTP/1.1 {canned.status} {reason}", f"content-length: {declared}"]
            out.append(f"content-type: {canned.content_type}")
            out.append("connection: close")
            out += [f"{k}: {v}" for k, v in canned.headers]
            await stream.send_all("\r\n".join(out).encode() + b"\r\n\r\n" + canned.body)
