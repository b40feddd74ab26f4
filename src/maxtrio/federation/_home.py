"""``MaxHome``: where the machine's Max keeps its files (``$MAX_HOME``, else ``~/.max``).

::

    ~/.max/                      mode 0700
    ├── workspaces.json          the global workspace registry
    ├── workspaces.json.lock     advisory lock for read-modify-write of the registry
    └── collections/             connector collections (scanned by the connector registry)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from ._files import make_private_dirs

MAX_HOME_ENV = "MAX_HOME"


@attrs.frozen
class MaxHome:
    """The global home directory. Nothing is created until :meth:`ensure` (or a write)."""

    root: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MaxHome:
        """``$MAX_HOME`` when set (made absolute), else ``~/.max``."""
        env = os.environ if environ is None else environ
        value = env.get(MAX_HOME_ENV)
        return cls(Path(os.path.abspath(value if value else Path.home() / ".max")))

    @property
    def workspaces_file(self) -> Path:
        return self.root / "workspaces.json"

    @property
    def workspaces_lock(self) -> Path:
        return self.root / "workspaces.json.lock"

    @property
    def collections_dir(self) -> Path:
        return self.root / "collections"

    def ensure(self) -> Path:
        """Create the home (mode 0700) if missing; returns it."""
        make_private_dirs(self.root)
        return self.root
