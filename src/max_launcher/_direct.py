"""Direct mode: the full CLI in this process's place, without a daemon.

Installed ``max``: ``os.execv`` of this interpreter into ``python -m maxtrio.cli <args>`` —
the launcher's process becomes the CLI (same PID, same terminal, signals and exit code), with
a fresh interpreter state. ``max.pyz``: the zipapp's own import path is only set up inside
this process, so the CLI runs in-process instead (Ctrl-C and SIGPIPE handling back to
Python's defaults first).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found,unused-ignore]
import os
import sys

from ._entry import CLI_MODULE, Entry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def run_direct(argv: list[str]) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except OSError:
                pass
    if Entry.zipapp is None and sys.executable:
        os.execv(sys.executable, [sys.executable, "-m", CLI_MODULE, *argv])
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    from maxtrio.cli import main as cli_main

    cli_main(argv)
    raise SystemExit(0)
