"""``max serve``: one workspace over HTTP and WebSocket, until SIGINT or SIGTERM.

:func:`serve` is the server's whole life inside ``trio.run``:

1. read (or create) the token — before anything listens;
2. open the machine's ``GlobalMax`` and the workspace at the root (it must be registered:
   the error and its hint are the CLI's), warm the command path with a silent ``max ls``;
3. bind ``--host``:``--port`` (0: any free port), start hypercorn's trio worker with the app of
   ``_app`` (TLS when ``--certfile``/``--keyfile`` are given), print the one start line —
   with ``-o json`` exactly ``{"url": "max+http://HOST:PORT/<workspace>", "token": "…"}``;
4. on SIGINT/SIGTERM: stop accepting, ask each streamed command to stop as Ctrl-C does (a
   sync ends *interrupted*, resumable), cancel what is still running after
   :data:`GRACE_SECONDS`, close the workspace, return.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
from functools import partial
from pathlib import Path

import attrs
import hypercorn.config
import trio
from hypercorn.trio.run import worker_serve
from hypercorn.utils import wrap_app

from ._app import ServerState, build_app
from ._commands import ServedWorkspace, run_buffered
from ._errors import ErrCannotListen, ErrNotAWorkspace
from ._policy import Policy
from ._token import ServeToken, default_token_path, load_or_create_token
from ._ws_limits import TRANSPORT_MAX_MESSAGE_BYTES

log = logging.getLogger("maxtrio.remote")

GRACE_SECONDS = 5.0


@attrs.frozen
class ServeOptions:
    """The options of ``max serve``."""

    root: Path
    host: str = "127.0.0.1"
    port: int = 0
    read_only: bool = False
    token_file: Path | None = None
    output: str = "text"
    certfile: Path | None = None
    keyfile: Path | None = None

    @property
    def tls(self) -> bool:
        return self.certfile is not None


@attrs.frozen
class Started:
    """A running server: its Max URL (with the workspace) and the token file."""

    url: str
    token_path: Path


def server_url(tls: bool, host: str, port: int, workspace: str) -> str:
    """``max+http://HOST:PORT/<workspace>`` (``max://`` with TLS; IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"{'max' if tls else 'max+http'}://{shown}:{port}/{workspace}"


async def serve(
    options: ServeOptions, *, task_status: trio.TaskStatus[Started] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serve ``options.root`` until SIGINT/SIGTERM (or cancellation)."""
    from maxtrio.cli import open_global
    from maxtrio.federation import WorkspaceDispatcher

    root = options.root
    if not ((root / "max.json").exists() and (root / ".max").is_dir()):
        raise ErrNotAWorkspace(root=str(root))
    token = load_or_create_token(options.token_file or default_token_path(root))
    async with open_global() as global_max:
        resolved = await global_max.resolve(global_max.cwd_context(root), cwd=root)
        live = resolved.workspace
        assert live is not None
        workspace = ServedWorkspace(live)
        await run_buffered(["ls"], cwd=workspace.root, global_max=global_max)  # warm up
        state = ServerState(
            workspace=workspace,
            global_max=global_max,
            dispatcher=WorkspaceDispatcher(live),
            policy=Policy(read_only=options.read_only),
        )
        config = _hypercorn_config(options)
        listener = _listen(options.host, options.port, config.backlog)
        secure, insecure = ([listener], []) if options.tls else ([], [listener])
        sockets = hypercorn.config.Sockets(
            secure_sockets=secure, insecure_sockets=insecure, quic_sockets=[]
        )
        stopping = trio.Event()
        app = wrap_app(build_app(state, token), config.wsgi_max_body_size, "asgi")  # type: ignore[arg-type]
        with listener:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_watch_signals, stopping, state)
                await nursery.start(
                    partial(
                        worker_serve, app, config, sockets=sockets, shutdown_trigger=stopping.wait
                    )
                )
                port = int(listener.getsockname()[1])
                url = server_url(options.tls, options.host, port, workspace.name)
                _announce(options, url, token)
                task_status.started(Started(url, token.path))
                await stopping.wait()
                # hypercorn stops accepting and gives requests its graceful timeout
                nursery.cancel_scope.deadline = trio.current_time() + GRACE_SECONDS + 1
    log.info("stopped")


async def _watch_signals(stopping: trio.Event, state: ServerState) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for number in signals:
            if stopping.is_set():
                continue
            log.info("stopping (%s)", signal.Signals(number).name)
            for connection in list(state.connections):
                connection.interrupt()
            stopping.set()


def _announce(options: ServeOptions, url: str, token: ServeToken) -> None:
    if options.output == "json":
        line = json.dumps({"url": url, "token": token.reveal()})
    else:
        mode = " (read-only)" if options.read_only else ""
        line = f"Serving {url}{mode} — token in {token.path}; Ctrl-C stops"
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _hypercorn_config(options: ServeOptions) -> hypercorn.config.Config:
    config = hypercorn.config.Config()
    config.accesslog = None
    config.loglevel = "WARNING"
    config.graceful_timeout = GRACE_SECONDS
    config.websocket_max_message_size = TRANSPORT_MAX_MESSAGE_BYTES
    config.keep_alive_timeout = 30
    if options.certfile is not None:
        config.certfile = str(options.certfile)
        config.keyfile = str(options.keyfile) if options.keyfile is not None else None
    return config


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.create_server(address[:2], family=family, backlog=backlog)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ErrCannotListen(host=host, port=port, reason=reason) from None
    listener.setblocking(False)
    return listener
