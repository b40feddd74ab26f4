"""The git, files and claude-code connectors build their definitions on first use.

A health check (``max ls``, ``max status``) imports a connector package, takes its
``connector``, calls ``initialise`` and asks the installation's health: none of that may import
the modules the definition is built from (seeder, loaders, resolvers, operations, onboarding,
change feed; the SDK's definition and onboarding modules) — the start-up budget of
``tests/cli/test_import_budget.py``, per connector. Each case runs in a fresh interpreter
(``sys.modules`` is the evidence), against a real ``git init`` repository or a real directory;
then ``connector.definition`` is built and must be the connector the package exported before:
its name, version, schema, change feed and ``*ConnectorDef`` name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

_PROBE = """
import json, sys
import trio
package_name, config = sys.argv[1], json.loads(sys.argv[2])
SHARED = set(json.loads(sys.argv[4]))
from importlib import import_module
from maxtrio.connector import InMemoryCredentialStore, Platform

package = import_module(package_name)
connector = package.connector
platform = Platform.for_connector(connector, InMemoryCredentialStore())
installation = connector.initialise(config, platform)
status = trio.run(installation.health)
before = sorted(m for m in sys.modules if m.startswith(package_name + ".") or m in SHARED)
definition = connector.definition
after = sorted(m for m in sys.modules if m.startswith(package_name + "."))
surface = [name for name in package.__all__ if getattr(package, name, None) is None]
print(json.dumps({
    "health": status.state.value, "reason": status.reason, "before": before, "after": after,
    "name": definition.name, "version": definition.version,
    "same_schema": definition.schema is connector.schema,
    "entities": sorted(e.name for e in definition.schema.entities),
    "exported": definition is getattr(package, sys.argv[3]),
    "change_feed": definition.change_feed is not None,
    "unresolved": surface,
}))
"""

#: package, its ConnectorDef's name, the definition modules a health check must not import
#: (relative to the package), whether it has a change feed, its entities.
CONNECTORS = {
    "git": (
        "maxtrio.connectors.git",
        "GitConnectorDef",
        [
            "_definition",
            "_seeder",
            "_loaders",
            "_resolvers",
            "_operations",
            "_onboarding",
            "_feed",
            "_records",
        ],
        True,
        ["GitAuthor", "GitBranch", "GitCommit", "GitRepository", "GitTag"],
    ),
    "files": (
        "maxtrio.connectors.files",
        "FilesConnectorDef",
        ["_definition", "_seeder", "_loaders", "_resolvers", "_onboarding", "_tree"],
        False,
        ["FilesDirectory", "FilesFile", "FilesRoot"],
    ),
    "claude-code": (
        "maxtrio.connectors.claude_code",
        "ClaudeCodeConnectorDef",
        ["_definition", "_seeder", "_loaders", "_resolvers", "_onboarding", "_feed", "_logs"],
        True,
        ["ClaudeMessage", "ClaudeProject", "ClaudeRoot", "ClaudeSession", "ClaudeToolCall"],
    ),
}


#: What a definition is built with beyond the connector's own modules: the SDK's definition,
#: onboarding and plan/loader types, and the files connector's pattern matcher (no patterns
#: configured, none to check).
SHARED = [
    "maxtrio.connector._definition",
    "maxtrio.connector._onboarding",
    "maxtrio.connector._onboarding_runner",
    "maxtrio.core._plan",
    "maxtrio.core._loader",
    "pathspec",
]


def _config(name: str, tmp_path: Path) -> dict[str, str]:
    if name == "git":
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, capture_output=True)
        return {"path": str(tmp_path)}
    return {"root": str(tmp_path)}


@pytest.mark.parametrize("name", sorted(CONNECTORS))
def test_health_check_imports_no_definition_module(name: str, tmp_path: Path) -> None:
    package, def_name, deferred, has_feed, entities = CONNECTORS[name]
    config = _config(name, tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, package, json.dumps(config), def_name, json.dumps(SHARED)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    probe = json.loads(done.stdout)

    assert (probe["health"], probe["reason"]) == ("healthy", None)  # initialise's health ran
    forbidden = {f"{package}.{module}" for module in deferred}
    assert (forbidden | set(SHARED)) & set(probe["before"]) == set()
    assert f"{package}._connector" in probe["before"]
    assert f"{package}._definition" in probe["after"]  # built now, on first use

    assert probe["name"] == name
    assert probe["version"] == "0.1.0"
    assert probe["same_schema"] and probe["exported"]
    assert probe["entities"] == entities
    assert probe["change_feed"] is has_feed
    assert probe["unresolved"] == []  # every name of __all__ still loads
