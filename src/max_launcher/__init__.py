"""max_launcher — the ``max`` entry point: standard library only, so it starts fast.

It decides which workspace a command is for (without importing maxtrio), forwards the command
to that workspace's daemon over its Unix socket and streams the answer, starting the daemon
when none is running; otherwise (no workspace, ``--direct``, ``MAX_NO_DAEMON=1``, ``max
daemon …``) it runs the full CLI in its own process (``maxtrio.cli.main``). See ``docs/daemon.md``.

The daemon-directory helpers below (paths, the lock, liveness, start and stop) are shared with
``maxtrio.daemon`` and ``max daemon``; all but the paths load on first use, so the fast path
imports only what it needs.
"""

from __future__ import annotations

from ._home import DaemonPaths, SocketAddress, connect, daemons_directory, max_home, root_hash
from ._main import main, pyz_main
from ._version import launcher_version
from ._wire import MAX_LINE_BYTES, PROTOCOL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._claim import Claim, claim, lock_is_held, remove_stale_files
    from ._entry import (
        DAEMON_MODULE,
        PYZ_DAEMON_ENTRY,
        PYZ_SERVE_ENTRY,
        Entry,
        daemon_command,
        serve_command,
    )
    from ._liveness import (
        RUNNING,
        STALE,
        STARTING,
        STOPPED,
        DaemonState,
        daemon_state,
        list_daemons,
        process_is_daemon,
        read_pid,
        read_project,
        stop_daemon,
        write_atomic,
        write_project,
    )
    from ._remote import federated_call, forwarded_arguments, remote_timeout
    from ._spawn import connect_when_ready, rotate_log, spawn, start_and_connect

_LAZY = {
    "Claim": "_claim",
    "claim": "_claim",
    "lock_is_held": "_claim",
    "remove_stale_files": "_claim",
    "DAEMON_MODULE": "_entry",
    "PYZ_DAEMON_ENTRY": "_entry",
    "Entry": "_entry",
    "daemon_command": "_entry",
    "PYZ_SERVE_ENTRY": "_entry",
    "serve_command": "_entry",
    "RUNNING": "_liveness",
    "STALE": "_liveness",
    "STARTING": "_liveness",
    "STOPPED": "_liveness",
    "DaemonState": "_liveness",
    "daemon_state": "_liveness",
    "list_daemons": "_liveness",
    "process_is_daemon": "_liveness",
    "read_pid": "_liveness",
    "read_project": "_liveness",
    "stop_daemon": "_liveness",
    "write_atomic": "_liveness",
    "write_project": "_liveness",
    "federated_call": "_remote",
    "forwarded_arguments": "_remote",
    "remote_timeout": "_remote",
    "connect_when_ready": "_spawn",
    "rotate_log": "_spawn",
    "spawn": "_spawn",
    "start_and_connect": "_spawn",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'max_launcher' has no attribute {name!r}")
    value = getattr(__import__(f"max_launcher.{module}", fromlist=[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "DAEMON_MODULE",
    "MAX_LINE_BYTES",
    "PROTOCOL",
    "PYZ_DAEMON_ENTRY",
    "PYZ_SERVE_ENTRY",
    "RUNNING",
    "STALE",
    "STARTING",
    "STOPPED",
    "Claim",
    "DaemonPaths",
    "DaemonState",
    "Entry",
    "SocketAddress",
    "claim",
    "connect",
    "connect_when_ready",
    "daemon_command",
    "daemon_state",
    "daemons_directory",
    "federated_call",
    "forwarded_arguments",
    "launcher_version",
    "list_daemons",
    "lock_is_held",
    "main",
    "max_home",
    "process_is_daemon",
    "pyz_main",
    "read_pid",
    "read_project",
    "remote_timeout",
    "remove_stale_files",
    "root_hash",
    "rotate_log",
    "serve_command",
    "spawn",
    "start_and_connect",
    "stop_daemon",
    "write_atomic",
    "write_project",
]
