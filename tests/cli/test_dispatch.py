"""Dispatch and targeting, in-process against the synced workspace: the level
gate's exact texts, unknown commands, bare ``max``, help, ``-t``/``-g``/``MAX_TARGET`` and
every way a target resolves or fails. Ports the reference's ``cli.smoke.test.ts``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maxtrio.cli._targeting import GlobalOptions, MissingTargetValue, preparse

from .conftest import Synced, assert_one_line_error, invoke

INSTALLATION = "shared-ws/acme-1"


# -- the pre-parse ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "target", "global_", "debug", "color", "rest"),
    [
        (["-t", "ws", "ls"], "ws", False, False, None, ["ls"]),
        (["ls", "--target", "ws/i"], "ws/i", False, False, None, ["ls"]),
        (["--target=max://@/ws", "status"], "max://@/ws", False, False, None, ["status"]),
        (["-g", "ls", "--debug"], None, True, True, None, ["ls"]),
        (["-t", "a", "-t", "b", "ls"], "a", False, False, None, ["ls"]),
        (["--no-color", "search", "x", "--color"], None, False, False, True, ["search", "x"]),
        (["search", "i", "--", "-t"], None, False, False, None, ["search", "i", "--", "-t"]),
        (["acme", "start", "-t", "x"], None, False, False, None, ["acme", "start", "-t", "x"]),
    ],
)
def test_preparse_takes_global_options_anywhere(
    argv: list[str],
    target: str | None,
    global_: bool,
    debug: bool,
    color: bool | None,
    rest: list[str],
) -> None:
    options, remaining = preparse(argv)
    assert (options.target, options.global_, options.debug, options.color) == (
        target,
        global_,
        debug,
        color,
    )
    assert remaining == rest


def test_target_precedence() -> None:
    assert GlobalOptions(target="ws", global_=True).effective_target({}) == "ws"
    assert GlobalOptions(global_=True).effective_target({"MAX_TARGET": "ws"}) == "@"
    assert GlobalOptions().effective_target({"MAX_TARGET": "ws"}) == "ws"
    assert GlobalOptions().effective_target({}) is None
    with pytest.raises(MissingTargetValue):
        preparse(["ls", "-t"])


# -- the level gate ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "command", "expected"),
    [
        ("@", ["sync"], [
            "Error: sync is not available at the global level.",
            "  Available at: workspace (max -t <workspace>), "
            "installation (max -t <ws>/<inst>)",
        ]),
        ("@", ["connect", "acme"], [
            "Error: connect is not available at the global level.",
            "  Try: max -t <workspace> connect",
        ]),
        ("@", ["disconnect", "acme-1"], [
            "Error: disconnect is not available at the global level.",
            "  Try: max -t <workspace> disconnect",
        ]),
        (INSTALLATION, ["connect", "acme"], [
            "Error: connect is not available at the installation level.",
            "  Try: max -t <workspace> connect",
        ]),
        (INSTALLATION, ["ls"], [
            "Error: ls is not available at the installation level.",
            "  Available at: global (max -g), workspace (max -t <workspace>)",
        ]),
        (INSTALLATION, ["init"], [
            "Error: init is not available at the installation level.",
            "  Available at: global (max -g), workspace (max -t <workspace>)",
        ]),
    ],
)  # fmt: skip
async def test_commands_at_the_wrong_level(
    shared_home: Synced, target: str, command: list[str], expected: list[str]
) -> None:
    result = await invoke("-t", target, *command, cwd=shared_home.root.parent)
    assert (result.code, result.out, result.err.splitlines()) == (2, "", expected)


async def test_unknown_command_lists_the_commands_of_the_level(shared_home: Synced) -> None:
    result = await invoke("-t", "max://@", "bogus", cwd=shared_home.root)
    assert result.code == 2 and result.out == ""
    assert result.err.splitlines() == [
        "Error: Unknown command bogus.",
        "  Available commands: init, install, connector, schema, search, ls, status, "
        "llm-bootstrap, help, completion, acme, flows, daemon",
        "  Run max -h for help.",
    ]
    workspace = await invoke("bogus", cwd=shared_home.root)
    assert "Available commands: init, install, connect, disconnect, connector, schema, sync, " in (
        workspace.err
    )
    option = await invoke("--bogus", cwd=shared_home.root)
    assert option.code == 2 and option.err.startswith("Error: No such option '--bogus'.")


# -- smoke (reference cli.smoke.test.ts) ------------------------------------------------------


async def test_schema_at_workspace_and_installation_level(shared_home: Synced) -> None:
    workspace = await invoke("-t", "max://@/shared-ws", "schema", "acme")
    assert workspace.code == 0 and "AcmeUser" in workspace.out
    installation = await invoke("-t", f"max://@/{INSTALLATION}", "schema")
    assert installation.code == 0 and installation.out == workspace.out


async def test_ls_at_every_level(shared_home: Synced) -> None:
    global_ = await invoke("-t", "max://@", "ls")
    assert global_.code == 0
    assert "shared-ws" in global_.out and "max://@/shared-ws" in global_.out
    workspace = await invoke("-t", "max://@/shared-ws", "ls")
    assert "acme-1" in workspace.out and "max://@/shared-ws/acme-1" in workspace.out
    installation = await invoke("-t", f"max://@/{INSTALLATION}", "ls")
    assert installation.code == 2


async def test_status_at_every_level_and_bare_max(shared_home: Synced) -> None:
    global_ = await invoke("-t", "max://@", "status")
    assert global_.out.splitlines()[:4] == [
        "Node: max://@  [global]",
        "",
        "  Status:      ● healthy",
        "  Workspaces:  1",
    ]
    assert global_.out.splitlines()[5].startswith("  shared-ws            ● healthy")
    workspace = await invoke("-t", "max://@/shared-ws", "status")
    assert "shared-ws" in workspace.out and "Status:" in workspace.out and "acme-1" in workspace.out
    installation = await invoke("-t", f"max://@/{INSTALLATION}", "status")
    lines = installation.out.splitlines()
    assert lines[:5] == [
        "Node: max://@/shared-ws/acme-1  [installation]",
        "",
        "  Connector:  acme",
        "  Status:     ● healthy",
        "  Schema:     6 entities, 43 fields",
    ]
    assert lines[5].startswith("  Last sync:  ") and lines[5].endswith(" entities synced)")
    bare = await invoke("-t", "max://@/shared-ws")
    assert bare == workspace
    in_dir = await invoke(cwd=shared_home.root)
    assert in_dir.out == workspace.out


async def test_help_lists_the_commands_of_the_level(shared_home: Synced) -> None:
    global_help = await invoke("-g", "-h")
    here, _, elsewhere = global_help.out.partition("Commands of other levels")
    assert global_help.code == 0 and "\n  connect " not in here and "\n  connect " in elsewhere
    assert "Target: max://@  [global]" in global_help.out
    workspace_help = await invoke("-h", cwd=shared_home.root)
    assert "\n  connect " in workspace_help.out
    search_help = await invoke("-h", "search", cwd=shared_home.root)
    assert search_help.out.startswith("Usage: max search [OPTIONS] INSTALLATION ENTITY")
    assert (await invoke("help", "search", cwd=shared_home.root)).out == search_help.out
    assert (await invoke("help", cwd=shared_home.root)).out == workspace_help.out
    level = await invoke("-g", "help", "sync")  # help works at every level and says where
    assert level.code == 0 and level.out.startswith("Usage: max sync [OPTIONS] [INSTALLATION]")
    assert "Not available at the global level" in level.out


# -- targeting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cwd", "target", "header"),
    [
        ("outside", "shared-ws", "Node: max://@/shared-ws  [workspace]"),
        ("outside", "shared-ws/acme-1", "Node: max://@/shared-ws/acme-1  [installation]"),
        ("outside", "max://@/shared-ws/acme-1", "Node: max://@/shared-ws/acme-1  [installation]"),
        ("outside", "@", "Node: max://@  [global]"),
        ("workspace", "acme-1", "Node: max://@/shared-ws/acme-1  [installation]"),
        ("workspace", "@", "Node: max://@  [global]"),
        ("installation", "max://@/shared-ws", "Node: max://@/shared-ws  [workspace]"),
        ("workspace", "max://@/shared-ws//acme-1/", "Node: max://@/shared-ws/acme-1  [inst"),
    ],
)
async def test_targets_resolve_from_the_current_directory(
    shared_home: Synced, cwd: str, target: str, header: str
) -> None:
    directory = _directory(shared_home, cwd)
    result = await invoke("-t", target, "status", cwd=directory)
    assert result.code == 0, result
    assert result.out.splitlines()[0].startswith(header)


def _directory(synced: Synced, kind: str) -> Path:
    if kind == "outside":
        return synced.root.parent
    if kind == "workspace":
        return synced.root
    return synced.root / ".max" / "installations" / "acme-1"


async def test_targets_by_id(shared_home: Synced) -> None:
    ids = json.loads((await invoke("-g", "ls", "-o", "json")).out)
    workspace_id = ids["workspaces"][0]["id"]
    by_id = await invoke("-t", f"max://@/{workspace_id}", "ls", "-o", "json")
    installation_id = json.loads(by_id.out)["installations"][0]["id"]
    status = await invoke("-t", f"max://@/{workspace_id}/{installation_id}", "status", "-o", "json")
    assert json.loads(status.out)["name"] == "acme-1"


async def test_installation_directory_is_the_installation_level(shared_home: Synced) -> None:
    result = await invoke("status", cwd=_directory(shared_home, "installation"))
    assert result.out.splitlines()[0] == "Node: max://@/shared-ws/acme-1  [installation]"


async def test_g_and_max_target(shared_home: Synced, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (await invoke("-g", "status", cwd=shared_home.root)).out.startswith("Node: max://@  [")
    both = await invoke("-g", "-t", "shared-ws", "status", cwd=shared_home.root.parent)
    assert both.out.startswith("Node: max://@/shared-ws  [workspace]")  # -t wins over -g
    monkeypatch.setenv("MAX_TARGET", "shared-ws/acme-1")
    env = await invoke("status", cwd=shared_home.root.parent)
    assert env.out.startswith("Node: max://@/shared-ws/acme-1  [installation]")
    overridden = await invoke("-g", "status", cwd=shared_home.root.parent)
    assert overridden.out.startswith("Node: max://@  [global]")


@pytest.mark.parametrize(
    ("cwd", "target", "message"),
    [
        ("outside", "nope", 'Workspace "nope" not found — max://@/nope'),
        (
            "outside",
            "shared-ws/nope",
            'Installation "nope" not found in workspace "shared-ws" — max://@/shared-ws/nope',
        ),
        (  # a remote target is forwarded (docs/remote.md): nothing listens on port 1
            "outside",
            "max+http://127.0.0.1:1/ws",
            "Cannot reach max+http://127.0.0.1:1/ws — connection refused",
        ),
        ("outside", "max://", 'Invalid Max URL "max://" — Host segment required'),
        ("outside", "max://@/a/b/c/d", 'Invalid Max URL "max://@/a/b/c/d" — Max 3 segments'),
        ("workspace", "other/inst", "Cannot add child below installation"),
        ("installation", "anything", "Cannot add child below installation"),
    ],
)
async def test_targets_that_do_not_resolve(
    shared_home: Synced, cwd: str, target: str, message: str
) -> None:
    result = await invoke("-t", target, "status", cwd=_directory(shared_home, cwd))
    assert_one_line_error(result, contains=message)
    assert result.out == ""


async def test_unregistered_project_gets_a_hint(tmp_path: Path) -> None:
    project = tmp_path / "cloned"
    (project / ".max").mkdir(parents=True)
    (project / "max.json").write_text("{}")
    result = await invoke("status", cwd=project)
    assert_one_line_error(result, contains='Workspace "cloned" not found')
    assert result.err.splitlines()[1] == (
        "  Hint: this directory is a Max project but is not registered; run 'max init --force .'"
    )
    fixed = await invoke("init", "--force", ".", cwd=project)
    assert fixed.code == 0, fixed
    assert (await invoke("status", cwd=project)).code == 0


async def test_debug_adds_the_traceback(shared_home: Synced) -> None:
    plain = await invoke("-t", "nope", "status")
    assert len(plain.err.splitlines()) == 1
    debug = await invoke("-t", "nope", "status", "--debug")
    assert debug.code == 1 and debug.err.startswith('Error: Workspace "nope" not found')
    assert "MaxError[app.workspace_not_resolved]" in debug.err and "Traceback" in debug.err
