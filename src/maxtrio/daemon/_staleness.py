"""When a daemon should make way for a fresh one.

A daemon keeps code and connector registries loaded between commands; it must not answer with
yesterday's. Before each request it checks (cheaply, at most once a second for the file
checks) and answers ``stale`` — the launcher then starts a new daemon and asks it — when:

* the request's launcher version differs from the daemon's (maxtrio was upgraded);
* a maxtrio source file it has loaded changed on disk (a development checkout was edited);
* the machine's connectors changed: ``$MAX_HOME/collections`` or ``$MAX_HOME/site-packages``
  (``max install``), or the request's ``MAXTRIO_CONNECTORS_DIR`` is not the daemon's.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

CONNECTORS_DIR_ENV = "MAXTRIO_CONNECTORS_DIR"
CHECK_INTERVAL = 1.0
_WATCHED_PACKAGES = ("maxtrio", "max_launcher")


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


class Staleness:
    """What the daemon compares a request against (see the module docstring)."""

    def __init__(self, version: str, home: Path, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.version = version
        self.connectors_dir = env.get(CONNECTORS_DIR_ENV) or None
        self._watched_dirs = [str(home / "collections"), str(home / "site-packages")]
        self._dirs = {d: _mtime(d) for d in self._watched_dirs}
        self._sources: dict[str, int] = {}
        self._checked = -math.inf
        self._scan_sources()

    def reason(self, version: str | None, environ: Mapping[str, str]) -> str | None:
        """Why a request with ``version`` and ``environ`` needs a fresh daemon, or None."""
        if version is not None and version != self.version:
            return f"launcher version {version} is not the daemon's {self.version}"
        if (environ.get(CONNECTORS_DIR_ENV) or None) != self.connectors_dir:
            return f"{CONNECTORS_DIR_ENV} differs from the daemon's"
        now = time.monotonic()
        if now - self._checked < CHECK_INTERVAL:
            return None
        self._checked = now
        for directory, seen in self._dirs.items():
            if _mtime(directory) != seen:
                return f"connectors changed ({directory})"
        return self._scan_sources()

    def _scan_sources(self) -> str | None:
        for name, module in list(sys.modules.items()):
            if name.split(".", 1)[0] not in _WATCHED_PACKAGES:
                continue
            path = getattr(module, "__file__", None)
            if not isinstance(path, str):
                continue
            seen = self._sources.get(path)
            now = _mtime(path)
            if seen is None:
                self._sources[path] = now
            elif now != seen:
                return f"source changed ({path})"
        return None
