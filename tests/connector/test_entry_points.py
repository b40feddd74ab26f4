"""The entry-point reader: the answers of ``importlib.metadata``, from real metadata folders."""

from __future__ import annotations

import importlib.metadata
import sys
import zipfile
from pathlib import Path

import pytest

from maxtrio.connector._entry_points import EntryPointSpec, entry_points, parse_entry_points


def dist_info(site: Path, folder: str, text: str | None) -> None:
    info = site / folder
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: x\nVersion: 1\n")
    if text is not None:
        (info / "entry_points.txt").write_text(text)


def test_every_group_of_this_environment_matches_importlib_metadata() -> None:
    groups = {ep.group for d in importlib.metadata.distributions() for ep in d.entry_points}
    assert {"console_scripts", "maxtrio.connectors"} <= groups
    for group in groups:
        expected = [(ep.name, ep.value) for ep in importlib.metadata.entry_points(group=group)]
        found = [(ep.name, ep.value) for ep in entry_points(group)]
        assert sorted(found) == sorted(expected), group


def test_first_distribution_on_the_path_wins_and_sections_are_kept_apart(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    text = (
        "# a comment\n[console_scripts]\ntool = pkg.cli:main\n\n"
        "[maxtrio.connectors]\n; another comment\nnotes = notes_pkg:connector [extra]\n"
    )
    dist_info(first, "Notes_Pkg-1.0.dist-info", text)
    dist_info(second, "notes.pkg-2.0.dist-info", "[maxtrio.connectors]\nold = old_pkg:connector\n")
    dist_info(second, "legacy.egg-info", "[maxtrio.connectors]\nlegacy = legacy:connector\n")
    dist_info(second, "no_entry_points-1.0.dist-info", None)
    path = [str(tmp_path / "missing"), str(first), str(second)]
    assert entry_points("maxtrio.connectors", path) == [
        EntryPointSpec("notes", "notes_pkg:connector [extra]", "maxtrio.connectors", "notes_pkg"),
        EntryPointSpec("legacy", "legacy:connector", "maxtrio.connectors", "legacy"),
    ]
    assert [ep.name for ep in entry_points("console_scripts", path)] == ["tool"]
    assert entry_points("nothing.here", path) == []


def test_load_imports_the_module_and_follows_the_attribute_path() -> None:
    assert EntryPointSpec("p", "os.path:join", "g", "d").load() is __import__("os").path.join
    assert EntryPointSpec("m", "json", "g", "d").load() is sys.modules["json"]
    spec = EntryPointSpec("x", "json:dumps [fast]", "g", "d")
    assert spec.load() is sys.modules["json"].dumps
    with pytest.raises(ValueError, match="unreadable value"):
        EntryPointSpec("bad", "not a value!", "g", "d").load()
    with pytest.raises(ModuleNotFoundError):
        EntryPointSpec("gone", "no_such_module_for_maxtrio_tests:x", "g", "d").load()


def test_a_zip_archive_on_the_path_is_read_too(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\n")
        zf.writestr(
            "zipped-1.0.dist-info/entry_points.txt", "[maxtrio.connectors]\nz = zipped:connector\n"
        )
    assert entry_points("maxtrio.connectors", [str(archive)]) == [
        EntryPointSpec("z", "zipped:connector", "maxtrio.connectors", "zipped")
    ]


def test_parse_ignores_lines_without_a_name() -> None:
    text = "[g]\n= orphan\njust words\nok = m:a\n"
    assert parse_entry_points(text, "g") == [EntryPointSpec("ok", "m:a", "g", "")]
