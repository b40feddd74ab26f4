"""The claude-code connector end to end on JSONL logs the tests write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maxtrio.connectors.claude_code import ClaudeCursor, date_text, input_summary
from maxtrio.core import ErrFeedCursorExpired
from tests.cli.conftest import assert_one_line_error
from tests.connectors.local_cli import LocalWorkspace, workspace

from .logs import SessionWriter

__all__ = ["workspace"]

PROJECT = "-home-ann-src-app"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "projects"


@pytest.fixture
def session(root: Path) -> SessionWriter:
    log = SessionWriter(root, PROJECT, "s1", "/home/ann/src/app")
    log.write({"type": "summary", "summary": "Fix the login bug", "leafUuid": "x"})
    log.user("Why does login fail?")
    log.assistant("Let me look.", [("toolu_1", "Bash", {"command": "pytest -k login"})])
    log.result("toolu_1", "1 failed", error=True)
    log.assistant("Reading the code.", [("toolu_2", "Read", {"file_path": "/app/login.py"})])
    log.result("toolu_2", "def login(): ...")
    log.write({"type": "system", "content": "compacted", "uuid": "sys-1"})
    log.write({"type": "a-record-type-from-the-future", "payload": [1, 2]})
    log.assistant("Fixed.")
    return log


async def connect(ws: LocalWorkspace, root: Path) -> None:
    await ws.ok("connect", "claude-code", "--config", f"root={root}")


async def test_full_sync_reads_projects_sessions_messages_and_tool_calls(
    workspace: LocalWorkspace, root: Path, session: SessionWriter
) -> None:
    SessionWriter(root, "-tmp-empty", "s2", "/tmp/empty").user("hi")
    (root / "-no-sessions").mkdir()
    await connect(workspace, root)
    result = await workspace.sync("claude-code-1")
    assert result["skipped"] == 0

    projects = {p["_id"]: p for p in await workspace.rows("claude-code-1", "ClaudeProject")}
    assert set(projects) == {PROJECT, "-tmp-empty", "-no-sessions"}
    assert projects[PROJECT]["path"] == "/home/ann/src/app"
    assert projects[PROJECT]["sessionCount"] == 1

    sessions = {s["_id"]: s for s in await workspace.rows("claude-code-1", "ClaudeSession")}
    s1 = sessions["s1"]
    assert s1["project"].endswith(f"ClaudeProject:{PROJECT}")
    assert (s1["messageCount"], s1["userMessageCount"], s1["assistantMessageCount"]) == (6, 3, 3)
    assert (s1["inputTokens"], s1["outputTokens"], s1["cacheReadTokens"]) == (30, 15, 300)
    assert s1["toolCallCount"] == 2 and s1["summary"] == "Fix the login bug"
    assert s1["cwd"] == "/home/ann/src/app" and s1["gitBranch"] == "main"
    assert s1["startedAt"].startswith("2025-06-01T12:00:01")
    assert s1["endedAt"].startswith("2025-06-01T12:00:06")

    messages = await workspace.rows("claude-code-1", "ClaudeMessage", "--filter", "session = s1")
    assert len(messages) == 6
    by_text = {m.get("text"): m for m in messages}
    assert by_text["Let me look."]["model"] == "claude-sonnet-4"
    assert by_text["Let me look."]["outputTokens"] == 5
    assert by_text["Why does login fail?"]["role"] == "user"
    assert sum(1 for m in messages if m["isToolResult"]) == 2

    calls = {c["_id"]: c for c in await workspace.rows("claude-code-1", "ClaudeToolCall")}
    assert calls["toolu_1"]["name"] == "Bash" and calls["toolu_1"]["outcome"] == "error"
    assert calls["toolu_1"]["inputSummary"] == "pytest -k login"
    assert calls["toolu_1"]["result"] == "1 failed"
    assert calls["toolu_2"]["outcome"] == "ok"
    assert json.loads(calls["toolu_2"]["input"]) == {"file_path": "/app/login.py"}


async def test_bad_lines_and_a_line_being_written(
    workspace: LocalWorkspace, root: Path, session: SessionWriter
) -> None:
    session.raw("this is not json\n")
    session.raw("[1, 2, 3]\n")
    session.raw('{"type": "user", "message": {"role": "user", "content": "half a li')
    await connect(workspace, root)
    result = await workspace.sync("claude-code-1")
    assert result["status"] == "completed" and result["skipped"] == 2
    assert len(await workspace.rows("claude-code-1", "ClaudeMessage")) == 6

    session.raw('ne"}, "uuid": "late", "timestamp": "2025-06-01T13:00:00Z"}\n')  # finished
    later = await workspace.sync("claude-code-1")
    assert later["mode"] == "incremental" and later["skipped"] == 0
    late = await workspace.rows("claude-code-1", "ClaudeMessage", "--filter", "_id = late")
    assert late[0]["text"] == "half a line"
    assert late[0]["timestamp"].startswith("2025-06-01T13:00:00")


async def test_incremental_sync_writes_only_what_was_appended(
    workspace: LocalWorkspace, root: Path, session: SessionWriter
) -> None:
    await connect(workspace, root)
    await workspace.sync("claude-code-1")
    unchanged = await workspace.sync("claude-code-1")
    assert unchanged["mode"] == "incremental"

    session.assistant("Running it again.", [("toolu_3", "Bash", {"command": "pytest"})])
    other = SessionWriter(root, PROJECT, "s3", "/home/ann/src/app")
    other.user("A new session")
    result = await workspace.sync("claude-code-1")
    assert result["mode"] == "incremental"
    calls = await workspace.rows("claude-code-1", "ClaudeToolCall", "--filter", "_id = toolu_3")
    assert calls[0]["outcome"] == "pending"
    sessions = {s["_id"]: s for s in await workspace.rows("claude-code-1", "ClaudeSession")}
    assert sessions["s1"]["messageCount"] == 7 and sessions["s1"]["toolCallCount"] == 3
    assert sessions["s3"]["messageCount"] == 1
    (project,) = await workspace.rows(
        "claude-code-1", "ClaudeProject", "--filter", f"_id = {PROJECT}"
    )
    assert project["sessionCount"] == 2

    session.result("toolu_3", "all passed")  # the answer to an earlier call
    await workspace.sync("claude-code-1")
    calls = await workspace.rows("claude-code-1", "ClaudeToolCall", "--filter", "_id = toolu_3")
    assert calls[0]["outcome"] == "ok" and calls[0]["name"] == "Bash"


async def test_a_deleted_or_rewritten_log_falls_back_to_a_full_sync(
    workspace: LocalWorkspace, root: Path, session: SessionWriter
) -> None:
    doomed = SessionWriter(root, PROJECT, "s9", "/x")
    doomed.user("short-lived")
    await connect(workspace, root)
    await workspace.sync("claude-code-1")
    doomed.path.unlink()
    result = await workspace.sync("claude-code-1")
    assert result["mode"] == "full" and result["removed"] == 2  # the session and its message
    assert not await workspace.rows("claude-code-1", "ClaudeMessage", "--filter", "session = s9")

    text = session.path.read_text()
    session.path.write_text(text.replace("Why does login fail?", "Why does the LOGIN fail?"))
    rewritten = await workspace.sync("claude-code-1")
    assert rewritten["mode"] == "full"
    found = await workspace.rows("claude-code-1", "ClaudeMessage", "--filter", "text ~= LOGIN")
    assert len(found) == 1


async def test_bad_roots_fail_at_connect_with_one_line(
    workspace: LocalWorkspace, tmp_path: Path
) -> None:
    missing = await workspace.invoke("connect", "claude-code", "--config", f"root={tmp_path}/no")
    assert_one_line_error(missing, contains="no such directory")
    a_file = tmp_path / "f"
    a_file.write_text("x")
    not_dir = await workspace.invoke("connect", "claude-code", "--config", f"root={a_file}")
    assert_one_line_error(not_dir, contains="not a directory")


async def test_done_when_with_real_processes(
    workspace: LocalWorkspace, root: Path, session: SessionWriter
) -> None:
    connected = await workspace.proc("connect", "claude-code", "--config", f"root={root}")
    assert connected.code == 0, connected
    synced = await workspace.proc("sync", "claude-code-1")
    assert synced.code == 0 and "Mode:            full" in synced.out, synced
    found = await workspace.proc(
        "search", "claude-code-1", "ClaudeToolCall", "--filter", "outcome = error",
        "--fields", "name,inputSummary", "-o", "json",
    )  # fmt: skip
    assert found.code == 0, found
    assert [row["inputSummary"] for row in json.loads(found.out)["data"]] == ["pytest -k login"]


def test_values_from_the_logs_are_checked() -> None:
    assert date_text("2025-06-01T12:00:00.000Z") == "2025-06-01T12:00:00.000Z"
    assert date_text("2025-06-01T12:00:00+02:00") == "2025-06-01T12:00:00.000+02:00"
    assert date_text("yesterday") is None and date_text(12) is None
    assert input_summary({"command": "ls  -la\n/tmp"})[0] == "ls -la /tmp"
    assert input_summary({"x": 1}) == ('{"x":1}', '{"x":1}')


@pytest.mark.parametrize("cursor", ["", "[]", '{"v":1,"projects":[],"files":{"a":[-1,""]}}'])
def test_a_cursor_that_is_not_ours_expires(cursor: str) -> None:
    with pytest.raises(Exception) as caught:
        ClaudeCursor.decode(cursor)
    assert ErrFeedCursorExpired.matches(caught.value)
