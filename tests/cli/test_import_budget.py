"""What a cheap command imports, in direct mode: the start-up budget (``docs/cli.md``).

Each command runs as users run it in direct mode — ``python -m maxtrio.cli …`` (what the
launcher runs in its own process) in a real workspace, ``MAX_NO_DAEMON=1`` — and the modules it
imported are read from ``sys.modules`` when the process exits (``-X importtime`` would not do:
it reports only ``import`` statements, not the modules that ``importlib.import_module`` loads —
which is how every lazy package surface of maxtrio loads its names). The lists name what must
not load: a later change that imports, say, the PostgreSQL driver or the sync executor at the
top of a module on these paths fails here instead of slowing every command down unnoticed.
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
    "msgspec",  # decodes upstream pages (connector.decode_json): loaded by the first page
    "psycopg",  # only for a PostgreSQL store
    "maxtrio.storage._pg_database",
    "hypercorn",
    "starlette",
    "datasette",
    "maxtrio.flows",
    "maxtrio.remote",
    "maxtrio.query._planner",
    "importlib.metadata",  # connectors' entry points are read from their metadata folders
    "tomllib",  # only when a connector folder is there
    "csv",  # only for -o csv
    "importlib.resources",  # only for llm-bootstrap's guide
    "decimal",  # only to print a fraction
    "difflib",  # only to suggest a name for one that is not found
    "maxtrio.connector._folders",  # only when a connector folder is there
}
#: The modules of other commands: the command table imports a command's module when it is
#: looked up (only the program help imports them all).
OTHER_COMMANDS = {
    "maxtrio.cli._acme_commands",
    "maxtrio.cli._flows_commands",
    "maxtrio.cli._cmd_browse",
    "maxtrio.cli._cmd_connect",
    "maxtrio.cli._cmd_daemon",
    "maxtrio.cli._cmd_init",
    "maxtrio.cli._cmd_install",
    "maxtrio.cli._cmd_mcp",
    "maxtrio.cli._cmd_schema",
    "maxtrio.cli._cmd_serve",
    "maxtrio.cli._cmd_sql",
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
#: What reading a local installation leaves alone (``search`` in direct mode opens it for
#: reading only, ``WorkspaceMax.reading``): the sync machinery and its stores, the connector
#: definition beyond its schema (the acme connector's is deferred), remote installations.
READING = NEVER | {
    "rich",
    "httpx",
    "httpcore",
    "maxtrio.execution._executor",
    "maxtrio.execution._sync",
    "maxtrio.execution._stores",
    "maxtrio.execution._task",
    "maxtrio.storage._installation_store",
    "maxtrio.storage._task_store",
    "cattrs",  # the registries and health read their records by hand; no task is read
    "maxtrio.connector._definition",
    "maxtrio.connector._onboarding",
    "maxtrio.connectors.acme._definition",
    "maxtrio.connectors.acme._change_feed",
    "maxtrio.connectors.acme._operations",
    "maxtrio.core._plan",
    "maxtrio.core._loader",
    "maxtrio.federation._remote_deployer",
}
#: ``ls``/``status`` of a synced workspace check health (the connector runs, its own HTTP
#: client included) without opening the installation: no store, no executor, no httpx, no
#: connector definition (only its schema, credentials and ``initialise``), no search output.
WITH_INSTALLATION = READING | {
    "maxtrio.storage._sqlite_engine",
    "maxtrio.core._engine",  # storage re-exports the query types lazily
    "maxtrio.query",
    "maxtrio.cli._search_output",
    "maxtrio.cli._stored_lines",
}
#: ``ls`` reads no data at all; ``status`` reads the last sync from ``data.db`` (apsw).
NO_DATA = WITH_INSTALLATION | {"apsw", "maxtrio.sql"}

_RUN_AND_LIST = """
import atexit, runpy, sys
listing = sys.argv[1]
def _write():
    with open(listing, "w") as out:
        out.write("\\n".join(sorted(n for n, m in sys.modules.items() if m is not None)))
atexit.register(_write)
sys.argv = ["max", *sys.argv[2:]]
runpy.run_module("maxtrio.cli", run_name="__main__")
"""


def imported(argv: list[str], cwd: Path, home: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(MAX_HOME=str(home), MAX_NO_DAEMON="1", NO_COLOR="1")
    listing = home.parent / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST, str(listing), *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(listing.read_text().splitlines())


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
    if argv != ["--help"]:
        assert loaded(modules, OTHER_COMMANDS | {"maxtrio.cli._cmd_sync"}) == set()


@pytest.mark.parametrize("argv", [["ls"], ["status"]], ids=["ls", "status"])
def test_ls_and_status_of_a_synced_workspace_stay_in_their_budget(
    synced: Synced, argv: list[str]
) -> None:
    modules = imported(argv, synced.root, synced.home)
    assert "maxtrio.connectors.acme._connection" in modules  # the health check ran it
    assert loaded(modules, NO_DATA if argv == ["ls"] else WITH_INSTALLATION) == set()
    others = OTHER_COMMANDS | {"maxtrio.cli._cmd_search"}
    assert (
        loaded(modules, others if argv == ["status"] else others | {"maxtrio.cli._cmd_sync"})
        == set()
    )
    if argv == ["status"]:
        assert "maxtrio.sql._sync_report" in modules  # the last sync, read from data.db


def test_search_of_a_synced_workspace_reads_without_the_sync_machinery(synced: Synced) -> None:
    modules = imported(["search", "acme-1", "AcmeTask", "--limit", "3"], synced.root, synced.home)
    assert "maxtrio.storage._sqlite_engine" in modules  # the rows were read
    assert "maxtrio.connectors.acme._connection" in modules  # the connector was started
    # no health asked, no --filter given: neither the node health nor the filter grammar
    without_filter = {"maxtrio.federation._status", "maxtrio.query._grammar", "maxtrio.query._ast"}
    assert loaded(modules, READING | without_filter) == set()
    assert (
        loaded(modules, OTHER_COMMANDS | {"maxtrio.cli._cmd_sync", "maxtrio.cli._cmd_ls"}) == set()
    )
