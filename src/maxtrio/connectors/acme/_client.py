"""The connector's own Acme HTTP client: one ``httpx.AsyncClient`` per installation.

The client speaks the Acme wire API (spec acme-and-connectors §1.9): ``Authorization: Bearer
<token>`` on every call, JSON answers, ``{"error": ...}`` bodies on failure. It keeps one
connection pool (HTTP/1.1 keep-alive, ``POOL_SIZE`` connections — above the ``acme:api`` limit
of 50) for the life of the installation, decodes each body once, and turns every failure into
a ``connector-acme`` error (see ``_errors``): 429, 5xx, dropped connections and timeouts carry
the ``Retryable`` facet, everything else does not.

The transport is the seam: pass any ``httpx.AsyncBaseTransport`` (``httpx.MockTransport`` in a
unit test) and the rest of the connector is unchanged.

List calls send the optional pagination extension of the fake (``limit``/``cursor``, next page
in ``X-Next-Cursor``); a server without it ignores both and answers everything in one page.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import quote

import attrs
import httpx

from maxtrio.connector import ConnectionSlots
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

CONNECTOR: Final = "acme"
POOL_SIZE: Final = 64
DEFAULT_PAGE_SIZE: Final = 1000
"""Items asked for per list call (Acme answers up to 100,000; big pages mean few calls)."""
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=None)
MAX_CURSOR_LENGTH: Final = 256
_UPSTREAM_TEXT_LIMIT: Final = 160


@attrs.frozen
class AcmeResponse:
    """A decoded answer: the JSON ``data``, the ``request`` it answers (for messages) and, for
    list calls, the cursor of the next page when there is one."""

    data: Any
    request: str
    next_cursor: str | None = None


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
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.base_url = base_url[:-1] if base_url.endswith("/") else base_url
        self.page_size = page_size
        self._token = token
        headers = {"authorization": f"Bearer {token}", "accept": "application/json"}

        def make_client(limits: httpx.Limits, tls: ssl.SSLContext) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                base_url=self.base_url,
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
        self._http = ConnectionSlots(POOL_SIZE, make_client=make_client)

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
        data = self._decode(response, request)
        if type(data) is not list:
            raise bad_response(request, f"expected a JSON array, got {json_kind(data)}")
        next_cursor = self._next_cursor(response, request, cursor)
        return AcmeResponse(data, request, next_cursor)

    async def get(self, collection: str, entity_id: str) -> AcmeResponse:
        """One entity of ``/api/<collection>/<id>``; ``data`` is a JSON object."""
        path = f"/api/{collection}/{quote(entity_id, safe='')}"
        request = f"GET {path}"
        response = await self._get(path, None, request)
        data = self._decode(response, request)
        if type(data) is not dict:
            raise bad_response(request, f"expected a JSON object, got {json_kind(data)}")
        return AcmeResponse(data, request)

    # -- plumbing --------------------------------------------------------------------------------

    async def _get(
        self, path: str, params: Mapping[str, str] | None, request: str
    ) -> httpx.Response:
        try:
            response = await self._http.request("GET", path, params=params)
        except httpx.TimeoutException as exc:
            raise ErrTimeout(request=request, reason=_describe(exc), connector=CONNECTOR) from None
        except httpx.DecodingError as exc:
            raise bad_response(request, f"undecodable body ({_describe(exc)})") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise ErrConnectionFailed(
                request=request, reason=_describe(exc), connector=CONNECTOR
            ) from None
        except httpx.HTTPError as exc:
            raise ErrRequestFailed(
                request=request,
                status="no answer",
                upstream=f"({_describe(exc)})",
                connector=CONNECTOR,
            ) from None
        if not 200 <= response.status_code < 300:
            raise self._status_error(response, request)
        return response

    def _status_error(self, response: httpx.Response, request: str) -> MaxError:
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

    def _upstream_text(self, response: httpx.Response) -> str:
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

    def _decode(self, response: httpx.Response, request: str) -> Any:
        try:
            return json.loads(response.content)
        except ValueError:
            reason = "an HTML page instead of JSON" if _looks_like_html(response) else None
            raise bad_response(request, reason or "malformed JSON") from None

    def _next_cursor(
        self, response: httpx.Response, request: str, requested: str | None
    ) -> str | None:
        cursor: str | None = response.headers.get("x-next-cursor")
        if not cursor:
            return None
        if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isprintable():
            raise bad_response(request, "an unusable X-Next-Cursor header")
        if cursor == requested:
            raise bad_response(request, f"pagination did not advance (cursor {cursor!r} again)")
        return cursor


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date; None when absent or bad."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def _looks_like_html(response: httpx.Response) -> bool:
    if "html" in response.headers.get("content-type", ""):
        return True
    return response.content[:64].lstrip()[:1] == b"<"


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
