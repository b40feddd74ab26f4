"""The ``connector-acme`` boundary: what can go wrong between the connector and an Acme API.

=========================  ===========  ===================================================
code                       Retryable    when
=========================  ===========  ===================================================
``rate_limited``           yes          429; ``data["retryAfter"]`` = seconds or None
``upstream_error``         yes          5xx
``connection_failed``      yes          connection refused, dropped, reset mid-answer
``timeout``                yes          no answer in time
``unauthorized``           no           401 (no or malformed key)
``forbidden``              no           403 (key rejected)
``not_found``              no           404 (e.g. an entity deleted upstream)
``request_failed``         no           any other unexpected status
``bad_response``           no           malformed JSON, an HTML page, missing fields, wrong types
``invalid_config``         no           a bad ``baseUrl``/``workspaceId``
``client_not_started``     no           the connection was used before ``start()``
=========================  ===========  ===================================================

Messages are one line and name the request (``GET /api/users/usr_…``), never the token.
"""

from __future__ import annotations

from maxtrio.core import (
    BadInput,
    Boundary,
    HasConnector,
    MaxError,
    NotAvailable,
    NotFound,
    Retryable,
)

AcmeConnectorBoundary = Boundary("connector-acme")
_define = AcmeConnectorBoundary.define

ErrRateLimited = _define(
    "rate_limited",
    facets=[Retryable, HasConnector],
    message="Acme rate-limited {request} (429{detail})",
)
ErrUpstreamError = _define(
    "upstream_error",
    facets=[Retryable, HasConnector],
    message="Acme failed to answer {request}: {status} {upstream}",
)
ErrConnectionFailed = _define(
    "connection_failed",
    facets=[Retryable, HasConnector],
    message="Could not reach Acme for {request}: {reason}",
)
ErrTimeout = _define(
    "timeout",
    facets=[Retryable, HasConnector],
    message="Acme did not answer {request} in time ({reason})",
)
ErrUnauthorized = _define(
    "unauthorized",
    facets=[BadInput, HasConnector],
    message="Acme refused {request}: 401 {upstream} (check the api_token credential)",
)
ErrForbidden = _define(
    "forbidden",
    facets=[BadInput, HasConnector],
    message="Acme rejected the API token for {request}: 403 {upstream}",
)
ErrNotFound = _define(
    "not_found",
    facets=[NotFound, HasConnector],
    message="Acme has no {request}: 404 {upstream}",
)
ErrRequestFailed = _define(
    "request_failed",
    facets=[HasConnector],
    message="Acme answered {request} with {status} {upstream}",
)
ErrBadResponse = _define(
    "bad_response",
    facets=[HasConnector],
    message="Acme sent a bad response to {request}: {reason}",
)
ErrInvalidConfig = _define(
    "invalid_config",
    facets=[BadInput, HasConnector],
    message="Invalid Acme config: {reason}",
)
ErrClientNotStarted = _define(
    "client_not_started",
    facets=[NotAvailable, HasConnector],
    message="AcmeConnection not started - call start() first",
)


def bad_response(request: str, reason: str) -> MaxError:
    """``connector-acme.bad_response`` for ``request`` (e.g. ``GET /api/tasks?projectId=…``)."""
    return ErrBadResponse(request=request, reason=reason, connector="acme")
