"""One remote command over ``POST /cli/stream`` (standard library only).

::

    connect (TLS for max://) ─► POST /cli/stream, chunked body left open ─► 200? ─► ready
        ─► the request as the first chunk ─► the daemon conversation (``_conversation``) ─► exit

The exchange (``_http.HttpStream``) looks like the daemon socket to
:class:`~max_launcher._conversation.Conversation` (``recv`` reads the chunked response,
``sendall`` writes one chunk of the request body), so a
remote command behaves as a local one: ``write`` text goes straight to our stdout/stderr,
``cancel`` on Ctrl-C, exit code from ``response``.

Connecting, the server's answer and its ``ready`` line are bounded by ``$MAX_REMOTE_TIMEOUT``
seconds (30); a running command may take as long as it takes. Every failure is one ``Error:``
line naming the URL (and a ``Hint:``), exit 1 — the same lines as the full CLI's:

* 401 → ``Unauthorized by <url> — no token was sent`` / ``the token was refused``;
* other refusals → ``<url> refused the command — HTTP <status>: <the server's error>``;
* ``Cannot reach <url> — connection refused`` (or the system's reason);
* ``The certificate of <url> is not trusted — <reason>``, at once (no timeout);
* ``No answer from <url> within 30s``;
* ``Lost the connection to <url> while running 'max <command>' — the server closed the
  connection`` (for a sync, the hint is the resume command).
"""

from __future__ import annotations

import sys

from ._conversation import ConnectionLost, after_ready, converse
from ._remote import RemoteCall, read_token, remote_timeout, request_for
from ._wire import MAX_LINE_BYTES, decode_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._http import HttpStream

EXIT_ERROR = 1
PATH = "/cli/stream"
TOKEN_HINT = (
    "set MAX_TOKEN or pass --token-file FILE with the server's token (its .max/serve-token, "
    "or what max serve -o json printed)"
)
UNREACHABLE_HINT = "check that max serve runs there and the host and port are right"
TIMEOUT_HINT = "the server is not answering; MAX_REMOTE_TIMEOUT sets how long to wait"
CERTIFICATE_HINT = (
    "use a certificate the system trusts, or trust this one with SSL_CERT_FILE=cert.pem"
)
_READ_BYTES = 1 << 16


class Fallback(Exception):
    """Something the full CLI does better (a server without ``/cli/stream``)."""


class Failed(Exception):
    """A one-line failure: the ``Error:`` message and its hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def run_remote(call: RemoteCall, cwd: str, environ: Mapping[str, str]) -> int:
    """Run ``call`` on its node; the exit code. Raises :class:`Fallback` for the full CLI."""
    try:
        token = read_token(call, cwd, environ)
    except (OSError, ValueError):
        raise Fallback() from None  # the CLI names the file and the reason
    timeout = remote_timeout(environ)
    try:
        exchange, received = open_exchange(call, token, timeout)
    except Failed as failure:
        return report(failure)
    try:
        return converse(exchange, request_for(call, environ), received)  # type: ignore[arg-type]
    except ConnectionLost as lost:
        return report(lost_failure(call, lost))


def open_exchange(call: RemoteCall, token: str | None, timeout: float) -> tuple[HttpStream, bytes]:
    """Connect, send the head, wait for 200 and ``ready``; what came after ``ready``."""
    from ._http import HttpStream, ProtocolError, open_socket, query_string

    headers = [("Content-Type", "application/x-ndjson")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    segments = (("workspace", call.workspace), ("installation", call.installation))
    path = PATH + query_string([(k, v) for k, v in segments if v is not None])
    stream: HttpStream | None = None
    try:
        stream = HttpStream(open_socket(call.host, call.scheme == "max", timeout))
        stream.send_head(path, call.host, headers)
        stream.read_head()
        if stream.status != 200:
            raise refused(call, stream.status, stream.read_all(MAX_LINE_BYTES), token is not None)
        return stream, _await_ready(call, stream)
    except BaseException as exc:
        if stream is not None:
            stream.close()
        if isinstance(exc, TimeoutError):
            raise Failed(f"No answer from {call.url} within {timeout:g}s", TIMEOUT_HINT) from None
        if isinstance(exc, ProtocolError):
            raise unreachable(call, f"the answer is not max serve's ({exc})") from None
        if isinstance(exc, OSError):
            raise os_failure(call, exc) from None
        raise


def _await_ready(call: RemoteCall, stream: HttpStream) -> bytes:
    received = b""
    while b"\n" not in received and len(received) <= MAX_LINE_BYTES:
        chunk = stream.recv(_READ_BYTES)
        if not chunk:
            raise unreachable(call, "the server closed the connection")
        received += chunk
    stream.settimeout(None)
    rest = after_ready(received)
    if rest is None:
        raise unreachable(call, "the answer is not max serve's")
    return rest


def refused(call: RemoteCall, status: int, body: bytes, sent_token: bool) -> Exception:
    """The server said no before running anything (401: the token; others: its error)."""
    if status == 401:
        reason = "the token was refused" if sent_token else "no token was sent"
        return Failed(f"Unauthorized by {call.url} — {reason}", TOKEN_HINT)
    error = _error_text(body)
    if status == 404 and error == "Not Found":
        return Fallback()  # a server from before /cli/stream: the CLI speaks its WebSocket
    return Failed(f"{call.url} refused the command — HTTP {status}: {error}")


def _error_text(body: bytes) -> str:
    try:
        document = decode_json(body)
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict) and isinstance(document.get("error"), str):
        return _shown(document["error"], 300)
    text = body.decode("utf-8", "replace").strip()
    return _shown(text, 300) if text else "no reason given"


def _shown(text: str, limit: int) -> str:
    """Printable and at most ``limit`` characters (the start, then ``…``)."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unreachable(call: RemoteCall, reason: str) -> Failed:
    return Failed(f"Cannot reach {call.url} — {reason}", UNREACHABLE_HINT)


def os_failure(call: RemoteCall, exc: OSError) -> Failed:
    import os

    verify = getattr(exc, "verify_message", None)
    if verify is not None:  # ssl.SSLCertVerificationError: say so now, not after a timeout
        return Failed(f"The certificate of {call.url} is not trusted — {verify}", CERTIFICATE_HINT)
    if exc.errno and exc.errno > 0:
        return unreachable(call, os.strerror(exc.errno).lower())
    if exc.strerror:  # name resolution (socket.gaierror)
        return unreachable(call, exc.strerror.lower())
    return unreachable(call, str(exc) or type(exc).__name__)


def lost_failure(call: RemoteCall, lost: ConnectionLost) -> Failed:
    message = (
        f"Lost the connection to {call.url} while running 'max {call.command}' — "
        "the server closed the connection"
    )
    if lost.syncs:
        last = lost.syncs[-1]
        url = call.child_url(str(last.get("installation")))
        return Failed(
            message, f"resume the sync with: max -t {url} sync --resume {last.get('sync')}"
        )
    hint = f"the command may not have finished there; check with: max -t {call.url} status"
    return Failed(message, hint)


def report(failure: Failed) -> int:
    lines = [f"Error: {failure.message}"]
    if failure.hint:
        lines.append(f"  Hint: {failure.hint}")
    if sys.stderr is not None:
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()
    return EXIT_ERROR
