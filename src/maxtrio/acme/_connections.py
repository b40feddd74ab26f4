"""A pool of single-connection httpx clients, for many concurrent requests to one server.

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
from typing import Any

import httpx
import trio


class ConnectionSlots:
    """At most ``size`` concurrent requests, each on its own reused connection."""

    def __init__(self, size: int, *, timeout: float) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self.timeout = timeout
        self._slots = trio.Semaphore(size)
        self._idle: list[httpx.AsyncClient] = []
        self._all: list[httpx.AsyncClient] = []
        self._tls: ssl.SSLContext | None = None

    def statistics(self) -> dict[str, int]:
        """``connections`` opened so far and requests ``waiting`` for a free slot."""
        waiting = self._slots.statistics().tasks_waiting
        return {"connections": len(self._all), "waiting": waiting}

    def _new_client(self) -> httpx.AsyncClient:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        client = httpx.AsyncClient(limits=one, timeout=self.timeout, verify=self._tls)
        self._all.append(client)
        return client

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request on a free connection (waits while all ``size`` are busy)."""
        async with self._slots:
            client = self._idle.pop() if self._idle else self._new_client()
            try:
                return await client.request(method, url, **kwargs)
            finally:
                self._idle.append(client)

    async def aclose(self) -> None:
        for client in self._all:
            await client.aclose()
        self._all.clear()
        self._idle.clear()
