"""The errors of ``max serve`` and of remote targets (domain ``remote``).

Server side: a token file that cannot be used, a workspace that cannot be served. Client side
(raised by the CLI's remote forwarding, which defines its own; see ``maxtrio.cli._remote``).
Messages never contain a token.
"""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary, NotAvailable, NotFound

RemoteBoundary = Boundary("remote")

ErrTokenFileUnusable = RemoteBoundary.define(
    "token_file_unusable",
    facets=[BadInput],
    message="Cannot use the token file {path} — {reason}",
)
ErrNotAWorkspace = RemoteBoundary.define(
    "not_a_workspace",
    facets=[NotFound],
    message="No Max workspace at {root} (max.json and .max/ are needed)",
)
ErrCannotListen = RemoteBoundary.define(
    "cannot_listen",
    facets=[NotAvailable],
    message="Cannot listen on {host}:{port} — {reason}",
)
ErrCommandNotAllowed = RemoteBoundary.define(
    "command_not_allowed",
    facets=[BadInput],
    message="Command not allowed: {command}. Allowed: {allowed}",
)
ErrMethodNotAllowed = RemoteBoundary.define(
    "method_not_allowed",
    facets=[BadInput],
    message="Method not allowed: {target}:{method}",
)
ErrWorkspaceNotServed = RemoteBoundary.define(
    "workspace_not_served",
    facets=[NotFound],
    message='Workspace "{workspace}" is not served here (this server serves "{served}")',
)
ErrArgvRefused = RemoteBoundary.define("argv_refused", facets=[BadInput], message="{reason}")
ErrCallCancelled = RemoteBoundary.define(
    "call_cancelled", facets=[NotAvailable], message="The call {id} was cancelled"
)
