"""API-key authentication: ``MAXQ_API_KEY`` is enforced when set.

With a key configured, every request except ``GET /health`` (the readiness probe harnesses
poll before they have anything to authenticate with) must carry ``Authorization: Bearer
<credential>``; anything else answers ``401`` with the API's usual ``{"error": ...}`` body.
Two credentials are accepted, both compared in constant time:

* the key itself — what operators and ``max flows …`` (reading ``MAXQ_API_KEY``) send;
* a **run token**, ``HMAC-SHA256(key, run id)`` in hex, valid only for paths under
  ``/api/v1/runs/<that run id>``. Flow and step scripts get it as ``MAXQ_API_TOKEN``, never the
  key itself (``MAXQ_API_KEY`` is removed from their environment), so a script — or anything
  that reads a script's environment or command line — can only touch its own run.

Without a key nothing is checked and an ``Authorization`` header is ignored, as in the
reference. The key is never logged: :class:`ApiKey` hides it from ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = frozenset({"/health", "/health/"})
RUNS_PREFIX = ("", "api", "v1", "runs")
UNAUTHORIZED = "Unauthorized: send Authorization: Bearer <MAXQ_API_KEY>"


class ApiKey:
    """The configured key; knows the run tokens it issues and which credentials it accepts."""

    def __init__(self, value: str) -> None:
        self._value = value.encode("utf-8")

    def __repr__(self) -> str:
        return "ApiKey(<hidden>)"

    def run_token(self, run_id: str) -> str:
        """The credential of the scripts of ``run_id`` (``MAXQ_API_TOKEN``)."""
        return hmac.new(self._value, run_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def authorizes(self, authorization: str | None, path: str) -> bool:
        """True iff the ``Authorization`` header value grants access to ``path``."""
        if authorization is None:
            return False
        scheme, _, credential = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        given = credential.strip().encode("utf-8")
        if hmac.compare_digest(given, self._value):
            return True
        run_id = _run_id_of(path)
        return run_id is not None and hmac.compare_digest(
            given, self.run_token(run_id).encode("ascii")
        )


def _run_id_of(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) < 5 or tuple(parts[:4]) != RUNS_PREFIX or not parts[4]:
        return None
    return parts[4]


class RequireApiKey:
    """ASGI middleware: 401 for HTTP requests ``key`` does not authorize (see module doc)."""

    def __init__(self, app: ASGIApp, key: ApiKey) -> None:
        self.app = app
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            authorization = _header(scope, b"authorization")
            if not self.key.authorizes(authorization, scope["path"]):
                response = JSONResponse(
                    {"error": UNAUTHORIZED},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None
