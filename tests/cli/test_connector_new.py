"""``max connector new``: the scaffold's output passes its own tests (``make test``), and
``max install`` + ``connect`` + ``sync`` + ``search`` accept it as generated."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from .conftest import assert_one_line_error, invoke


def unique(prefix: str) -> str:
    """A connector name no other test imports (modules are imported once per process)."""
    return f"{prefix}{uuid.uuid4().hex[:6]}"


async def test_the_scaffold_passes_its_own_tests(tmp_path: Path) -> None:
    name = unique("my-notes-")
    result = await invoke("connector", "new", name, cwd=tmp_path)
    assert result.code == 0, result
    folder = tmp_path / f"connector-{name}"
    module = "maxtrio_connector_" + name.replace("-", "_")
    assert result.out.splitlines()[0].endswith(f"Created connector {name} in {folder} (14 files)")
    assert f"max install ./connector-{name}" in result.out
    assert (folder / "src" / module / "_loaders.py").is_file()
    pyproject = (folder / "pyproject.toml").read_text()
    assert f'{name} = "{module}:connector"' in pyproject
    done = subprocess.run(
        ["make", "test"], cwd=folder, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


async def test_install_connect_sync_search_the_scaffold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_HOME", str(tmp_path / "home"))
    name = unique("scaffolded")
    created = await invoke(
        "connector", "new", name, "--dir", "src/conn", "-o", "json", cwd=tmp_path
    )
    assert created.code == 0, created
    document = json.loads(created.out)
    assert document["directory"] == str(tmp_path / "src" / "conn")
    assert "tests/test_connector.py" in document["files"]

    assert (await invoke("init", "ws", cwd=tmp_path)).code == 0
    workspace = tmp_path / "ws"
    installed = await invoke("install", "../src/conn", cwd=workspace)
    assert installed.code == 0, installed
    connected = await invoke(
        "connect", name, "--config", "path=../src/conn/examples/items.json", cwd=workspace
    )
    assert connected.code == 0, connected
    synced = await invoke("sync", f"{name}-1", "-o", "json", cwd=workspace)
    assert json.loads(synced.out)["status"] == "completed", synced
    prefix = "Scaffolded" + name.removeprefix("scaffolded")
    found = await invoke(
        "search", f"{name}-1", f"{prefix}Item", "--filter", "done = false", "--fields", "title",
        "-o", "json", cwd=workspace,
    )  # fmt: skip
    assert found.code == 0, found
    titles = [row["title"] for row in json.loads(found.out)["data"]]
    assert titles == ["Buy milk", "Sync it with max"]


async def test_bad_names_and_occupied_directories_are_one_line(tmp_path: Path) -> None:
    for bad in ("Notes", "9lives", "two--dashes", "trailing-"):
        result = await invoke("connector", "new", bad, cwd=tmp_path)
        assert_one_line_error(result, contains=f"Invalid connector name {bad!r}")
    occupied = tmp_path / "connector-taken"
    occupied.mkdir()
    (occupied / "file.txt").write_text("mine")
    result = await invoke("connector", "new", "taken", cwd=tmp_path)
    assert_one_line_error(result, contains="already exists and is not empty")
    assert (occupied / "file.txt").read_text() == "mine"
    assert not (occupied / "pyproject.toml").exists()
