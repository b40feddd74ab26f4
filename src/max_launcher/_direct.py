"""Direct mode: the full CLI in this process, without a daemon.

The launcher imports nothing but the standard library's smallest modules, so the CLI runs
right here (same PID, terminal, signals and exit code): Ctrl-C back to Python's default
handler, the output streams flushed, then ``maxtrio.cli.main``. Installed ``max`` once
``exec``'d a fresh ``python -m maxtrio.cli`` instead; that cost a second interpreter start
and ``runpy`` (about a tenth of a cheap command's time) for no difference a command could
see. ``max.pyz`` has always run it in-process (the zipapp's import path exists only here).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found,unused-ignore]
import sys

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
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    from maxtrio.cli._interruptible import run_interruptible

    run_interruptible(argv)  # a Ctrl-C while importing: "Interrupted.", exit 130
    raise SystemExit(0)
