"""The connector's own Acme HTTP client: one connection pool per installation.

The client speaks the Acme wire API: ``Authorization: Bearer
<token>`` on every call, JSON answers, ``{"error": ...}`` bodies on failure. It keeps one
connection pool (HTTP/1.1 keep-alive, ``POOL_SIZE`` connections — above the ``acme:api`` limit
of 50) for the life of the installation, decodes each body once, and turns every failure into
a ``connector-acme`` error (see ``_errors``): 429, 5xx, dropped connections and timeouts carry
the ``Retryable`` facet, everything else does not.

The pool is the connector SDK's :class:`~maxtrio.connector.Http1Pool`: a sync's list calls
are its hot path, and httpx costs about ten times its CPU per request and ~0.1 s to import and
set up (a cost ``max ls`` paid for each installation's health check). The transport is the
seam: pass any ``httpx.AsyncBaseTransport`` (``httpx.MockTransport`` in a unit test, an
in-process app in a benchmark) and the calls go through httpx instead, the rest of the
connector unchanged.

List calls send the optional pagination extension of the fake (``limit``/``cursor``, next page
in ``X-Next-Cursor``); a server without it ignores both and answers everything in one page.
Batch gets (``?ids=a,b``, another extension) keep to :data:`MAX_BATCH_IDS` ids and a query of
:data:`MAX_BATCH_QUERY` characters (:func:`id_batches` cuts a list of ids to fit); the change
log is read with ``/api/changes`` and ``/api/changes/recent``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import attrs

from maxtrio.connector import (
    Http1Pool,
    HttpConnectError,
    HttpDecodingError,
    HttpError,
    HttpProtocolError,
    HttpTimeout,
    HttpTimeouts,
    decode_json,
)
from maxtrio.core import MaxError, json_kind

from ._errors import (
    ErrConnectionFailed,
    ErrForbidden,
    ErrNotFound,
    ErrRateLimited,
    ErrRequestFailed,
    ErrTimeout,
    ErrUnauthorized,
    ErrUpstreamError,
    bad_response,
)

if TYPE_CHECKING:
    import httpx

CONNECTOR: Final = "acme"
POOL_SIZE: Final = 64
DEFAULT_PAGE_SIZE: Final = 1000
"""Items asked for per list call (Acme answers up to 100,000; big pages mean few calls)."""
DEFAULT_TIMEOUT: Final = HttpTimeouts(connect=10.0, read=60.0, write=30.0)
MAX_CURSOR_LENGTH: Final = 256
MAX_BATCH_IDS: Final = 1000
"""Ids per batch get (the fake's ``MAX_IDS``)."""
MAX_BATCH_QUERY: Final = 8000
"""Characters of a batch get's ``ids=`` query: servers and proxies refuse URLs past ~8 KB."""
_UPSTREAM_TEXT_LIMIT: Final = 160


@attrs.frozen
class AcmeResponse:
    """A decoded answer: the JSON ``data``, the ``request`` it answers (for messages), for
    list calls the cursor of the next page when there is one, and for the change log the
    newest sequence the server reports (``head``)."""

    data: Any
    request: str
    next_cursor: str | None = None
    head: int | None = None


class AcmeApiClient:
    """``GET`` the Acme API. Use as ``async with AcmeApiClient(url, token) as client:`` or call
    :meth:`aclose`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        timeout: Any = DEFAULT_TIMEOUT,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.base_url = base_url[:-1] if base_url.endswith("/") else base_url
        self.page_size = page_size
        self._token = token
        headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
        self._http: Any
        if transport is None:
            self._http = Http1Pool(self.base_url, size=POOL_SIZE, headers=headers, timeout=timeout)
        else:
            self._http = _httpx_slots(self.base_url, headers, transport, timeout)

    def __repr__(self) -> str:
        return f"AcmeApiClient({self.base_url!r})"

    async def __aenter__(self) -> AcmeApiClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the calls -------------------------------------------------------------------------------

    async def list(
        self,
        collection: str,
        *,
        filters: Mapping[str, str] | None = None,
        cursor: str | None = None,
    ) -> AcmeResponse:
        """One page of ``/api/<collection>`` (optionally filtered); ``data`` is a JSON array."""
        params = dict(filters or {})
        params["limit"] = str(self.page_size)
        if cursor:
            params["cursor"] = cursor
        path = f"/api/{collection}"
        shown = "&".join(f"{k}={v}" for k, v in (filters or {}).items())
        request = f"GET {path}?{shown}" if shown else f"GET {path}"
        response = await self._get(path, params, request)
        data = self._decode_as(response, request, list)
        next_cursor = self._next_cursor(response, request, cursor)
        return AcmeResponse(data, request, next_cursor)

    async def get(self, collection: str, entity_id: str) -> AcmeResponse:
        """One entity of ``/api/<collection>/<id>``; ``data`` is a JSON object."""
        path = f"/api/{collection}/{quote(entity_id, safe='')}"
        return await self._json(path, None, f"GET {path}", dict)

    async def get_many(self, collection: str, ids: Sequence[str]) -> AcmeResponse:
        """The live entities of ``ids`` (``/api/<collection>?ids=a,b``); ``data`` is a JSON array.

        One call, no ``limit``: ``ids`` must fit one batch (see :func:`id_batches`). A server
        without the extension answers the whole collection; callers keep only what they asked
        for. ``request`` counts the ids instead of listing them.
        """
        path = f"/api/{collection}"
        query = f"{path}?ids={_ids_query(ids)}"
        return await self._json(query, None, f"GET {path}?ids=<{len(ids)} ids>", list)

    async def changes(self, since: int, limit: int) -> AcmeResponse:
        """A page of ``/api/changes?since=&limit=``; ``data`` is ``{"events", "nextCursor"}``."""
        params = {"since": str(since), "limit": str(limit)}
        request = f"GET /api/changes?since={since}&limit={limit}"
        return await self._json("/api/changes", params, request, dict)

    async def recent_changes(self, limit: int) -> AcmeResponse:
        """The newest ``limit`` change events, newest first; ``data`` is a JSON array.

        ``head`` is the ``X-Changelog-Head`` header when the server sends it (our fake does: the
        newest sequence ever handed out, also after compaction emptied the log), else None."""
        request = f"GET /api/changes/recent?limit={limit}"
        response = await self._get("/api/changes/recent", {"limit": str(limit)}, request)
        data = self._decode_as(response, request, list)
        raw = response.headers.get("x-changelog-head")
        head = int(raw) if raw is not None and raw.isascii() and raw.isdigit() else None
        return AcmeResponse(data, request, head=head)

    # -- plumbing --------------------------------------------------------------------------------

    async def _json(
        self, path: str, params: Mapping[str, str] | None, request: str, expected: type
    ) -> AcmeResponse:
        """GET ``path``; the body must decode to ``expected`` (``dict`` or ``list``)."""
        response = await self._get(path, params, request)
        return AcmeResponse(self._decode_as(response, request, expected), request)

    async def _get(self, path: str, params: Mapping[str, str] | None, request: str) -> Any:
        try:
            response = await self._http.request("GET", path, params=params)
        except Exception as exc:
            failure = _transport_failure(exc, request)
            if failure is None:
                raise
            raise failure from None
        if not 200 <= response.status_code < 300:
            raise self._status_error(response, request)
        return response

    def _status_error(self, response: Any, request: str) -> MaxError:
        status = response.status_code
        upstream = self._upstream_text(response)
        data: dict[str, Any] = {
            "request": request,
            "status": status,
            "upstream": upstream,
            "connector": CONNECTOR,
        }
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            detail = f", retry after {retry_after:g} s" if retry_after is not None else ""
            return ErrRateLimited(retryAfter=retry_after, detail=detail, **data)
        if status >= 500:
            return ErrUpstreamError(**data)
        if status == 401:
            return ErrUnauthorized(**data)
        if status == 403:
            return ErrForbidden(**data)
        if status == 404:
            return ErrNotFound(**data)
        return ErrRequestFailed(**data)

    def _upstream_text(self, response: Any) -> str:
        """The server's own words, short and on one line: ``{"error": ...}`` or the body text."""
        content = response.content
        text: str | None = None
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            text = body["error"]
        elif _looks_like_html(response):
            text = "(an HTML page)"
        else:
            text = content[:_UPSTREAM_TEXT_LIMIT].decode("utf-8", "replace")
        text = " ".join(text.split())
        if self._token:
            text = text.replace(self._token, "<redacted>")
        if len(text) > _UPSTREAM_TEXT_LIMIT:
            text = text[: _UPSTREAM_TEXT_LIMIT - 1] + "…"
        return text or response.reason_phrase or "(no body)"

    def _decode_as(self, response: Any, request: str, expected: type) -> Any:
        try:
            data = decode_json(response.content)
        except ValueError:
            reason = "an HTML page instead of JSON" if _looks_like_html(response) else None
            raise bad_response(request, reason or "malformed JSON") from None
        if type(data) is not expected:
            name = "object" if expected is dict else "array"
            raise bad_response(request, f"expected a JSON {name}, got {json_kind(data)}")
        return data

    def _next_cursor(self, response: Any, request: str, requested: str | None) -> str | None:
        cursor: str | None = response.headers.get("x-next-cursor")
        if not cursor:
            return None
        if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isprintable():
            raise bad_response(request, "an unusable X-Next-Cursor header")
        if cursor == requested:
            raise bad_response(request, f"pagination did not advance (cursor {cursor!r} again)")
        return cursor


def _httpx_slots(
    base_url: str, headers: dict[str, str], transport: httpx.AsyncBaseTransport, timeout: Any
) -> Any:
    """httpx clients over ``transport`` (the seam for tests and in-process benchmarks)."""
    import ssl

    import httpx

    from maxtrio.connector import ConnectionSlots

    if isinstance(timeout, HttpTimeouts):
        timeout = httpx.Timeout(
            connect=timeout.connect, read=timeout.read, write=timeout.write, pool=None
        )

    def make_client(limits: httpx.Limits, tls: ssl.SSLContext) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            transport=transport,
            limits=limits,
            timeout=timeout,
            verify=tls,
            follow_redirects=False,
            trust_env=False,
        )

    # One small client per connection: httpx's shared pool spends more CPU on bookkeeping
    # than on the data at fifty concurrent requests (see ConnectionSlots).
    return ConnectionSlots(POOL_SIZE, make_client=make_client)


def _transport_failure(exc: Exception, request: str) -> MaxError | None:
    """The connector error of a request that got no answer (None: not a transport failure).
    Both pools' failures: :class:`~maxtrio.connector.Http1Pool`'s and httpx's."""
    reason = _describe(exc)
    if isinstance(exc, HttpError):
        if isinstance(exc, HttpTimeout):
            return ErrTimeout(request=request, reason=reason, connector=CONNECTOR)
        if isinstance(exc, HttpDecodingError):
            return bad_response(request, f"undecodable body ({reason})")
        if isinstance(exc, HttpConnectError | HttpProtocolError):
            return ErrConnectionFailed(request=request, reason=reason, connector=CONNECTOR)
    import sys

    httpx = sys.modules.get("httpx")  # only the transport seam raises its errors
    if httpx is None or not isinstance(exc, httpx.HTTPError):
        return None
    if isinstance(exc, httpx.TimeoutException):
        return ErrTimeout(request=request, reason=reason, connector=CONNECTOR)
    if isinstance(exc, httpx.DecodingError):
        return bad_response(request, f"undecodable body ({reason})")
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
        return ErrConnectionFailed(request=request, reason=reason, connector=CONNECTOR)
    return ErrRequestFailed(
        request=request, status="no answer", upstream=f"({reason})", connector=CONNECTOR
    )


def _ids_query(ids: Sequence[str]) -> str:
    return ",".join(quote(entity_id, safe="") for entity_id in ids)


def id_batches(ids: Sequence[str]) -> list[list[str]]:
    """``ids`` cut into batch gets: at most :data:`MAX_BATCH_IDS` ids and a query of at most
    :data:`MAX_BATCH_QUERY` characters each (an id longer than that still gets a batch of its
    own). Ids holding a comma cannot be asked for by ``?ids=`` (the server splits on it):
    callers get those one by one."""
    batches: list[list[str]] = []
    batch: list[str] = []
    size = 0
    for entity_id in ids:
        cost = len(quote(entity_id, safe="")) + 1
        if batch and (len(batch) == MAX_BATCH_IDS or size + cost > MAX_BATCH_QUERY):
            batches.append(batch)
            batch, size = [], 0
        batch.append(entity_id)
        size += cost
    if batch:
        batches.append(batch)
    return batches


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date; None when absent or bad."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def _looks_like_html(response: Any) -> bool:
    if "html" in response.headers.get("content-type", ""):
        return True
    return bool(response.content[:64].lstrip()[:1] == b"<")


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
