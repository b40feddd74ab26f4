"""The global workspace registry: ``~/.max/workspaces.json`` or a dict (ephemeral).

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
``add`` replaces an entry with the same name (the caller decides whether that is allowed);
``replace`` re-keys an entry by id (a moved workspace, see ``_identity``).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from ._errors import ErrRegistryEntryAlreadyExists, ErrRegistryEntryNotFound
from ._files import invalid_file, locked, read_json_object, write_json
from ._home import MaxHome
from ._records import RecordProblem, WorkspaceInfo, record_to_wire, structure_record


class WorkspaceRegistry(Protocol):
    """Where the machine's workspaces are recorded. Methods block (run them in a thread)."""

    def list(self) -> list[WorkspaceInfo]:
        """Every workspace, sorted by name."""
        ...

    def get(self, workspace_id: str) -> WorkspaceInfo | None: ...

    def find(self, name_or_id: str) -> WorkspaceInfo | None:
        """A name match first, else an id match."""
        ...

    def add(self, info: WorkspaceInfo, *, prepare: Callable[[], None] | None = None) -> None:
        """Insert ``info``, replacing an entry with the same name; a duplicate id with another
        name raises ``registry.entry_already_exists``. ``prepare`` runs under the lock after
        the checks, before the write (if it raises, nothing is added)."""
        ...

    def remove(self, workspace_id: str) -> WorkspaceInfo:
        """Remove by id; unknown → ``registry.entry_not_found``."""
        ...

    def replace(self, info: WorkspaceInfo) -> None:
        """Replace the entry with ``info``'s id (a moved workspace: new path, maybe a new
        name); unknown id → ``registry.entry_not_found``; a name another entry has →
        ``registry.entry_already_exists``."""
        ...


class FileWorkspaceRegistry:
    """``workspaces.json`` in a :class:`MaxHome`."""

    def __init__(self, home: MaxHome) -> None:
        self.home = home
        self.path = home.workspaces_file
        self.lock_path = home.workspaces_lock

    def __repr__(self) -> str:
        return f"FileWorkspaceRegistry({str(self.path)!r})"

    def list(self) -> list[WorkspaceInfo]:
        return sorted(self._read()[1], key=lambda w: w.name)

    def get(self, workspace_id: str) -> WorkspaceInfo | None:
        return next((w for w in self._read()[1] if w.id == workspace_id), None)

    def find(self, name_or_id: str) -> WorkspaceInfo | None:
        return find_workspace(self._read()[1], name_or_id)

    def add(self, info: WorkspaceInfo, *, prepare: Callable[[], None] | None = None) -> None:
        with locked(self.lock_path):
            document, entries = self._read()
            updated = add_workspace(entries, info)
            if prepare is not None:
                prepare()
            self._write(document, updated)

    def remove(self, workspace_id: str) -> WorkspaceInfo:
        with locked(self.lock_path):
            document, entries = self._read()
            removed, kept = remove_workspace(entries, workspace_id)
            self._write(document, kept)
            return removed

    def replace(self, info: WorkspaceInfo) -> None:
        with locked(self.lock_path):
            document, entries = self._read()
            self._write(document, replace_workspace(entries, info))

    # -- the file --------------------------------------------------------------------------------

    def _read(self) -> tuple[dict[str, Any], builtins.list[WorkspaceInfo]]:
        document = read_json_object(self.path)
        if document is None:
            return {}, []
        raw = document.get("workspaces", [])
        if not isinstance(raw, list):
            raise invalid_file(self.path, '"workspaces" must be an array')
        entries: builtins.list[WorkspaceInfo] = []
        for index, entry in enumerate(raw):
            try:
                info = structure_record(entry, WorkspaceInfo)
            except RecordProblem as bad:
                text = f"workspaces[{index}]: {bad}"
                raise invalid_file(self.path, text) from None
            if info.config.data_dir is not None and not os.path.isabs(info.config.data_dir):
                problem = f"workspaces[{index}].config.dataDir must be an absolute path"
                raise invalid_file(self.path, problem)
            entries.append(info)
        return document, entries

    def _write(self, document: dict[str, Any], entries: Sequence[WorkspaceInfo]) -> None:
        self.home.ensure()
        document = {**document, "workspaces": [record_to_wire(w) for w in entries]}
        write_json(self.path, document, private=True)


class InMemoryWorkspaceRegistry:
    """The same contract in a list (ephemeral globals, tests)."""

    def __init__(self, entries: Iterable[WorkspaceInfo] = ()) -> None:
        self._entries: list[WorkspaceInfo] = []
        for info in entries:
            self.add(info)

    def list(self) -> list[WorkspaceInfo]:
        return sorted(self._entries, key=lambda w: w.name)

    def get(self, workspace_id: str) -> WorkspaceInfo | None:
        return next((w for w in self._entries if w.id == workspace_id), None)

    def find(self, name_or_id: str) -> WorkspaceInfo | None:
        return find_workspace(self._entries, name_or_id)

    def add(self, info: WorkspaceInfo, *, prepare: Callable[[], None] | None = None) -> None:
        updated = add_workspace(self._entries, info)
        if prepare is not None:
            prepare()
        self._entries = updated

    def remove(self, workspace_id: str) -> WorkspaceInfo:
        removed, self._entries = remove_workspace(self._entries, workspace_id)
        return removed

    def replace(self, info: WorkspaceInfo) -> None:
        self._entries = replace_workspace(self._entries, info)


# -- the rules both share ---------------------------------------------------------------------


def find_workspace(entries: Sequence[WorkspaceInfo], name_or_id: str) -> WorkspaceInfo | None:
    by_name = next((w for w in entries if w.name == name_or_id), None)
    return by_name or next((w for w in entries if w.id == name_or_id), None)


def add_workspace(entries: Sequence[WorkspaceInfo], info: WorkspaceInfo) -> list[WorkspaceInfo]:
    """A same-name entry is replaced in place; a same-id entry under another name is an error."""
    if any(w.id == info.id and w.name != info.name for w in entries):
        raise ErrRegistryEntryAlreadyExists(name=info.id)
    out = list(entries)
    for index, existing in enumerate(out):
        if existing.name == info.name:
            out[index] = info
            return out
    out.append(info)
    return out


def remove_workspace(
    entries: Sequence[WorkspaceInfo], workspace_id: str
) -> tuple[WorkspaceInfo, list[WorkspaceInfo]]:
    for index, existing in enumerate(entries):
        if existing.id == workspace_id:
            return existing, [*entries[:index], *entries[index + 1 :]]
    raise ErrRegistryEntryNotFound(registry="workspace", id=workspace_id)


def replace_workspace(entries: Sequence[WorkspaceInfo], info: WorkspaceInfo) -> list[WorkspaceInfo]:
    """The entry with ``info.id`` replaced by ``info`` (its name must be free)."""
    if any(w.name == info.name and w.id != info.id for w in entries):
        raise ErrRegistryEntryAlreadyExists(name=info.name)
    remove_workspace(entries, info.id)  # unknown id → registry.entry_not_found
    return [info if w.id == info.id else w for w in entries]
