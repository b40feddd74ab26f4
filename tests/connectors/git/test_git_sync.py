"""The git connector end to end: real repositories, real ``max connect``/``sync``/``search``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maxtrio.connectors.git import GitCursor, parse_log, parse_refs
from maxtrio.core import ErrFeedCursorExpired
from tests.cli.conftest import assert_one_line_error
from tests.connectors.local_cli import LocalWorkspace, workspace

from .repo import Repo

__all__ = ["workspace"]

BOB = ("Bob Stone", "Bob@Example.com")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "project")
    repo.commit("Add readme\n\nThe first commit.", {"README.md": "hello\nworld\n"})
    repo.commit("Add code", {"src/app.py": "print(1)\n", "logo.png": b"\x89PNG\x00\x01\x02"}, BOB)
    repo.git("tag", "v0.1")
    repo.commit("Edit readme", {"README.md": "hello\nthere\n"})
    repo.git("tag", "-a", "v0.2", "-m", "Second release")
    return repo


async def connect(ws: LocalWorkspace, repo: Repo, name: str = "git-1") -> None:
    await ws.ok("connect", "git", "--name", name, "--config", f"path={repo.path}")


async def test_full_sync_mirrors_commits_authors_branches_and_tags(
    workspace: LocalWorkspace, repo: Repo
) -> None:
    await connect(workspace, repo)
    result = await workspace.sync("git-1")
    assert result["mode"] == "full" and result["skipped"] == 0

    commits = {c["summary"]: c for c in await workspace.rows("git-1", "GitCommit")}
    assert set(commits) == {"Add readme", "Add code", "Edit readme"}
    code = commits["Add code"]
    assert code["authorName"] == "Bob Stone" and code["authorEmail"] == "Bob@Example.com"
    assert code["author"].endswith("GitAuthor:bob@example.com")
    assert code["filesChanged"] == 2 and code["insertions"] == 1 and code["deletions"] == 0
    files = {f["path"]: f for f in json.loads(code["files"])}
    assert files["logo.png"] == {"path": "logo.png", "insertions": None, "deletions": None}
    assert files["src/app.py"]["insertions"] == 1
    edit = commits["Edit readme"]
    assert (edit["insertions"], edit["deletions"]) == (1, 1)
    assert edit["parents"] == code["sha"] and edit["isMerge"] is False
    assert commits["Add readme"]["message"] == "Add readme\n\nThe first commit."
    assert commits["Add readme"]["parents"] == ""
    assert commits["Add readme"]["authoredAt"].startswith("2023-11-14T22:")

    authors = {a["email"]: a for a in await workspace.rows("git-1", "GitAuthor")}
    assert authors["ann@example.com"]["commitCount"] == 2
    assert authors["Bob@Example.com"]["commitCount"] == 1

    branches = await workspace.rows("git-1", "GitBranch")
    assert [(b["name"], b["isHead"], b["remote"]) for b in branches] == [("main", True, False)]
    assert branches[0]["commit"].endswith(edit["sha"])
    tags = {t["name"]: t for t in await workspace.rows("git-1", "GitTag")}
    assert tags["v0.1"]["annotated"] is False and tags["v0.1"]["commit"].endswith(code["sha"])
    assert tags["v0.2"]["annotated"] is True and tags["v0.2"]["message"] == "Second release"
    assert tags["v0.2"]["commit"].endswith(edit["sha"])

    (root,) = await workspace.rows("git-1", "GitRepository")
    assert root["path"] == str(repo.path) and root["name"] == "project"
    assert root["head"] == "main" and root["headCommit"].endswith(edit["sha"])


async def test_resync_reads_only_new_commits(workspace: LocalWorkspace, repo: Repo) -> None:
    await connect(workspace, repo)
    await workspace.sync("git-1")
    unchanged = await workspace.sync("git-1")
    assert unchanged["mode"] == "incremental"
    assert "git:commit:read" not in unchanged["operations"]["byOperation"]

    repo.commit("Fourth", {"new.txt": "a\nb\n"}, BOB)
    result = await workspace.sync("git-1")
    assert result["mode"] == "incremental" and result["removed"] == 0
    assert result["operations"]["byOperation"]["git:commit:read"] == 1
    commits = await workspace.rows("git-1", "GitCommit", "--filter", "summary = Fourth")
    assert [c["insertions"] for c in commits] == [2]
    bob = await workspace.rows("git-1", "GitAuthor", "--filter", "email = Bob@Example.com")
    assert bob[0]["commitCount"] == 2


async def test_force_push_removes_unreachable_commits(
    workspace: LocalWorkspace, repo: Repo
) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit("Topic work", {"topic.txt": "t\n"}, ("Cy", "cy@example.com"))
    repo.git("checkout", "-q", "main")
    repo.commit("Doomed", {"doomed.txt": "d\n"})
    await connect(workspace, repo)
    await workspace.sync("git-1")
    assert len(await workspace.rows("git-1", "GitCommit")) == 5

    repo.git("reset", "-q", "--hard", base)  # main rewritten: "Doomed" is unreachable
    repo.git("branch", "-D", "topic")  # and so is the topic branch's commit
    result = await workspace.sync("git-1")
    assert result["mode"] == "incremental"
    assert result["removed"] == 4  # two commits, one branch, one author (cy)
    summaries = {c["summary"] for c in await workspace.rows("git-1", "GitCommit")}
    assert summaries == {"Add readme", "Add code", "Edit readme"}
    assert [b["name"] for b in await workspace.rows("git-1", "GitBranch")] == ["main"]
    emails = {a["email"] for a in await workspace.rows("git-1", "GitAuthor")}
    assert emails == {"ann@example.com", "Bob@Example.com"}

    full = await workspace.sync("git-1", "--full")  # a full sync agrees with the feed
    assert full["mode"] == "full" and full["removed"] == 0
    assert len(await workspace.rows("git-1", "GitCommit")) == 3


async def test_full_sync_removes_what_the_repository_lost(
    workspace: LocalWorkspace, repo: Repo
) -> None:
    await connect(workspace, repo)
    await workspace.sync("git-1")
    repo.git("tag", "-d", "v0.1")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("tag", "-d", "v0.2")
    result = await workspace.sync("git-1", "--full")
    assert result["removed"] == 3  # "Edit readme", v0.1, v0.2
    assert len(await workspace.rows("git-1", "GitCommit")) == 2


async def test_bad_paths_fail_at_connect_with_one_line(
    workspace: LocalWorkspace, tmp_path: Path
) -> None:
    missing = await workspace.invoke("connect", "git", "--config", f"path={tmp_path}/nope")
    assert_one_line_error(missing, contains="is not a git repository: no such path")
    plain = tmp_path / "plain"
    plain.mkdir()
    not_repo = await workspace.invoke("connect", "git", "--config", f"path={plain}")
    assert_one_line_error(not_repo, contains="is not a git repository")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    file_result = await workspace.invoke("connect", "git", "--config", f"path={a_file}")
    assert_one_line_error(file_result, contains="not a directory")
    listed = await workspace.ok("ls", "-o", "json")
    assert "git-1" not in listed.out


async def test_relative_path_resolves_against_the_callers_directory(
    workspace: LocalWorkspace, repo: Repo
) -> None:
    inside = workspace.root / "repo"
    repo.path.rename(inside)
    await workspace.ok("connect", "git", "--config", "path=repo")
    shown = await workspace.ok("sync", "git-1")
    assert "Mode:            full" in shown.out
    rows = await workspace.rows("git-1", "GitRepository")
    assert rows[0]["path"] == str(inside)


async def test_repository_gone_fails_the_sync_in_one_line(
    workspace: LocalWorkspace, repo: Repo, tmp_path: Path
) -> None:
    await connect(workspace, repo)
    repo.path.rename(tmp_path / "moved")
    result = await workspace.invoke("sync", "git-1")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert "no such directory" in result.err


async def test_done_when_on_this_repository_with_real_processes(
    workspace: LocalWorkspace, repo: Repo
) -> None:
    """In the repository's own workspace: ``max connect git --config path=.``, ``max sync``,
    ``max search … --filter 'authorEmail = …'``."""
    initialised = await workspace.proc("init", ".", cwd=repo.path)
    assert initialised.code == 0, initialised
    connected = await workspace.proc("connect", "git", "--config", "path=.", cwd=repo.path)
    assert connected.code == 0, connected
    synced = await workspace.proc("sync", "git-1", cwd=repo.path)
    assert synced.code == 0 and "Mode:            full" in synced.out, synced
    found = await workspace.proc(
        "search",
        "git-1",
        "GitCommit",
        "--filter",
        "authorEmail = Bob@Example.com",
        "--fields",
        "summary,authorEmail",
        "-o",
        "json",
        cwd=repo.path,
    )
    assert found.code == 0, found
    assert [row["summary"] for row in json.loads(found.out)["data"]] == ["Add code"]


def test_parsers_skip_what_they_cannot_read() -> None:
    assert parse_log("garbage\x1eonly\x1ftwo") == []
    header = "\x1eabc\x1f\x1fA\x1fa@x\x1fnot-a-number\x1fA\x1fa@x\x1f1\x1fmsg\n\x1f"
    text = header + "\x00\n-\t-\tbin\x00x\x00"
    (record,) = parse_log(text)
    assert record.authored_at == 0 and record.files[0].insertions is None
    assert parse_refs("too\x00few\n") == []


@pytest.mark.parametrize("cursor", ["", "null", "{}", '{"v":1,"head":"x","tips":{"a":"zz"}}'])
def test_a_cursor_that_is_not_ours_expires(cursor: str) -> None:
    with pytest.raises(Exception) as caught:
        GitCursor.decode(cursor)
    assert ErrFeedCursorExpired.matches(caught.value)
