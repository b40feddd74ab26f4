"""Real commands through a workspace daemon against a real Acme server: connect (flags, and a
person at a pseudo-terminal), sync, Ctrl-C during a sync and its resume, search output equal
to direct mode, a reader that goes away, and a command answered while another one waits."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests import terminal
from tests.daemon.conftest import PROJECTS, TASKS_PER_PROJECT, USERS, Acme, connect_args
from tests.daemon.harness import MAX, Machine, Result, count_in_data_db

ALL_TASKS = PROJECTS * TASKS_PER_PROJECT
SEARCH_ALL = "search acme-1 AcmeTask --all -o ndjson"
RESUME = re.compile(r"Sync interrupted\. Resume with: max sync acme-1 --resume (sync-\d+)")


def connected(machine: Machine, acme: Acme) -> Path:
    root = machine.workspace("proj")
    result = machine.run(*connect_args(acme), cwd=root)
    assert result.code == 0, result
    return root


def task_count(machine: Machine, root: Path) -> int:
    result = machine.run("search", "acme-1", "AcmeTask", "--all", "-o", "ndjson", cwd=root)
    assert result.code == 0, result
    return len(result.out.splitlines())


def test_connect_sync_and_search_through_the_daemon_match_direct_mode(
    machine: Machine, acme: Acme
) -> None:
    root = machine.workspace("proj")
    connect = machine.run(*connect_args(acme), cwd=root)
    assert connect.code == 0 and connect.err == "", connect
    assert re.fullmatch(
        r"Connected acme as installation acme-1 \(\S+\)\nNext: max sync acme-1\n", connect.out
    )
    pid = machine.wait_running(root)
    sync = machine.run("sync", "acme-1", cwd=root)
    assert sync.code == 0, sync
    lines = sync.out.splitlines()
    # one workspace, its users and the tenant's system user, projects, tasks, a file each
    assert lines[1] == f"  Entities synced: {1 + USERS + 1 + PROJECTS + ALL_TASKS + PROJECTS}"
    assert re.fullmatch(r"  Work units:      (\d+) of \1 completed, 0 failed", lines[2])
    assert re.fullmatch(r"  Mode:            full \(\d+ requests\)", lines[3])
    assert lines[4:] == ["  Retries:         0", "  Rows removed:    0"]
    assert sync.out.startswith("Sync completed in ")
    for args in (
        ["search", "acme-1", "AcmeTask", "--limit", "10"],
        ["search", "acme-1", "AcmeTask", "--limit", "5", "-o", "json"],
        ["search", "acme-1", "AcmeUser", "--filter", "active=true", "-o", "ndjson"],
        ["ls"],
        ["schema", "acme"],
        ["-t", "acme-1", "status", "-o", "json"],
    ):
        served, direct = machine.run(*args, cwd=root), machine.direct(*args, cwd=root)
        assert served.code == direct.code == 0, (args, served, direct)
        if "status" in args:  # a health check's timing differs between two runs
            assert json.loads(served.out).keys() == json.loads(direct.out).keys()
        else:
            assert (served.out, served.err) == (direct.out, direct.err), args
    assert task_count(machine, root) == ALL_TASKS
    assert machine.wait_running(root) == pid  # one daemon served all of it
    inside = machine.run(
        "search", "AcmeTask", "--limit", "3", cwd=root / ".max/installations/acme-1"
    )
    assert (
        inside.code == 0
        and inside.out
        == machine.direct(
            "search", "AcmeTask", "--limit", "3", cwd=root / ".max/installations/acme-1"
        ).out
    )


def test_connect_without_a_terminal_lists_the_missing_flags(machine: Machine, acme: Acme) -> None:
    root = machine.workspace("proj")
    args = ["connect", "acme", "--config", f"baseUrl={acme.url}"]
    served, direct = machine.run(*args, cwd=root), machine.direct(*args, cwd=root)
    assert served.code == direct.code == 1
    assert served.err == direct.err
    assert served.err.startswith(
        "Error: Cannot connect acme without prompting — missing: --credential api_token=<value>"
    )
    assert machine.run("ls", cwd=root).out.strip().endswith("No installations.")


def test_credentials_from_the_callers_environment_and_relative_files(
    machine: Machine, acme: Acme
) -> None:
    root = machine.workspace("proj")
    (root / "token.txt").write_text(acme.api_key + "\n")
    by_file = machine.run(
        "connect",
        "acme",
        "--config",
        f"baseUrl={acme.url}",
        "--credential",
        "api_token=@token.txt",
        "--name",
        "from-file",
        cwd=root,
    )
    assert by_file.code == 0, by_file
    by_env = machine.run(
        "connect",
        "acme",
        "--config",
        f"baseUrl={acme.url}",
        "--credentials-from-env",
        "ACME_",
        "--name",
        "from-env",
        cwd=root,
        ACME_API_TOKEN=acme.api_key,
    )
    assert by_env.code == 0, by_env
    assert "from-env" in machine.run("ls", cwd=root).out
    machine.wait_running(root)


class Terminal(terminal.Terminal):
    """``max ARGS`` through the launcher on a pseudo-terminal (``tests/terminal.py``: its
    controlling terminal, so Ctrl-C is a SIGINT from the terminal driver)."""

    def __init__(self, machine: Machine, root: Path, *args: str) -> None:
        super().__init__([MAX, *args], cwd=root, env=machine.env())

    def type(self, text: str) -> None:
        self.send(text)

    def finish(self, timeout: float = 30) -> tuple[int, str]:  # type: ignore[override]
        code = super().finish(timeout)
        return code, self.text()


def test_an_interactive_connect_over_the_socket_asks_at_the_terminal(
    machine: Machine, acme: Acme
) -> None:
    root = machine.workspace("proj")
    terminal = Terminal(machine, root, "connect", "acme")
    terminal.expect("Tenant URL: ")
    terminal.type(acme.url + "\n")
    terminal.expect("api_token: ")
    assert not terminal.echo_is_on()
    terminal.type(acme.api_key + "\n")
    terminal.expect("> ")
    terminal.type("1\n")
    code, screen = terminal.finish()
    assert code == 0, screen
    assert "Verify credentials... done" in screen
    assert "Connected acme as installation acme-1" in screen
    assert acme.api_key not in screen  # the secret was never echoed
    assert acme.url in screen  # the plain answer was
    assert "acme-1" in machine.run("ls", cwd=root).out
    log = Path(machine.paths(root).log).read_text()
    assert "run connect → 0" in log


def test_ctrl_c_at_a_secret_prompt_restores_echo_and_stops(machine: Machine, acme: Acme) -> None:
    root = machine.workspace("proj")
    terminal = Terminal(machine, root, "connect", "acme", "--config", f"baseUrl={acme.url}")
    terminal.expect("api_token: ")
    assert not terminal.echo_is_on()
    terminal.type("\x03")  # Ctrl-C
    terminal.expect("Interrupted.")
    assert terminal.echo_is_on()
    code, screen = terminal.finish()
    assert code == 130, screen
    assert "Interrupted." in screen and "Traceback" not in screen
    assert machine.run("ls", cwd=root).out.strip().endswith("No installations.")


def running_syncs(root: Path) -> int:
    return count_in_data_db(root, "SELECT count(*) FROM _max_sync WHERE status = 'running'")


def test_ctrl_c_during_a_daemon_hosted_sync_interrupts_it_and_resume_finishes(
    machine: Machine, slow_acme: Acme
) -> None:
    root = connected(machine, slow_acme)
    sync = subprocess.Popen(
        [MAX, "sync", "acme-1"],
        cwd=root,
        env=machine.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while running_syncs(root) == 0:
            assert sync.poll() is None, sync.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        meanwhile = machine.run("ls", cwd=root)  # the daemon answers while the sync runs
        assert meanwhile.code == 0 and "acme-1" in meanwhile.out
        sync.send_signal(signal.SIGINT)
        out, err = sync.communicate(timeout=60)
    finally:
        if sync.poll() is None:
            sync.kill()
            sync.wait()
    assert sync.returncode == 130, (out, err)
    match = RESUME.search(err.decode())
    assert match is not None, err
    assert running_syncs(root) == 0
    resumed = machine.run("sync", "acme-1", "--resume", match.group(1), cwd=root, timeout=120)
    assert resumed.code == 0, resumed
    assert resumed.out.startswith("Sync resumed completed in ")
    assert task_count(machine, root) == ALL_TASKS


def test_a_reader_that_goes_away_ends_the_command_quietly(machine: Machine, acme: Acme) -> None:
    root = connected(machine, acme)
    assert machine.run("sync", "acme-1", cwd=root).code == 0
    done = subprocess.run(
        [
            "bash",
            "-o",
            "pipefail",
            "-c",
            f"'{MAX}' search acme-1 AcmeTask --all -o ndjson | head -c 100",
        ],
        cwd=root,
        env=machine.env(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done
    assert len(done.stdout) == 100 and done.stderr == b""
    assert task_count(machine, root) == ALL_TASKS  # and the daemon carries on


@pytest.mark.parametrize("second", [["ls"], ["search", "acme-1", "AcmeUser", "--limit", "2"]])
def test_a_command_waiting_at_a_prompt_does_not_block_others(
    machine: Machine, acme: Acme, second: list[str]
) -> None:
    root = connected(machine, acme)
    terminal = Terminal(machine, root, "connect", "acme", "--name", "second")
    try:
        terminal.expect("Tenant URL: ")
        for _ in range(3):
            result: Result = machine.run(*second, cwd=root, timeout=20)
            assert result.code == 0, result
            assert result.out == machine.direct(*second, cwd=root).out
    finally:
        terminal.type("\x03")
        code, _ = terminal.finish()
    assert code == 130


def test_a_sync_drawing_progress_on_a_terminal_keeps_to_its_own_connection(
    machine: Machine, slow_acme: Acme
) -> None:
    root = connected(machine, slow_acme)
    expected = machine.direct("ls", cwd=root)
    terminal = Terminal(machine, root, "sync", "acme-1")
    try:
        terminal.expect("elapsed")  # the live display is being drawn on the terminal
        for _ in range(3):
            beside = machine.run("ls", cwd=root)
            assert (beside.code, beside.out, beside.err) == (0, expected.out, ""), beside
    finally:
        code, screen = terminal.finish(timeout=120)
    assert code == 0, screen
    assert "AcmeTask" in screen and "Sync completed in " in screen


def test_data_db_alone_holds_every_row_while_the_daemon_has_it_open(
    machine: Machine, acme: Acme, tmp_path: Path
) -> None:
    """``cp data.db`` right after a daemon-run sync copies every synced row (the WAL was
    checkpointed), and the file and its WAL are readable by their owner only."""
    root = connected(machine, acme)
    pid = machine.wait_running(root)
    sync = machine.run("sync", "acme-1", cwd=root)
    assert sync.code == 0, sync
    assert machine.wait_running(root) == pid  # the daemon still holds the installation open
    installation = root / ".max" / "installations" / "acme-1"
    copy = tmp_path / "copy.db"
    copy.write_bytes((installation / "data.db").read_bytes())  # data.db alone, no -wal

    conn = sqlite3.connect(copy)
    try:
        (tasks,) = conn.execute('SELECT count(*) FROM "_acme_task"').fetchone()
    finally:
        conn.close()

    assert tasks == ALL_TASKS
    for name in ("data.db", "data.db-wal", "data.db-shm"):
        path = installation / name
        if path.exists():
            assert path.stat().st_mode & 0o777 == 0o600, name
