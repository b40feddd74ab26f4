"""Shell completion (the reference smoke test's completion cases), every command's
``--help`` (examples and ``--debug``), and ``llm-bootstrap``."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from maxtrio.cli._cmd_completion import target_suggestions
from maxtrio.cli._dispatch import run
from maxtrio.cli._main import cli

from .conftest import Synced, invoke, max_proc


async def _complete(
    monkeypatch: pytest.MonkeyPatch, cwd: Path, words: list[str], shell: str = "bash"
) -> list[str]:
    """What ``max`` answers when the shell asks for completions of ``words`` (last = typed)."""
    monkeypatch.setenv("_MAX_COMPLETE", f"{shell}_complete")
    monkeypatch.setenv("COMP_WORDS", " ".join(["max", *words]))
    monkeypatch.setenv("COMP_CWORD", str(len(words)))
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        await run(cli, [])
    out.flush()
    return [line.split(",", 1)[1] for line in raw.getvalue().decode().splitlines()]


async def test_completion_values(shared_home: Synced, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = shared_home.root.parent
    commands = await _complete(monkeypatch, outside, [""])
    assert "status" in commands and "ls" in commands and "connect" not in commands
    targets = await _complete(monkeypatch, outside, ["-t", ""])
    assert "@" in targets and "max://" in targets and "shared-ws" in targets
    workspaces = await _complete(monkeypatch, outside, ["-t", "max://@/"])
    assert workspaces == ["max://@/shared-ws/"]
    installations = await _complete(monkeypatch, outside, ["-t", "max://@/shared-ws/"])
    assert installations == ["max://@/shared-ws/acme-1"]
    after_target = await _complete(monkeypatch, outside, ["-t", "max://@/shared-ws", ""])
    assert "connect" in after_target and "sync" in after_target
    inside = await _complete(monkeypatch, shared_home.root, ["sync", ""])
    assert inside == ["acme-1"]
    relative = await _complete(monkeypatch, shared_home.root, ["-t", "a"])
    assert relative == ["acme-1"]
    entities = await _complete(monkeypatch, shared_home.root, ["search", "acme-1", "AcmeT"])
    assert entities == ["AcmeTask"]
    everywhere = await _complete(monkeypatch, outside, ["-g", "search", "shared-ws/acme-1", ""])
    assert everywhere == [
        "AcmeUser",
        "AcmeWorkspace",
        "AcmeRoot",
        "AcmeProject",
        "AcmeTask",
        "AcmeFile",
    ]
    installation = await _complete(
        monkeypatch, outside, ["-t", "shared-ws/acme-1", "search", "AcmeU"]
    )
    assert installation == ["AcmeUser"]


def test_target_suggestions_by_level(shared_home: Synced) -> None:
    assert target_suggestions("shared-ws/", "global", None) == ["shared-ws/acme-1"]
    assert target_suggestions("sh", "global", None) == ["shared-ws", "shared-ws/"]
    assert target_suggestions("max:/", "global", None) == ["max://"]
    assert target_suggestions("max://x", "global", None) == ["max://@/"]
    assert target_suggestions("", "installation", "shared-ws") == ["@", "max://"]
    assert target_suggestions("", "workspace", "shared-ws") == ["@", "max://", "acme-1"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
async def test_completion_scripts(tmp_path: Path, shell: str) -> None:
    result = await invoke("completion", shell, cwd=tmp_path)
    assert result.code == 0 and "_MAX_COMPLETE" in result.out and result.err == ""


async def test_completion_unknown_shell(tmp_path: Path) -> None:
    result = await invoke("completion", "nu", cwd=tmp_path)
    assert (result.code, result.err) == (
        2,
        "Error: Unknown shell: nu. Supported: bash, zsh, fish\n",
    )


async def test_completion_through_a_real_process(synced: Synced) -> None:
    env_words = {"_MAX_COMPLETE": "bash_complete", "COMP_WORDS": "max search ", "COMP_CWORD": "2"}
    from .conftest import max_env

    result = await max_proc(
        cwd=synced.root, home=synced.home, env=max_env(synced.home, **env_words)
    )
    assert result.out.splitlines() == ["plain,acme-1"]


# -- help ---------------------------------------------------------------------------------------

LEVEL_TARGETS = {"global": "@", "workspace": "shared-ws", "installation": "shared-ws/acme-1"}


async def test_every_command_has_examples_and_debug_in_its_help(shared_home: Synced) -> None:
    seen = 0
    for name, variants in cli.leveled.items():  # type: ignore[attr-defined]
        for level in variants:
            result = await invoke("-t", LEVEL_TARGETS[level], name, "--help")
            assert result.code == 0, (name, level, result)
            assert "Examples:" in result.out and "--debug" in result.out, (name, level)
            seen += 1
    for name in ("help", "completion"):
        result = await invoke(name, "--help")
        assert "Examples:" in result.out and "--debug" in result.out
    assert seen == 35  # 17 commands over their levels


async def test_llm_bootstrap_prints_the_guide_and_the_live_command_table(tmp_path: Path) -> None:
    result = await invoke("llm-bootstrap", cwd=tmp_path)
    assert result.code == 0
    assert result.out.startswith("# Max — a guide for coding agents")
    assert "Never run it" in result.out and "## Command reference (generated from this max)" in (
        result.out
    )
    assert "* `max search [OPTIONS] INSTALLATION ENTITY` — workspace level" in result.out
    assert "`-a, --all`: Auto-paginate and stream all results." in result.out
    at_workspace = await invoke("-g", "llm-bootstrap")
    assert at_workspace.out == result.out
