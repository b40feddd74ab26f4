"""What a cheap command imports, in direct mode: the start-up budget (``docs/cli.md``).

Each command runs as users run it in direct mode — ``python -X importtime -m maxtrio.cli …``
(what the launcher execs) in a real workspace, ``MAX_NO_DAEMON=1`` — and the modules it
imported are read from ``-X importtime``. The lists name what must not load: a later change
that imports, say, the PostgreSQL driver or the sync executor at the top of a module on these
paths fails here instead of slowing every command down unnoticed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Synced

#: Never imported by a command that neither syncs nor draws progress nor serves.
NEVER = {
    "pygments",  # httpx's own CLI imports it (and rich): maxtrio blocks that import
    "h2",  # httpcore's HTTP/2 classes import it: maxtrio blocks those (no client speaks it)
    "hpack",
    "psycopg",  # only for a PostgreSQL store
    "maxtrio.storage._pg_database",
    "hypercorn",
    "starlette",
    "datasette",
    "maxtrio.flows",
    "maxtrio.remote",
    "maxtrio.query._planner",
}
#: Nor by a command that touches no installation (help, completion, an empty workspace).
NO_INSTALLATION = NEVER | {
    "httpx",
    "rich",
    "apsw",
    "maxtrio.connector._definition",
    "maxtrio.connectors",
    "maxtrio.execution._executor",
    "maxtrio.execution._sync",
    "maxtrio.storage",
    "maxtrio.sql",
}
#: ``ls``/``status`` of a synced workspace check health (the connector runs, its HTTP client
#: included) but run no sync and draw nothing.
WITH_INSTALLATION = NEVER | {"rich", "maxtrio.sql._sync_report"}


def imported(argv: list[str], cwd: Path, home: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(MAX_HOME=str(home), MAX_NO_DAEMON="1", NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "maxtrio.cli", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {row[2].strip() for row in rows[1:]}


def loaded(modules: set[str], forbidden: set[str]) -> set[str]:
    """The forbidden modules (or their submodules) that were imported."""
    return {m for m in modules for f in forbidden if m == f or m.startswith(f + ".")}


@pytest.fixture(scope="module")
def empty_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("budget")
    home, root = base / "home", base / "ws"
    env = {**os.environ, "MAX_HOME": str(home), "MAX_NO_DAEMON": "1"}
    subprocess.run([sys.executable, "-m", "maxtrio.cli", "init", str(root)], env=env, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    return home, root


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["completion", "bash"], ["ls"], ["status"], ["-g", "ls"]],
    ids=["help", "completion", "ls", "status", "global-ls"],
)
def test_commands_without_installations_import_no_stack(
    empty_workspace: tuple[Path, Path], argv: list[str]
) -> None:
    home, root = empty_workspace
    modules = imported(argv, root, home)
    assert "trio" in modules and "asyncclick" in modules  # the run really happened
    assert loaded(modules, NO_INSTALLATION) == set()


@pytest.mark.parametrize("argv", [["ls"], ["status"]], ids=["ls", "status"])
def test_ls_and_status_of_a_synced_workspace_stay_in_their_budget(
    synced: Synced, argv: list[str]
) -> None:
    modules = imported(argv, synced.root, synced.home)
    assert "maxtrio.connectors.acme._connection" in modules  # the health check ran it
    assert loaded(modules, WITH_INSTALLATION) == set()
