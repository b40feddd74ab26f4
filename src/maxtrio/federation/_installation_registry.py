"""A workspace's installation registry: ``max.json`` (§10.3) or a dict (ephemeral).

File format (byte-compatible with the reference; other top-level keys are preserved)::

    {
      "installations": {
        "acme-1": {
          "id": "5f3c2a9e-…",
          "connector": "acme",
          "connectedAt": "2026-03-12T10:35:44.901Z",
          "deployment": { "strategy": "in-process", "dataDir": ".max/installations/acme-1" },
          "locator": "{\\"strategy\\":\\"in-process\\"}",
          "spec": { "connector": "acme", "name": "acme-1", "connectorConfig": { … } }
        }
      }
    }

The key is the installation name (unique in the workspace). ``dataDir`` is stored relative to
the directory of ``max.json`` and handed out absolute. Every call re-reads the file (so a
daemon sees installations created by other processes); every change is a read-modify-write
under an exclusive ``flock`` on ``.max/max.json.lock`` with an atomic replace. A hand-edited
entry that does not fit raises ``app.file_invalid`` naming the file, the entry and the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ._records import InstallationInfo


class InstallationRegistry(Protocol):
    """Where a workspace's installations are recorded. Methods block (run them in a thread)."""

    def list(self) -> list[InstallationInfo]:
        """Every installation, sorted by name."""
        ...

    def get(self, installation_id: str) -> InstallationInfo | None: ...

    def find(self, name_or_id: str) -> InstallationInfo | None:
        """A name match first, else an id match (MAXTRIO: names before ids)."""
        ...

    def add(self, info: InstallationInfo) -> None:
        """Insert; an existing name raises ``registry.entry_already_exists``."""
        ...

    def remove(self, installation_id: str) -> InstallationInfo:
        """Remove by id; unknown → ``registry.entry_not_found``."""
        ...


class FileInstallationRegistry:
    """``<root>/max.json`` of one workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "max.json"
        self.lock_path = root / ".max" / "max.json.lock"

    def list(self) -> list[InstallationInfo]:
        raise NotImplementedError

    def get(self, installation_id: str) -> InstallationInfo | None:
        raise NotImplementedError

    def find(self, name_or_id: str) -> InstallationInfo | None:
        raise NotImplementedError

    def add(self, info: InstallationInfo) -> None:
        raise NotImplementedError

    def remove(self, installation_id: str) -> InstallationInfo:
        raise NotImplementedError


class InMemoryInstallationRegistry:
    """The same contract in a dict."""

    def list(self) -> list[InstallationInfo]:
        raise NotImplementedError

    def get(self, installation_id: str) -> InstallationInfo | None:
        raise NotImplementedError

    def find(self, name_or_id: str) -> InstallationInfo | None:
        raise NotImplementedError

    def add(self, info: InstallationInfo) -> None:
        raise NotImplementedError

    def remove(self, installation_id: str) -> InstallationInfo:
        raise NotImplementedError
