"""A loopback HTTP proxy in front of a real Acme server that spoils chosen answers.

Every request is forwarded (method, path, query, headers) to the Acme server and its answer
passed back — except requests matching a :class:`Spoil`, whose answer is replaced by what the
spoil makes of the real one: missing fields, wrong types, another entity, broken JSON, an HTML
page. So a sync through the proxy sees a valid Acme API with exactly one bad endpoint.
``slow_paths`` asks the Acme server itself (its ``delay_ms`` extension) to hold the requests of
some paths, so only those overlap long enough to be counted in flight together.

Starlette on hypercorn's trio worker, bound to 127.0.0.1 port 0, in the caller's nursery::

    proxy = await nursery.start(TamperingProxy(server.url).serve)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import attrs
import httpx
import hypercorn.config
import hypercorn.trio
import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_NOT_PASSED = frozenset(
    {"connection", "content-length", "content-encoding", "transfer-encoding", "keep-alive"}
)  # hop-by-hop, or no longer true of the (decoded) body passed on


@attrs.frozen
class Spoil:
    """Replace the answer to ``GET path`` (with at least the ``query`` items) by
    ``answer(real_answer)``."""

    path: str
    answer: Callable[[httpx.Response], Response]
    query: Mapping[str, str] = attrs.field(factory=dict)

    def matches(self, request: Request) -> bool:
        return request.url.path == self.path and all(
            request.query_params.get(k) == v for k, v in self.query.items()
        )


def edited_json(edit: Callable[[Any], Any]) -> Callable[[httpx.Response], Response]:
    """An answer with the real JSON body changed by ``edit`` (which may mutate and return it)."""

    def answer(real: httpx.Response) -> Response:
        body = json.dumps(edit(real.json())).encode()
        return Response(body, real.status_code, media_type="application/json")

    return answer


def fixed(
    body: bytes, status: int = 200, media_type: str = "application/json"
) -> Callable[[httpx.Response], Response]:
    """An answer that ignores the real one."""
    return lambda _real: Response(body, status, media_type=media_type)


class TamperingProxy:
    def __init__(
        self, upstream_url: str, *spoils: Spoil, slow_paths: Mapping[str, int] | None = None
    ) -> None:
        self.upstream_url = upstream_url
        self.spoils = list(spoils)
        self.slow_paths = dict(slow_paths or {})  # path → ms the server holds each request
        self.spoiled = 0  # answers replaced so far
        self.url = ""

    async def serve(self, *, task_status: trio.TaskStatus[TamperingProxy]) -> None:
        config = hypercorn.config.Config()
        config.bind = ["127.0.0.1:0"]
        config.accesslog = None
        config.loglevel = "WARNING"
        config.graceful_timeout = 0.5
        async with httpx.AsyncClient(
            base_url=self.upstream_url, trust_env=False, limits=httpx.Limits(max_connections=200)
        ) as upstream:
            app = Starlette(
                routes=[Route("/{path:path}", partial(self._forward, upstream), methods=["GET"])]
            )
            async with trio.open_nursery() as nursery:
                serve = partial(hypercorn.trio.serve, app, config)  # type: ignore[arg-type]
                binds: list[str] = await nursery.start(serve)
                self.url = binds[0]
                task_status.started(self)

    async def _forward(self, upstream: httpx.AsyncClient, request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "accept-encoding")}
        params = httpx.QueryParams(request.url.query)
        delay_ms = self.slow_paths.get(request.url.path)
        if delay_ms is not None:
            params = params.add("delay_ms", str(delay_ms))
        real = await upstream.get(request.url.path, params=params, headers=headers)
        for spoil in self.spoils:
            if spoil.matches(request):
                self.spoiled += 1
                return spoil.answer(real)
        passed = {k: v for k, v in real.headers.items() if k.lower() not in _NOT_PASSED}
        return Response(real.content, real.status_code, headers=passed)
