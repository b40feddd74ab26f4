"""How to start "this maxtrio" again — the daemon, the full CLI, or ``max serve``'s server.

The installed ``max`` runs modules of this interpreter (``python -m maxtrio.daemon``); a
``max.pyz`` has its packages only on its own import path, so it starts itself again with a
first argument that selects the daemon (``pyz_main`` sets :attr:`Entry.zipapp`).
"""

from __future__ import annotations

import sys

DAEMON_MODULE = "maxtrio.daemon"
CLI_MODULE = "maxtrio.cli"
SERVE_MODULE = "maxtrio.remote"
#: First argument of ``max.pyz`` that makes it the daemon instead of the launcher.
PYZ_DAEMON_ENTRY = "__maxtrio_daemon__"
#: First argument of ``max.pyz`` that makes it the server of ``max serve``.
PYZ_SERVE_ENTRY = "__maxtrio_serve__"


class Entry:
    """Set by ``pyz_main``: the zipapp this process runs from (None: an installed ``max``)."""

    zipapp: str | None = None


def daemon_command(root: str) -> list[str]:
    """The daemon's argv (before the inherited-descriptor options)."""
    python = sys.executable or "python3"
    if Entry.zipapp is not None:
        return [python, Entry.zipapp, PYZ_DAEMON_ENTRY, "--root", root]
    return [python, "-m", DAEMON_MODULE, "--root", root]


def serve_command(args: list[str]) -> list[str]:
    """The argv of ``max serve``'s server process (``python -m maxtrio.remote ARGS``)."""
    python = sys.executable or "python3"
    if Entry.zipapp is not None:
        return [python, Entry.zipapp, PYZ_SERVE_ENTRY, *args]
    return [python, "-m", SERVE_MODULE, *args]
