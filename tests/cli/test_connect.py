"""``max connect`` without prompts, in-process against an Acme server in the
test's nursery: every way of giving answers, every missing value listed, the name checked
before anything runs, and nothing written when something fails."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from maxtrio.acme import AcmeServer, SeedOptions, Tenant, serve_acme

from .conftest import BUILTIN_CONNECTORS, Result, assert_one_line_error, invoke


async def _serve(nursery: trio.Nursery, workspaces: int) -> AsyncIterator[AcmeServer]:
    with Tenant.in_memory() as tenant:
        tenant.seed(SeedOptions(workspaces=workspaces, tasks_per_project=2, files_per_project=0))
        server: AcmeServer = await nursery.start(serve_acme, tenant)
        yield server
        nursery.cancel_scope.cancel()


@pytest.fixture
async def acme(nursery: trio.Nursery) -> AsyncIterator[AcmeServer]:
    async for server in _serve(nursery, 1):
        yield server


@pytest.fixture
async def acme_two_workspaces(nursery: trio.Nursery) -> AsyncIterator[AcmeServer]:
    async for server in _serve(nursery, 2):
        yield server


@pytest.fixture
async def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    assert (await invoke("init", str(root), cwd=tmp_path)).code == 0
    return root


def _nothing_written(project: Path) -> None:
    assert json.loads((project / "max.json").read_text()) == {}
    assert not (project / ".max" / "installations").exists()


async def _connect(project: Path, *args: str) -> Result:
    return await invoke("connect", "acme", *args, cwd=project)


async def test_flags_give_every_answer(project: Path, acme: AcmeServer) -> None:
    result = await _connect(
        project, "--config", f"baseUrl={acme.url}", "--credential", f"api_token={acme.api_key}"
    )
    assert result.code == 0, result
    assert result.out.startswith("Connected acme as installation acme-1 (")
    assert result.out.splitlines()[1] == "Next: max sync acme-1"
    assert result.err == ""  # no terminal: no conversation, just the result
    entry = json.loads((project / "max.json").read_text())["installations"]["acme-1"]
    assert entry["spec"]["connectorConfig"]["workspaceId"].startswith("ws_")  # the only one
    assert acme.api_key not in result.out
    second = await _connect(
        project, "--config", f"baseUrl={acme.url}", "--credential", f"api_token={acme.api_key}"
    )
    assert "installation acme-2 (" in second.out  # derived names count up


async def test_config_file_env_and_credential_file(
    project: Path, acme: AcmeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"baseUrl": "http://wrong.invalid"}))
    token = tmp_path / "token.txt"
    token.write_text(acme.api_key + "\n")
    result = await _connect(
        project,
        "--config-file", str(config),
        "--config", f"baseUrl={acme.url}",  # flags win over the file
        "--credential", f"api_token=@{token}",
        "--name", "from-file",
        "-o", "json",
    )  # fmt: skip
    assert result.code == 0, result
    document = json.loads(result.out)
    assert document["name"] == "from-file" and document["config"]["baseUrl"] == acme.url
    assert document["url"] == "max://@/proj/from-file"
    monkeypatch.setenv("ACME_API_TOKEN", acme.api_key)
    from_env = await _connect(
        project,
        "--config",
        f"baseUrl={acme.url}",
        "--credentials-from-env",
        "ACME_",
        "-n",
        "env",
    )
    assert from_env.code == 0, from_env
    stored = project / ".max" / "installations" / "env" / "credentials.json"
    assert json.loads(stored.read_text()) == {"api_token": acme.api_key}


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ([], "--config baseUrl=<Tenant URL>, --credential api_token=<value>"),
        (["--config", "baseUrl=http://127.0.0.1:1"], "--credential api_token=<value>"),
        (["--credential", "api_token=x"], "--config baseUrl=<Tenant URL>"),
    ],
)
async def test_no_input_lists_every_missing_value(
    project: Path, given: list[str], missing: str
) -> None:
    result = await _connect(project, "--no-input", *given)
    assert_one_line_error(
        result, contains=f"Cannot connect acme without prompting — missing: {missing}"
    )
    assert result.err.splitlines()[1].startswith("  Hint: pass the values with these flags")
    _nothing_written(project)


async def test_stdin_that_is_not_a_terminal_implies_no_input(project: Path) -> None:
    result = await _connect(project)  # pytest's stdin is not a terminal
    assert_one_line_error(result, contains="missing: --config baseUrl=<Tenant URL>")


async def test_a_select_with_several_options_needs_its_value(
    project: Path, acme_two_workspaces: AcmeServer
) -> None:
    acme = acme_two_workspaces
    base = ["--config", f"baseUrl={acme.url}", "--credential", f"api_token={acme.api_key}"]
    result = await _connect(project, "--no-input", *base)
    assert_one_line_error(
        result, contains="Choose workspace needs input that was not given: workspaceId (one of: "
    )
    assert result.err.splitlines()[1] == (
        "  Hint: pass it with --config KEY=VALUE (or --credential NAME=VALUE)"
    )
    _nothing_written(project)
    choice = result.err.split("(one of: ")[1].split(" ")[0]
    chosen = await _connect(project, *base, "--config", f"workspaceId={choice}")
    assert chosen.code == 0, chosen
    entry = json.loads((project / "max.json").read_text())["installations"]["acme-1"]
    assert entry["spec"]["connectorConfig"]["workspaceId"] == choice
    wrong = await _connect(project, *base, "--config", "workspaceId=nope", "-n", "w")
    assert_one_line_error(wrong, contains="Invalid selection for Choose workspace")


async def test_failed_validation_writes_nothing(project: Path, acme: AcmeServer) -> None:
    result = await _connect(
        project, "--config", f"baseUrl={acme.url}", "--credential", "api_token=wrong-token"
    )
    assert_one_line_error(result, contains="Verify credentials — ")
    assert "wrong-token" not in result.err
    _nothing_written(project)
    unreachable = await _connect(
        project, "--config", "baseUrl=http://127.0.0.1:9", "--credential", "api_token=x"
    )
    assert_one_line_error(unreachable, contains="Verify credentials — ")
    _nothing_written(project)


async def test_the_name_is_checked_before_anything_runs(project: Path, acme: AcmeServer) -> None:
    ok = await _connect(
        project, "--config", f"baseUrl={acme.url}", "--credential", f"api_token={acme.api_key}"
    )
    assert ok.code == 0
    # nothing else is given: the duplicate name is what fails, not a missing value
    duplicate = await _connect(project, "--name", "acme-1", "--no-input")
    assert_one_line_error(duplicate, contains='Installation "acme:acme-1" already exists')
    invalid = await _connect(project, "--name", "../escape", "--no-input")
    assert_one_line_error(invalid, contains='Invalid installation name "../escape"')


async def test_unknown_connector_lists_the_available_ones(project: Path) -> None:
    result = await invoke("connect", "nope", cwd=project)
    assert_one_line_error(result, contains='Connector "nope" not found in registry')
    names = ", ".join(BUILTIN_CONNECTORS)
    assert (
        result.err.splitlines()[1]
        == f"  Hint: Available connectors: {names} (max install adds more)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "novalue"], "Invalid value for --config: expected KEY=VALUE, got 'novalue'"),
        (["--config", "=x"], "expected KEY=VALUE"),
        (["--credential", "token"], "Invalid value for --credential: expected KEY=VALUE"),
        (["--config-file", "/nonexistent/c.json"], "/nonexistent/c.json: no such file"),
        (["--credential", "api_token=@/nonexistent/t"], "/nonexistent/t: no such file"),
    ],
)
async def test_bad_flags_are_usage_errors(project: Path, args: list[str], message: str) -> None:
    result = await _connect(project, *args)
    assert_one_line_error(result, contains=message, code=2)
    _nothing_written(project)


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ("[1, 2]", "expected a JSON object")],
)
async def test_bad_config_files(project: Path, tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "bad.json"
    config.write_text(content)
    result = await _connect(project, "--config-file", str(config))
    assert_one_line_error(result, contains=f"{config}: {message}", code=2)


async def test_two_connects_at_once_both_land(tmp_path: Path, acme: AcmeServer) -> None:
    """Two real ``max connect`` processes at the same time: max.json keeps both."""
    from .conftest import max_proc

    home = tmp_path / "home"
    project = tmp_path / "busy"
    assert (await max_proc("init", str(project), cwd=tmp_path, home=home)).code == 0
    flags = ["--config", f"baseUrl={acme.url}", "--credential", f"api_token={acme.api_key}"]
    results: dict[str, Result] = {}

    async def connect(name: str) -> None:
        results[name] = await max_proc(
            "connect", "acme", "--name", name, *flags, cwd=project, home=home
        )

    async with trio.open_nursery() as nursery:
        for name in ("left", "right"):
            nursery.start_soon(connect, name)
    assert all(r.code == 0 for r in results.values()), results
    installations = json.loads((project / "max.json").read_text())["installations"]
    assert sorted(installations) == ["left", "right"]
