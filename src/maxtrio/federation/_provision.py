"""Provisioners: create a workspace's or an installation's directories and starter files.

Workspace: ``<root>/.max/`` (mode 0700), ``max.json`` as ``{}`` (no trailing newline)
when missing — never overwritten — and a ``.max`` line in ``.gitignore`` (appended, after a
newline when the file does not end with one; not duplicated). Installation: its data
directory, mode 0700, idempotent. Provisioning happens on create only, never on reconnect
(docs/federation.md): a missing workspace directory is reported, not silently re-created.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from ._files import PUBLIC_FILE_MODE, make_private_dirs, write_text_atomic

DATA_DIR_NAME = ".max"
CONFIG_FILE_NAME = "max.json"
GITIGNORE_LINE = ".max"


@attrs.frozen
class WorkspaceProvisioning:
    """What :func:`provision_workspace` did."""

    root: Path
    created_config: bool
    gitignore_updated: bool


def provision_workspace(root: Path) -> WorkspaceProvisioning:
    """Create ``<root>/.max``, ``max.json`` and the ``.gitignore`` line (idempotent)."""
    root.mkdir(parents=True, exist_ok=True)
    data_dir = root / DATA_DIR_NAME
    make_private_dirs(data_dir)
    data_dir.chmod(0o700)  # an existing .max (e.g. from the reference) becomes private too
    return WorkspaceProvisioning(
        root=root,
        created_config=_create_config(root / CONFIG_FILE_NAME),
        gitignore_updated=_ignore_data_dir(root / ".gitignore"),
    )


def _create_config(path: Path) -> bool:
    """Write ``{}`` (no trailing newline, as the reference) unless the file exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PUBLIC_FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write("{}")
    return True


def _ignore_data_dir(path: Path) -> bool:
    """Add a ``.max`` line unless one is there; True when the file changed."""
    try:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        if any(line.strip() == GITIGNORE_LINE for line in text.splitlines()):
            return False
        prefix = "\n" if text and not text.endswith("\n") else ""
        write_text_atomic(path, f"{text}{prefix}{GITIGNORE_LINE}\n")
    except (OSError, UnicodeDecodeError):
        return False  # as the reference: a .gitignore we cannot update is not fatal
    return True


def provision_installation(data_dir: Path) -> Path:
    """Create an installation's data directory (and missing parents) with mode 0700."""
    make_private_dirs(data_dir)
    return data_dir
