"""Files a person (or an attacker) left in a bad state, met by real ``max`` processes — in
direct mode and through the workspace daemon: JSON nested 2,000 deep in ``max.json``,
``workspaces.json`` and ``credentials.json``, and a ``credentials.json`` that others may read.
Each is one ``Error:`` line naming the file and one ``Hint:`` line, exit 1, no traceback."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import Acme, _serve, connect_args
from tests.daemon.harness import MAX, Machine, Result

DEEP = "[" * 2000 + "]" * 2000
DEEP_OBJECT = '{"a": ' * 2000 + "1" + "}" * 2000


@pytest.fixture(scope="module")
def acme_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acme]:
    yield from _serve(tmp_path_factory, "hostile")


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    m = Machine(tmp_path)
    yield m
    assert not m.stop_all()


@pytest.fixture
def connected(machine: Machine, acme_process: Acme) -> Path:
    root = machine.workspace("proj")
    result = machine.direct(*connect_args(acme_process), cwd=root)
    assert result.code == 0, result
    return root


def both_modes(machine: Machine, *args: str, cwd: Path) -> list[Result]:
    """The command in direct mode, then through the workspace daemon."""
    return [machine.direct(*args, cwd=cwd), machine.run(*args, cwd=cwd)]


def error_lines(result: Result) -> list[str]:
    assert result.code == 1, result
    assert "Traceback" not in result.err and "RecursionError" not in result.err, result
    return result.err.splitlines()


def test_max_json_nested_2000_deep_names_the_file(machine: Machine) -> None:
    root = machine.workspace("proj")
    for document in (DEEP, DEEP_OBJECT):
        (root / "max.json").write_text(document)
        for result in both_modes(machine, "ls", cwd=root):
            assert error_lines(result) == [
                f"Error: Invalid file {root / 'max.json'} — JSON nested too deeply to read",
                "  Hint: fix max.json by hand, or restore it from version control or a backup",
            ]


def test_workspaces_json_nested_2000_deep_names_the_file(machine: Machine) -> None:
    machine.workspace("proj")
    registry = machine.home / "workspaces.json"
    registry.write_text(DEEP_OBJECT)
    result = machine.run("-g", "ls", cwd=machine.base)
    assert error_lines(result) == [
        f"Error: Invalid file {registry} — JSON nested too deeply to read",
        "  Hint: fix workspaces.json by hand, or restore it from version control or a backup",
    ]


def test_credentials_json_nested_2000_deep_names_the_file(
    machine: Machine, connected: Path
) -> None:
    credentials = connected / ".max/installations/acme-1/credentials.json"
    credentials.write_text(DEEP_OBJECT)
    for result in both_modes(machine, "sync", "acme-1", cwd=connected):
        assert error_lines(result) == [
            f"Error: Credentials file {credentials} is not usable: it is nested too deeply",
            f"  Hint: fix the file, or remove it and connect again (max connect): {credentials}",
        ]


@pytest.mark.parametrize("mode", [0o644, 0o666, 0o640])
def test_credentials_readable_by_others_are_refused_like_ssh_does(
    machine: Machine, connected: Path, mode: int
) -> None:
    credentials = connected / ".max/installations/acme-1/credentials.json"
    assert machine.run("ls", cwd=connected).code == 0  # a warm daemon holding it open
    credentials.chmod(mode)
    for args in (["sync", "acme-1"], ["search", "acme-1", "AcmeTask", "--limit", "1"]):
        for result in both_modes(machine, *args, cwd=connected):
            assert error_lines(result) == [
                f"Error: credentials file {credentials} is readable by others",
                f"  Hint: chmod 600 {credentials}",
            ], args
            assert result.out == ""
    credentials.chmod(0o600)
    assert machine.run("sync", "acme-1", cwd=connected).code == 0


def test_connect_writes_credentials_0600_whatever_the_umask(
    machine: Machine, acme_process: Acme
) -> None:
    root = machine.workspace("proj")
    for name in ("first", "second"):  # the second connect rewrites nothing of the first
        done = subprocess.run(
            [MAX, *connect_args(acme_process, "--name", name)],
            cwd=root,
            env=machine.env(MAX_NO_DAEMON="1"),
            capture_output=True,
            check=False,
            timeout=60,
            preexec_fn=lambda: os.umask(0),
        )
        assert done.returncode == 0, done
    for name in ("first", "second"):
        directory = root / ".max/installations" / name
        assert (directory / "credentials.json").stat().st_mode & 0o777 == 0o600
        assert directory.stat().st_mode & 0o777 == 0o700
        assert [p.name for p in directory.iterdir() if p.name.endswith(".tmp")] == []
