"""The daemon's socket with a raw client: files and modes, malformed and oversized messages,
partial lines, stray input, and a clean SIGTERM — against a real daemon process."""

from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import stat
import subprocess
from pathlib import Path

import pytest

import max_launcher
from tests.daemon.harness import Machine, after_ready, exchange, request_line, wait_gone


@pytest.fixture
def served(machine: Machine) -> Path:
    root = machine.workspace("proj")
    assert machine.run("daemon", "start", cwd=root).code == 0
    machine.wait_running(root)
    return root


def ls_response(root: Path) -> list[dict[str, object]]:
    return [
        {
            "kind": "write",
            "text": f"Node: max://@/{root.name}  [workspace]\n\n  No installations.\n",
            "stream": "stdout",
        },
        {"kind": "response", "exitCode": 0},
    ]


def test_a_well_formed_request_gets_writes_then_one_response(
    machine: Machine, served: Path
) -> None:
    assert exchange(machine.paths(served), request_line(served, "ls")) == ls_response(served)


def test_a_request_split_across_packets_is_one_line(machine: Machine, served: Path) -> None:
    line = request_line(served, "ls")
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(30)
    with max_launcher.SocketAddress(machine.paths(served).socket) as address:
        sock.connect(address)
    for i in range(0, len(line), 7):
        sock.sendall(line[i : i + 7])
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    assert after_ready([json.loads(x) for x in received.splitlines()]) == ls_response(served)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"this is not json\n", "Error: Malformed message on the daemon socket — not JSON"),
        (b"[1, 2]\n", "Error: Malformed message on the daemon socket — expected a JSON object"),
        (b'{"kind": "launch"}\n', "Error: Malformed message on the daemon socket — unknown kind"),
        (b'{"kind": "run", "argv": "ls", "cwd": "/"}\n', "Error: Invalid run message: "),
        (b'{"kind": "run", "argv": [1], "cwd": "/"}\n', "Error: Invalid run message: "),
        (
            b'{"kind": "run", "argv": [], "cwd": "/", "tty": {"stdin": "yes"}}\n',
            "Error: Invalid run message: invalid value for type, expected bool @ $.tty.stdin",
        ),
        (b'{"kind": "cancel"}\n', 'Error: Unexpected "cancel" message on the daemon socket'),
        (
            b'{"kind": "run", "argv": ["ls"], "cwd": "relative/dir"}\n',
            "Error: Malformed message on the daemon socket — cwd must be an absolute path",
        ),
    ],
)
def test_a_malformed_message_ends_the_connection_with_exit_code_2(
    machine: Machine, served: Path, payload: bytes, message: str
) -> None:
    answer = exchange(machine.paths(served), payload)
    assert len(answer) == 1 and answer[0]["kind"] == "response", answer
    assert answer[0]["exitCode"] == 2
    stderr = str(answer[0]["stderr"])
    assert stderr.startswith(message) and stderr.count("\n") == 1, stderr
    assert exchange(machine.paths(served), request_line(served, "ls")) == ls_response(served)


def test_an_oversized_message_ends_the_connection_not_the_daemon(
    machine: Machine, served: Path
) -> None:
    huge = b'{"kind": "run", "argv": ["' + b"x" * (max_launcher.MAX_LINE_BYTES + 10)
    answer = exchange(machine.paths(served), huge)
    assert answer == [
        {
            "kind": "response",
            "exitCode": 2,
            "stderr": f"Error: Message on the daemon socket is longer than "
            f"{max_launcher.MAX_LINE_BYTES} bytes\n",
        }
    ]
    assert exchange(machine.paths(served), request_line(served, "ls")) == ls_response(served)


@pytest.mark.parametrize(
    "payload",
    [
        b'{"kind": "run", "argv": ' + b"[" * 2000 + b"]" * 2000 + b', "cwd": "/"}\n',
        b'{"kind": "run", "env": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2000 + b"}\n",
    ],
    ids=["array", "object"],
)
def test_a_request_nested_2000_deep_is_a_protocol_error_not_a_traceback(
    machine: Machine, served: Path, payload: bytes
) -> None:
    log = Path(machine.paths(served).log)
    before = log.read_text()
    answer = exchange(machine.paths(served), payload)
    assert answer == [
        {
            "kind": "response",
            "exitCode": 2,
            "stderr": "Error: Malformed message on the daemon socket — JSON nested too deeply\n",
        }
    ]
    assert exchange(machine.paths(served), request_line(served, "ls")) == ls_response(served)
    added = log.read_text()[len(before) :]
    assert "Traceback" not in added and "RecursionError" not in added, added
    refused = [line for line in added.splitlines() if "refused a request" in line]
    assert len(refused) == 1 and "nested too deeply" in refused[0], added


def test_a_malformed_line_while_a_command_runs_cancels_it(machine: Machine, served: Path) -> None:
    payload = request_line(served, "ls") + b"garbage\n"
    answer = exchange(machine.paths(served), payload)
    assert answer[-1]["kind"] == "response"
    assert answer[-1]["exitCode"] in (0, 2)  # ls may finish before the garbage is read


def test_stray_input_is_dropped_and_a_second_request_is_refused(
    machine: Machine, served: Path
) -> None:
    stray = request_line(served, "ls") + b'{"kind": "input", "value": "hello"}\n'
    answer = exchange(machine.paths(served), stray)
    assert answer[-1] == {"kind": "response", "exitCode": 0}
    two = request_line(served, "llm-bootstrap") + request_line(served, "ls")
    answer = exchange(machine.paths(served), two)
    assert answer[-1]["kind"] == "response"
    if answer[-1]["exitCode"] == 2:  # refused before llm-bootstrap finished
        assert "a connection carries one request" in str(answer[-1]["stderr"])


def test_an_old_style_request_without_version_or_tty_is_served(
    machine: Machine, served: Path
) -> None:
    line = json.dumps({"kind": "run", "argv": ["ls"], "cwd": str(served), "color": False})
    assert exchange(machine.paths(served), line.encode() + b"\n") == ls_response(served)


def test_the_daemon_files_are_owner_only(machine: Machine, served: Path) -> None:
    paths = machine.paths(served)
    assert stat.S_IMODE(os.stat(paths.directory).st_mode) == 0o700
    sock_mode = os.stat(paths.socket).st_mode
    assert stat.S_ISSOCK(sock_mode) and stat.S_IMODE(sock_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.lock).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.log).st_mode) == 0o600
    if os.geteuid() != 0:
        return  # only root can become another user to try
    nobody = pwd.getpwnam("nobody").pw_uid
    probe = (  # from the directory (short address), as another user: both steps are refused
        "import os, socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        "    os.chdir(os.path.dirname(sys.argv[1]))\n"
        "    s.connect(os.path.basename(sys.argv[1]))\n"
        "except PermissionError:\n"
        "    print('denied')\n"
        "else:\n"
        "    print('connected')\n"
    )
    for target in (paths.socket,):
        done = subprocess.run(
            ["/usr/bin/python3", "-c", probe, target],
            user=nobody,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            cwd="/",
        )
        assert done.stdout.strip() == "denied", done


def test_sigterm_stops_the_daemon_and_removes_its_files(machine: Machine, served: Path) -> None:
    paths = machine.paths(served)
    pid = max_launcher.read_pid(paths)
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    assert wait_gone(pid, 15)
    assert not os.path.exists(paths.socket) and not os.path.exists(paths.pid)
    assert not max_launcher.lock_is_held(paths)
    assert "stopped (signal SIGTERM)" in Path(paths.log).read_text()
