"""Starting a workspace daemon detached, and waiting for its socket.

``spawn`` double-forks: the middle process starts a new session and exits at once (so the
daemon is nobody's child and has no controlling terminal); the grandchild points stdout and
stderr at ``daemon.log`` (rotated at 5 MiB, one old file kept), moves to ``/`` and ``exec``s
the daemon. The daemon claims its directory (lock, stale-file cleanup, socket — see
``_claim``) before it loads anything heavy; one that finds the lock taken (another launcher won
the race) just exits.

``connect_when_ready`` then retries connecting with a short back-off, at most two seconds in
all; once the socket is bound, a connection waits in its backlog until the daemon has loaded.
"""

from __future__ import annotations

import _socket
import os
import sys
import time

from ._claim import lock_is_held
from ._entry import daemon_command
from ._home import DaemonPaths, connect

WAIT_SECONDS = 2.0
LOG_ROTATE_BYTES = 5 * 1024 * 1024
_FIRST_DELAY = 0.005
_MAX_DELAY = 0.25


def start_and_connect(paths: DaemonPaths, root: str) -> tuple[_socket.socket | None, str]:
    """Make sure a daemon runs for ``root`` and connect to it. Returns the socket, or None and
    the reason (empty when the daemon is disabled: direct mode without a warning)."""
    if os.path.exists(paths.disabled):
        return None, ""
    try:
        if not lock_is_held(paths):
            spawn(paths, root)
    except OSError as exc:
        return None, f"cannot start it: {exc.strerror or exc}"
    sock = connect_when_ready(paths, WAIT_SECONDS)
    if sock is None:
        return None, f"no answer on {paths.socket} after {WAIT_SECONDS:g}s"
    return sock, ""


def connect_when_ready(paths: DaemonPaths, budget: float) -> _socket.socket | None:
    deadline = time.monotonic() + budget
    delay = _FIRST_DELAY
    while True:
        sock = connect(paths)
        if sock is not None:
            return sock
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(delay, left))
        delay = min(delay * 2, _MAX_DELAY)


def spawn(paths: DaemonPaths, root: str) -> None:
    """Start the daemon of ``root`` detached (returns once it is on its way)."""
    paths.ensure_directory()
    rotate_log(paths.log)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    child = os.fork()
    if child == 0:  # the middle process
        code = 1
        try:
            os.setsid()
            if os.fork() == 0:
                _become_daemon(paths, root)
            code = 0
        finally:
            os._exit(code)
    os.waitpid(child, 0)


def _become_daemon(paths: DaemonPaths, root: str) -> None:
    """In the grandchild: detach the standard streams and exec the daemon (never returns).

    Only system calls run between the fork and the exec (the parent may have threads)."""
    try:
        _redirect_stdio(paths.log)
        os.chdir("/")
        argv = daemon_command(root)
        os.execv(argv[0], argv)
    finally:
        os._exit(1)


def _redirect_stdio(log_path: str) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(devnull)
    os.close(log)


def rotate_log(path: str, limit: int = LOG_ROTATE_BYTES) -> None:
    """Move ``path`` to ``path.1`` (replacing it) once it is larger than ``limit``."""
    try:
        if os.path.getsize(path) > limit:
            os.replace(path, f"{path}.1")
    except OSError:
        pass
