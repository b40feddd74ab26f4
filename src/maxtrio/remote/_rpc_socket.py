"""``WS /rpc``: the tiers' RPC over one WebSocket, with streamed calls and cancellation.

One JSON message per text frame, the envelope of ``maxtrio.federation``'s RPC:

* client → server: a request ``{"id", "target", "method", "args", "scope", "stream"}``, or
  ``{"id", "cancel": true}`` (stop that call);
* server → client: for a call with ``"stream": true``, any number of events ``{"id",
  "event"}`` — sync events of ``syncCompletion``, ``{"kind": "page", "page"}`` for each page
  of ``engine:query`` (the ``--all`` of RPC) — then the response ``{"id", "ok", "result"}`` or
  ``{"id", "ok": false, "error"}`` (the error frame of a refused or failed call).

Calls run concurrently, each in its own cancel scope. ``sync`` (or ``syncResume``) with
``"stream": true`` is *start and follow*: the sync's events, then its result — and cancelling
that call (``cancel``, or the client hanging up) cancels the sync, so a sync is never left
running for nobody. A cancelled call answers ``remote.call_cancelled``.

The rules are ``POST /rpc``'s: the policy's methods (a read-only server refuses writes with
``remote.method_not_allowed``), the served workspace only. A frame that is not JSON, not an
RPC request or cancel, or binary, closes the connection with 1007 / 1003, one over 1 MiB with
1009 (``_ws_limits``): one log line, and the server goes on serving everyone else.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import attrs
import trio
from starlette.websockets import WebSocket, WebSocketDisconnect

from maxtrio.core import MaxError

from ._errors import ErrCallCancelled
from ._ws_limits import CLOSE_TOO_BIG, MAX_MESSAGE_BYTES, oversized

if TYPE_CHECKING:
    from maxtrio.federation import RpcRequest, RpcResponse

    from ._app import ServerState

log = logging.getLogger("maxtrio.remote")

CLOSE_UNSUPPORTED = 1003
CLOSE_INVALID = 1007
#: Calls that start a sync: with ``stream`` the call follows it to its end.
SYNC_STARTERS = frozenset({"sync", "syncResume"})


class ProtocolViolation(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class RpcSocket:
    """One client's ``WS /rpc`` connection."""

    def __init__(self, websocket: WebSocket, state: ServerState) -> None:
        self.websocket = websocket
        self.state = state
        self.calls: dict[str, trio.CancelScope] = {}
        self._sending = trio.Lock()

    async def serve(self) -> None:
        await self.websocket.accept()
        violation: ProtocolViolation | None = None
        async with trio.open_nursery() as nursery:
            try:
                await self._receive(nursery)
            except ProtocolViolation as bad:
                violation = bad
            finally:
                nursery.cancel_scope.cancel()  # hung up (or told off): its calls stop
        if violation is not None:
            log.warning("WS /rpc closed (%d): %s", violation.code, violation.reason)
            with contextlib.suppress(Exception):
                await self.websocket.close(violation.code, violation.reason[:120])

    async def _receive(self, nursery: trio.Nursery) -> None:
        from maxtrio.federation import RpcCancel, RpcRequest, decode

        while True:
            try:
                message = await self.websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            if oversized(message):
                raise ProtocolViolation(CLOSE_TOO_BIG, f"a message over {MAX_MESSAGE_BYTES} bytes")
            text = message.get("text")
            if text is None:
                raise ProtocolViolation(CLOSE_UNSUPPORTED, "binary frames are not RPC messages")
            try:
                decoded = decode(text)
            except MaxError as invalid:
                raise ProtocolViolation(CLOSE_INVALID, invalid.message) from None
            if isinstance(decoded, RpcCancel):
                scope = self.calls.get(decoded.id)
                if scope is not None:
                    scope.cancel()
            elif isinstance(decoded, RpcRequest):
                if decoded.id in self.calls:
                    raise ProtocolViolation(CLOSE_INVALID, f"call id {decoded.id[:40]!r} in use")
                self.calls[decoded.id] = trio.CancelScope()
                nursery.start_soon(self._call, decoded)
            else:
                raise ProtocolViolation(CLOSE_INVALID, "a client sends requests and cancels")

    async def _call(self, request: RpcRequest) -> None:
        from maxtrio.federation import RpcResponse

        scope = self.calls[request.id]
        response: RpcResponse | None = None
        with scope:
            response = await self._answer(request)
        self.calls.pop(request.id, None)
        if scope.cancelled_caught:
            response = RpcResponse.failure(request.id, ErrCallCancelled(id=request.id[:80]))
        if response is not None:
            await self._send(response)

    async def _answer(self, request: RpcRequest) -> RpcResponse:
        from maxtrio.federation import RpcResponse

        state = self.state
        try:
            state.policy.check_method(request.target, request.method)
            state.check_workspace(request.scope.workspace_id if request.scope else None)
        except MaxError as refused:
            log.warning("refused WS /rpc %s:%s: %s", request.target, request.method, refused)
            return RpcResponse.failure(request.id, refused)

        async def emit(event: dict[str, Any]) -> None:
            from maxtrio.federation import RpcEvent

            await self._send(RpcEvent(request.id, event))

        if request.stream and request.target == "" and request.method in SYNC_STARTERS:
            return await self._follow_sync(request, emit)
        return await state.dispatcher.dispatch(request, emit if request.stream else None)

    async def _follow_sync(self, request: RpcRequest, emit: Any) -> RpcResponse:
        """Start the sync, stream its events, answer its result; cancelled → sync cancelled."""
        dispatcher = self.state.dispatcher
        started = await dispatcher.dispatch(attrs.evolve(request, stream=False))
        if not started.ok or not isinstance(started.result, dict):
            return started
        sync_id = started.result.get("id")
        follow = attrs.evolve(request, method="syncCompletion", args=(sync_id,), stream=True)
        try:
            return await dispatcher.dispatch(follow, emit)
        except trio.Cancelled:
            stop = attrs.evolve(request, method="syncCancel", args=(sync_id,), stream=False)
            with trio.CancelScope(shield=True):
                stopped = await dispatcher.dispatch(stop)
            log.info("WS /rpc: sync %s cancelled (%s)", sync_id, "ok" if stopped.ok else "gone")
            raise

    async def _send(self, message: Any) -> None:
        from maxtrio.federation import encode

        async with self._sending:
            with contextlib.suppress(Exception):  # the client went away: nothing to tell
                await self.websocket.send_text(encode(message))
