"""Provisioners: create a workspace's or an installation's directories and starter files.

Workspace (§10.3): ``<root>/.max/`` (mode 0700), ``max.json`` as ``{}`` (no trailing newline)
when missing — never overwritten — and a ``.max`` line in ``.gitignore`` (appended, after a
newline when the file does not end with one; not duplicated). Installation (§12.4): its data
directory, mode 0700, idempotent. Provisioning happens on create only, never on reconnect
(MAXTRIO §10.5): a missing workspace directory is reported, not silently re-created.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from maxtrio.connector import make_private_dirs

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
    raise NotImplementedError


def provision_installation(data_dir: Path) -> Path:
    """Create an installation's data directory (and missing parents) with mode 0700."""
    make_private_dirs(data_dir)
    return data_dir
