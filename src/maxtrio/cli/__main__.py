"""``python -m maxtrio.cli`` — the same as the ``max`` console script."""

from maxtrio.cli._main import main

main()
