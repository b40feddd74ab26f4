"""The HTTP and WebSocket API of ``max serve`` (a starlette app behind a token gate).

===================  ===========================================================================
``GET /health``      ``{"ok": true}`` — the only path answered without the token
``POST /cli``        the reference's mini server: ``{"argv": [...], "installation": <name>|null,
                     "kind": "run"}`` → ``{"stdout", "stderr" (or null), "exitCode",
                     "completions": null}`` (HTTP 200 once the command ran, whatever its exit
                     code); MAXTRIO adds ``"workspace"`` (checked against the served one).
                     The command runs in the workspace root or the installation's directory
``POST /cli/stream`` the same command, streamed over one HTTP exchange (``_http_stream``): the
                     chunked request body carries the daemon protocol's ``run`` (then
                     ``cancel``/``input``), the chunked response its ``ready``, ``write``…,
                     ``response`` lines — what the standard-library launcher speaks
``WS /cli``          the same command, streamed: the workspace daemon's protocol, one JSON
                     message per frame (``run`` → ``ready``, ``write``…, ``sync-started``,
                     ``prompt``, ``response``; ``cancel`` stops the command as Ctrl-C does);
                     ``?workspace=&installation=`` in the URL pick the target
``WS /rpc``          the same RPC over a WebSocket, concurrent and streamed (``_rpc_socket``):
                     events before a ``stream`` call's response, ``cancel``
``POST /rpc``        one RPC request of the tiers' protocol to the workspace's dispatcher
                     (``scope.installationId`` routes to an installation) → the RPC response
===================  ===========================================================================

Every other request needs ``Authorization: Bearer <token>`` (the WebSocket handshake too):
without it → 401 ``{"error": "Unauthorized: …"}`` before anything else runs. Bad requests get
JSON errors and the server keeps serving: 400 ``Invalid JSON`` / ``Missing argv array`` /
``Invalid RpcRequest: …``, 403 ``Command not allowed: …`` (or an RPC error response for a
method a read-only server refuses), 404 ``Not Found`` and an unknown workspace, 405, 413 for a
body over 1 MiB. Each refusal is one log line; tokens are never logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from maxtrio.core import MaxError

from ._commands import ServedWorkspace, StreamingHost, open_connection, run_buffered
from ._errors import ErrCommandNotAllowed, ErrWorkspaceNotServed
from ._policy import Policy, check_segment
from ._token import ServeToken

if TYPE_CHECKING:
    from maxtrio.daemon import Connection
    from maxtrio.federation import GlobalMax, WorkspaceDispatcher

log = logging.getLogger("maxtrio.remote")

MAX_BODY_BYTES = 1 << 20
UNAUTHORIZED = "Unauthorized: send Authorization: Bearer <token> (the token of max serve)"


class ServerState:
    """What the routes share: the workspace, its warm nodes, the rules, live connections."""

    def __init__(
        self,
        *,
        workspace: ServedWorkspace,
        global_max: GlobalMax,
        dispatcher: WorkspaceDispatcher,
        policy: Policy,
    ) -> None:
        self.workspace = workspace
        self.global_max = global_max
        self.dispatcher = dispatcher
        self.policy = policy
        self.connections: set[Connection] = set()

    def check_workspace(self, segment: object) -> None:
        """A caller's workspace segment (absent: fine) must name the served workspace."""
        if segment is None:
            return
        if not isinstance(segment, str) or not self.workspace.matches(segment):
            raise ErrWorkspaceNotServed(workspace=str(segment)[:200], served=self.workspace.name)


class TokenGate:
    """ASGI middleware: every request but ``GET /health`` must carry the token."""

    def __init__(self, app: ASGIApp, token: ServeToken) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _is_health(scope):
            await self.app(scope, receive, send)
            return
        if self.token.accepts(_header(scope, b"authorization")):
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("?", 0)
        log.warning(
            "refused %s %s from %s: no valid token", _method(scope), scope["path"], client[0]
        )
        response = JSONResponse(
            {"error": UNAUTHORIZED}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
        if scope["type"] == "websocket":
            if "websocket.http.response" in scope.get("extensions", {}):
                await WebSocket(scope, receive, send).send_denial_response(response)
            else:
                await send({"type": "websocket.close", "code": 1008, "reason": "Unauthorized"})
            return
        await response(scope, receive, send)


def _is_health(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["path"] in ("/health", "/health/")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _method(scope: Scope) -> str:
    return str(scope.get("method", "WS"))


# -- bodies ---------------------------------------------------------------------------------------


class BadBody(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def json_body(request: Request) -> Any:
    """The request's JSON (at most 1 MiB): 413 / 400 ``Invalid JSON`` otherwise."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadBody(413, f"Request body larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadBody(413, f"Request body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        raise BadBody(400, "Invalid JSON") from None


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


# -- routes ---------------------------------------------------------------------------------------


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def cli(request: Request) -> Response:
    state: ServerState = request.app.state.served
    try:
        body = await json_body(request)
    except BadBody as bad:
        log.warning("refused POST /cli: %s", bad)
        return error(bad.status, str(bad))
    argv = body.get("argv") if isinstance(body, dict) else None
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        log.warning("refused POST /cli: no argv array")
        return error(400, "Missing argv array")
    kind = body.get("kind") or "run"
    if kind != "run":
        return error(400, f"Unsupported kind {str(kind)[:40]!r}: this server runs commands only")
    started = time.perf_counter()
    try:
        state.check_workspace(body.get("workspace"))
        command = state.policy.check_argv(argv)
        cwd = await state.workspace.directory(check_segment(body.get("installation")))
    except MaxError as refused:
        log.warning("refused POST /cli: %s", refused.message[:300])
        return error(_status_of(refused), refused.message)
    output = await run_buffered(argv, cwd=cwd, global_max=state.global_max)
    elapsed = (time.perf_counter() - started) * 1000
    log.info("POST /cli %s → %d in %.1fms", command, output.exit_code, elapsed)
    return JSONResponse(
        {
            "stdout": output.stdout,
            "stderr": output.stderr or None,
            "exitCode": output.exit_code,
            "completions": None,
        }
    )


async def cli_stream(websocket: WebSocket) -> None:
    state: ServerState = websocket.app.state.served
    cwd = await _command_directory(state, websocket.query_params, "WS /cli")
    if isinstance(cwd, Response):
        await websocket.send_denial_response(cwd)
        return
    await websocket.accept()
    host = StreamingHost(cwd=cwd, global_max=state.global_max, policy=state.policy)
    connection = open_connection(websocket, host)
    state.connections.add(connection)
    started = time.perf_counter()
    try:
        await connection.serve()
    except MaxError as failure:
        log.warning("WS /cli ended: %s", failure.message[:300])
    finally:
        state.connections.discard(connection)
    elapsed = (time.perf_counter() - started) * 1000
    log.info("WS /cli %s ended in %.1fms", host.command or "-", elapsed)


async def cli_exchange(request: Request) -> Response:
    from ._http_stream import ConversationResponse

    state: ServerState = request.app.state.served
    via = "POST /cli/stream"
    cwd = await _command_directory(state, request.query_params, via)
    if isinstance(cwd, Response):
        return cwd
    host = StreamingHost(cwd=cwd, global_max=state.global_max, policy=state.policy, via=via)
    return ConversationResponse(state, host)


async def rpc(request: Request) -> Response:
    from maxtrio.federation import RpcResponse, decode_request, encode

    state: ServerState = request.app.state.served
    try:
        body = await json_body(request)
    except BadBody as bad:
        log.warning("refused POST /rpc: %s", bad)
        return error(bad.status, str(bad))
    try:
        call = decode_request(body)
    except MaxError as invalid:
        log.warning("refused POST /rpc: %s", invalid.message[:300])
        return error(400, f"Invalid RpcRequest: {invalid.message}")
    try:
        state.policy.check_method(call.target, call.method)
        scope = call.scope
        state.check_workspace(scope.workspace_id if scope is not None else None)
    except MaxError as refused:
        log.warning("refused POST /rpc %s:%s: %s", call.target, call.method, refused.message)
        failure = RpcResponse.failure(call.id, refused)
        return Response(encode(failure), status_code=403, media_type="application/json")
    response = await state.dispatcher.dispatch(call, None)
    return Response(encode(response), media_type="application/json")


async def _command_directory(
    state: ServerState, params: Mapping[str, str], via: str
) -> Path | Response:
    """Where a streamed command named by ``?workspace=&installation=`` runs, or the refusal
    (logged) to answer with."""
    try:
        state.check_workspace(params.get("workspace"))
        return await state.workspace.directory(check_segment(params.get("installation")))
    except MaxError as refused:
        log.warning("refused %s: %s", via, refused.message[:300])
        return error(_status_of(refused), refused.message)


async def rpc_socket(websocket: WebSocket) -> None:
    from ._rpc_socket import RpcSocket

    await RpcSocket(websocket, websocket.app.state.served).serve()


def _status_of(refused: MaxError) -> int:
    if ErrCommandNotAllowed.matches(refused):
        return 403
    if refused.has("NotFound"):
        return 404
    return 400


async def _not_found(request: Request, exc: Exception) -> Response:
    return error(404, "Not Found")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return error(405, "Method Not Allowed")


def build_app(state: ServerState, token: ServeToken) -> ASGIApp:
    """The server's ASGI application: the token gate in front of the routes."""
    routes: list[BaseRoute] = [
        Route("/health", health, methods=["GET"]),
        Route("/cli", cli, methods=["POST"]),
        Route("/cli/stream", cli_exchange, methods=["POST"]),
        WebSocketRoute("/cli", cli_stream),
        WebSocketRoute("/rpc", rpc_socket),
        Route("/rpc", rpc, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})
    app.router.redirect_slashes = False
    app.state.served = state
    return TokenGate(app, token)
