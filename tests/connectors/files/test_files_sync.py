"""The files connector end to end on real directory trees: ``max connect``/``sync``/``search``."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from maxtrio.connectors.files import FilesConfig, read_content, walk
from tests.cli.conftest import assert_one_line_error
from tests.connectors.local_cli import LocalWorkspace, workspace

__all__ = ["workspace"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "src" / "deep").mkdir(parents=True)
    (root / "build").mkdir()
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (root / "src" / ".gitignore").write_text("*.tmp\n")
    (root / "src" / "app.py").write_text("import os\n\nprint(os.name)\n")
    (root / "src" / "deep" / "notes.md").write_text("# Notes\nno newline at the end")
    (root / "src" / "scratch.tmp").write_text("tmp")
    (root / "src" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "build" / "out.o").write_bytes(b"\x00" * 10)
    (root / "debug.log").write_text("noise\n")
    (root / "keep.log").write_text("kept\n")
    (root / "README").write_text("plain text, no extension\n")
    return root


async def connect(ws: LocalWorkspace, root: Path, *config: str) -> None:
    extra = [arg for pair in config for arg in ("--config", pair)]
    await ws.ok("connect", "files", "--config", f"root={root}", *extra)


async def files_by_path(ws: LocalWorkspace) -> dict[str, dict[str, object]]:
    return {row["path"]: row for row in await ws.rows("files-1", "FilesFile")}  # type: ignore[misc]


async def test_full_sync_lists_the_tree_as_git_would(workspace: LocalWorkspace, tree: Path) -> None:
    await connect(workspace, tree)
    result = await workspace.sync("files-1")
    assert result["skipped"] == 0
    files = await files_by_path(workspace)
    assert set(files) == {
        ".gitignore", "keep.log", "README", "src/.gitignore", "src/app.py",
        "src/deep/notes.md", "src/logo.png",
    }  # fmt: skip
    app = files["src/app.py"]
    content = (tree / "src" / "app.py").read_bytes()
    assert app["sha256"] == hashlib.sha256(content).hexdigest()
    assert app["size"] == len(content) and app["lineCount"] == 3
    assert app["name"] == "app.py" and app["extension"] == "py"
    assert app["mimeType"] == "text/x-python" and app["isText"] is True
    assert app["preview"] == "import os\n\nprint(os.name)\n"
    assert str(app["directory"]).endswith("FilesDirectory:src")
    assert files["src/deep/notes.md"]["lineCount"] == 2
    logo = files["src/logo.png"]
    assert logo["isText"] is False and logo.get("lineCount") is None and not logo.get("preview")
    assert logo["mimeType"] == "image/png"
    readme = files["README"]
    assert readme.get("extension") is None and readme["mimeType"] == "text/plain"

    directories = {row["path"]: row for row in await workspace.rows("files-1", "FilesDirectory")}
    assert set(directories) == {".", "src", "src/deep"}
    assert directories["."]["name"] == "tree" and directories["."].get("parent") is None
    assert directories["src/deep"]["depth"] == 2

    in_src = await workspace.rows("files-1", "FilesFile", "--filter", "directory = src")
    assert {row["name"] for row in in_src} == {".gitignore", "app.py", "logo.png"}


async def test_include_exclude_and_gitignore_off(workspace: LocalWorkspace, tree: Path) -> None:
    await connect(workspace, tree, "include=*.py,*.log", "exclude=src/deep/", "gitignore=false")
    await workspace.sync("files-1")
    assert set(await files_by_path(workspace)) == {"debug.log", "keep.log", "src/app.py"}


async def test_resync_reads_only_changed_files_and_removes_deleted(
    workspace: LocalWorkspace, tree: Path
) -> None:
    await connect(workspace, tree)
    await workspace.sync("files-1")
    before = await files_by_path(workspace)

    # same size and time: not read again (its stored hash stays, though the bytes changed)
    readme = tree / "README"
    stat = readme.stat()
    readme.write_text("PLAIN TEXT, NO EXTENSION\n")
    os.utime(readme, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # a changed size: read again
    (tree / "src" / "app.py").write_text("print('changed')\n")
    (tree / "src" / "deep" / "notes.md").unlink()
    (tree / "src" / "deep").rmdir()
    (tree / "new.txt").write_text("one\ntwo\n")

    result = await workspace.sync("files-1")
    assert result["mode"] == "full" and result["removed"] == 2  # notes.md and src/deep
    after = await files_by_path(workspace)
    assert after["README"]["sha256"] == before["README"]["sha256"]
    assert after["README"]["preview"] == "plain text, no extension\n"
    assert after["src/app.py"]["sha256"] == hashlib.sha256(b"print('changed')\n").hexdigest()
    assert after["src/app.py"]["lineCount"] == 1
    assert after["new.txt"]["lineCount"] == 2
    assert "src/deep/notes.md" not in after


async def test_bad_entries_are_counted_skips_never_a_failed_sync(
    workspace: LocalWorkspace, tree: Path
) -> None:
    (tree / "dangling").symlink_to(tree / "nowhere")
    (tree / "loop-a").symlink_to(tree / "loop-b")
    (tree / "loop-b").symlink_to(tree / "loop-a")
    (tree / "unreadable").symlink_to("/proc/self/mem")  # a regular file no one can read
    (tree / "to-src").symlink_to(tree / "src")  # never followed into
    os.mkfifo(tree / "a-fifo")  # never opened
    await connect(workspace, tree)
    result = await workspace.sync("files-1")
    assert result["status"] == "completed" and result["skipped"] == 4
    text = await workspace.ok("sync", "files-1")
    assert "Skipped:         4 (unreadable source items)" in text.out
    paths = set(await files_by_path(workspace))
    assert not paths & {"dangling", "loop-a", "loop-b", "unreadable", "to-src", "a-fifo"}
    assert "src/app.py" in paths


async def test_bad_roots_fail_at_connect_with_one_line(
    workspace: LocalWorkspace, tmp_path: Path
) -> None:
    missing = await workspace.invoke("connect", "files", "--config", f"root={tmp_path}/nope")
    assert_one_line_error(missing, contains="no such directory")
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    not_dir = await workspace.invoke("connect", "files", "--config", f"root={a_file}")
    assert_one_line_error(not_dir, contains="not a directory")
    bad_flag = await workspace.invoke(
        "connect", "files", "--config", f"root={tmp_path}", "--config", "gitignore=maybe"
    )
    assert_one_line_error(bad_flag, contains="gitignore")


async def test_root_gone_fails_the_sync_in_one_line(
    workspace: LocalWorkspace, tree: Path, tmp_path: Path
) -> None:
    await connect(workspace, tree)
    tree.rename(tmp_path / "moved")
    result = await workspace.invoke("sync", "files-1")
    assert result.code == 1 and "Traceback" not in result.err
    assert "Cannot list" in result.err and "no such directory" in result.err


async def test_done_when_with_real_processes(workspace: LocalWorkspace, tree: Path) -> None:
    connected = await workspace.proc("connect", "files", "--config", f"root={tree}")
    assert connected.code == 0, connected
    synced = await workspace.proc("sync", "files-1")
    assert synced.code == 0 and "Mode:            full" in synced.out, synced
    found = await workspace.proc(
        "search", "files-1", "FilesFile", "--filter", "extension = py", "--fields", "path",
        "-o", "json",
    )  # fmt: skip
    assert found.code == 0, found
    assert [row["path"] for row in json.loads(found.out)["data"]] == ["src/app.py"]


def test_walk_and_read_content(tree: Path) -> None:
    listed = walk(tree)
    assert [d.path for d in listed.directories] == [".", "src", "src/deep"]
    assert listed.skipped == 0
    binary = read_content(str(tree / "src" / "logo.png"))
    assert binary.is_text is False and binary.line_count is None
    empty = tree / "empty.txt"
    empty.write_bytes(b"")
    assert read_content(str(empty)).line_count == 0


def test_config_is_checked_at_the_boundary() -> None:
    with pytest.raises(Exception, match="root must be an absolute path"):
        FilesConfig.from_mapping({"root": "relative/dir"})
    with pytest.raises(Exception, match="include must hold strings"):
        FilesConfig.from_mapping({"root": "/x", "include": [1]})
    config = FilesConfig.from_mapping({"root": "/x", "exclude": " a , b/ ,"})
    assert config.exclude == ("a", "b/") and config.gitignore is True
