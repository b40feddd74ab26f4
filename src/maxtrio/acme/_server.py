"""The Acme HTTP API on starlette, served by hypercorn's trio worker.

:func:`serve_acme` binds first and reports the real URL (port 0 picks a free port), so a test
opens a nursery, ``server = await nursery.start(serve_acme, tenant)``, and talks to
``server.url`` at once; cancelling the nursery stops the server, its webhook deliveries and any
continuous generation. :func:`open_acme_server` is the same as an async context manager.

Request path: the ASGI gate of :mod:`._gate` authenticates ``/api/`` requests
(``Bearer`` key; 401 ``Missing API key`` / 403 ``Invalid API key``), counts them, and applies
fault injection (latency, 429 with ``Retry-After``, 500); the router then dispatches on exact
method + path (anything else: 404 ``Not found``). Entity bodies are the tenant's JSON text,
written to the socket as is. Errors are always ``{"error": <message>}``.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Final, TypeVar

import hypercorn.config
import trio
from hypercorn.trio.run import worker_serve
from hypercorn.utils import wrap_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from maxtrio.core import MaxError

from . import _model as m
from ._dashboard import DASHBOARD_HTML
from ._errors import ErrInvalidInput, http_status_of
from ._gate import Gate, Traffic, error_body
from ._generation import run_generation
from ._list_cache import CachedList, ListCache
from ._schema import KINDS, Kind
from ._tenant import Tenant
from ._webhooks import WebhookDispatcher
from ._wire import camel, parse_json_body, to_json

log = logging.getLogger("maxtrio.acme")

T = TypeVar("T")

ALL_METHODS: Final = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
MAX_BODY_BYTES: Final = 1 << 20
MAX_LIST_LIMIT: Final = 100_000
MAX_IDS: Final = 1000
MAX_CURSOR: Final = m.MAX_SEQUENCE
_INTEGER = re.compile(r"-?\d+")
_JSON_HEADERS: Final = {"access-control-allow-origin": "*"}


# -- responses and parameters ---------------------------------------------------------------


#: MAXTRIO extension on ``/api/changes`` and ``/api/changes/recent``: the newest sequence ever
#: handed out (it survives a compaction that emptied the log, unlike the events themselves).
CHANGELOG_HEAD = "X-Changelog-Head"


def json_response(
    body: str | bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer from already-encoded text, with the CORS header of every Acme answer."""
    all_headers = dict(_JSON_HEADERS)
    if headers:
        all_headers.update(headers)
    return Response(body, status_code=status, headers=all_headers, media_type="application/json")


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(error_body(message), status, headers)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def int_param(
    request: Request, name: str, *, default: int | None, minimum: int, maximum: int
) -> int | None:
    """A query integer: absent or empty → ``default``; anything but an integer in range → 400."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw):
        raise ErrInvalidInput(reason=f"{name} must be an integer")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise ErrInvalidInput(reason=f"{name} must be between {minimum} and {maximum}")
    return value


def _ids_param(request: Request) -> list[str] | None:
    raw = request.query_params.get("ids")
    ids = [part for part in (raw or "").split(",") if part]
    if not ids:
        return None  # absent or empty: not given, like every empty query value
    if len(ids) > MAX_IDS:
        raise ErrInvalidInput(reason=f"ids must name at most {MAX_IDS} entities")
    return ids


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ErrInvalidInput(reason=f"body must be at most {MAX_BODY_BYTES} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ErrInvalidInput(reason=f"body must be at most {MAX_BODY_BYTES} bytes")
    return raw


Endpoint = Callable[[Request], Awaitable[Response]]


def _endpoint(handler: Endpoint) -> Endpoint:
    """Every error becomes ``{"error": message}`` with its status; bugs are logged as 500s."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except MaxError as err:
            return error_response(http_status_of(err), err.message)
        except Exception as exc:
            log.exception("acme: %s %s failed", request.method, request.url.path)
            return error_response(500, str(exc) or type(exc).__name__)

    return endpoint


# -- the server handle ----------------------------------------------------------------------


class AcmeServer:
    """A running Acme server: its URL, tenant, fault settings, statistics and generation."""

    def __init__(self, tenant: Tenant, nursery: trio.Nursery, faults: m.FaultInjection) -> None:
        self.tenant = tenant
        self.url = ""
        self._nursery = nursery
        self.webhooks = WebhookDispatcher(tenant)
        self.list_cache = ListCache()
        self._generation: trio.CancelScope | None = None
        self.traffic = Traffic(faults)

    def __repr__(self) -> str:
        return f"<AcmeServer {self.url} tenant={self.tenant.name!r}>"

    @property
    def api_key(self) -> str:
        """The tenant's current key (read without the guard: one short SELECT)."""
        return self.tenant.api_key()

    # fault injection and statistics

    @property
    def faults(self) -> m.FaultInjection:
        """The fault injection in force; assign a new one to change it (the draws restart)."""
        return self.traffic.faults

    @faults.setter
    def faults(self, faults: m.FaultInjection) -> None:
        self.traffic.faults = faults

    def statistics(self) -> m.ServerStatistics:
        traffic = self.traffic
        hooks = self.webhooks.statistics()
        return m.ServerStatistics(
            requests=traffic.requests,
            in_flight=traffic.in_flight,
            peak_in_flight=traffic.peak_in_flight,
            rate_limited=traffic.rate_limited,
            injected_errors=traffic.injected_errors,
            webhooks_delivered=hooks.delivered,
            webhooks_failed=hooks.failed,
            webhooks_dropped=hooks.dropped,
        )

    def reset_statistics(self) -> None:
        self.traffic.reset()
        self.webhooks.reset_statistics()

    # continuous generation

    @property
    def generating(self) -> bool:
        return self._generation is not None

    async def start_generation(self, options: m.GenerationOptions | None = None) -> None:
        """Start generating (no-op when already running); fails when there is no data."""
        if self._generation is not None:
            return
        scope = trio.CancelScope()
        self._generation = scope

        async def generate(*, task_status: trio.TaskStatus[None]) -> None:
            try:
                with scope:
                    await run_generation(
                        self.tenant, options or m.GenerationOptions(), task_status=task_status
                    )
            finally:
                if self._generation is scope:
                    self._generation = None

        await self._nursery.start(generate)

    def stop_generation(self) -> None:
        if self._generation is not None:
            self._generation.cancel()
            self._generation = None

    async def locked(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(*args)`` on the event loop while holding the tenant's guard."""
        async with self.tenant.guard:
            return fn(*args)


# -- routes ---------------------------------------------------------------------------------


def _entity_routes(server: AcmeServer, kind: Kind) -> list[BaseRoute]:
    tenant = server.tenant
    table = kind.table
    parent_param = camel(kind.parent) if kind.parent else None

    async def list_entities(request: Request) -> Response:
        parent = request.query_params.get(parent_param) if parent_param else None
        ids = _ids_param(request)
        limit = int_param(request, "limit", default=None, minimum=1, maximum=MAX_LIST_LIMIT)
        after = int_param(request, "cursor", default=None, minimum=0, maximum=MAX_CURSOR)
        key = (table, parent or None, tuple(ids) if ids is not None else None, limit, after)
        async with tenant.guard:
            token = tenant.change_token()
            found = server.list_cache.get(token, key)
            if found is None:
                page = tenant.list_wire(
                    table, parent_id=parent or None, ids=ids, limit=limit, after=after
                )
                found = server.list_cache.put(
                    token, key, CachedList(page.json.encode(), page.next_cursor)
                )
        headers = {"x-next-cursor": found.next_cursor} if found.next_cursor else None
        return json_response(found.body, headers=headers)

    async def create_entity(request: Request) -> Response:
        entity = parse_json_body(await _body(request), kind.input_cls)
        return json_response(await server.locked(tenant.create, entity), 201)

    async def get_entity(request: Request) -> Response:
        found = await server.locked(tenant.get_wire, table, request.path_params["id"])
        return json_response(found) if found is not None else error_response(404, "Not found")

    async def update_entity(request: Request) -> Response:
        patch = parse_json_body(await _body(request), kind.patch_cls)
        updated = await server.locked(tenant.update, table, request.path_params["id"], patch)
        return json_response(updated)

    async def delete_entity(request: Request) -> Response:
        await server.locked(tenant.delete, table, request.path_params["id"])
        return json_response(b'{"ok":true}')

    return [
        Route(f"/api/{table}", _endpoint(list_entities), methods=["GET"]),
        Route(f"/api/{table}", _endpoint(create_entity), methods=["POST"]),
        Route(f"/api/{table}/{{id}}", _endpoint(get_entity), methods=["GET"]),
        Route(f"/api/{table}/{{id}}", _endpoint(update_entity), methods=["PATCH"]),
        Route(f"/api/{table}/{{id}}", _endpoint(delete_entity), methods=["DELETE"]),
    ]


def _api_routes(server: AcmeServer) -> list[BaseRoute]:
    tenant = server.tenant

    async def task_history(request: Request) -> Response:
        before = int_param(request, "before", default=None, minimum=0, maximum=MAX_CURSOR)
        limit = int_param(request, "limit", default=50, minimum=1, maximum=1000) or 50
        text = await server.locked(
            partial(tenant.history_wire, request.path_params["id"], before=before, limit=limit)
        )
        return json_response(text)

    async def changes(request: Request) -> Response:
        since = int_param(request, "since", default=0, minimum=0, maximum=MAX_CURSOR) or 0
        limit = int_param(request, "limit", default=100, minimum=1, maximum=MAX_LIST_LIMIT) or 100
        body, head = await server.locked(
            lambda: (tenant.changes_wire(since, limit), tenant.last_sequence())
        )
        return json_response(body, headers={CHANGELOG_HEAD: str(head)})

    async def compact_changes(request: Request) -> Response:
        options = parse_json_body(await _body(request), m.ChangelogCompaction)
        result = await server.locked(tenant.compact_changes, options.before)
        return json_response(_dumps(result))

    async def recent_changes(request: Request) -> Response:
        limit = int_param(request, "limit", default=50, minimum=1, maximum=MAX_LIST_LIMIT) or 50
        body, head = await server.locked(
            lambda: (tenant.recent_changes_wire(limit), tenant.last_sequence())
        )
        return json_response(body, headers={CHANGELOG_HEAD: str(head)})

    async def list_webhooks(request: Request) -> Response:
        return json_response(await server.locked(tenant.list_webhooks_wire))

    async def register_webhook(request: Request) -> Response:
        hook = parse_json_body(await _body(request), m.WebhookInput)
        return json_response(await server.locked(tenant.register_webhook, hook.url), 201)

    async def delete_webhook(request: Request) -> Response:
        await server.locked(tenant.delete_webhook, request.path_params["id"])
        return json_response(b'{"ok":true}')

    async def seed(request: Request) -> Response:
        options = parse_json_body(await _body(request), m.SeedOptions, empty_ok=True)
        async with tenant.guard:
            result = await trio.to_thread.run_sync(tenant.seed, options)
        return json_response(_dumps(to_json(result)))

    async def generate_start(request: Request) -> Response:
        options = parse_json_body(await _body(request), m.GenerationOptions, empty_ok=True)
        await server.start_generation(options)
        return json_response(b'{"ok":true}')

    async def generate_stop(request: Request) -> Response:
        server.stop_generation()
        return json_response(b'{"ok":true}')

    async def stats(request: Request) -> Response:
        counts = await server.locked(partial(tenant.stats, generating=server.generating))
        return json_response(_dumps(counts))

    async def rotate_key(request: Request) -> Response:
        key = await server.locked(tenant.rotate_api_key)
        return json_response(_dumps({"apiKey": key}))

    async def get_faults(request: Request) -> Response:
        return json_response(_dumps(to_json(server.faults)))

    async def put_faults(request: Request) -> Response:
        server.faults = parse_json_body(await _body(request), m.FaultInjection, empty_ok=True)
        return json_response(_dumps(to_json(server.faults)))

    async def traffic(request: Request) -> Response:
        return json_response(_dumps(to_json(server.statistics())))

    async def reset_traffic(request: Request) -> Response:
        server.reset_statistics()
        return json_response(_dumps(to_json(server.statistics())))

    async def health(request: Request) -> Response:
        return json_response(_dumps({"status": "ok", "tenant": tenant.name}))

    async def meta(request: Request) -> Response:
        key = await server.locked(tenant.api_key)
        return json_response(_dumps({"tenant": tenant.name, "apiKey": key}))

    async def dashboard(request: Request) -> Response:
        return HTMLResponse(DASHBOARD_HTML)

    table: list[tuple[str, Endpoint, list[str]]] = [
        ("/api/tasks/{id}/history", task_history, ["GET"]),
        ("/api/changes", changes, ["GET"]),
        ("/api/changes/recent", recent_changes, ["GET"]),
        ("/api/changes/compact", compact_changes, ["POST"]),
        ("/api/webhooks", list_webhooks, ["GET"]),
        ("/api/webhooks", register_webhook, ["POST"]),
        ("/api/webhooks/{id}", delete_webhook, ["DELETE"]),
        ("/api/seed", seed, ["POST"]),
        ("/api/generate/start", generate_start, ["POST"]),
        ("/api/generate/stop", generate_stop, ["POST"]),
        ("/api/stats", stats, ["GET"]),
        ("/api/keys/rotate", rotate_key, ["POST"]),
        ("/api/faults", get_faults, ["GET"]),
        ("/api/faults", put_faults, ["PUT"]),
        ("/api/traffic", traffic, ["GET"]),
        ("/api/traffic/reset", reset_traffic, ["POST"]),
        ("/api/health", health, ALL_METHODS),
        ("/api/meta", meta, ALL_METHODS),
        ("/", dashboard, ALL_METHODS),
        ("/dashboard", dashboard, ALL_METHODS),
    ]
    return [Route(path, _endpoint(fn), methods=methods) for path, fn, methods in table]


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(404, "Not found")


def build_app(server: AcmeServer) -> ASGIApp:
    """The ASGI application of ``server``: the gate in front of a starlette router."""
    routes: list[BaseRoute] = []
    for kind in KINDS.values():
        routes += _entity_routes(server, kind)
    routes += _api_routes(server)
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found})
    app.router.redirect_slashes = False
    return Gate(app, server.tenant, server.traffic)


# -- serving --------------------------------------------------------------------------------


def _hypercorn_config() -> hypercorn.config.Config:
    config = hypercorn.config.Config()
    config.accesslog = None
    config.loglevel = "WARNING"
    config.graceful_timeout = 1.0
    config.backlog = 1024
    return config


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    """A listening, non-blocking socket on ``host:port`` (a failure closes it and raises)."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.create_server(address[:2], family=family, backlog=backlog)
    listener.setblocking(False)
    return listener


async def serve_acme(
    tenant: Tenant,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: m.FaultInjection | None = None,
    task_status: trio.TaskStatus[AcmeServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``tenant`` over HTTP until cancelled; ``task_status.started`` gets the handle.

    Binds before reporting, so ``(await nursery.start(serve_acme, tenant)).url`` is ready to
    use. Binds to loopback unless told otherwise.
    """
    config = _hypercorn_config()
    listener = _listen(host, port, config.backlog)  # bind now: a busy port is an OSError here
    sockets = hypercorn.config.Sockets(
        secure_sockets=[], insecure_sockets=[listener], quic_sockets=[]
    )
    with listener:
        async with trio.open_nursery() as nursery:
            server = AcmeServer(tenant, nursery, faults or m.FaultInjection())
            await nursery.start(server.webhooks.run)
            app = wrap_app(build_app(server), config.wsgi_max_body_size, "asgi")  # type: ignore[arg-type]
            binds: list[str] = await nursery.start(
                partial(worker_serve, app, config, sockets=sockets)
            )
            server.url = binds[0]
            task_status.started(server)


@asynccontextmanager
async def open_acme_server(
    tenant: Tenant,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: m.FaultInjection | None = None,
) -> AsyncIterator[AcmeServer]:
    """``async with open_acme_server(tenant) as server:`` — served until the block exits."""
    async with trio.open_nursery() as nursery:
        server: AcmeServer = await nursery.start(
            partial(serve_acme, tenant, host=host, port=port, faults=faults)
        )
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()
