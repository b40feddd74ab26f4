"""The one-line errors of remote targets (domain ``cli``): each names the URL, none shows a
token. Made by the remote forwarding (``_remote``) from what the connection reported."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from maxtrio.core import BadInput, MaxError, NotAvailable, quote_input
from maxtrio.federation import (
    REMOTE_TOKEN_HINT,
    REMOTE_UNREACHABLE_HINT,
    ErrRemoteNodeUnauthorized,
    ErrRemoteNodeUnreachable,
)

from ._errors import CliBoundary

if TYPE_CHECKING:
    from ._remote import RemoteCall

ErrRemoteRefused = CliBoundary.define(
    "remote_refused", facets=[BadInput], message="{url} refused the command — {reason}"
)
ErrRemoteTimeout = CliBoundary.define(
    "remote_timeout", facets=[NotAvailable], message="No answer from {url} within {seconds}s"
)
ErrRemoteCertificate = CliBoundary.define(
    "remote_certificate",
    facets=[NotAvailable],
    message="The certificate of {url} is not trusted — {reason}",
)
ErrRemoteLost = CliBoundary.define(
    "remote_lost",
    facets=[NotAvailable],
    message="Lost the connection to {url} while running 'max {command}' — {reason}",
)

#: Shared with the remote deployer (``maxtrio.federation``), which reaches the same servers.
ErrRemoteUnauthorized = ErrRemoteNodeUnauthorized
ErrRemoteUnreachable = ErrRemoteNodeUnreachable
TOKEN_HINT = REMOTE_TOKEN_HINT


def rejected(call: RemoteCall, status: int, body: bytes | None, *, sent_token: bool) -> MaxError:
    """The server said no to the handshake (401: the token; others: its JSON ``error``)."""
    url = str(call.url)
    if status == 401:
        reason = "the token was refused" if sent_token else "no token was sent"
        return ErrRemoteUnauthorized(url=url, reason=reason, hint=TOKEN_HINT)
    return ErrRemoteRefused(url=url, reason=f"HTTP {status}: {_error_text(body)}")


def _error_text(body: bytes | None) -> str:
    try:
        document = json.loads(body or b"")
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("error"), str):
        return quote_input(document["error"], 300)
    text = (body or b"").decode("utf-8", "replace").strip()
    return quote_input(text, 300) if text else "no reason given"


def _root_cause(error: BaseException) -> BaseException:
    """The first OSError with a reason (``connection refused``) under ``error``: trio reports
    a failed connect as "all attempts … failed" caused by a group of the attempts' errors."""
    pending = [error]
    while pending:
        current = pending.pop(0)
        if isinstance(current, OSError) and current.strerror:
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return error


def unreachable(call: RemoteCall, cause: BaseException) -> MaxError:
    cause = _root_cause(cause)
    if isinstance(cause, OSError) and cause.errno and cause.errno > 0:
        reason = os.strerror(cause.errno).lower()
    elif isinstance(cause, OSError) and cause.strerror:  # name resolution (socket.gaierror)
        reason = cause.strerror.lower()
    else:
        reason = str(cause) or type(cause).__name__
    return ErrRemoteUnreachable(
        url=str(call.url),
        reason=reason,
        hint=REMOTE_UNREACHABLE_HINT,
    )


def timed_out(call: RemoteCall, seconds: float) -> MaxError:
    return ErrRemoteTimeout(
        url=str(call.url),
        seconds=f"{seconds:g}",
        hint="the server is not answering; MAX_REMOTE_TIMEOUT sets how long to wait",
    )


def lost(call: RemoteCall, reason: object) -> MaxError:
    code = getattr(reason, "code", None)
    text = "the server closed the connection" if code in (None, 1006) else f"closed ({code})"
    if call.syncs:
        installation, sync_id = call.syncs[-1]
        url = call.url if call.url.installation else call.url.child(installation)
        hint = f"resume the sync with: max -t {url} sync --resume {sync_id}"
    else:
        hint = f"the command may not have finished there; check with: max -t {call.url} status"
    return ErrRemoteLost(url=str(call.url), command=call.command, reason=text, hint=hint)


def untrusted(call: RemoteCall, reason: str) -> MaxError:
    return ErrRemoteCertificate(
        url=str(call.url),
        reason=reason,
        hint="use a certificate the system trusts, or trust this one with SSL_CERT_FILE=cert.pem",
    )
