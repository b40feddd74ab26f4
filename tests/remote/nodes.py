"""A remote node for the tests: a workspace in a ``MAX_HOME`` of its own, connected to an Acme
server and synced (``acme-1``) with real ``max`` processes."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import max_sync_run
from tests.daemon.conftest import Acme, connect_args


def synced_workspace(base: Path, acme: Acme) -> tuple[Path, Path]:
    """``base/home`` (MAX_HOME) and ``base/team`` (the workspace, ``acme-1`` synced)."""
    home, root = base / "home", base / "team"
    assert max_sync_run("init", str(root), cwd=base, home=home).code == 0
    for args in (connect_args(acme, "--no-input"), ["sync", "acme-1"]):
        result = max_sync_run(*args, cwd=root, home=home)
        assert result.code == 0, result
    return home, root
