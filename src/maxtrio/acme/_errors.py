"""The ``acme`` error boundary: every error the fake raises, and its HTTP status.

The server turns an error into ``{"error": <message>}`` with the status of
:func:`http_status_of`: facet ``NotFound`` → 404, ``BadInput`` → 400, ``Conflict`` → 409,
``Gone`` → 410, anything else → 500. The HTTP client raises :data:`ErrRequestFailed` for any
non-2xx answer; its ``data["status"]`` carries the status, so :func:`http_status_of` works on
both sides.
"""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary, Facet, MaxError, NotFound

Acme = Boundary("acme")

Conflict = Facet("Conflict")
"""The request is well formed but the tenant's state does not allow it (HTTP 409)."""

Gone = Facet("Gone")
"""What was asked for existed once and is no longer kept (HTTP 410)."""

ErrEntityNotFound = Acme.define(
    "entity_not_found", facets=[NotFound], message='{label} "{id}" not found'
)
ErrInvalidInput = Acme.define("invalid_input", facets=[BadInput], message="{reason}")
ErrInvalidReference = Acme.define(
    "invalid_reference", facets=[BadInput], message='Invalid {field}: no {label} "{id}"'
)
ErrTenantNotFound = Acme.define(
    "tenant_not_found", facets=[NotFound], message='Tenant "{name}" not found at {path}'
)
ErrTenantExists = Acme.define(
    "tenant_exists", facets=[Conflict], message='Tenant "{name}" already exists at {path}'
)
ErrInvalidTenantName = Acme.define(
    "invalid_tenant_name",
    facets=[BadInput],
    message="Invalid tenant name {name!r}: use letters, digits, '-', '_' and '.' (not first)",
)
ErrNoProjectsToSeed = Acme.define(
    "no_projects_to_seed", facets=[Conflict], message="No existing projects to seed into"
)
ErrWorkspaceHasNoUsers = Acme.define(
    "workspace_has_no_users", facets=[Conflict], message="Workspace has no users"
)
ErrNothingToGenerate = Acme.define(
    "nothing_to_generate",
    facets=[Conflict],
    message="Seed data first — need at least one project and one user",
)
ErrCursorExpired = Acme.define(
    "cursor_expired",
    facets=[Gone],
    message="Cursor {cursor} is older than the retained changelog (oldest available: {oldest})",
)
"""``GET /api/changes?since=N`` with N below the compaction horizon (MAXTRIO extension)."""
ErrRequestFailed = Acme.define("request_failed", message="{method} {path}: {status} {body}")
"""A non-2xx answer seen by ``AcmeHttpClient``; ``data`` has ``status`` (and ``retryAfter``)."""


def http_status_of(error: MaxError) -> int:
    """The HTTP status that stands for ``error`` (server side) or came with it (client side)."""
    if ErrRequestFailed.matches(error) and isinstance(error.data.get("status"), int):
        return int(error.data["status"])
    if error.has(NotFound):
        return 404
    if error.has(BadInput):
        return 400
    if error.has(Conflict):
        return 409
    if error.has(Gone):
        return 410
    return 500
