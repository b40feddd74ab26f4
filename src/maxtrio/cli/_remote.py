"""Remote targets: ``max -t max+http://HOST:PORT/<ws>[/<inst>] <command> …`` runs on that node.

A target (``-t``, or ``$MAX_TARGET``) that is a Max URL with a host other than ``@`` never
reaches local resolution: :func:`remote_call` recognises it before anything is parsed, and
:func:`forward` sends the command to the ``max serve`` there, over a WebSocket
(``trio-websocket``; ``max://`` = TLS, ``max+http://`` = plain), and replays what the command
writes as it is written — so ``search --all`` pages and ``sync`` progress arrive live. The
conversation is the workspace daemon's protocol, one JSON message per frame: ``run`` →
``write``…, ``sync-started``, ``response {exitCode}``; Ctrl-C sends ``cancel`` (a remote sync
stops as it does locally: interrupted, resumable), a second Ctrl-C hangs up.

What is sent: the arguments without the target options and ``--token-file``; ``--plan @FILE``
becomes the file's text (files are read here, never on the server); the installation and
workspace of the URL; which of this terminal's streams are terminals, and ``TERM``,
``COLUMNS``, ``LINES``, ``NO_COLOR``, ``FORCE_COLOR``. The token: ``--token-file F`` (read
here), else ``$MAX_TOKEN``; sent as ``Authorization: Bearer`` on the handshake, never shown.

Every failure is one line naming the URL (exit 1): ``Error: Unauthorized by <url> — …`` (no
or a wrong token), ``Error: Cannot reach <url> — connection refused``, ``Error: No answer
from <url> within 30s`` (``$MAX_REMOTE_TIMEOUT`` seconds, for the connection and its
handshake), ``Error: Lost the connection to <url> while running 'max search' — …`` (the
server died or the network went away; for a sync the hint is the resume command).
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ._invocation import current_cwd, current_environ
from ._output import Sink
from ._targeting import MissingTargetValue, preparse

if TYPE_CHECKING:
    from maxtrio.core import MaxUrl

#: The caller's variables a remote command sees (how to draw, nothing else).
SENT_ENV = ("TERM", "COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
MAX_MESSAGE_BYTES = 1 << 24


class RemoteCall:
    """One command for a remote node: the URL, the arguments to send, where the token is."""

    def __init__(self, url: MaxUrl, argv: list[str], token_file: str | None) -> None:
        self.url = url
        self.argv = argv
        self.token_file = token_file
        self.syncs: list[tuple[str, str]] = []  # (installation, sync id) as they started

    @property
    def command(self) -> str:
        return next((a for a in self.argv if not a.startswith("-")), "status")

    def websocket_url(self) -> str:
        scheme = "wss" if self.url.scheme == "max" else "ws"
        query = {
            key: value
            for key, value in (
                ("workspace", self.url.workspace),
                ("installation", self.url.installation),
            )
            if value is not None
        }
        return f"{scheme}://{self.url.host}/cli" + (f"?{urlencode(query)}" if query else "")

    def token(self) -> str | None:
        from ._cmd_connect_remote import read_token

        return read_token(self.token_file)


def remote_call(argv: Sequence[str]) -> RemoteCall | None:
    """The remote call ``argv`` asks for, or None when its target is local (or not a URL)."""
    try:
        options, _ = preparse(argv)
    except MissingTargetValue:
        return None
    value = options.effective_target()
    text = value.strip() if value is not None else ""
    from maxtrio.core import MaxUrl

    if not text.startswith(("max://", "max+http://")):
        return _federated_call(argv)

    url = MaxUrl.parse(text)
    if url.is_local:
        return None
    from max_launcher import forwarded_arguments

    forwarded = forwarded_arguments(argv, _read_local_file)
    assert forwarded is not None  # with a file reader, always an answer
    return RemoteCall(url, forwarded[0], forwarded[1])


def _federated_call(argv: Sequence[str]) -> RemoteCall | None:
    """A command for a remote installation of a local workspace (the remote deployer) —
    the launcher forwards those itself; this is for ``--direct`` and the like."""
    from max_launcher import federated_call, max_home
    from maxtrio.core import MaxUrl

    environ = current_environ()
    try:
        cwd = str(current_cwd())
    except OSError:  # the directory is gone: the command itself reports it
        return None
    call = federated_call(argv, cwd, environ, max_home(environ), _read_local_file)
    if call is None:
        return None
    return RemoteCall(MaxUrl.parse(call.url), call.argv, call.token_file)


def _read_local_file(path: str, option: str) -> str:
    from ._cmd_connect import read_option_file

    return read_option_file(path, option)


# -- the conversation ------------------------------------------------------------------------------


def _request(call: RemoteCall, environ: Mapping[str, str]) -> dict[str, Any]:
    env = {key: environ[key] for key in SENT_ENV if key in environ}
    if sys.stdout.isatty() or sys.stderr.isatty():
        size = shutil.get_terminal_size()
        env.setdefault("COLUMNS", str(size.columns))
        env.setdefault("LINES", str(size.lines))
    return {
        "kind": "run",
        "argv": call.argv,
        "cwd": "/",
        "env": env,
        "tty": {
            "stdin": _isatty(sys.stdin),
            "stdout": _isatty(sys.stdout),
            "stderr": _isatty(sys.stderr),
        },
    }


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


async def forward(call: RemoteCall) -> int:
    """Run ``call`` on its node; the exit code (failures raise the one-line errors)."""
    import trio
    import trio_websocket as tws

    from ._remote_errors import lost, rejected, timed_out, unreachable

    environ = current_environ()
    token = call.token()
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    from max_launcher import remote_timeout

    timeout = remote_timeout(environ)
    if call.url.scheme == "max":  # an untrusted certificate: say so now, not after a timeout
        await trio.to_thread.run_sync(_check_certificate, call, timeout)
    # trio-websocket's own connect timeout does not stop its reader task: a scope of ours,
    # lifted once the handshake is done, bounds connecting (a command may take its time)
    connecting = trio.CancelScope(deadline=trio.current_time() + timeout)
    try:
        with connecting:
            async with tws.open_websocket_url(
                call.websocket_url(),
                _tls_context() if call.url.scheme == "max" else None,
                extra_headers=headers,
                connect_timeout=timeout,
                disconnect_timeout=2.0,
                max_message_size=MAX_MESSAGE_BYTES,
            ) as websocket:
                connecting.deadline = math.inf
                return await _converse(websocket, call, environ)
    except tws.ConnectionRejected as refusal:
        status, body = refusal.status_code, refusal.body
        raise rejected(call, status, body, sent_token=token is not None) from None
    except tws.ConnectionTimeout:
        raise timed_out(call, timeout) from None
    except tws.DisconnectionTimeout:
        return EXIT_ERROR
    except tws.HandshakeError as failure:
        raise unreachable(call, failure.__cause__ or failure) from None
    except tws.ConnectionClosed as closed:
        raise lost(call, closed.reason) from None
    raise timed_out(call, timeout)


def _check_certificate(call: RemoteCall, timeout: float) -> None:
    """One TLS handshake with the server: ``cli.remote_certificate`` when the system does
    not trust its certificate (trio-websocket would only time out); anything else is left
    to the WebSocket connection to report."""
    import socket

    from max_launcher._http import split_host

    from ._remote_errors import timed_out, untrusted

    try:
        host, port = split_host(call.url.host, 443)
        with socket.create_connection((host, port), timeout=timeout) as plain:
            _tls_context().wrap_socket(plain, server_hostname=host).close()
    except TimeoutError:
        raise timed_out(call, timeout) from None
    except OSError as exc:
        verify = getattr(exc, "verify_message", None)
        if verify is not None:
            raise untrusted(call, str(verify)) from None
    except Exception:  # a malformed port and the like: the connection reports it
        return


def _tls_context() -> Any:
    import ssl

    return ssl.create_default_context()


async def _converse(websocket: Any, call: RemoteCall, environ: Mapping[str, str]) -> int:
    import signal

    import trio
    import trio_websocket as tws

    from ._remote_errors import lost

    await websocket.send_message(json.dumps(_request(call, environ)))
    out, err = Sink(sys.stdout), Sink(sys.stderr)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_relay_interrupts, signals, websocket)
            try:
                while True:
                    message = json.loads(await websocket.get_message())
                    code = await _handle(message, websocket, call, out, err)
                    if code is not None:
                        return code
            except tws.ConnectionClosed as closed:
                raise lost(call, closed.reason) from None
            finally:
                nursery.cancel_scope.cancel()


async def _handle(
    message: Any, websocket: Any, call: RemoteCall, out: Sink, err: Sink
) -> int | None:
    kind = message.get("kind") if isinstance(message, dict) else None
    if kind == "write":
        (err if message.get("stream") == "stderr" else out).write(str(message.get("text", "")))
    elif kind == "sync-started":
        call.syncs.append((str(message.get("installation")), str(message.get("sync"))))
    elif kind == "prompt":  # no command a server runs asks; answer "no more input"
        await websocket.send_message(json.dumps({"kind": "input", "value": None}))
    elif kind == "response":
        if message.get("stderr"):
            err.write(str(message["stderr"]))
        code = message.get("exitCode")
        return code if isinstance(code, int) else EXIT_ERROR
    return None


async def _relay_interrupts(signals: Any, websocket: Any) -> None:
    """First Ctrl-C: ask the server to stop the command; the second: hang up (exit 130)."""
    async for _ in signals:
        await websocket.send_message(json.dumps({"kind": "cancel"}))
        break
    async for _ in signals:
        raise KeyboardInterrupt
