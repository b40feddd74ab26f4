"""``python -m maxtrio.cli`` — the same as the ``max`` console script (direct mode).

A Ctrl-C while the command table is still being imported ends as one during the command does
(:mod:`._interruptible`).
"""

from maxtrio.cli._interruptible import run_interruptible

run_interruptible()
