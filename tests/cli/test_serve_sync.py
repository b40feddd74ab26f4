"""Remote syncs through ``max serve``: live progress on the caller's terminal, Ctrl-C → a
remote cancel that leaves the sync resumable, a read-only server's refusal, and ``kill -9`` of
the server in the middle of a command (one line, exit 1). Real processes: a slow Acme server
(every request takes a while, so a sync lasts seconds), a workspace of this test's own served
by ``max serve`` (its ``MAX_HOME``), a client with another ``MAX_HOME`` in a pseudo-terminal.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import PROJECTS, TASKS_PER_PROJECT, Acme, connect_args
from tests.daemon.conftest import _serve as serve_acme
from tests.terminal import Terminal

from .conftest import MAX, max_sync_run
from .serving import Client, Server, new_client, start_server, stopped_cleanly

#: The sync display's line of one entity type: name, bar, count.
PROGRESS_LINE = r"^  {name}\s+[·░▒▓█]{{5}}\s+(\d+)\s"


@pytest.fixture(scope="module")
def slow_acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acme]:
    """Every request takes half a second: a sync lasts several seconds."""
    yield from serve_acme(tmp_path_factory, "remote-slow", "--latency-ms", "500")


def served_workspace(tmp_path: Path, acme: Acme, *extra: str) -> Server:
    home, root = tmp_path / "server-home", tmp_path / "proj"
    assert max_sync_run("init", str(root), cwd=tmp_path, home=home).code == 0
    result = max_sync_run(*connect_args(acme, "--no-input"), cwd=root, home=home)
    assert result.code == 0, result
    return start_server(root, home, tmp_path / "serve.log", *extra)


@pytest.fixture
def server(tmp_path: Path, slow_acme: Acme) -> Iterator[Server]:
    server = served_workspace(tmp_path, slow_acme)
    yield server
    stopped_cleanly(server)


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return new_client(tmp_path)


def terminal(client: Client, server: Server, *args: str) -> Terminal:
    return Terminal([MAX, "-t", *args], cwd=client.cwd, env=client.env(server.token))


def test_a_remote_sync_shows_live_progress_and_its_summary(server: Server, client: Client) -> None:
    with terminal(client, server, f"{server.url}/acme-1", "sync") as screen:
        screen.expect(re.compile(PROGRESS_LINE.format(name="AcmeProject"), re.MULTILINE))
        assert screen.finish(timeout=120) == 0, screen.text()
        text = screen.text()
    assert "Sync completed in " in text and "(sync-1)" in text, text
    assert "Error" not in text
    result = client.run("-t", f"{server.url}/acme-1", "status", token=server.token)
    assert result.code == 0, result
    assert re.search(r"Last sync:  \S+ \(sync-1 completed, \d+ entities synced\)", result.out)
    count = client.run(
        "-t", f"{server.url}/acme-1", "search", "AcmeTask", "--all", "-o", "ndjson",
        token=server.token,
    )  # fmt: skip
    assert len(count.out.splitlines()) == PROJECTS * TASKS_PER_PROJECT


def test_ctrl_c_cancels_the_remote_sync_and_it_resumes(server: Server, client: Client) -> None:
    with terminal(client, server, f"{server.url}/acme-1", "sync") as screen:
        screen.expect(re.compile(PROGRESS_LINE.format(name="AcmeProject"), re.MULTILINE))
        screen.ctrl_c()
        code = screen.finish(timeout=60)
        text = screen.text()
    assert code == 130, text
    assert "Traceback" not in text and "Error" not in text, text
    # the server's own words, relative to the caller's -t
    assert (
        text.rstrip().splitlines()[-1] == "Sync interrupted. Resume with: max sync --resume sync-1"
    )
    status = client.run("-t", f"{server.url}/acme-1", "status", token=server.token)
    assert "(sync-1 interrupted, " in status.out, status
    resumed = client.run(
        "-t", f"{server.url}/acme-1", "sync", "--resume", "sync-1", token=server.token
    )
    assert resumed.code == 0, resumed
    assert resumed.out.startswith("Sync resumed completed in "), resumed


def test_a_read_only_server_refuses_sync(tmp_path: Path, slow_acme: Acme, client: Client) -> None:
    server = served_workspace(tmp_path, slow_acme, "--read-only")
    try:
        result = client.run("-t", f"{server.url}/acme-1", "sync", token=server.token)
        assert result.code == 1 and result.out == ""
        assert result.err == (
            "Error: Command not allowed: sync. Allowed: search, schema, status, ls\n"
        )
        refused = server.post("/cli", {"argv": ["sync"], "installation": "acme-1"})
        assert refused.status_code == 403
        rpc = server.post(
            "/rpc", {"id": "s", "method": "sync", "scope": {"installationId": "acme-1"}}
        )
        assert rpc.status_code == 403
        assert rpc.json()["error"]["code"] == "remote.method_not_allowed"
        ok = client.run("-t", f"{server.url}/acme-1", "schema", token=server.token)
        assert ok.code == 0, ok
        last = server.post(
            "/rpc", {"id": "l", "method": "lastSync", "scope": {"installationId": "acme-1"}}
        )
        assert last.json() == {"id": "l", "ok": True, "result": None}  # nothing was synced
    finally:
        assert server.stop() == 0


def test_kill_9_of_the_server_mid_command_is_one_line_and_exit_1(
    tmp_path: Path, slow_acme: Acme, client: Client
) -> None:
    server = served_workspace(tmp_path, slow_acme)
    process = client.spawn("-t", f"{server.url}/acme-1", "sync", token=server.token)
    deadline = time.monotonic() + 60
    while "/cli/stream sync started" not in server.log_text():  # the command runs there
        assert time.monotonic() < deadline, server.log_text()
        assert process.poll() is None
        time.sleep(0.05)
    server.process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1, (out, err)
    lines = err.decode().splitlines()
    assert lines[0] == (
        f"Error: Lost the connection to {server.url}/acme-1 while running 'max sync' — "
        "the server closed the connection"
    ), err
    assert all(line.startswith("  Hint: ") for line in lines[1:]) and len(lines) == 2, err
    assert "Traceback" not in err.decode()
