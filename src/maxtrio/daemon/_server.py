"""The workspace daemon: one process per workspace, serving ``max`` commands on a Unix socket.

Life of a daemon (see ``docs/daemon.md``):

1. **claim** — the launcher (or ``python -m maxtrio.daemon`` itself) takes the directory's
   lock and binds ``daemon.sock`` (0600, directory 0700); the daemon adopts both;
2. **start** — open the machine's ``GlobalMax`` and this workspace, and keep them (and every
   installation a command opens) warm; then write ``daemon.pid`` and ``project.json`` (until
   then ``max daemon status`` says *starting* and a launcher waits longer for ``ready``);
3. **serve** — accept connections; each is a :class:`~._connection.Connection` in the
   connections nursery (greeted with ``ready`` at once); the daemon counts them;
4. **stop**, for one of these reasons:

   * idle: no connection (so no running command or sync) for ``MAX_DAEMON_IDLE`` seconds
     (default 900; ``0`` never);
   * SIGTERM/SIGINT/SIGHUP, or the workspace root disappeared: running commands are asked to
     stop (a sync ends *interrupted*, resumable) and cancelled after a grace period;
   * stale: a request from another version — the daemon **retires**: it gives up the socket,
     PID file and lock at once (so a fresh daemon can start), answers ``stale`` and exits when
     its in-flight commands are done;

5. **clean up** — remove the socket and PID file if they are still ours, release the lock.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from max_launcher import Claim, DaemonPaths, write_atomic, write_project
from maxtrio._collector import release as release_collector
from maxtrio.core import MaxError

from ._connection import Connection
from ._errors import ErrMalformedMessage, ErrWorkspaceRootMissing
from ._protocol import DaemonMessage, Request, Stale
from ._runner import run_request, warm_up_command
from ._staleness import Staleness

if TYPE_CHECKING:
    from maxtrio.federation import GlobalMax

log = logging.getLogger("maxtrio.daemon")

IDLE_ENV = "MAX_DAEMON_IDLE"
DEFAULT_IDLE_SECONDS = 900.0
SHUTDOWN_GRACE_SECONDS = 5.0
ROOT_CHECK_SECONDS = 30.0


def idle_seconds_from_env(environ: dict[str, str] | None = None) -> float | None:
    """``MAX_DAEMON_IDLE`` in seconds (default 900); ``0`` or less: never idle out."""
    env = os.environ if environ is None else environ
    text = env.get(IDLE_ENV, "").strip()
    if not text:
        return DEFAULT_IDLE_SECONDS
    try:
        value = float(text)
    except ValueError:
        log.warning("ignoring %s=%r (not a number of seconds)", IDLE_ENV, text)
        return DEFAULT_IDLE_SECONDS
    return value if value > 0 else None


def workspace_exists(root: Path) -> bool:
    return (root / "max.json").exists() and (root / ".max").exists()


class WorkspaceDaemon:
    """The daemon of the workspace at ``root`` (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        claim: Claim,
        *,
        version: str,
        idle_seconds: float | None = DEFAULT_IDLE_SECONDS,
        handle_signals: bool = True,
        root_check_seconds: float = ROOT_CHECK_SECONDS,
    ) -> None:
        self.root = root
        self.claim = claim
        self.paths: DaemonPaths = claim.paths
        self.version = version
        self.idle_seconds = idle_seconds
        self.handle_signals = handle_signals
        self.root_check_seconds = root_check_seconds
        self.global_max: GlobalMax | None = None
        self.stop_reason: str | None = None
        self.retired = False
        self.connections: set[Connection] = set()
        self.served = 0
        self._staleness: Staleness | None = None
        self._stopping = trio.Event()
        self._activity = trio.Event()
        listener = socket.socket(fileno=claim.listener.detach())
        self._listener = trio.socket.from_stdlib_socket(listener)
        self._lock_fd: int | None = claim.lock_fd
        self._owned_pid = False

    def __repr__(self) -> str:
        return f"<WorkspaceDaemon {self.root}>"

    # -- lifecycle -------------------------------------------------------------------------------

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until stopped; the claim's files are cleaned up on the way out."""
        from maxtrio.cli import open_global

        try:
            if not workspace_exists(self.root):
                raise ErrWorkspaceRootMissing(root=str(self.root))
            async with open_global() as global_max:
                self.global_max = global_max
                self._staleness = Staleness(self.version, global_max.home.root)
                await self._warm_up(global_max)
                self._write_identity()  # a PID file says "warm": launchers wait ≤ 2 s from now
                release_collector()  # held while starting (``python -m maxtrio.daemon``)
                log.info("serving %s on %s", self.root, self.paths.socket)
                async with trio.open_nursery() as connections:
                    async with trio.open_nursery() as services:
                        services.start_soon(self._accept, connections)
                        services.start_soon(self._watch_idle)
                        services.start_soon(self._watch_root)
                        if self.handle_signals:
                            services.start_soon(self._watch_signals)
                        task_status.started()
                        await self._stopping.wait()
                        services.cancel_scope.cancel()
                    self._close_listener()
                    if not self.retired:
                        self._release_files()
                        for connection in list(self.connections):
                            log.info("stopping %s", connection.describe())
                            connection.interrupt()
                        connections.cancel_scope.deadline = (
                            trio.current_time() + SHUTDOWN_GRACE_SECONDS
                        )
        finally:
            self._close_listener()
            self._release_files()
            log.info("stopped (%s) after %d command(s)", self.stop_reason or "error", self.served)

    def stop(self, reason: str) -> None:
        """Stop serving: running commands are asked to stop, then cancelled after a grace."""
        if self.stop_reason is None:
            self.stop_reason = reason
            log.info("stopping: %s", reason)
        self._stopping.set()

    def retire(self, reason: str) -> None:
        """Make way for a fresh daemon now (socket, PID file and lock released at once) and
        exit once the commands in flight are done."""
        if self.retired:
            return
        self.retired = True
        log.info("retiring: %s", reason)
        self._close_listener()
        self._release_files()
        self.stop(f"retired ({reason})")

    # -- requests ------------------------------------------------------------------------------

    def staleness(self, request: Request) -> DaemonMessage | None:
        """``Stale`` (after retiring) when ``request`` needs a fresh daemon, else None."""
        if self.retired:
            return Stale(self.version)
        assert self._staleness is not None
        reason = self._staleness.reason(request.version, request.env)
        if reason is None:
            return None
        self.retire(reason)
        return Stale(self.version)

    async def run_command(self, connection: Connection) -> int:
        assert self.global_max is not None
        request = connection.request
        assert request is not None
        if not os.path.isabs(request.cwd):
            connection.protocol_error = ErrMalformedMessage(
                reason=f"cwd must be an absolute path, got {request.cwd!r}"
            )
            return 2
        self.served += 1
        return await run_request(connection, self.global_max)

    # -- tasks ---------------------------------------------------------------------------------

    async def _accept(self, connections: trio.Nursery) -> None:
        while True:
            try:
                sock, _ = await self._listener.accept()
            except (trio.ClosedResourceError, OSError) as exc:
                if isinstance(exc, trio.ClosedResourceError) or self._listener.fileno() < 0:
                    return
                log.warning("accept failed: %s", exc)
                await trio.sleep(0.1)
                continue
            connections.start_soon(self._serve_connection, trio.SocketStream(sock))

    async def _serve_connection(self, stream: trio.SocketStream) -> None:
        connection = Connection(stream, self)
        self.connections.add(connection)
        self._changed()
        try:
            await connection.serve()
        except MaxError as error:
            log.warning("connection ended: %s", error.message)
        except Exception:
            log.exception("connection failed")
        finally:
            self.connections.discard(connection)
            self._changed()

    def _changed(self) -> None:
        self._activity.set()
        self._activity = trio.Event()

    async def _watch_idle(self) -> None:
        if self.idle_seconds is None:
            return
        while True:
            changed = self._activity
            if self.connections:
                await changed.wait()
                continue
            with trio.move_on_after(self.idle_seconds):
                await changed.wait()
                continue
            if not self.connections:
                self.stop(f"idle for {self.idle_seconds:g}s")
                return

    async def _watch_root(self) -> None:
        while True:
            await trio.sleep(self.root_check_seconds)
            if not await trio.to_thread.run_sync(workspace_exists, self.root):
                self.stop(f"the workspace root {self.root} disappeared")
                return

    async def _watch_signals(self) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
            async for number in signals:
                self.stop(f"signal {signal.Signals(number).name}")

    async def _warm_up(self, global_max: GlobalMax) -> None:
        """Before the first request: load the query and storage layers and run ``max ls``
        once, silently, so the workspace is open and the command path is imported."""
        import maxtrio.query
        import maxtrio.storage  # noqa: F401

        code = await warm_up_command(self.root, global_max)
        if code != 0:
            log.info("warm-up 'max ls' exited %d (the workspace may not be registered)", code)

    # -- files -----------------------------------------------------------------------------------

    def _write_identity(self) -> None:
        write_atomic(self.paths.pid, str(os.getpid()))
        self._owned_pid = True
        write_project(
            self.paths,
            {
                "root": str(self.root),
                "name": self.root.name,
                "version": self.version,
                "pid": os.getpid(),
            },
        )

    def _close_listener(self) -> None:
        if self._listener.fileno() >= 0:
            self._listener.close()

    def _release_files(self) -> None:
        """Remove the socket and PID file if they are still ours, then drop the lock."""
        if self._lock_fd is None:
            return
        try:
            if os.stat(self.paths.socket).st_ino == self.claim.socket_inode:
                os.unlink(self.paths.socket)
        except OSError:
            pass
        if self._owned_pid:
            try:
                with open(self.paths.pid, encoding="ascii") as file:
                    if file.read().strip() == str(os.getpid()):
                        os.unlink(self.paths.pid)
            except OSError:
                pass
        os.close(self._lock_fd)
        self._lock_fd = None
