"""The ``max`` entry point: forward to the workspace daemon, or run the CLI directly.

::

    argv ─► route (which workspace? direct?) ─► connect daemon.sock ─► converse ─► exit code
                 │                                  │ nothing there
                 │ direct                           ▼
                 ▼                           start it (≤ 2 s) ─► converse
           exec python -m maxtrio.cli              │ failed: one warning line
                                                   ▼
                                                direct

A daemon of another version answers ``stale`` after retiring; the launcher starts a fresh one
and asks again, once.
"""

from __future__ import annotations

import os
import sys

from ._conversation import EXIT_INTERRUPTED, STALE, ConnectionLost, converse
from ._home import DaemonPaths, connect, max_home
from ._request import COMPLETE_VAR, build_request
from ._route import route

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def warn(message: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(f"max: {message}\n")
        sys.stderr.flush()


def run_direct(argv: list[str]) -> NoReturn:
    from ._direct import run_direct as become_cli

    become_cli(argv)


def main(argv: list[str] | None = None) -> int:
    """The console script: returns (or ``exec``s into) the command's exit code."""
    try:
        return _launch(sys.argv[1:] if argv is None else list(argv))
    except KeyboardInterrupt:  # Ctrl-C while starting a daemon: no traceback
        return EXIT_INTERRUPTED


def _launch(args: list[str]) -> int:
    environ = os.environ
    try:
        cwd = os.getcwd()
    except OSError:
        run_direct(args)  # the CLI reports the vanished directory
    home = max_home(environ)
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
        if sock is None:
            from ._spawn import start_and_connect

            sock, problem = start_and_connect(paths, plan.root)
            if sock is None:
                if problem:
                    warn(f"daemon not responding ({problem}); running directly")
                run_direct(plan.argv)
        try:
            code = converse(sock, request)
        except ConnectionLost as lost:
            if not lost.silent:
                warn(f"{lost}")
                return 1
            warn(f"daemon not responding ({lost}); running directly")
            run_direct(plan.argv)
        if code != STALE:
            return code
    warn("the daemon still runs another version after a restart; running directly")
    run_direct(plan.argv)


def pyz_main() -> int:
    """``max.pyz``'s entry: the launcher, or (first argument ``__maxtrio_daemon__``) the
    daemon it starts."""
    from ._entry import PYZ_DAEMON_ENTRY, Entry

    Entry.zipapp = os.path.abspath(sys.argv[0])
    if len(sys.argv) > 1 and sys.argv[1] == PYZ_DAEMON_ENTRY:
        from maxtrio.daemon import main as daemon_main

        return daemon_main(sys.argv[2:])
    return main()
