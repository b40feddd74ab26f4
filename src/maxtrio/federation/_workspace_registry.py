"""The global workspace registry: ``~/.max/workspaces.json`` (§10.2) or a dict (ephemeral).

File format (byte-compatible with the reference: 2-space indent, trailing newline)::

    {
      "workspaces": [
        {
          "id": "0b7d4c1e-…",
          "name": "my-project",
          "connectedAt": "2026-03-12T10:31:07.412Z",
          "config": { "strategy": "in-process", "dataDir": "/home/me/my-project/.max" },
          "spec": { "name": "my-project" }
        }
      ]
    }

Every call re-reads the file (no long-lived copy); every change is a read-modify-write under
an exclusive ``flock`` on ``workspaces.json.lock`` with an atomic replace, so concurrent
``max init`` runs never lose each other's entries. ``list()`` sorts by name. Names are unique:
``add`` replaces an entry with the same name (the caller decides whether that is allowed).
"""

from __future__ import annotations

from typing import Protocol

from ._home import MaxHome
from ._records import WorkspaceInfo


class WorkspaceRegistry(Protocol):
    """Where the machine's workspaces are recorded. Methods block (run them in a thread)."""

    def list(self) -> list[WorkspaceInfo]:
        """Every workspace, sorted by name."""
        ...

    def get(self, workspace_id: str) -> WorkspaceInfo | None: ...

    def find(self, name_or_id: str) -> WorkspaceInfo | None:
        """A name match first, else an id match."""
        ...

    def add(self, info: WorkspaceInfo) -> None:
        """Insert ``info``, replacing an entry with the same name; a duplicate id with another
        name raises ``registry.entry_already_exists``."""
        ...

    def remove(self, workspace_id: str) -> WorkspaceInfo:
        """Remove by id; unknown → ``registry.entry_not_found``."""
        ...


class FileWorkspaceRegistry:
    """``workspaces.json`` in a :class:`MaxHome`."""

    def __init__(self, home: MaxHome) -> None:
        self.home = home
        self.path = home.workspaces_file

    def list(self) -> list[WorkspaceInfo]:
        raise NotImplementedError

    def get(self, workspace_id: str) -> WorkspaceInfo | None:
        raise NotImplementedError

    def find(self, name_or_id: str) -> WorkspaceInfo | None:
        raise NotImplementedError

    def add(self, info: WorkspaceInfo) -> None:
        raise NotImplementedError

    def remove(self, workspace_id: str) -> WorkspaceInfo:
        raise NotImplementedError


class InMemoryWorkspaceRegistry:
    """The same contract in a dict (ephemeral globals, tests)."""

    def list(self) -> list[WorkspaceInfo]:
        raise NotImplementedError

    def get(self, workspace_id: str) -> WorkspaceInfo | None:
        raise NotImplementedError

    def find(self, name_or_id: str) -> WorkspaceInfo | None:
        raise NotImplementedError

    def add(self, info: WorkspaceInfo) -> None:
        raise NotImplementedError

    def remove(self, workspace_id: str) -> WorkspaceInfo:
        raise NotImplementedError
