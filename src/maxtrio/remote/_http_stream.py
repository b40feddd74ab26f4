"""``POST /cli/stream``: the workspace daemon's conversation over one HTTP exchange.

The fast client (the standard-library launcher, ``http.client``) speaks to a server as it
speaks to a local daemon — the same JSON lines ([daemon.md](../../docs/daemon.md)) — only
carried by HTTP/1.1 instead of a Unix socket:

* the **request body** is chunked (``Transfer-Encoding: chunked``) and stays open: its first
  line is the ``run`` request, later lines are ``cancel`` (Ctrl-C) or ``input``;
* the **response** (HTTP 200, ``application/x-ndjson``, chunked) is what the daemon's
  :class:`~maxtrio.daemon.Connection` sends: ``ready``, ``write``…, ``sync-started``, and the
  final ``response {exitCode}``. Consecutive writes leave as one message of up to 64 KiB
  (the connection's outbox merges them), so ``search --all`` pages go out as big chunks.

A client that hangs up (the request ends without its last chunk, or the connection closes)
is a client gone: the command is cancelled, exactly as when a launcher's socket closes.
Refusals that come before the command (an unknown workspace or installation) are plain JSON
errors with their status, as for ``POST /cli``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, cast

import trio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from maxtrio.daemon import Connection

if TYPE_CHECKING:
    from ._app import ServerState
    from ._commands import StreamingHost

log = logging.getLogger("maxtrio.remote")

MEDIA_TYPE = "application/x-ndjson"


class HttpExchangeStream(trio.abc.Stream):
    """One HTTP exchange as the byte stream the daemon's connection reads and writes: the
    request body in, the chunked response body out."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._closed = False

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                return b""
            body = bytes(message.get("body", b""))
            # after a complete body (curl, or the last chunk) the next receive waits for
            # the client to hang up: nothing more will be said
            if body:
                return body

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed:
            raise trio.ClosedResourceError("the response is complete")
        try:
            await self._send({"type": "http.response.body", "body": bytes(data), "more_body": True})
        except Exception as exc:  # the client went away: hypercorn refuses further sends
            raise trio.BrokenResourceError("the client closed the connection") from exc

    async def wait_send_all_might_not_block(self) -> None:
        return None

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # the client went first
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})


class ConversationResponse(Response):
    """The streamed answer of ``POST /cli/stream``: runs the command as it is sent."""

    def __init__(self, state: ServerState, host: StreamingHost) -> None:
        super().__init__(media_type=MEDIA_TYPE)
        self.state = state
        self.host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"cache-control", b"no-store"),
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        stream: Any = HttpExchangeStream(receive, send)
        connection = Connection(cast(trio.SocketStream, stream), cast(Any, self.host))
        self.state.connections.add(connection)
        started = time.perf_counter()
        try:
            await connection.serve()
        finally:
            self.state.connections.discard(connection)
        elapsed = (time.perf_counter() - started) * 1000
        log.info("%s %s ended in %.1fms", self.host.via, self.host.command or "-", elapsed)
