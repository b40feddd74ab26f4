"""The gate in front of the Acme router: Bearer auth, traffic counting and fault injection.

:class:`Gate` is plain ASGI middleware (no per-request objects on the hot path). For every
``/api/`` path except ``/api/health`` and ``/api/meta`` it checks ``Authorization: Bearer
<key>`` — 401 ``Missing API key`` when absent or malformed, 403 ``Invalid API key`` when not an
active key — before any routing, as the reference does. Authenticated API requests (the
control routes ``/api/faults`` and ``/api/traffic…`` excepted) are counted by :class:`Traffic`,
delayed by the configured latency plus any ``?delay_ms=`` / ``X-Acme-Delay-Ms`` of the request,
and answered 429 (with ``Retry-After``) or 500 for the configured fractions.
"""

from __future__ import annotations

import json
import random
import re
from enum import Enum
from typing import Final
from urllib.parse import parse_qs

import trio
from starlette.types import ASGIApp, Receive, Scope, Send

from maxtrio.core import MaxError

from . import _model as m
from ._errors import ErrInvalidInput
from ._tenant import Tenant

PUBLIC_PATHS: Final = frozenset({"/api/health", "/api/meta"})
CONTROL_PATHS: Final = frozenset({"/api/faults", "/api/traffic", "/api/traffic/reset"})
"""Authenticated, but neither counted nor subject to fault injection."""
MAX_DELAY_MS: Final = 60_000
DELAY_HEADER: Final = b"x-acme-delay-ms"
_BEARER: Final = b"Bearer "
_INTEGER = re.compile(r"-?\d+")


class Fault(Enum):
    NONE = "none"
    RATE_LIMITED = "rate_limited"
    ERROR = "error"


class Traffic:
    """Counters of the authenticated API requests, and the fault drawn for each of them."""

    def __init__(self, faults: m.FaultInjection) -> None:
        self.faults = faults
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rate_limited = 0
        self.injected_errors = 0

    @property
    def faults(self) -> m.FaultInjection:
        return self._faults

    @faults.setter
    def faults(self, faults: m.FaultInjection) -> None:
        self._faults = faults
        self._draw = random.Random(faults.seed).random

    def begin(self) -> None:
        self.requests += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def end(self) -> None:
        self.in_flight -= 1

    def draw_fault(self) -> Fault:
        """One draw per request from ``Random(seed)``: below ``rate_limit_ratio`` → 429, …"""
        faults = self._faults
        if not (faults.rate_limit_ratio or faults.error_ratio):
            return Fault.NONE
        draw = self._draw()
        if draw < faults.rate_limit_ratio:
            self.rate_limited += 1
            return Fault.RATE_LIMITED
        if draw < faults.rate_limit_ratio + faults.error_ratio:
            self.injected_errors += 1
            return Fault.ERROR
        return Fault.NONE

    def reset(self) -> None:
        self.requests = self.rate_limited = self.injected_errors = 0
        self.peak_in_flight = self.in_flight


class Gate:
    """ASGI middleware: auth, then (for counted routes) traffic and faults, then ``app``."""

    def __init__(self, app: ASGIApp, tenant: Tenant, traffic: Traffic) -> None:
        self.app = app
        self.tenant = tenant
        self.traffic = traffic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or path in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        key = bearer_key(scope)
        if key is None:
            await send_error(send, 401, "Missing API key")
            return
        async with self.tenant.guard:
            valid = self.tenant.validate_api_key(key)
        if not valid:
            await send_error(send, 403, "Invalid API key")
            return
        if path in CONTROL_PATHS:
            await self.app(scope, receive, send)
            return
        self.traffic.begin()
        try:
            await self._with_faults(scope, receive, send)
        finally:
            self.traffic.end()

    async def _with_faults(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self.traffic.faults
        try:
            delay_ms = faults.latency_ms + requested_delay_ms(scope)
        except MaxError as err:
            await send_error(send, 400, err.message)
            return
        if delay_ms > 0:
            await trio.sleep(delay_ms / 1000)
        fault = self.traffic.draw_fault()
        if fault is Fault.RATE_LIMITED:
            retry_after = str(faults.retry_after_seconds).encode()
            await send_error(send, 429, "Rate limit exceeded", [(b"retry-after", retry_after)])
        elif fault is Fault.ERROR:
            await send_error(send, 500, "Injected failure")
        else:
            await self.app(scope, receive, send)


def bearer_key(scope: Scope) -> str | None:
    """The key of ``Authorization: Bearer <key>`` (case-sensitive scheme), else None."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            if value.startswith(_BEARER) and len(value) > len(_BEARER):
                return str(value[len(_BEARER) :].decode("latin-1"))
            return None
    return None


def requested_delay_ms(scope: Scope) -> float:
    """Extra latency asked for by this request (``?delay_ms=`` or ``X-Acme-Delay-Ms``)."""
    raw: str | None = None
    query = scope.get("query_string", b"")
    if b"delay_ms" in query:
        values = parse_qs(query.decode("latin-1")).get("delay_ms")
        raw = values[-1] if values else None
    if raw is None:
        for name, value in scope["headers"]:
            if name == DELAY_HEADER:
                raw = value.decode("latin-1")
    if raw is None or raw == "":
        return 0.0
    if not _INTEGER.fullmatch(raw) or not 0 <= int(raw) <= MAX_DELAY_MS:
        raise ErrInvalidInput(reason=f"delay_ms must be an integer between 0 and {MAX_DELAY_MS}")
    return float(raw)


def error_body(message: str) -> bytes:
    """``{"error": message}`` as compact JSON bytes: the body of every Acme error."""
    return json.dumps({"error": message}, separators=(",", ":")).encode()


async def send_error(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer with an error straight from ASGI (no framework objects)."""
    body = error_body(message)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"access-control-allow-origin", b"*"),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
