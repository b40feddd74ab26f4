"""Where a workspace's daemon lives: ``$MAX_HOME/daemons/<hash12>/`` and the files in it.

::

    $MAX_HOME/daemons/<hash12>/      0700; hash12 = first 12 hex digits of SHA-256 of the
    │                                 workspace root's canonical absolute path
    ├── daemon.sock                  the listening Unix socket, 0600
    ├── daemon.pid                   the daemon's PID (decimal), written after it binds
    ├── daemon.lock                  held (flock) by the live daemon for its whole life
    ├── daemon.log                   its stdout/stderr (rotated at 5 MiB, one old file kept)
    ├── daemon.disabled              empty marker: never auto-start (``max daemon disable``)
    └── project.json                 {"root", "name", "version", "pid"} for ``max daemon list``

Standard library only: the launcher imports this on every run.
"""

from __future__ import annotations

import _socket
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_HOME_ENV = "MAX_HOME"
DAEMONS_DIR = "daemons"
HASH_LENGTH = 12

# A Unix socket address holds at most 108 bytes on Linux (104 on macOS); longer paths are
# reached through the directory's file descriptor (``/proc/self/fd/<n>/daemon.sock``).
MAX_SOCKET_ADDRESS = 100


def max_home(environ: Mapping[str, str] | None = None) -> str:
    """``$MAX_HOME`` (made absolute) or ``~/.max`` — the same rule as ``maxtrio.federation``."""
    env = os.environ if environ is None else environ
    value = env.get(MAX_HOME_ENV)
    if value:
        return os.path.abspath(value)
    return os.path.abspath(os.path.join(os.path.expanduser("~"), ".max"))


def _sha256_hex(data: bytes) -> str:
    try:  # the bare C module: importing hashlib costs a few milliseconds more
        from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python 3.12+ calls it _sha2
        try:
            from _sha2 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:
            from hashlib import sha256
    return str(sha256(data).hexdigest())


def root_hash(root: str) -> str:
    """The 12-hex-digit key of a workspace root (SHA-256 of its canonical absolute path)."""
    return _sha256_hex(os.fsencode(os.path.realpath(root)))[:HASH_LENGTH]


class DaemonPaths:
    """The files of one workspace daemon (nothing is created here)."""

    __slots__ = ("directory", "disabled", "key", "lock", "log", "pid", "project", "socket")

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.key = os.path.basename(directory)
        self.socket = os.path.join(directory, "daemon.sock")
        self.pid = os.path.join(directory, "daemon.pid")
        self.lock = os.path.join(directory, "daemon.lock")
        self.log = os.path.join(directory, "daemon.log")
        self.disabled = os.path.join(directory, "daemon.disabled")
        self.project = os.path.join(directory, "project.json")

    def __repr__(self) -> str:
        return f"DaemonPaths({self.directory!r})"

    @classmethod
    def for_root(cls, root: str, home: str | None = None) -> DaemonPaths:
        """The daemon directory of the workspace at ``root`` under ``home`` (default: env)."""
        base = home if home is not None else max_home()
        return cls(os.path.join(base, DAEMONS_DIR, root_hash(root)))

    def ensure_directory(self) -> None:
        """Create the directory (and ``$MAX_HOME/daemons``) owner-only, 0700."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)


def daemons_directory(home: str | None = None) -> str:
    return os.path.join(home if home is not None else max_home(), DAEMONS_DIR)


class SocketAddress:
    """A bindable/connectable address for a socket path of any length.

    Use as a context manager: ``with SocketAddress(path) as address: sock.connect(address)``.
    Short paths are used as they are; a long one goes through an ``O_PATH`` descriptor of its
    directory, closed on exit.
    """

    __slots__ = ("_fd", "address", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self.address = path
        self._fd = -1

    def __enter__(self) -> str:
        if len(os.fsencode(self.path)) <= MAX_SOCKET_ADDRESS:
            return self.path
        directory, name = os.path.split(self.path)
        flags = getattr(os, "O_PATH", os.O_RDONLY) | getattr(os, "O_DIRECTORY", 0)
        self._fd = os.open(directory, flags)
        self.address = f"/proc/self/fd/{self._fd}/{name}"
        if not os.path.isdir(f"/proc/self/fd/{self._fd}"):
            self.close()
            raise OSError(f"socket path too long for this system: {self.path}")
        return self.address

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def connect(paths: DaemonPaths) -> _socket.socket | None:
    """A connection to the daemon's socket, or None when nothing accepts there."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        with SocketAddress(paths.socket) as address:
            sock.connect(address)
    except OSError:
        sock.close()
        return None
    return sock
