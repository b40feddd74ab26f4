"""Which daemon a command goes to, decided from the arguments, the
environment and the file system — real directories and a real ``workspaces.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from max_launcher._route import route
from max_launcher._wire import decode_json, encode_json


@pytest.fixture
def machine(tmp_path: Path) -> tuple[Path, Path, Path]:
    home, ws, other = tmp_path / "home", tmp_path / "ws", tmp_path / "other"
    for root in (ws, other):
        (root / ".max" / "installations" / "acme-1").mkdir(parents=True)
        (root / "max.json").write_text("{}")
    home.mkdir()
    registry = {
        "workspaces": [
            {"id": "id-ws", "name": "ws", "config": {"dataDir": str(ws / ".max")}},
            {"id": "id-other", "name": "other", "config": {"dataDir": str(other / ".max")}},
        ]
    }
    (home / "workspaces.json").write_text(json.dumps(registry, indent=2) + "\n")
    return home, ws, other


@pytest.mark.parametrize(
    ("argv", "where", "env", "expected"),
    [
        (["ls"], "ws", {}, "ws"),
        (["ls"], "ws/.max/installations/acme-1", {}, "ws"),
        (["ls"], ".", {}, None),
        (["-t", "ws", "ls"], ".", {}, "ws"),
        (["--target=other", "ls"], "ws", {}, "ws"),  # relative to a workspace: its installation
        (["-t", "max://@/other", "ls"], "ws", {}, "other"),
        (["-t", "max://@/id-other/acme-1", "search", "X"], ".", {}, "other"),
        (["-t", "max://@", "ls"], "ws", {}, None),
        (["-g", "ls"], "ws", {}, None),
        (["-t", "max://remote.example/ws", "ls"], "ws", {}, None),
        (["-t", "nope", "ls"], ".", {}, None),
        (["ls"], ".", {"MAX_TARGET": "other"}, "other"),
        (["-t", "ws", "ls"], ".", {"MAX_TARGET": "other"}, "ws"),
        (["ls"], "ws", {"MAX_NO_DAEMON": "1"}, None),
        (["ls"], "ws", {"MAX_NO_DAEMON": "0"}, "ws"),
        (["--direct", "ls"], "ws", {}, None),
        (["daemon", "status"], "ws", {}, None),
        (["-t", "ws", "init"], ".", {}, None),
        (["acme", "start", "-t", "x"], "ws", {}, None),
        (["mcp"], "ws", {}, None),  # a stdio server of its own: never through the daemon
        (["-t", "ws", "mcp"], ".", {}, None),
        (["browse", "--port", "0"], "ws", {}, None),  # a server of its own (Datasette)
        (["sql", "select 1"], "ws", {}, "ws"),
        (["search", "--", "--direct"], "ws", {}, "ws"),
    ],
)
def test_routes(
    machine: tuple[Path, Path, Path],
    argv: list[str],
    where: str,
    env: dict[str, str],
    expected: str | None,
) -> None:
    home, ws, _ = machine
    cwd = ws.parent / where
    plan = route(argv, str(cwd), env, str(home))
    assert plan.root == (str((ws.parent / expected).resolve()) if expected else None), plan
    assert "--direct" not in plan.argv[: plan.argv.index("--") if "--" in plan.argv else None]


def test_a_registered_workspace_whose_directory_is_gone_runs_direct(
    machine: tuple[Path, Path, Path],
) -> None:
    home, ws, other = machine
    (other / "max.json").unlink()
    assert route(["-t", "other", "ls"], str(ws.parent), {}, str(home)).root is None


def test_the_launchers_json_round_trips() -> None:
    value = {"a": [1, 2.5, True, False, None, 'é\n"x"\udcff'], "b": {"c": ""}}
    assert decode_json(encode_json(value)) == value
    assert json.loads(encode_json(value)) == value
    with pytest.raises(ValueError):
        decode_json(b"{not json")
    with pytest.raises(ValueError):
        decode_json(b"[1] trailing")


@pytest.mark.parametrize(
    ("argv", "start", "read_only"),
    [
        (["--version"], False, True),
        (["--help"], False, True),
        (["sync", "-h"], False, True),
        (["completion", "bash"], False, True),
        (["help", "sync"], False, True),
        ([], True, True),  # bare max = status
        (["status"], True, True),
        (["search", "acme-1", "AcmeTask", "--", "--help"], True, True),  # after --: a value
        (["sync", "acme-1"], True, False),
        (["connect", "acme"], True, False),
        (["-t", "acme-1", "sync"], True, False),
    ],
)
def test_which_commands_may_start_a_daemon_or_run_again(
    machine: tuple[Path, Path, Path], argv: list[str], start: bool, read_only: bool
) -> None:
    home, ws, _ = machine
    plan = route(argv, str(ws), {}, str(home))
    assert plan.root == str(ws.resolve())
    assert (plan.start, plan.read_only) == (start, read_only)
