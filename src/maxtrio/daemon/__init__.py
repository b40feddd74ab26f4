"""maxtrio.daemon — the per-workspace daemon that serves ``max`` commands over a Unix socket.

==========================  ===================================================================
``WorkspaceDaemon``         one workspace's daemon: socket, PID file, warm ``GlobalMax``, one
                            nursery per connection, idle timeout, signals, staleness
``Connection``              one launcher connection: request, command, prompts, cancel
``run_request``             one request run with the CLI's command table, for its caller
protocol messages           ``Request`` / ``Input`` / ``Cancel`` ← launcher; ``Write`` /
                            ``Prompt`` / ``Response`` / ``Stale`` → launcher
``main``                    ``python -m maxtrio.daemon --root <workspace>``
==========================  ===================================================================

The client half is the standard-library launcher, ``max_launcher``. Importing this package is
cheap (``python -m maxtrio.daemon`` claims its socket before loading trio and the CLI); the
names below load on first use. See ``docs/daemon.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maxtrio._lazy import lazy_names

from ._main import main

if TYPE_CHECKING:
    from ._click_context import own_context_stack, use_task_local_contexts
    from ._connection import Connection, LineReader, Outbox
    from ._errors import (
        DaemonBoundary,
        ErrDaemonAlreadyRunning,
        ErrMalformedMessage,
        ErrMessageTooLarge,
        ErrUnexpectedMessage,
        ErrWorkspaceRootMissing,
    )
    from ._protocol import (
        MAX_LINE_BYTES,
        Cancel,
        Input,
        Prompt,
        Request,
        Response,
        Stale,
        Tty,
        Write,
        decode_client_line,
        encode_client_message,
        encode_daemon_message,
    )
    from ._runner import run_request
    from ._server import DEFAULT_IDLE_SECONDS, IDLE_ENV, WorkspaceDaemon, idle_seconds_from_env
    from ._stdio import CommandStreams, command_streams, routed_stdio

_LAZY = {
    "own_context_stack": "_click_context",
    "use_task_local_contexts": "_click_context",
    "Connection": "_connection",
    "LineReader": "_connection",
    "Outbox": "_connection",
    "DaemonBoundary": "_errors",
    "ErrDaemonAlreadyRunning": "_errors",
    "ErrMalformedMessage": "_errors",
    "ErrMessageTooLarge": "_errors",
    "ErrUnexpectedMessage": "_errors",
    "ErrWorkspaceRootMissing": "_errors",
    "MAX_LINE_BYTES": "_protocol",
    "Cancel": "_protocol",
    "Input": "_protocol",
    "Prompt": "_protocol",
    "Request": "_protocol",
    "Response": "_protocol",
    "Stale": "_protocol",
    "Tty": "_protocol",
    "Write": "_protocol",
    "decode_client_line": "_protocol",
    "encode_client_message": "_protocol",
    "encode_daemon_message": "_protocol",
    "run_request": "_runner",
    "DEFAULT_IDLE_SECONDS": "_server",
    "IDLE_ENV": "_server",
    "WorkspaceDaemon": "_server",
    "idle_seconds_from_env": "_server",
    "CommandStreams": "_stdio",
    "command_streams": "_stdio",
    "routed_stdio": "_stdio",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())


__all__ = [
    "DEFAULT_IDLE_SECONDS",
    "IDLE_ENV",
    "MAX_LINE_BYTES",
    "Cancel",
    "CommandStreams",
    "Connection",
    "DaemonBoundary",
    "ErrDaemonAlreadyRunning",
    "ErrMalformedMessage",
    "ErrMessageTooLarge",
    "ErrUnexpectedMessage",
    "ErrWorkspaceRootMissing",
    "Input",
    "LineReader",
    "Outbox",
    "Prompt",
    "Request",
    "Response",
    "Stale",
    "Tty",
    "WorkspaceDaemon",
    "Write",
    "command_streams",
    "decode_client_line",
    "encode_client_message",
    "encode_daemon_message",
    "idle_seconds_from_env",
    "main",
    "own_context_stack",
    "routed_stdio",
    "run_request",
    "use_task_local_contexts",
]
