"""An HTTP client for the flows API, for people and scripts (``max flows …``).

Thin on purpose: each method is one request and returns the decoded JSON body. A non-2xx
answer raises ``flows.api_error`` carrying the server's ``error`` message and status; a server
that cannot be reached raises ``flows.unreachable``. ``MAXQ_API_KEY``, when set, is sent as a
bearer token (never printed: errors carry the server's message, not the request).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx
import trio

from maxtrio.core import NotAvailable

from ._errors import Flows

ErrApi = Flows.define("api_error", message="{error} (HTTP {status})")
ErrUnreachable = Flows.define(
    "unreachable", facets=[NotAvailable], message="cannot reach the flows server at {url}: {reason}"
)

TERMINAL_RUN_STATUSES = ("completed", "failed", "paused")


def default_api_url(environ: Mapping[str, str] = os.environ) -> str:
    """``MAXQ_API_URL``, else ``http://localhost:<MAXQ_SERVER_PORT or 5003>/api/v1``."""
    explicit = environ.get("MAXQ_API_URL")
    if explicit:
        return explicit
    return f"http://localhost:{environ.get('MAXQ_SERVER_PORT') or 5003}/api/v1"


class FlowsClient:
    """Talks to one flows server; use as ``async with FlowsClient(url) as client``."""

    def __init__(self, api_url: str, *, api_key: str | None = None, timeout: float = 30.0) -> None:
        """``api_key`` defaults to ``MAXQ_API_KEY``; when there is one it is sent as
        ``Authorization: Bearer <key>`` (a server started with a key refuses requests
        without it)."""
        self.api_url = api_url.rstrip("/")
        key = api_key if api_key is not None else os.environ.get("MAXQ_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else None
        self._http = httpx.AsyncClient(base_url=self.api_url, headers=headers, timeout=timeout)

    async def __aenter__(self) -> FlowsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = await self._http.request(method, path, json=body, params=query or None)
        except httpx.HTTPError as exc:
            raise ErrUnreachable(url=self.api_url, reason=str(exc) or type(exc).__name__) from None
        try:
            decoded = response.json()
        except ValueError:
            decoded = None
        if response.is_success:
            return decoded
        error = decoded.get("error") if isinstance(decoded, dict) else None
        raise ErrApi(error=error or response.reason_phrase, status=response.status_code)

    async def create_run(self, flow_name: str, *, input: Any = None, metadata: Any = None) -> Any:
        body: dict[str, Any] = {"flowName": flow_name}
        if input is not None:
            body["input"] = input
        if metadata is not None:
            body["metadata"] = metadata
        return await self._call("POST", "/runs", body=body)

    async def get_run(self, run_id: str) -> Any:
        return await self._call("GET", f"/runs/{run_id}")

    async def list_runs(
        self,
        *,
        flow_name: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Any:
        params = {"flowName": flow_name, "status": status, "limit": limit, "offset": offset}
        return await self._call("GET", "/runs", params=params)

    async def fields(self, run_id: str) -> Any:
        return await self._call("GET", f"/runs/{run_id}/fields")

    async def logs(self, run_id: str, *, level: str | None = None, limit: int | None = None) -> Any:
        return await self._call(
            "GET", f"/runs/{run_id}/logs", params={"level": level, "limit": limit}
        )

    async def control(self, run_id: str, action: str) -> Any:
        """``abort``, ``pause``, ``resume`` or ``retry`` a run."""
        return await self._call("POST", f"/runs/{run_id}/{action}")

    async def retry_step(self, run_id: str, step_id: str, *, cascade: bool = True) -> Any:
        return await self._call(
            "POST", f"/runs/{run_id}/steps/{step_id}/retry", body={"cascadeDownstream": cascade}
        )

    async def wait_until_settled(self, run_id: str, *, poll_seconds: float = 0.2) -> Any:
        """Poll the run until it is ``completed``, ``failed`` or ``paused``; return it."""
        while True:
            run = await self.get_run(run_id)
            if run.get("status") in TERMINAL_RUN_STATUSES:
                return run
            await trio.sleep(poll_seconds)
