"""The file rules: atomic replace, flock-ed read-modify-write across real processes,
one-line errors for corrupt files, the reference's JSON format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from maxtrio.core import MaxError
from maxtrio.federation import ErrFileInvalid, ErrFileWriteFailed
from maxtrio.federation._files import dumps, read_json_object, write_json, write_text_atomic


def test_dumps_is_json_stringify_with_two_spaces() -> None:
    value = {"a": [1, {"b": "é"}], "c": {}, "d": []}
    assert (
        dumps(value)
        == '{\n  "a": [\n    1,\n    {\n      "b": "é"\n    }\n  ],\n  "c": {},\n  "d": []\n}\n'
    )
    assert dumps({}, trailing_newline=False) == "{}"


def test_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    write_json(path, {"v": 1})
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o640)
    write_json(path, {"v": 2})
    assert json.loads(path.read_text()) == {"v": 2}
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temp file left


def test_private_write_is_0600_in_0700_dirs(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "secret.json"
    write_json(path, {"k": "v"}, private=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700


def test_a_private_write_over_a_public_file_makes_it_private(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text("{}")
    path.chmod(0o644)
    write_json(path, {"api_token": "x"}, private=True)
    assert path.stat().st_mode & 0o777 == 0o600


def test_writing_where_a_directory_cannot_be_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file")
    path = tmp_path / "blocker" / "max.json"
    with pytest.raises(MaxError) as info:
        write_json(path, {})
    assert ErrFileWriteFailed.matches(info.value)
    assert str(info.value) == f"Cannot write {path} — File exists"


def test_a_crash_mid_write_leaves_the_old_file(tmp_path: Path) -> None:
    """A real process dies (``os._exit``) after writing the new bytes but before the rename."""
    path = tmp_path / "max.json"
    write_json(path, {"installations": {"old": 1}})
    before = path.read_bytes()
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from maxtrio.federation import _files
        os.replace = lambda *a, **k: os._exit(7)   # die between write and rename
        _files.write_json(Path({str(path)!r}), {{"installations": {{"new": 2}}}})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == 7, proc.stderr
    assert path.read_bytes() == before
    assert read_json_object(path) == {"installations": {"old": 1}}
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "max.json"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".max.json.")  # only a stray temp


def test_an_error_mid_write_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.json"
    write_text_atomic(path, "old")

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(MaxError) as info:
        write_text_atomic(path, "new")
    assert ErrFileWriteFailed.matches(info.value)
    assert str(info.value) == f"Cannot write {path} — No space left on device"
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b"{not json",
            "not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)",
        ),
        (b'{"a": 1,\n  "b": }', "not valid JSON: Expecting value (line 2, column 8)"),
        (b"", "it is empty (expected a JSON object)"),
        (b"  \n", "it is empty (expected a JSON object)"),
        (b"[1, 2]", "expected a JSON object, found an array"),
        (b'"text"', "expected a JSON object, found a string"),
        (b"42", "expected a JSON object, found a number"),
        (b"null", "expected a JSON object, found null"),
        (b"\xff\xfe{}", "it is not UTF-8 text"),
    ],
)
def test_corrupt_files_are_one_line_errors_naming_the_file(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "max.json"
    path.write_bytes(content)
    with pytest.raises(MaxError) as info:
        read_json_object(path)
    assert ErrFileInvalid.matches(info.value)
    assert str(info.value) == f"Invalid file {path} — {problem}"
    assert "\n" not in str(info.value)


def test_a_directory_in_place_of_the_file(tmp_path: Path) -> None:
    (tmp_path / "max.json").mkdir()
    with pytest.raises(MaxError, match=r"Invalid file .*max.json — it is a directory"):
        read_json_object(tmp_path / "max.json")


def test_an_unreadable_file(tmp_path: Path) -> None:
    """Any OS error reading it (here a symlink loop) is one line with the OS's words."""
    path = tmp_path / "max.json"
    path.symlink_to(path)
    with pytest.raises(MaxError) as info:
        read_json_object(path)
    assert str(info.value) == f"Invalid file {path} — Too many levels of symbolic links"


def test_missing_file_reads_as_none(tmp_path: Path) -> None:
    assert read_json_object(tmp_path / "absent.json") is None
