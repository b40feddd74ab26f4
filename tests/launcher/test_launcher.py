"""The ``max`` launcher with real processes: direct mode, auto-start, a warm daemon, and
recovery from everything a daemon can leave behind (kill -9, a recycled PID, another
version)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import max_launcher
from tests.daemon.harness import Machine, alive, start_daemon_process, wait_gone


def ls_lines(root: Path) -> list[str]:
    return [f"Node: max://@/{root.name}  [workspace]", "", "  No installations."]


def test_outside_a_workspace_runs_direct_and_starts_nothing(machine: Machine) -> None:
    machine.workspace("proj")
    result = machine.run("ls", cwd=machine.base)
    assert result.code == 0, result
    assert "max://@  [global]" in result.out and "proj" in result.out
    assert result.err == ""
    assert machine.daemon_directories() == []


def test_first_command_starts_the_daemon_and_the_next_ones_reuse_it(machine: Machine) -> None:
    root = machine.workspace("proj")
    direct = machine.direct("ls", cwd=root)
    first = machine.run("ls", cwd=root)
    assert first.code == 0 and first.err == "", first
    assert first.out == direct.out
    assert first.out.splitlines() == ls_lines(root)
    pid = machine.wait_running(root)
    for _ in range(3):
        again = machine.run("ls", cwd=root)
        assert (again.code, again.out, again.err) == (0, direct.out, "")
    assert machine.wait_running(root) == pid
    log = Path(machine.paths(root).log).read_text()
    assert log.count("run ls → 0") >= 4, log


def test_forced_direct_mode_never_touches_a_daemon(machine: Machine) -> None:
    root = machine.workspace("proj")
    for result in (
        machine.run("ls", cwd=root, MAX_NO_DAEMON="1"),
        machine.run("--direct", "ls", cwd=root),
        machine.run("ls", "--direct", cwd=root),
    ):
        assert (result.code, result.out.splitlines(), result.err) == (0, ls_lines(root), "")
    status = machine.run("daemon", "status", cwd=root)
    assert status.code == 0 and "○ not running" in status.out
    assert not Path(machine.paths(root).pid).exists()
    assert not Path(machine.paths(root).socket).exists()


def test_errors_and_exit_codes_are_the_same_through_the_daemon(machine: Machine) -> None:
    root = machine.workspace("proj")
    for args in (["bogus"], ["search", "nope", "AcmeTask"], ["sync"], ["ls", "--bad-flag"]):
        direct = machine.direct(*args, cwd=root)
        served = machine.run(*args, cwd=root)
        assert served.code == direct.code != 0, (args, served, direct)
        assert (served.out, served.err) == (direct.out, direct.err), args
        assert "Traceback" not in served.err
    machine.wait_running(root)


def test_target_flag_from_outside_picks_the_workspace_daemon(machine: Machine) -> None:
    root = machine.workspace("proj")
    result = machine.run("-t", "proj", "ls", cwd=machine.base)
    assert (result.code, result.out.splitlines()) == (0, ls_lines(root)), result
    url = machine.run("-t", "max://@/proj", "ls", cwd=machine.base)
    assert url.out == result.out
    env_target = machine.run("ls", cwd=machine.base, MAX_TARGET="proj")
    assert env_target.out == result.out
    machine.wait_running(root)
    assert len(machine.daemon_directories()) == 1


def test_two_workspaces_get_two_daemons(machine: Machine) -> None:
    one, two = machine.workspace("one"), machine.workspace("two")
    assert machine.run("ls", cwd=one).out.splitlines() == ls_lines(one)
    assert machine.run("ls", cwd=two).out.splitlines() == ls_lines(two)
    pid_one, pid_two = machine.wait_running(one), machine.wait_running(two)
    assert pid_one != pid_two
    assert machine.paths(one).key != machine.paths(two).key
    listed = json.loads(machine.run("daemon", "list", "-o", "json", cwd=machine.base).out)
    assert sorted((d["root"], d["status"], d["pid"]) for d in listed) == sorted(
        [(str(one), "running", pid_one), (str(two), "running", pid_two)]
    )
    text = machine.run("daemon", "list", cwd=machine.base).out.splitlines()
    assert text[:3] == [
        str(one),
        f"  Hash:   {machine.paths(one).key}",
        f"  Status: ● running (pid {pid_one})",
    ]


def test_kill_9_then_the_next_command_recovers(machine: Machine) -> None:
    root = machine.workspace("proj")
    machine.run("ls", cwd=root)
    old = machine.wait_running(root)
    os.kill(old, signal.SIGKILL)
    assert wait_gone(old, 10)
    assert Path(machine.paths(root).socket).exists()  # left behind by the dead daemon
    stale = machine.run("daemon", "status", cwd=root)
    assert "○ not running" in stale.out and "Warning: stale socket at" in stale.out
    started = time.perf_counter()
    result = machine.run("ls", cwd=root)
    elapsed = time.perf_counter() - started
    assert result.code == 0 and result.out.splitlines() == ls_lines(root), result
    assert len(result.warnings()) <= 1 and "Traceback" not in result.err
    new = machine.wait_running(root)
    assert new != old
    print(f"recovery after kill -9: {elapsed * 1000:.0f} ms (one command, daemon start included)")


def test_a_recycled_pid_in_the_pid_file_is_never_signalled(machine: Machine) -> None:
    root = machine.workspace("proj")
    paths = machine.paths(root)
    paths.ensure_directory()
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        Path(paths.pid).write_text(str(bystander.pid))
        leftover = socket.socket(socket.AF_UNIX)
        with max_launcher.SocketAddress(paths.socket) as address:
            leftover.bind(address)  # a socket file nobody listens on
        leftover.close()
        status = json.loads(machine.run("daemon", "status", "-o", "json", cwd=root).out)
        assert status["status"] == "stale" and status["pid"] is None
        stop = machine.run("daemon", "stop", cwd=root)
        assert stop.out.strip() == "Daemon is not running"
        assert alive(bystander.pid)
        result = machine.run("ls", cwd=root)
        assert result.code == 0 and result.out.splitlines() == ls_lines(root), result
        daemon = machine.wait_running(root)
        assert daemon != bystander.pid
        assert machine.run("daemon", "stop", cwd=root).out.startswith("Daemon stopped.")
        assert wait_gone(daemon, 10)
        assert alive(bystander.pid)
    finally:
        bystander.kill()
        bystander.wait()


def test_a_daemon_of_another_version_is_replaced_once(machine: Machine) -> None:
    root = machine.workspace("proj")
    old = start_daemon_process(machine, root, "--advertise-version", "0:old-build")
    try:
        assert machine.wait_running(root) == old.pid
        result = machine.run("ls", cwd=root)
        assert result.code == 0 and result.out.splitlines() == ls_lines(root), result
        assert result.warnings() == []
        assert old.wait(timeout=15) == 0  # it retired and exited
        new = machine.wait_running(root)
        assert new != old.pid
        project = max_launcher.read_project(machine.paths(root))
        assert project is not None and project["version"] == max_launcher.launcher_version()
        log = Path(machine.paths(root).log).read_text()
        assert "retiring: launcher version" in log
    finally:
        if old.poll() is None:
            old.kill()
            old.wait()


def test_a_disabled_daemon_is_never_started(machine: Machine) -> None:
    root = machine.workspace("proj")
    assert machine.run("daemon", "disable", cwd=root).out.strip() == "Daemon disabled"
    result = machine.run("ls", cwd=root)
    assert (result.code, result.out.splitlines(), result.err) == (0, ls_lines(root), "")
    assert not Path(machine.paths(root).socket).exists()
    start = machine.run("daemon", "start", cwd=root)
    assert start.code == 1
    assert start.err.strip() == "Daemon is disabled. Run 'max daemon enable' first."
    assert machine.run("daemon", "enable", cwd=root).out.strip() == "Daemon enabled"
    assert machine.run("daemon", "start", cwd=root).out.strip() == "Daemon starting..."
    pid = machine.wait_running(root)
    again = machine.run("daemon", "start", cwd=root)
    assert again.out.strip() == f"Daemon already running (pid {pid})"


def test_daemon_commands_outside_a_workspace_say_what_they_need(machine: Machine) -> None:
    result = machine.run("daemon", "status", cwd=machine.base)
    assert result.code == 2
    assert result.err.splitlines() == [
        "Error: daemon status needs a workspace.",
        "  Run it inside a workspace, or: max -t <workspace> daemon status",
    ]
    assert machine.run("daemon", "list", cwd=machine.base).out.strip() == "No daemons found."


def test_status_restart_and_logs(machine: Machine) -> None:
    root = machine.workspace("proj")
    assert machine.run("daemon", "start", cwd=root).code == 0
    pid = machine.wait_running(root)
    status = machine.run("daemon", "status", cwd=root).out.splitlines()
    assert status == [
        f"Daemon:  ● running (pid {pid})",
        f"Socket:  {machine.paths(root).socket}",
        "Enabled: ✓ yes",
    ]
    restarted = json.loads(machine.run("daemon", "restart", "-o", "json", cwd=root).out)
    assert restarted["status"] == "running" and restarted["pid"] != pid
    assert not alive(pid) or wait_gone(pid, 10)
    assert restarted == {
        "root": str(root),
        "hash": machine.paths(root).key,
        "status": "running",
        "pid": restarted["pid"],
        "socket": machine.paths(root).socket,
        "enabled": True,
    }
    logs = machine.run("daemon", "logs", "-n", "50", cwd=root)
    assert "stopping: signal SIGTERM" in logs.out and f"[{restarted['pid']}]" in logs.out


def test_long_socket_paths_go_through_the_directory_descriptor(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    machine = Machine(deep)
    try:
        root = machine.workspace("proj")
        assert len(machine.paths(root).socket) > 108
        result = machine.run("ls", cwd=root)
        assert (result.code, result.out.splitlines(), result.err) == (0, ls_lines(root), "")
        machine.wait_running(root)
        assert machine.run("ls", cwd=root).out.splitlines() == ls_lines(root)
    finally:
        assert machine.stop_all() == []


def test_shell_completion_is_answered_by_the_daemon(machine: Machine) -> None:
    root = machine.workspace("proj")
    env = {"_MAX_COMPLETE": "bash_complete", "COMP_WORDS": "max s", "COMP_CWORD": "1"}
    direct = machine.run(cwd=root, MAX_NO_DAEMON="1", **env)
    served = machine.run(cwd=root, **env)
    assert served.code == direct.code == 0
    assert served.out == direct.out
    assert "plain,search" in served.out.splitlines()
    machine.wait_running(root)
    assert "complete" in Path(machine.paths(root).log).read_text()
