"""``AcmeHttpClient``: the Acme API over HTTP with httpx (works against the reference server too).

Sends ``Authorization: Bearer <key>`` on every call, list filters and cursors in the query
string, bodies as JSON. Any non-2xx answer raises :data:`~._errors.ErrRequestFailed` with the
message ``<METHOD> <path>: <status> <body>`` and ``data`` holding ``status`` (and ``retryAfter``
when the server sent ``Retry-After``). Transport failures (refused or dropped connections,
timeouts) propagate as ``httpx.TransportError`` so a caller can retry them. Answers are decoded
once with ``json.loads`` into the wire ``TypedDict``s.

Use it as an async context manager. By default it keeps up to ``max_connections`` keep-alive
connections in :class:`~._connections.ConnectionSlots` (one small httpx client per connection,
which at high concurrency costs far less CPU than one shared httpx pool); pass ``http=`` to use
an ``httpx.AsyncClient`` of your own instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlencode

import httpx

from maxtrio.connector import ConnectionSlots

from . import _model as m
from ._client import EntityMethods, ListPage, keep_asked_for
from ._errors import ErrRequestFailed
from ._schema import KINDS
from ._wire import camel, from_json, to_json

Params = Mapping[str, str | int]


class AcmeHttpClient(EntityMethods):
    """The :class:`~._client.AcmeClient` over HTTP."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        max_connections: int = 50,
    ) -> None:
        self.base_url = base_url[:-1] if base_url.endswith("/") else base_url
        self._headers = {"authorization": f"Bearer {api_key}"}
        self._http = http
        self._slots = ConnectionSlots(max_connections, timeout=timeout) if http is None else None

    async def __aenter__(self) -> AcmeHttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections this client opened (a given ``http`` client stays open)."""
        if self._slots is not None:
            await self._slots.aclose()

    # -- one request ----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request (``body`` as JSON, or raw ``content``); non-2xx raises."""
        target = f"{path}?{urlencode(params)}" if params else path
        if body is not None:
            content = json.dumps(body).encode()
        all_headers = {**self._headers, **headers} if headers else self._headers
        url = self.base_url + target
        if self._slots is not None:
            response = await self._slots.request(method, url, headers=all_headers, content=content)
        else:
            assert self._http is not None
            response = await self._http.request(method, url, headers=all_headers, content=content)
        if not 200 <= response.status_code < 300:
            data: dict[str, Any] = {
                "method": method,
                "path": target,
                "status": response.status_code,
                "body": response.text,
            }
            retry_after = response.headers.get("retry-after")
            if retry_after is not None:
                data["retryAfter"] = retry_after
            raise ErrRequestFailed.create(data)
        return response

    async def request_json(
        self, method: str, path: str, *, params: Params | None = None, body: Any = None
    ) -> Any:
        response = await self.request(method, path, params=params, body=body)
        return json.loads(response.content)

    # -- the five primitives ----------------------------------------------------------------------

    async def _list(self, collection: m.Collection, parent_id: str | None) -> list[Any]:
        path, params = _list_target(collection, parent_id)
        return cast(list[Any], await self.request_json("GET", path, params=params))

    async def _get(self, collection: m.Collection, entity_id: str) -> Any:
        return await self.request_json("GET", f"/api/{collection}/{entity_id}")

    async def _create(self, collection: m.Collection, entity: m.EntityInput) -> Any:
        return await self.request_json("POST", f"/api/{collection}", body=to_json(entity))

    async def _update(self, collection: m.Collection, entity_id: str, patch: m.EntityPatch) -> Any:
        return await self.request_json(
            "PATCH", f"/api/{collection}/{entity_id}", body=to_json(patch)
        )

    async def _delete(self, collection: m.Collection, entity_id: str) -> None:
        await self.request("DELETE", f"/api/{collection}/{entity_id}")

    # -- extensions: pages and batches ------------------------------------------------------------

    async def list_page(
        self,
        collection: m.Collection,
        *,
        parent_id: str | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> ListPage:
        """One page; no ``X-Next-Cursor`` (as from the reference server) means the last page."""
        path, params = _list_target(collection, parent_id)
        query: dict[str, str | int] = {**params, "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        response = await self.request("GET", path, params=query)
        return ListPage(json.loads(response.content), response.headers.get("x-next-cursor"))

    async def get_many(self, collection: m.Collection, ids: Sequence[str]) -> list[Any]:
        if not ids:
            return []
        items = await self.request_json("GET", f"/api/{collection}", params={"ids": ",".join(ids)})
        return keep_asked_for(items, ids)

    # -- changelog, history, webhooks -------------------------------------------------------------

    async def get_task_history(
        self, task_id: str, *, before: int | None = None, limit: int | None = None
    ) -> m.HistoryPage:
        params = _present(before=before, limit=limit)
        return cast(
            m.HistoryPage,
            await self.request_json("GET", f"/api/tasks/{task_id}/history", params=params),
        )

    async def get_changes(self, *, since: int = 0, limit: int | None = None) -> m.ChangesPage:
        params = _present(since=since, limit=limit)
        return cast(m.ChangesPage, await self.request_json("GET", "/api/changes", params=params))

    async def get_recent_changes(self, limit: int | None = None) -> list[m.ChangeEvent]:
        params = _present(limit=limit)
        return cast(
            list[m.ChangeEvent],
            await self.request_json("GET", "/api/changes/recent", params=params),
        )

    async def list_webhooks(self) -> list[m.WebhookRegistration]:
        return cast(list[m.WebhookRegistration], await self.request_json("GET", "/api/webhooks"))

    async def register_webhook(self, url: str) -> m.WebhookRegistration:
        return cast(
            m.WebhookRegistration,
            await self.request_json("POST", "/api/webhooks", body={"url": url}),
        )

    async def delete_webhook(self, webhook_id: str) -> None:
        await self.request("DELETE", f"/api/webhooks/{webhook_id}")

    # -- tenant administration (not on the AcmeClient protocol) -----------------------------------

    async def health(self) -> dict[str, str]:
        return cast(dict[str, str], await self.request_json("GET", "/api/health"))

    async def stats(self) -> m.TenantStats:
        return cast(m.TenantStats, await self.request_json("GET", "/api/stats"))

    async def seed(self, options: m.SeedOptions | None = None) -> m.SeedResult:
        body = to_json(options or m.SeedOptions())
        result = await self.request_json("POST", "/api/seed", body=body)
        return from_json(result, m.SeedResult)

    async def compact_changes(self, before: int) -> m.CompactionResult:
        """Drop changelog events below ``before``; older cursors then get 410 (extension)."""
        body = to_json(m.ChangelogCompaction(before=before))
        return cast(
            m.CompactionResult, await self.request_json("POST", "/api/changes/compact", body=body)
        )

    async def rotate_api_key(self) -> str:
        """Rotate the tenant's key; this client switches to the new one."""
        key = str((await self.request_json("POST", "/api/keys/rotate"))["apiKey"])
        self._headers = {"authorization": f"Bearer {key}"}
        return key

    async def start_generation(self, options: m.GenerationOptions | None = None) -> None:
        await self.request("POST", "/api/generate/start", body=to_json(options) if options else {})

    async def stop_generation(self) -> None:
        await self.request("POST", "/api/generate/stop")

    async def set_faults(self, faults: m.FaultInjection) -> None:
        await self.request("PUT", "/api/faults", body=to_json(faults))

    async def traffic(self) -> dict[str, int]:
        """The server's request statistics (``requests``, ``peakInFlight`` …)."""
        return cast(dict[str, int], await self.request_json("GET", "/api/traffic"))

    async def reset_traffic(self) -> None:
        await self.request("POST", "/api/traffic/reset")


def _list_target(collection: m.Collection, parent_id: str | None) -> tuple[str, dict[str, str]]:
    parent = KINDS[collection].parent
    if parent_id is None or parent is None:
        return f"/api/{collection}", {}
    return f"/api/{collection}", {camel(parent): parent_id}


def _present(**params: int | None) -> dict[str, int]:
    return {name: value for name, value in params.items() if value is not None}
