"""A pool of single-connection httpx clients, for many concurrent requests to one server.

Part of the connector SDK: any connector that calls one API with many concurrent requests can
use it (the acme connector does, and so does the Acme fake's own HTTP client).

httpx's own connection pool re-examines every queued request against every connection
whenever one of them changes state: O(requests × connections) work per event. At 50 concurrent
list requests that bookkeeping costs more CPU than receiving the answers (about twice the
wall time in ``benchmarks/acme_serve.py``). :class:`ConnectionSlots` sidesteps it: up to
``size`` ``httpx.AsyncClient``s of one keep-alive connection each, lent out one per request
(most recently used first, so connections stay warm) under a ``trio.Semaphore``. The clients are
created on first need and share one TLS context.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpx
import trio

#: Builds one client; it is given the limits of one connection and a shared TLS context.
ClientFactory = Callable[[httpx.Limits, ssl.SSLContext], httpx.AsyncClient]


def _plain_client(timeout: float | httpx.Timeout) -> ClientFactory:
    def make(limits: httpx.Limits, tls: ssl.SSLContext) -> httpx.AsyncClient:
        return httpx.AsyncClient(limits=limits, timeout=timeout, verify=tls)

    return make


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps nothing and sends nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class ConnectionSlots:
    """At most ``size`` concurrent requests, each on its own reused connection.

    ``make_client`` builds each slot's client (base URL, headers, transport…); by default a
    plain client with ``timeout``.
    """

    def __init__(
        self,
        size: int,
        *,
        timeout: float | httpx.Timeout = 30.0,
        make_client: ClientFactory | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._make_client = make_client or _plain_client(timeout)
        self._slots = trio.Semaphore(size)
        self._idle: list[httpx.AsyncClient] = []
        self._all: list[httpx.AsyncClient] = []
        self._tls: ssl.SSLContext | None = None
        self.is_closed = False

    def statistics(self) -> dict[str, int]:
        """``connections`` opened so far and requests ``waiting`` for a free slot."""
        waiting = self._slots.statistics().tasks_waiting
        return {"connections": len(self._all), "waiting": waiting}

    def _new_client(self) -> httpx.AsyncClient:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        client = self._make_client(one, self._tls)
        # Connectors send credentials in headers, never cookies; httpx would otherwise parse
        # every response through ``http.cookiejar`` (~50 µs of CPU a request).
        client._cookies = _NoCookies()  # httpx has no switch for it
        self._all.append(client)
        return client

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request on a free connection (waits while all ``size`` are busy)."""
        async with self._slots:
            client = self._idle.pop() if self._idle else self._new_client()
            try:
                response = await client.request(method, url, **kwargs)
            finally:
                self._idle.append(client)
        # The body is read. httpx leaves the response in a reference cycle with its stream, so
        # the body would live until the cyclic GC runs — a sync of big pages held hundreds of
        # MiB of answers that way. Without the cycle it goes as soon as the caller drops it.
        response.stream = httpx.ByteStream(b"")
        return response

    async def aclose(self) -> None:
        self.is_closed = True
        for client in self._all:
            await client.aclose()
        self._all.clear()
        self._idle.clear()
