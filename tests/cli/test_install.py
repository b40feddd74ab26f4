"""``max install``: a connector folder, a collection, a wheel through pip — then the new
connector works end to end (schema, connect, sync, search) like the built-in one."""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
import uuid
import zipfile
from pathlib import Path

import pytest

from .conftest import BUILTIN_CONNECTORS, assert_one_line_error, invoke

SOURCE = '''
"""A notes connector outside maxtrio (the test suite's sample)."""
from tests.connector.sample import make_module

connector = make_module({name!r})
'''


def connector_folder(parent: Path, folder: str, name: str) -> Path:
    module = f"cli_notes_{uuid.uuid4().hex[:10]}"
    root = parent / folder
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text(SOURCE.format(name=name))
    (root / "pyproject.toml").write_text(
        textwrap.dedent(f"""
            [project]
            name = "maxtrio-connector-{name}"
            version = "0.1.0"

            [project.entry-points."maxtrio.connectors"]
            {name} = "{module}:connector"
        """)
    )
    return root


def wheel(parent: Path, name: str) -> Path:
    """A real wheel declaring one connector entry point (installable offline)."""
    module = f"maxtrio_connector_{name}"
    dist = f"{module}-1.0.dist-info"
    files = {
        f"{module}/__init__.py": SOURCE.format(name=name),
        f"{dist}/METADATA": "Metadata-Version: 2.1\n"
        f"Name: maxtrio-connector-{name}\nVersion: 1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{dist}/entry_points.txt": f"[maxtrio.connectors]\n{name} = {module}:connector\n",
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={encoded},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    target = parent / f"{module}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return target


async def _use_connector(tmp_path: Path, connector: str) -> None:
    """schema → connect (no prompts) → sync → search, with the freshly installed connector."""
    project = tmp_path / f"use-{connector}"
    assert (await invoke("init", str(project), cwd=tmp_path)).code == 0
    described = await invoke("schema", connector, cwd=project)
    assert described.out.splitlines()[0] == "Name: notes (2 entities, 1 root)"
    connected = await invoke(
        "connect", connector, "--credential", "token=t0k", "--no-input", cwd=project
    )
    assert connected.code == 0, connected
    assert connected.out.startswith(f"Connected {connector} as installation {connector}-1 (")
    synced = await invoke("sync", f"{connector}-1", cwd=project)
    assert synced.code == 0, synced
    found = await invoke("search", f"{connector}-1", "Note", "-o", "json", cwd=project)
    assert json.loads(found.out)["data"] == [{"_id": "n1", "title": "first"}]


async def test_install_a_connector_folder(tmp_path: Path) -> None:
    folder = connector_folder(tmp_path, "connector-jotter", "jotter")
    result = await invoke("install", str(folder), cwd=tmp_path)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0] == f"✓ Linked connector jotter from {folder}"
    assert lines[1].endswith("/collections/local/connector-jotter")
    assert (
        lines[2] == f"  Available connectors: {', '.join(sorted((*BUILTIN_CONNECTORS, 'jotter')))}"
    )
    await _use_connector(tmp_path, "jotter")


async def test_install_a_collection_directory(tmp_path: Path) -> None:
    collection = tmp_path / "my-connectors"
    connector_folder(collection, "connector-scribble", "scribble")
    (collection / "not-a-connector").mkdir()
    result = await invoke("install", "--collection", f"{collection}/", cwd=tmp_path)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0] == '✓ Linked collection "my-connectors"'
    assert lines[1].startswith("  Location: ") and lines[1].endswith("/collections/my-connectors")
    assert lines[2:] == ["  Connectors found: 1", "    - connector-scribble"]
    again = await invoke("install", str(collection), cwd=tmp_path)  # a directory of connector-*
    assert again.out.startswith('✓ Linked collection "my-connectors"')
    await _use_connector(tmp_path, "scribble")


async def test_install_a_wheel_with_pip(tmp_path: Path) -> None:
    package = wheel(tmp_path, f"wheelnotes{uuid.uuid4().hex[:6]}")
    name = package.name.split("-")[0].removeprefix("maxtrio_connector_")
    result = await invoke("install", str(package), cwd=tmp_path)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0].startswith(f"✓ Installed {package} into ") and lines[0].endswith(
        "/site-packages"
    )
    assert lines[1] == f"  New connectors: {name}"
    await _use_connector(tmp_path, name)


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        ([], "no SOURCE — give a connector folder or package, or --collection SOURCE", 1),
        (["x", "-c", "y"], "SOURCE and --collection — ", 1),
        (["-c", ""], 'Cannot install "" — the source is empty', 1),
        (["-c", "/nonexistent/repo.git"], "Collection command failed (git clone", 1),
        (["--bogus"], "No such option '--bogus'", 2),
    ],
)
async def test_bad_installs(tmp_path: Path, args: list[str], message: str, code: int) -> None:
    result = await invoke("install", *args, cwd=tmp_path)
    assert_one_line_error(result, contains=message, code=code)


async def test_a_directory_that_is_not_a_connector(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    result = await invoke("install", str(tmp_path / "plain"), cwd=tmp_path)
    assert_one_line_error(result, contains="no pyproject.toml and no connector-* folders")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "pyproject.toml").write_text("[project\n")
    bad = await invoke("install", str(tmp_path / "broken"), cwd=tmp_path)
    assert_one_line_error(bad, contains="pyproject.toml is not valid TOML")
