"""maxtrio.cli — the ``max`` command line (asyncclick), printers and progress rendering."""

from ._main import main

__all__ = ["main"]
