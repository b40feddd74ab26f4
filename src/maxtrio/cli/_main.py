"""The ``max`` entry point."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the ``max`` command line."""
    print("max: the command line arrives with the CLI issue; try `make demo`.", file=sys.stderr)
    raise SystemExit(2)
