"""maxtrio.remote — ``max serve``: one workspace served over HTTP and WebSocket.

=====================  ======================================================================
``serve``              the server's life: token, warm workspace, hypercorn on trio, signals
``ServeOptions``       ``--host``, ``--port``, ``--read-only``, ``--token-file``, ``-o``, TLS
``build_app``          the ASGI app: ``GET /health``, ``POST /cli``, ``POST /cli/stream``,
                       ``WS /cli``, ``POST /rpc``, ``WS /rpc`` (``RpcSocket``)
``Policy``             what a remote caller may run (read-only or full)
``ServeToken``         the bearer token (constant-time check, never shown)
``main``               ``python -m maxtrio.remote --root <workspace> …`` (``max serve`` execs it)
=====================  ======================================================================

The package sits above ``maxtrio.daemon`` in the layers: it runs the CLI's command table for
remote callers exactly as the workspace daemon runs it for local ones (its per-command
standard streams and connection handling are reused). The client half — ``max -t
max+http://…`` — is in ``maxtrio.cli`` (``_remote``). Names load on first use. See
``docs/remote.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maxtrio._lazy import lazy_names

from ._main import main

if TYPE_CHECKING:
    from ._app import ServerState, TokenGate, build_app
    from ._commands import ServedWorkspace, StreamingHost, WebSocketStream, run_buffered
    from ._errors import (
        ErrArgvRefused,
        ErrCallCancelled,
        ErrCannotListen,
        ErrCommandNotAllowed,
        ErrMethodNotAllowed,
        ErrNotAWorkspace,
        ErrTokenFileUnusable,
        ErrWorkspaceNotServed,
        RemoteBoundary,
    )
    from ._policy import FULL_COMMANDS, READ_COMMANDS, READ_METHODS, Policy
    from ._rpc_socket import RpcSocket
    from ._server import ServeOptions, Started, serve, server_url
    from ._token import ServeToken, default_token_path, load_or_create_token

_LAZY = {
    "ServerState": "_app",
    "TokenGate": "_app",
    "build_app": "_app",
    "ServedWorkspace": "_commands",
    "StreamingHost": "_commands",
    "WebSocketStream": "_commands",
    "run_buffered": "_commands",
    "ErrArgvRefused": "_errors",
    "ErrCallCancelled": "_errors",
    "ErrCannotListen": "_errors",
    "RpcSocket": "_rpc_socket",
    "ErrCommandNotAllowed": "_errors",
    "ErrMethodNotAllowed": "_errors",
    "ErrNotAWorkspace": "_errors",
    "ErrTokenFileUnusable": "_errors",
    "ErrWorkspaceNotServed": "_errors",
    "RemoteBoundary": "_errors",
    "FULL_COMMANDS": "_policy",
    "READ_COMMANDS": "_policy",
    "READ_METHODS": "_policy",
    "Policy": "_policy",
    "ServeOptions": "_server",
    "Started": "_server",
    "serve": "_server",
    "server_url": "_server",
    "ServeToken": "_token",
    "default_token_path": "_token",
    "load_or_create_token": "_token",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())


__all__ = [
    "FULL_COMMANDS",
    "READ_COMMANDS",
    "READ_METHODS",
    "ErrArgvRefused",
    "ErrCallCancelled",
    "ErrCannotListen",
    "ErrCommandNotAllowed",
    "ErrMethodNotAllowed",
    "ErrNotAWorkspace",
    "ErrTokenFileUnusable",
    "ErrWorkspaceNotServed",
    "Policy",
    "RemoteBoundary",
    "RpcSocket",
    "ServeOptions",
    "ServeToken",
    "ServedWorkspace",
    "ServerState",
    "Started",
    "StreamingHost",
    "TokenGate",
    "WebSocketStream",
    "build_app",
    "default_token_path",
    "load_or_create_token",
    "main",
    "run_buffered",
    "serve",
    "server_url",
]
