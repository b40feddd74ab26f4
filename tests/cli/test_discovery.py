"""Finding your way from anywhere, through the real ``max`` in subprocesses: help for every
command at every level (saying where it runs), ``max --help`` listing every command with its
levels, ``max schema <connector>`` outside a workspace, and installation names accepted
wherever ``max schema`` takes a connector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Synced, assert_one_line_error, max_proc

#: The leveled commands and the levels ``max --help`` shows for them.
LEVELS = {
    "init": "[global, workspace]",
    "install": "[every level]",
    "connect": "[workspace]",
    "disconnect": "[workspace]",
    "schema": "[every level]",
    "sync": "[workspace, installation]",
    "search": "[every level]",
    "ls": "[global, workspace]",
    "status": "[every level]",
    "sql": "[workspace, installation]",
}


def _command_rows(help_text: str) -> dict[str, str]:
    """``name → its line`` for the command rows of ``max --help``."""
    rows: dict[str, str] = {}
    for line in help_text.splitlines():
        words = line.split()
        if line.startswith("  ") and not line.startswith("   ") and words:
            rows.setdefault(words[0], line)
    return rows


@pytest.mark.parametrize(
    "argv",
    [["help", "connect"], ["connect", "--help"], ["-h", "connect"], ["connect", "acme", "-h"]],
)
async def test_help_for_a_workspace_command_outside_a_workspace(
    tmp_path: Path, argv: list[str]
) -> None:
    result = await max_proc(*argv, cwd=tmp_path, home=tmp_path / "home")
    assert result.code == 0 and result.err == "", result
    assert result.out.startswith("Usage: max connect [OPTIONS] SOURCE")
    assert "Runs at: the workspace level." in result.out
    text = " ".join(result.out.split())  # help text is wrapped to the terminal
    assert (
        "Not available at the global level (the current target). Try: max -t <workspace> connect"
    ) in text


async def test_help_of_each_level_variant(synced: Synced) -> None:
    outside = synced.root.parent
    sync_help = await max_proc("sync", "--help", cwd=outside, home=synced.home)
    assert sync_help.code == 0
    assert sync_help.out.startswith("Usage: max sync [OPTIONS] [INSTALLATION]")
    text = " ".join(sync_help.out.split())
    assert (
        "Runs at: the workspace level (this usage); sync also runs at: installation "
        "(max -t <ws>/<inst>)."
    ) in text
    inside = await max_proc("help", "sync", cwd=synced.root, home=synced.home)
    assert inside.code == 0 and "Not available" not in inside.out
    ls_help = await max_proc("-t", "shared-ws/acme-1", "ls", "-h", cwd=outside, home=synced.home)
    assert ls_help.code == 0 and ls_help.out.startswith("Usage: max ls")
    assert "Not available at the installation level" in " ".join(ls_help.out.split())
    # without -h the level gate still answers as before
    gate = await max_proc("-g", "sync", cwd=outside, home=synced.home)
    assert gate.code == 2 and gate.err.startswith("Error: sync is not available at the global")


async def test_program_help_lists_every_command_with_its_levels(synced: Synced) -> None:
    outside = await max_proc("--help", cwd=synced.root.parent, home=synced.home)
    assert outside.code == 0
    rows = _command_rows(outside.out)
    for name, levels in LEVELS.items():
        assert name in rows and rows[name].endswith(levels), (name, rows.get(name))
    # the example commands of the program help are all listed
    for example in ("connect", "sync", "search"):
        assert f"max {example}" in outside.out and example in rows
    here, _, elsewhere = outside.out.partition("Commands of other levels")
    assert "\n  connect " in elsewhere and "\n  connect " not in here
    assert "Commands (this target is at the global level)" in here
    inside = await max_proc("-h", cwd=synced.root, home=synced.home)
    assert "Commands (this target is at the workspace level)" in inside.out
    assert "\n  connect " in inside.out.partition("Commands of other levels")[0]


async def test_schema_of_a_connector_outside_a_workspace(tmp_path: Path) -> None:
    home = tmp_path / "home"
    text = await max_proc("schema", "acme", cwd=tmp_path, home=home)
    assert text.code == 0, text
    assert text.out.startswith("Name: acme (6 entities, 1 root)")
    document = json.loads(
        (await max_proc("-g", "schema", "git", "-o", "json", cwd=tmp_path, home=home)).out
    )
    assert document["namespace"] == "git"
    unknown = await max_proc("schema", "nope", cwd=tmp_path, home=home)
    assert_one_line_error(unknown, contains='Connector "nope" not found in registry')


async def test_schema_accepts_installation_names(synced: Synced) -> None:
    by_connector = await max_proc("schema", "acme", cwd=synced.root, home=synced.home)
    assert by_connector.code == 0
    by_name = await max_proc("schema", "acme-1", cwd=synced.root, home=synced.home)
    assert (by_name.code, by_name.out) == (0, by_connector.out)
    outside = synced.root.parent
    by_path = await max_proc("schema", "shared-ws/acme-1", cwd=outside, home=synced.home)
    assert (by_path.code, by_path.out) == (0, by_connector.out)
    by_url = await max_proc(
        "schema", "max://@/shared-ws/acme-1", "-o", "json", cwd=outside, home=synced.home
    )
    assert json.loads(by_url.out)["namespace"] == "acme"
    targeted = await max_proc("-t", "shared-ws", "schema", "acme-1", cwd=outside, home=synced.home)
    assert (targeted.code, targeted.out) == (0, by_connector.out)
    installation = synced.root / ".max" / "installations" / "acme-1"
    here = await max_proc("schema", "acme-1", cwd=installation, home=synced.home)
    assert (here.code, here.out) == (0, by_connector.out)
    missing = await max_proc("schema", "shared-ws/nope-1", cwd=outside, home=synced.home)
    assert_one_line_error(missing, contains='Connector "shared-ws/nope-1" not found in registry')
