"""The launcher's build id, sent with every request and compared by the daemon.

``<protocol>:<stamp>`` where the stamp comes from this package's own files (modification
time and size of ``max_launcher/__init__.py``). Reinstalling maxtrio rewrites the file, and a
new ``max.pyz`` extracts to a new directory, so an upgrade changes the id; a daemon started
by older code then answers ``stale`` and the launcher restarts it. The daemon computes its id
with this same function when it starts. (Edits in a development checkout are caught on the
daemon's side: it also answers ``stale`` when one of its loaded source files changed.)
"""

from __future__ import annotations

import os

from ._wire import PROTOCOL

_cached: str | None = None


def launcher_version() -> str:
    global _cached
    if _cached is None:
        marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__init__.py")
        try:
            status = os.stat(marker)
            stamp = f"{status.st_mtime_ns:x}-{status.st_size:x}"
        except OSError:
            stamp = "unknown"
        _cached = f"{PROTOCOL}:{stamp}"
    return _cached
