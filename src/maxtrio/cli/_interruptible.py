"""``main`` for a fresh process, Ctrl-C during its imports included.

Direct mode (``python -m maxtrio.cli``, and the ``max`` launcher running the CLI in its own
process) imports the command table before any command runs; on a fresh clone (every module
compiled on its first run) or a loaded machine that takes long enough to be interrupted. This
module imports nothing itself but the collector's switch (``maxtrio._collector``), so a Ctrl-C
then ends as one during the command does: ``Interrupted.`` on stderr and exit 130, not
Python's traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

EXIT_INTERRUPTED = 130


def run_interruptible(argv: Sequence[str] | None = None) -> None:
    """Run ``max`` with ``argv`` (default: ``sys.argv[1:]``); raises ``SystemExit``."""
    from maxtrio._collector import hold

    # The imports below and the command's first moments run without the cyclic GC. A command
    # that ends sooner leaves it off: the process exits (see ``_collector``).
    hold()
    try:
        from ._main import main

        main(argv)
    except KeyboardInterrupt:
        try:
            sys.stderr.write("Interrupted.\n")
            sys.stderr.flush()
        except OSError:
            pass
        raise SystemExit(EXIT_INTERRUPTED) from None
