"""Which registered workspace a directory is: identity by path, kept across moves.

A workspace is identified by its **root path** (the directory holding ``max.json`` and
``.max/``), not by its name. The name in ``workspaces.json`` is the handle of Max URLs
(``max://@/<name>``): the directory's base name, or ``<base>-2``, ``<base>-3``… when another
directory already has it — so ``/w/a/proj`` and ``/w/b/proj`` coexist as ``proj`` and
``proj-2``.

Each workspace also keeps its id in ``.max/workspace.json`` (``{"id": "…"}``, written by ``max
init`` and, for workspaces made before it existed, the first time they are looked up). That is
how a **moved** workspace is recognised: its path is not registered, but its id is, under a
path that no longer holds that workspace — the registry entry is re-keyed to the new path (and
re-named after the new base name when that is free). A **copy** (``cp -r``; the original
still holds the same id) is not the registered workspace: it is reported as unregistered until
``max init --force .`` registers it as a workspace of its own (a new id). A workspace from
before the id file that was moved is recognised by its base name when the registered directory
of that name is gone.

Everything here blocks (file reads, registry writes under its lock): run it in a thread, or
where blocking is fine (targeting before a command starts).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from maxtrio.core import MaxError

from ._files import write_json
from ._provision import CONFIG_FILE_NAME, DATA_DIR_NAME
from ._records import DeploymentConfig, WorkspaceInfo, WorkspaceSpec
from ._workspace_registry import WorkspaceRegistry

IDENTITY_FILE_NAME = "workspace.json"


def identity_file(root: Path) -> Path:
    return root / DATA_DIR_NAME / IDENTITY_FILE_NAME


def read_workspace_id(root: Path) -> str | None:
    """The id kept in ``<root>/.max/workspace.json``; None when absent or unreadable."""
    try:
        value = json.loads(identity_file(root).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) and found else None


def write_workspace_id(root: Path, workspace_id: str) -> None:
    """Keep ``workspace_id`` in ``<root>/.max/workspace.json`` (0600, atomically)."""
    write_json(identity_file(root), {"id": workspace_id}, private=True)


def is_workspace(root: Path) -> bool:
    return (root / CONFIG_FILE_NAME).exists() and (root / DATA_DIR_NAME).exists()


def unique_name(base: str, entries: Sequence[WorkspaceInfo], *, owner: str | None = None) -> str:
    """``base``, or ``base-2``, ``base-3``… — the first name no other workspace has
    (``owner``: the id whose own name does not count)."""
    taken = {w.name for w in entries if w.id != owner}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def rooted(info: WorkspaceInfo, root: Path, name: str) -> WorkspaceInfo:
    """``info`` moved to ``root`` under ``name`` (id and connection time kept)."""
    return WorkspaceInfo(
        id=info.id,
        name=name,
        connected_at=info.connected_at,
        config=DeploymentConfig(
            info.config.strategy, os.fspath(root / DATA_DIR_NAME), info.config.extra
        ),
        spec=WorkspaceSpec(name),
    )


def moved_entry(
    root: Path, entries: Sequence[WorkspaceInfo], *, by_name: bool = True
) -> WorkspaceInfo | None:
    """The registered workspace ``root`` was moved from, if any (see the module docstring);
    ``by_name``: also the guess for workspaces from before the id file."""
    kept_id = read_workspace_id(root)
    if kept_id is not None:
        entry = next((w for w in entries if w.id == kept_id), None)
        if entry is None or entry.root == root:
            return None
        if is_workspace(entry.root) and read_workspace_id(entry.root) in (kept_id, None):
            return None  # the original is still there: this is a copy
        return entry
    if not by_name:
        return None
    # from before the id file: a registered directory of the same name that is gone
    entry = next((w for w in entries if w.name == root.name), None)
    if entry is not None and entry.root != root and not is_workspace(entry.root):
        return entry
    return None


def identify(root: Path, registry: WorkspaceRegistry) -> WorkspaceInfo | None:
    """The registered workspace at ``root`` (a canonical project root), re-keying a moved one;
    None when ``root`` is not registered (or is a copy of a registered workspace)."""
    entries = registry.list()
    entry = next((w for w in entries if w.root == root), None)
    if entry is not None:
        if read_workspace_id(root) is None:
            _keep_id(root, entry.id)
        return entry
    moved = moved_entry(root, entries)
    if moved is None:
        return None
    return rekey(registry, moved, root)


def rekey(registry: WorkspaceRegistry, entry: WorkspaceInfo, root: Path) -> WorkspaceInfo:
    """Point ``entry`` at ``root`` (its new place); named after the new base name when free."""
    name = entry.name
    if root.name != entry.name:
        free = unique_name(root.name, registry.list(), owner=entry.id)
        name = free if free == root.name else entry.name
    updated = rooted(entry, root, name)
    registry.replace(updated)
    _keep_id(root, entry.id)
    return updated


def _keep_id(root: Path, workspace_id: str) -> None:
    try:
        write_workspace_id(root, workspace_id)
    except MaxError:  # a read-only checkout still works: it is only recognised by path
        return
