"""The RPC envelope between tiers and the in-process transports.

Request (one per call)::

    {"id": "7d0c…", "target": "engine", "method": "query", "args": [<query>, <page>],
     "scope": {"workspaceId": "…", "installationId": "…"}, "stream": true}

``target`` is ``""`` (the node itself) or ``"engine"``; ``scope`` routes *down* the hierarchy
(each dispatcher consumes its own field and forwards the rest); ``stream`` asks for events.
Response: ``{"id", "ok": true, "result"}`` or ``{"id", "ok": false, "error": <MaxError wire>}``;
before it, a streaming call may send ``{"id", "event": {…}}`` messages. ``{"id", "cancel":
true}`` cancels a call in flight. Every message is an attrs class whose JSON form lives on the
shared converter, so the daemon socket and remote transports of later issues carry exactly
these bytes.

:class:`LoopbackTransport` calls a dispatcher in memory; with ``serialise=True`` (the default)
every request, event and response makes the full trip through JSON text — the proof that what
the tiers exchange survives the wire. :class:`ScopedTransport` merges a routing scope into every
request (how a workspace client reaches one of its installations).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from maxtrio.core import MaxError, converter

from ._errors import ErrInvalidRpcMessage


@attrs.frozen
class RpcScope:
    """Routing down the hierarchy: which workspace, which installation."""

    workspace_id: str | None = None
    installation_id: str | None = None

    def without_installation(self) -> RpcScope | None:
        if self.workspace_id is None:
            return None
        return RpcScope(self.workspace_id)

    def without_workspace(self) -> RpcScope | None:
        if self.installation_id is None:
            return None
        return RpcScope(None, self.installation_id)

    def merged(self, other: RpcScope | None) -> RpcScope:
        if other is None:
            return self
        return RpcScope(
            other.workspace_id or self.workspace_id, other.installation_id or self.installation_id
        )


@attrs.frozen
class RpcRequest:
    id: str
    method: str
    target: str = ""
    args: tuple[Any, ...] = ()
    scope: RpcScope | None = None
    stream: bool = False

    @classmethod
    def create(
        cls,
        method: str,
        *args: Any,
        target: str = "",
        scope: RpcScope | None = None,
        stream: bool = False,
    ) -> RpcRequest:
        return cls(uuid.uuid4().hex, method, target, tuple(args), scope, stream)


@attrs.frozen
class RpcResponse:
    id: str
    ok: bool
    result: Any = None
    error: MaxError | None = attrs.field(default=None, eq=False)

    @classmethod
    def success(cls, request_id: str, result: Any) -> RpcResponse:
        return cls(request_id, True, result)

    @classmethod
    def failure(cls, request_id: str, error: BaseException) -> RpcResponse:
        return cls(request_id, False, None, MaxError.wrap(error))

    def unwrap(self) -> Any:
        """The result, or the reconstituted error raised."""
        if self.ok:
            return self.result
        raise self.error if self.error is not None else MaxError.wrap("RPC call failed")


@attrs.frozen
class RpcEvent:
    """One event of a streaming call (a sync event's JSON)."""

    id: str
    event: dict[str, Any]


@attrs.frozen
class RpcCancel:
    """Cancel the call ``id`` (its server-side scope)."""

    id: str
    cancel: bool = True


RpcMessage = RpcRequest | RpcResponse | RpcEvent | RpcCancel


# -- the JSON form ---------------------------------------------------------------------------------


def _unstructure_scope(scope: RpcScope) -> dict[str, str]:
    out: dict[str, str] = {}
    if scope.workspace_id is not None:
        out["workspaceId"] = scope.workspace_id
    if scope.installation_id is not None:
        out["installationId"] = scope.installation_id
    return out


def _structure_scope(value: Any, _: type) -> RpcScope:
    if not isinstance(value, Mapping):
        raise TypeError("scope must be an object")
    ws, inst = value.get("workspaceId"), value.get("installationId")
    for key, part in (("workspaceId", ws), ("installationId", inst)):
        if part is not None and not isinstance(part, str):
            raise TypeError(f"scope.{key} must be a string")
    return RpcScope(ws, inst)


def _unstructure_request(request: RpcRequest) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": request.id,
        "target": request.target,
        "method": request.method,
        "args": list(request.args),
    }
    if request.scope is not None:
        out["scope"] = _unstructure_scope(request.scope)
    if request.stream:
        out["stream"] = True
    return out


def _unstructure_response(response: RpcResponse) -> dict[str, Any]:
    if response.ok:
        return {"id": response.id, "ok": True, "result": response.result}
    error = response.error if response.error is not None else MaxError.wrap("failed")
    return {"id": response.id, "ok": False, "error": error.to_wire()}


converter.register_unstructure_hook(RpcScope, _unstructure_scope)
converter.register_structure_hook(RpcScope, _structure_scope)
converter.register_unstructure_hook(RpcRequest, _unstructure_request)
converter.register_unstructure_hook(RpcResponse, _unstructure_response)


def encode(message: RpcMessage) -> str:
    """One message as one line of JSON (no newline inside)."""
    return json.dumps(converter.unstructure(message), ensure_ascii=False, separators=(",", ":"))


def decode(value: Any) -> RpcMessage:
    """A message from JSON text or an already-parsed value; ``rpc.invalid_message`` otherwise."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            raise ErrInvalidRpcMessage(what="message", reason="not valid JSON") from None
    if not isinstance(value, Mapping):
        raise ErrInvalidRpcMessage(what="message", reason="expected a JSON object")
    message_id = value.get("id")
    if not isinstance(message_id, str) or not message_id:
        raise ErrInvalidRpcMessage(what="message", reason='missing "id"')
    if "method" in value:
        return _decode_request(message_id, value)
    if "ok" in value:
        return _decode_response(message_id, value)
    if "event" in value:
        event = value["event"]
        if not isinstance(event, Mapping):
            raise ErrInvalidRpcMessage(what="event", reason='"event" must be an object')
        return RpcEvent(message_id, dict(event))
    if value.get("cancel") is True:
        return RpcCancel(message_id)
    raise ErrInvalidRpcMessage(
        what="message",
        reason='expected a request ("method"), a response ("ok"), an event or a cancel',
    )


def _decode_request(message_id: str, value: Mapping[str, Any]) -> RpcRequest:
    method, target = value.get("method"), value.get("target", "")
    args, stream = value.get("args", []), value.get("stream", False)
    if not isinstance(method, str) or not method:
        raise ErrInvalidRpcMessage(what="request", reason='"method" must be a non-empty string')
    if not isinstance(target, str):
        raise ErrInvalidRpcMessage(what="request", reason='"target" must be a string')
    if not isinstance(args, list):
        raise ErrInvalidRpcMessage(what="request", reason='"args" must be an array')
    if not isinstance(stream, bool):
        raise ErrInvalidRpcMessage(what="request", reason='"stream" must be true or false')
    scope = None
    if value.get("scope") is not None:
        try:
            scope = _structure_scope(value["scope"], RpcScope)
        except TypeError as exc:
            raise ErrInvalidRpcMessage(what="request", reason=str(exc)) from None
    return RpcRequest(message_id, method, target, tuple(args), scope, stream)


def _decode_response(message_id: str, value: Mapping[str, Any]) -> RpcResponse:
    if value.get("ok") is True:
        return RpcResponse(message_id, True, value.get("result"))
    error = value.get("error")
    if not isinstance(error, Mapping):
        raise ErrInvalidRpcMessage(what="response", reason='a failed response needs an "error"')
    return RpcResponse(message_id, False, None, MaxError.from_wire(error))


def decode_request(value: Any) -> RpcRequest:
    message = decode(value)
    if not isinstance(message, RpcRequest):
        raise ErrInvalidRpcMessage(what="request", reason="not a request")
    return message


def decode_response(value: Any) -> RpcResponse:
    message = decode(value)
    if not isinstance(message, RpcResponse):
        raise ErrInvalidRpcMessage(what="response", reason="not a response")
    return message


# -- dispatchers and transports ---------------------------------------------------------------

EmitEvent = Callable[[dict[str, Any]], Awaitable[None]]


class Dispatcher(Protocol):
    """Answers requests for one node. Never raises: every failure is an error response."""

    async def dispatch(self, request: RpcRequest, emit: EmitEvent | None = None) -> RpcResponse: ...


class Transport(Protocol):
    """Carries a request to a node and brings its result back (or raises its error)."""

    async def call(self, request: RpcRequest, on_event: EmitEvent | None = None) -> Any: ...

    async def aclose(self) -> None: ...


class LoopbackTransport:
    """Calls ``dispatcher`` in this process. With ``serialise`` every message is encoded to
    JSON text and decoded again on each side, exactly as a socket would carry it."""

    def __init__(self, dispatcher: Dispatcher, *, serialise: bool = True) -> None:
        self.dispatcher = dispatcher
        self.serialise = serialise
        self.sent: list[str] = []  # the encoded requests, for inspection

    async def call(self, request: RpcRequest, on_event: EmitEvent | None = None) -> Any:
        if self.serialise:
            line = encode(request)
            self.sent.append(line)
            request = decode_request(line)

        async def emit(event: dict[str, Any]) -> None:
            if on_event is None:
                return
            if self.serialise:
                message = decode(encode(RpcEvent(request.id, event)))
                assert isinstance(message, RpcEvent)
                event = message.event
            await on_event(event)

        response = await self.dispatcher.dispatch(request, emit if request.stream else None)
        if self.serialise:
            response = decode_response(encode(response))
        if response.id != request.id:
            raise ErrInvalidRpcMessage(what="response", reason="its id does not match the request")
        return response.unwrap()

    async def aclose(self) -> None:
        return None


class ScopedTransport:
    """Merges ``scope`` into every request (closing it does nothing)."""

    def __init__(self, inner: Transport, scope: RpcScope) -> None:
        self.inner = inner
        self.scope = scope

    async def call(self, request: RpcRequest, on_event: EmitEvent | None = None) -> Any:
        scoped = attrs.evolve(request, scope=self.scope.merged(request.scope))
        return await self.inner.call(scoped, on_event)

    async def aclose(self) -> None:
        return None


async def call(
    transport: Transport,
    method: str,
    *args: Any,
    target: str = "",
    on_event: EmitEvent | None = None,
) -> Any:
    """Shorthand: build a request and send it."""
    request = RpcRequest.create(method, *args, target=target, stream=on_event is not None)
    return await transport.call(request, on_event)


def positional(request: RpcRequest, count: int, optional: int = 0) -> Sequence[Any]:
    """The request's arguments, padded with None up to ``count``; too many or too few (fewer
    than ``count - optional``) is ``rpc.invalid_message``."""
    given = len(request.args)
    if given > count or given < count - optional:
        expected = str(count) if not optional else f"{count - optional} to {count}"
        raise ErrInvalidRpcMessage(
            what=f"arguments of {request.method}", reason=f"expected {expected}, got {given}"
        )
    return [*request.args, *([None] * (count - given))]
