"""The ``max`` entry point: forward to the workspace daemon, or run the CLI directly.

::

    argv ─► route (which workspace? direct?) ─► connect daemon.sock ─► ready? ─► converse ─► exit
                 │                                  │ nothing there         │ no (≤ 2 s)
                 │ direct                           ▼                       ▼
                 ▼                           start it, then ready?    one warning line, direct
           maxtrio.cli.main (here)                 │ failed: one warning line
                                                   ▼
                                                direct

The request is sent only after the daemon's ``ready`` greeting, so a daemon that does not
answer in time never got the command and running it directly cannot run it twice. A daemon
that dies *after* it took the request: a read-only command that had printed nothing runs again
directly; any other command exits 1 with one ``Error:`` line and a ``Hint:`` (for a sync, the
exact ``--resume`` command) — see ``_died``.

A daemon of another version answers ``stale`` after retiring; the launcher starts a fresh one
and asks again, once.

A remote target (``-t max+http://HOST:PORT/…``, ``max://…``, or such a ``$MAX_TARGET``) never
touches a local daemon: the launcher runs the command on that ``max serve`` over HTTP itself
(``_remote``, ``_exchange``), whatever ``MAX_NO_DAEMON`` says; ``--direct`` makes the full CLI
do it instead.
"""

from __future__ import annotations

import os
import sys

from ._conversation import (
    EXIT_INTERRUPTED,
    STALE,
    ConnectionLost,
    NotReady,
    await_ready,
    converse,
)
from ._home import DaemonPaths, connect, max_home
from ._remote import might_be_remote
from ._request import COMPLETE_VAR, build_request
from ._route import route

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import NoReturn

#: The oldest Python maxtrio runs on (``requires-python`` in pyproject.toml).
MIN_PYTHON = (3, 11)

#: How long a running daemon may take to greet a connection before the command runs directly.
READY_SECONDS = 2.0
#: The same for a daemon that is still loading (just started: no ``daemon.pid`` yet).
STARTING_READY_SECONDS = 20.0


def warn(message: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(f"max: {message}\n")
        sys.stderr.flush()


def run_direct(argv: list[str]) -> NoReturn:
    from ._direct import run_direct as become_cli

    become_cli(argv)


def _print_version() -> int:
    """``max --version``, answered here: the CLI's line (``max, version 0.1.0``) without
    starting the CLI or asking a daemon (``maxtrio/__init__`` alone is a few statements)."""
    from maxtrio import __version__

    sys.stdout.write(f"max, version {__version__}\n")
    sys.stdout.flush()
    return 0


def require_python(hint: str) -> None:
    """On an interpreter older than :data:`MIN_PYTHON`: one ``Error:`` line, ``hint``, exit 1."""
    if sys.version_info < MIN_PYTHON:
        found = ".".join(str(part) for part in sys.version_info[:3])
        sys.stderr.write(f"Error: max needs Python 3.11 or newer (this is {found})\nHint: {hint}\n")
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> int:
    """The console script: returns (or ``exec``s into) the command's exit code."""
    require_python("install maxtrio under python3.11 or newer (python3.11 -m venv, then pip)")
    try:
        return _launch(sys.argv[1:] if argv is None else list(argv))
    except KeyboardInterrupt:  # Ctrl-C while starting a daemon: no traceback
        return EXIT_INTERRUPTED


def _launch(args: list[str]) -> int:
    environ = os.environ
    if args == ["--version"] and COMPLETE_VAR not in environ:
        return _print_version()
    try:
        cwd = os.getcwd()
    except OSError:
        run_direct(args)  # the CLI reports the vanished directory
    home = max_home(environ)
    if COMPLETE_VAR not in environ:
        code = _launch_remote(args, cwd, environ, home)
        if code is not None:
            return code
    shell: str | None = None
    if COMPLETE_VAR in environ:  # a completion script asks: answer for the cwd's workspace
        shell, _, action = environ[COMPLETE_VAR].partition("_")
        if action != "complete":
            run_direct(args)
        plan = route([], cwd, environ, home)
    else:
        plan = route(args, cwd, environ, home)
    if plan.root is None:
        run_direct(plan.argv if shell is None else args)
    paths = DaemonPaths.for_root(plan.root, home)
    request = build_request(plan.argv, cwd, environ, shell=shell)
    for _attempt in (1, 2):
        sock = connect(paths)
        budget = READY_SECONDS
        if sock is None:  # nothing there: start it (it is loading: wait longer for ``ready``)
            if not plan.start:  # --version, --help, completion: never start a daemon
                run_direct(plan.argv)
            from ._spawn import start_and_connect

            sock, problem = start_and_connect(paths, plan.root)
            if sock is None:
                if problem:
                    warn(f"daemon not responding ({problem}); running directly")
                run_direct(plan.argv)
        if not os.path.exists(paths.pid):
            from ._claim import lock_is_held

            if lock_is_held(paths):  # a daemon that has bound its socket but is still loading
                budget = STARTING_READY_SECONDS
        try:
            received = await_ready(sock, budget)
        except NotReady as silent:
            sock.close()
            if _attempt == 1 and _replaced_other_build(paths):
                continue  # a daemon of an older launcher (it never greets): stopped, start anew
            warn(f"daemon not responding ({silent}); running directly")
            run_direct(plan.argv)
        try:
            code = converse(sock, request, received)
        except ConnectionLost as lost:
            if lost.silent and plan.read_only:
                warn(f"the daemon went away ({lost}); running directly")
                run_direct(plan.argv)
            from ._died import report_died

            report_died(lost, plan, cwd, environ)
            return 1
        if code != STALE:
            return code
    warn("the daemon still runs another version after a restart; running directly")
    run_direct(plan.argv)


def _launch_remote(args: list[str], cwd: str, environ: Mapping[str, str], home: str) -> int | None:
    """Run a command for another machine over HTTP (``_exchange``): a remote target, or a
    remote installation of a local workspace. None when it is neither."""
    if might_be_remote(args, environ):
        from ._remote import remote_call

        call = remote_call(args, environ)
    else:
        from ._remote import federated_call

        call = federated_call(args, cwd, environ, home)
    if call is None:
        return None
    from ._exchange import Fallback, run_remote

    try:
        return run_remote(call, cwd, environ)
    except Fallback:
        run_direct(args)


def _replaced_other_build(paths: DaemonPaths) -> bool:
    """Stop the directory's daemon when ``project.json`` says another build runs it (one from
    before the ``ready`` greeting cannot be asked to retire); True when one was stopped."""
    from ._liveness import read_project, stop_daemon
    from ._version import launcher_version

    project = read_project(paths)
    if project is None or project.get("version") in (None, launcher_version()):
        return False
    return stop_daemon(paths, timeout=5.0)


def pyz_main() -> int:
    """``max.pyz``'s entry: the launcher, or (first argument ``__maxtrio_daemon__``) the
    daemon it starts, or (``__maxtrio_serve__``) the server ``max serve`` becomes."""
    from ._entry import PYZ_DAEMON_ENTRY, PYZ_SERVE_ENTRY, Entry

    Entry.zipapp = os.path.abspath(sys.argv[0])
    if len(sys.argv) > 1 and sys.argv[1] == PYZ_DAEMON_ENTRY:
        from maxtrio.daemon import main as daemon_main

        return daemon_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == PYZ_SERVE_ENTRY:
        from maxtrio.remote import main as serve_main

        return serve_main(sys.argv[2:])
    return main()
