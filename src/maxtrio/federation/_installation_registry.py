"""A workspace's installation registry: ``max.json`` or a dict (ephemeral).

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

import builtins
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

from maxtrio.core import MaxError

from ._errors import ErrRegistryEntryAlreadyExists, ErrRegistryEntryNotFound
from ._files import invalid_file, locked, read_json_object, write_json
from ._names import installation_name_problem
from ._provision import CONFIG_FILE_NAME, DATA_DIR_NAME
from ._records import InstallationInfo, RecordProblem, record_to_wire, structure_record


class InstallationRegistry(Protocol):
    """Where a workspace's installations are recorded. Methods block (run them in a thread)."""

    def list(self) -> list[InstallationInfo]:
        """Every installation, sorted by name."""
        ...

    def get(self, installation_id: str) -> InstallationInfo | None: ...

    def find(self, name_or_id: str) -> InstallationInfo | None:
        """A name match first, else an id match (MAXTRIO: names before ids)."""
        ...

    def add(self, info: InstallationInfo, *, prepare: Callable[[], None] | None = None) -> None:
        """Insert; an existing name raises ``registry.entry_already_exists``.

        ``prepare`` runs under the registry's lock after the checks and before the entry is
        written (e.g. writing the installation's files); if it raises, nothing is added.
        """
        ...

    def remove(self, installation_id: str) -> InstallationInfo:
        """Remove by id; unknown → ``registry.entry_not_found``."""
        ...

    def replace(self, info: InstallationInfo) -> None:
        """Put ``info`` in place of the entry with its id (``max connect --update``);
        unknown → ``registry.entry_not_found``."""
        ...


class FileInstallationRegistry:
    """``<root>/max.json`` of one workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / CONFIG_FILE_NAME
        self.lock_path = root / DATA_DIR_NAME / "max.json.lock"

    def __repr__(self) -> str:
        return f"FileInstallationRegistry({str(self.path)!r})"

    def list(self) -> list[InstallationInfo]:
        return sorted(self._read()[1], key=lambda i: i.name)

    def get(self, installation_id: str) -> InstallationInfo | None:
        return next((i for i in self._read()[1] if i.id == installation_id), None)

    def find(self, name_or_id: str) -> InstallationInfo | None:
        return find_installation(self._read()[1], name_or_id)

    def add(self, info: InstallationInfo, *, prepare: Callable[[], None] | None = None) -> None:
        with locked(self.lock_path):
            document, entries = self._read()
            updated = add_installation(entries, info)
            if prepare is not None:
                prepare()
            self._write(document, updated)

    def remove(self, installation_id: str) -> InstallationInfo:
        with locked(self.lock_path):
            document, entries = self._read()
            removed, kept = remove_installation(entries, installation_id)
            self._write(document, kept)
            return removed

    def replace(self, info: InstallationInfo) -> None:
        with locked(self.lock_path):
            document, entries = self._read()
            self._write(document, replace_installation(entries, info))

    # -- the file --------------------------------------------------------------------------------

    def _read(self) -> tuple[dict[str, Any], builtins.list[InstallationInfo]]:
        document = read_json_object(self.path)
        if document is None:
            return {}, []
        raw = document.get("installations", {})
        if not isinstance(raw, dict):
            raise self._invalid('"installations" must be an object')
        return document, [self._entry(name, entry) for name, entry in raw.items()]

    def _entry(self, name: str, entry: object) -> InstallationInfo:
        problem = installation_name_problem(name)
        if problem is not None:
            raise self._invalid(f'installation name "{name}": {problem}')
        if not isinstance(entry, dict):
            raise self._invalid(f'installations["{name}"] must be an object')
        missing = [key for key in REQUIRED_KEYS if key not in entry]
        if missing:
            raise self._invalid(
                f'installations["{name}"] is malformed: expected at least the keys '
                f"[{','.join(REQUIRED_KEYS)}], missing {', '.join(missing)}"
            )
        try:
            info = structure_record({**entry, "name": name}, InstallationInfo)
        except RecordProblem as problem:
            raise self._invalid(f'installations["{name}"]: {problem}') from None
        if info.deployment.data_dir is None:
            return info
        data_dir = os.path.normpath(self.root / info.deployment.data_dir)
        return attrs.evolve(info, deployment=attrs.evolve(info.deployment, data_dir=data_dir))

    def _write(self, document: dict[str, Any], entries: Sequence[InstallationInfo]) -> None:
        installations: dict[str, Any] = {}
        for info in entries:
            data_dir = info.deployment.data_dir
            if data_dir is not None and os.path.isabs(data_dir):
                data_dir = os.path.relpath(data_dir, self.root)
            stored = attrs.evolve(info, deployment=attrs.evolve(info.deployment, data_dir=data_dir))
            installations[info.name] = record_to_wire(stored)
        write_json(self.path, {**document, "installations": installations})

    def _invalid(self, problem: str) -> MaxError:
        return invalid_file(self.path, problem)


class InMemoryInstallationRegistry:
    """The same contract in a list (ephemeral workspaces, tests)."""

    def __init__(self, entries: Iterable[InstallationInfo] = ()) -> None:
        self._entries: list[InstallationInfo] = []
        for info in entries:
            self.add(info)

    def list(self) -> list[InstallationInfo]:
        return sorted(self._entries, key=lambda i: i.name)

    def get(self, installation_id: str) -> InstallationInfo | None:
        return next((i for i in self._entries if i.id == installation_id), None)

    def find(self, name_or_id: str) -> InstallationInfo | None:
        return find_installation(self._entries, name_or_id)

    def add(self, info: InstallationInfo, *, prepare: Callable[[], None] | None = None) -> None:
        updated = add_installation(self._entries, info)
        if prepare is not None:
            prepare()
        self._entries = updated

    def remove(self, installation_id: str) -> InstallationInfo:
        removed, self._entries = remove_installation(self._entries, installation_id)
        return removed

    def replace(self, info: InstallationInfo) -> None:
        self._entries = replace_installation(self._entries, info)


# -- the rules both share ---------------------------------------------------------------------

REQUIRED_KEYS = ("spec", "deployment", "locator")


def find_installation(
    entries: Sequence[InstallationInfo], name_or_id: str
) -> InstallationInfo | None:
    by_name = next((i for i in entries if i.name == name_or_id), None)
    return by_name or next((i for i in entries if i.id == name_or_id), None)


def add_installation(
    entries: Sequence[InstallationInfo], info: InstallationInfo
) -> list[InstallationInfo]:
    if any(i.name == info.name for i in entries):
        raise ErrRegistryEntryAlreadyExists(name=info.name)
    if any(i.id == info.id for i in entries):
        raise ErrRegistryEntryAlreadyExists(name=info.id)
    return [*entries, info]


def remove_installation(
    entries: Sequence[InstallationInfo], installation_id: str
) -> tuple[InstallationInfo, list[InstallationInfo]]:
    for index, existing in enumerate(entries):
        if existing.id == installation_id:
            return existing, [*entries[:index], *entries[index + 1 :]]
    raise ErrRegistryEntryNotFound(registry="installation", id=installation_id)


def replace_installation(
    entries: Sequence[InstallationInfo], info: InstallationInfo
) -> list[InstallationInfo]:
    """``entries`` with the one of ``info``'s id replaced by ``info`` (same place)."""
    _, kept = remove_installation(entries, info.id)
    index = next((i for i, e in enumerate(entries) if e.id == info.id), len(kept))
    return [*kept[:index], info, *kept[index:]]
