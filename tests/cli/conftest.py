"""Fixtures for the ``max`` CLI tests: real Acme servers on loopback, real ``max`` processes,
real workspaces in temp directories with their own ``MAX_HOME``.

* ``acme_service`` (session): one seeded tenant served by ``max acme start`` in a subprocess
  (1 workspace, 8 users, 3 projects × 80 tasks), shared by every test;
* ``synced`` (session): a workspace ``shared-ws`` in its own ``MAX_HOME`` with the installation
  ``acme-1`` connected to it and synced — built with real ``max`` subprocesses; read-only
  tests search and list it;
* ``max_proc`` runs the ``max`` console script as a subprocess (async, so an in-process server
  in the test's nursery keeps answering); ``invoke`` runs the same command table in-process
  (through ``_dispatch.run``: the same error rendering and exit codes), fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from maxtrio.acme import AcmeHttpClient, SeedOptions, TaskPatch, create_tenant
from maxtrio.cli._dispatch import run
from maxtrio.cli._main import cli

MAX = str(Path(sys.executable).parent / "max")
TASKS_PER_PROJECT = 80
PROJECTS = 3
USERS = 8
SHARED_TASKS = TASKS_PER_PROJECT * PROJECTS
#: The connectors that ship with maxtrio (entry points of its own project), sorted.
BUILTIN_CONNECTORS = ("acme", "claude-code", "files", "git")


@attrs.frozen
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@attrs.frozen
class AcmeService:
    url: str
    api_key: str
    process: subprocess.Popen[bytes]


@attrs.frozen
class Synced:
    """A synced workspace: ``root`` (the project directory) in ``home`` (its MAX_HOME)."""

    home: Path
    root: Path
    acme: AcmeService


def max_env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MAX_HOME"] = str(home)
    env.pop("MAX_TARGET", None)
    env.pop("FORCE_COLOR", None)
    env.update(extra)
    return env


async def max_proc(
    *args: str,
    cwd: Path,
    home: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Result:
    """Run ``max ARGS`` as a real process; stdin is empty (not a terminal) unless given."""
    with trio.fail_after(timeout):
        done = await trio.run_process(
            [MAX, *args],
            cwd=str(cwd),
            env=env if env is not None else max_env(home),
            stdin=stdin if stdin is not None else b"",
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode())


async def spawn_max(*args: str, cwd: Path, home: Path) -> trio.Process:
    """Start ``max ARGS`` with stdout and stderr piped (for tests that signal or stream)."""
    process = await trio.lowlevel.open_process(
        [MAX, *args],
        cwd=str(cwd),
        env=max_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    return process


def max_sync_run(
    *args: str, cwd: Path, home: Path, env_extra: Mapping[str, str] | None = None
) -> Result:
    """Blocking version for session fixtures (no trio loop runs there)."""
    done = subprocess.run(
        [MAX, *args],
        cwd=cwd,
        env=max_env(home, **(env_extra or {})),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


async def invoke(*args: str, cwd: Path | None = None) -> Result:
    """Run ``max ARGS`` in-process (current ``MAX_HOME`` from the environment)."""
    out, err = io.StringIO(), io.StringIO()
    directory = cwd if cwd is not None else Path.cwd()
    with (
        contextlib.chdir(directory),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = await run(cli, list(args))
    return Result(code, out.getvalue(), err.getvalue())


def start_acme_server(
    data_dir: Path, tenant: str, *extra: str
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """``max acme start … -o json`` in the background; returns the process and its JSON line."""
    argv = [MAX, "acme", "start", "--tenant", tenant, "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [*argv, "--port", "0", "-o", "json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise RuntimeError(f"acme server did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]
    return process, json.loads(line)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def seeded_tenant(data_dir: Path, name: str, options: SeedOptions) -> None:
    with create_tenant(name, data_dir) as tenant:
        tenant.seed(options)


@pytest.fixture(scope="session")
def acme_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AcmeService]:
    data = tmp_path_factory.mktemp("acme-tenants")
    seeded_tenant(
        data,
        "shared",
        SeedOptions(
            users_per_workspace=USERS,
            projects_per_workspace=PROJECTS,
            tasks_per_project=TASKS_PER_PROJECT,
            files_per_project=1,
        ),
    )
    process, started = start_acme_server(data, "shared")
    yield AcmeService(started["url"], started["apiKey"], process)
    stop_process(process)


async def delete_one_clear_one(
    acme: AcmeService,
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Upstream changes the next sync must bring: the first task deleted, the description of
    one with a description cleared. Returns every task as it was before, and those two."""
    client = AcmeHttpClient(acme.url, acme.api_key)
    try:
        tasks = await client.list_tasks()
        gone, cleared = tasks[0], next(t for t in tasks if t["description"])
        await client.delete_task(gone["id"])
        await client.update_task(
            cleared["id"],
            TaskPatch(last_modified_by_id=cleared["createdById"], description=None),
        )
    finally:
        await client.aclose()
    return tasks, gone, cleared


def connect_args(acme: AcmeService, *extra: str) -> list[str]:
    return [
        "connect",
        "acme",
        "--config",
        f"baseUrl={acme.url}",
        "--credential",
        f"api_token={acme.api_key}",
        *extra,
    ]


@pytest.fixture(scope="session")
def synced(tmp_path_factory: pytest.TempPathFactory, acme_service: AcmeService) -> Synced:
    base = tmp_path_factory.mktemp("synced")
    home = base / "home"
    root = base / "shared-ws"
    for args, cwd in (
        (["init", str(root)], base),
        (connect_args(acme_service, "--no-input"), root),
        (["sync", "acme-1"], root),
    ):
        result = max_sync_run(*args, cwd=cwd, home=home)
        assert result.code == 0, (args, result)
    return Synced(home, root, acme_service)


@pytest.fixture
def shared_home(synced: Synced, monkeypatch: pytest.MonkeyPatch) -> Synced:
    """In-process runs read the synced workspace's MAX_HOME (read-only tests)."""
    monkeypatch.setenv("MAX_HOME", str(synced.home))
    return synced


def lines(text: str) -> list[str]:
    return text.splitlines()


def assert_one_line_error(result: Result, *, contains: str, code: int | Sequence[int] = 1) -> None:
    codes = (code,) if isinstance(code, int) else tuple(code)
    assert result.code in codes, result
    assert "Traceback" not in result.err, result.err
    assert result.err.startswith("Error: "), result.err
    assert contains in result.err.splitlines()[0], result.err
