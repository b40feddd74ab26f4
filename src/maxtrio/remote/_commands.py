"""Running ``max`` commands for a remote caller, in the server's process.

The commands are the CLI's own command table (``maxtrio.cli.run_args``), run exactly as the
workspace daemon runs them (``maxtrio.daemon``): an :class:`~maxtrio.cli.Invocation` (the
workspace root as the directory, an environment of the server's choosing, the server's warm
``GlobalMax``), ``sys.stdout``/``sys.stderr`` routed per command, a private asyncclick
context stack. The caller never chooses the directory, the environment or the target: the
command runs in the workspace root, or in the installation's directory when the caller named
one (``ServedWorkspace.directory``), and target options are refused (``_policy``).

* :func:`run_buffered` — ``POST /cli``: the output is collected and answered at once;
* :class:`StreamingHost` — the WebSocket ``/cli``: the daemon's own connection handling
  (:class:`maxtrio.daemon.Connection`: ``write`` messages as output is produced, ``prompt`` /
  ``input``, ``cancel`` → the command's interrupt, ``sync-started``, the final ``response``)
  over a WebSocket instead of a Unix socket (:class:`WebSocketStream` adapts one to the other:
  one JSON message per frame).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs
import trio
from starlette.websockets import WebSocket, WebSocketState

from maxtrio.cli import Invocation, invocation_scope, run_args
from maxtrio.core import MaxError, MaxUrl
from maxtrio.daemon import (
    CommandStreams,
    Connection,
    Request,
    Tty,
    command_streams,
    own_context_stack,
)

from ._errors import ErrArgvRefused
from ._policy import Policy
from ._ws_limits import CLOSE_TOO_BIG, MAX_MESSAGE_BYTES, oversized

if TYPE_CHECKING:
    from maxtrio.federation import GlobalMax, WorkspaceMax

log = logging.getLogger("maxtrio.remote")

EXIT_ERROR = 1
EXIT_USAGE = 2
#: Variables of the caller's environment a streamed command may see (how to draw, not what
#: to do): nothing that targets, configures connectors or carries credentials.
ENV_ALLOWED = frozenset({"TERM", "COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"})


class ServedWorkspace:
    """The workspace a server serves: its root, registered name and id, and the live node."""

    def __init__(self, node: WorkspaceMax) -> None:
        self.node = node
        self.root = Path(node.root)
        self.name = node.name
        self.id = node.id

    def matches(self, segment: str | None) -> bool:
        """Does a caller's workspace segment name this workspace (absent: yes)?"""
        return segment is None or segment in (self.name, self.id)

    async def directory(self, installation: str | None) -> Path:
        """Where a command for ``installation`` (None: the workspace) runs: the workspace
        root, or the installation's directory — so the CLI targets it as it does for a
        person working there, and the hints it prints (``Resume with: max sync --resume
        sync-3``) read right after the caller's own ``-t``. An installation of another name
        or id → ``app.installation_not_resolved``."""
        if installation is None:
            return self.root
        from maxtrio.federation import ErrInstallationNotResolved

        found = await self.node.find_installation(installation)
        if found is None:
            url = MaxUrl.for_workspace(self.name)
            raise ErrInstallationNotResolved(
                segment=installation, workspace=self.name, url=f"{url}/{installation}"
            )
        return self.root / ".max" / "installations" / found.name


@attrs.frozen
class CommandOutput:
    exit_code: int
    stdout: str
    stderr: str


async def run_buffered(argv: list[str], *, cwd: Path, global_max: GlobalMax) -> CommandOutput:
    """Run ``argv`` (already checked) in ``cwd`` and collect what it prints."""
    out: list[str] = []
    err: list[str] = []

    def emit(stream: str, text: str) -> None:
        (err if stream == "stderr" else out).append(text)

    invocation = Invocation(cwd=cwd, environ={}, global_max=global_max)
    code = EXIT_ERROR
    with (
        invocation_scope(invocation),
        command_streams(CommandStreams(emit, Tty())),
        own_context_stack(),
    ):
        try:
            code = await run_args(argv)
        except trio.Cancelled:
            raise
        except BaseException as exc:  # a command must never take the server down
            if isinstance(exc, BaseExceptionGroup) and exc.subgroup(trio.Cancelled):
                raise
            log.exception("command failed outside the CLI's error handling")
            err.append(f"Error: {type(exc).__name__}: {exc}\n")
    return CommandOutput(code, "".join(out), "".join(err))


class WebSocketStream(trio.abc.Stream):
    """A WebSocket as the byte stream of JSON lines the daemon's connection speaks: each
    received frame is one line, each line sent is one text frame."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        try:
            message = await self.websocket.receive()
        except Exception:  # already disconnected
            return b""
        if message["type"] == "websocket.disconnect":
            return b""
        if oversized(message):
            log.warning("WS /cli closed (%d): a message over %d bytes", CLOSE_TOO_BIG,
                        MAX_MESSAGE_BYTES)  # fmt: skip
            with contextlib.suppress(Exception):
                await self.websocket.close(CLOSE_TOO_BIG)
            return b""
        data = message.get("bytes") or (message.get("text") or "").encode("utf-8")
        return bytes(data).replace(b"\n", b" ") + b"\n"

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        for line in bytes(data).split(b"\n"):
            if not line:
                continue
            try:
                await self.websocket.send_text(line.decode("utf-8"))
            except Exception as exc:
                raise trio.BrokenResourceError("the WebSocket is closed") from exc

    async def wait_send_all_might_not_block(self) -> None:
        return None

    async def aclose(self) -> None:
        if self.websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):  # the client went first
                await self.websocket.close(1000)


class StreamingHost:
    """What the daemon's :class:`Connection` calls back into (``staleness``, ``run_command``),
    for one streamed command of a server."""

    def __init__(
        self, *, cwd: Path, global_max: GlobalMax, policy: Policy, via: str = "WS /cli"
    ) -> None:
        self.cwd = cwd
        self.via = via
        self.global_max = global_max
        self.policy = policy
        self.command = ""

    def staleness(self, request: Request) -> None:
        return None  # a client of any version may call: the wire is the protocol

    async def run_command(self, connection: Connection) -> int:
        from maxtrio.daemon import run_request

        request = connection.request
        assert request is not None
        if request.kind != "run":
            connection.emit("stderr", "Error: only commands can be run over this connection\n")
            return EXIT_USAGE
        try:
            self.command = self.policy.check_argv(request.argv)
        except MaxError as error:
            connection.emit("stderr", f"Error: {error.message}\n")
            return EXIT_USAGE if ErrArgvRefused.matches(error) else EXIT_ERROR
        log.info("%s %s started", self.via, self.command)
        connection.request = attrs.evolve(request, cwd=str(self.cwd), env=_allowed_env(request.env))
        return await run_request(connection, self.global_max)


def _allowed_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k in ENV_ALLOWED}


def open_connection(websocket: WebSocket, host: StreamingHost) -> Connection:
    """The daemon's connection handling over ``websocket`` for ``host``."""
    stream: Any = WebSocketStream(websocket)
    return Connection(cast(trio.SocketStream, stream), cast(Any, host))
