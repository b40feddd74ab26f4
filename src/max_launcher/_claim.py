"""Claiming a daemon directory: the lock that says "a daemon lives here", then the socket.

The live daemon holds an exclusive ``flock`` on ``daemon.lock`` for its whole life. The kernel
drops the lock when the process dies, however it dies (``kill -9`` too), so the lock — not the
PID file, whose number the system may give to another process — is what says whether a daemon
is alive. Whoever holds the lock owns the directory: it removes a stale ``daemon.sock`` and
``daemon.pid`` left by a dead daemon, binds a fresh socket (mode 0600, in a 0700 directory)
and only then writes its PID.

The daemon claims its directory first thing, before it imports trio and the CLI, so a command
can connect while the daemon is still loading (the connection waits in the socket's backlog).
"""

from __future__ import annotations

import _socket
import errno
import os

from ._home import DaemonPaths, SocketAddress

LISTEN_BACKLOG = 64


class Claim:
    """A held daemon lock and the socket bound under it."""

    __slots__ = ("listener", "lock_fd", "paths", "socket_inode")

    def __init__(
        self, paths: DaemonPaths, lock_fd: int, listener: _socket.socket, socket_inode: int
    ) -> None:
        self.paths = paths
        self.lock_fd = lock_fd
        self.listener = listener
        self.socket_inode = socket_inode


def try_lock(paths: DaemonPaths, *, wait_seconds: float = 0.0) -> int | None:
    """The lock's descriptor when we got it (keep it open to keep the lock), None when a live
    daemon holds it. ``wait_seconds`` rides out another process's momentary probe."""
    import fcntl
    import time

    paths.ensure_directory()
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
        if time.monotonic() >= deadline:
            os.close(fd)
            return None
        time.sleep(0.02)


def lock_is_held(paths: DaemonPaths) -> bool:
    """Whether a live daemon holds the directory's lock (probing takes it for an instant)."""
    if not os.path.exists(paths.lock):
        return False
    fd = try_lock(paths)
    if fd is None:
        return True
    os.close(fd)
    return False


def remove_stale_files(paths: DaemonPaths) -> list[str]:
    """Delete a dead daemon's socket and PID file (call only while holding the lock)."""
    removed = []
    for path in (paths.socket, paths.pid):
        try:
            os.unlink(path)
            removed.append(path)
        except FileNotFoundError:
            pass
    return removed


def bind_listener(path: str) -> tuple[_socket.socket, int]:
    """A listening Unix socket at ``path`` (mode 0600) and its inode."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        old_umask = os.umask(0o177)
        try:
            with SocketAddress(path) as address:
                sock.bind(address)
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)
        sock.listen(LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock, os.stat(path).st_ino


def claim(paths: DaemonPaths, *, wait_seconds: float = 0.5) -> Claim | None:
    """Take the lock, clear what a dead daemon left, bind the socket; None when a live daemon
    already owns the directory."""
    lock_fd = try_lock(paths, wait_seconds=wait_seconds)
    if lock_fd is None:
        return None
    try:
        remove_stale_files(paths)
        listener, inode = bind_listener(paths.socket)
    except BaseException:
        os.close(lock_fd)
        raise
    return Claim(paths, lock_fd, listener, inode)
