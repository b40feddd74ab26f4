"""The daemon's errors (domain ``daemon``): what goes wrong on its socket or at its start.

A client that breaks the protocol gets one of these as a one-line ``response`` (exit code 2)
and its connection ends; the daemon itself carries on.
"""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary, NotAvailable

DaemonBoundary = Boundary("daemon")

ErrMalformedMessage = DaemonBoundary.define(
    "malformed_message",
    facets=[BadInput],
    message="Malformed message on the daemon socket — {reason}",
)
ErrMessageTooLarge = DaemonBoundary.define(
    "message_too_large",
    facets=[BadInput],
    message="Message on the daemon socket is longer than {limit} bytes",
)
ErrUnexpectedMessage = DaemonBoundary.define(
    "unexpected_message",
    facets=[BadInput],
    message='Unexpected "{kind}" message on the daemon socket — {reason}',
)
ErrWorkspaceRootMissing = DaemonBoundary.define(
    "workspace_root_missing",
    facets=[NotAvailable],
    message="No Max workspace at {root} (max.json and .max/ are needed)",
)
ErrDaemonAlreadyRunning = DaemonBoundary.define(
    "already_running",
    facets=[NotAvailable],
    message="A daemon already serves {root}",
)
