"""``max acme create|seed|list|start``: the reference's output lines, real files, real processes.

``start`` runs as a real subprocess: it prints its JSON line, serves real HTTP, and exits 0 on
SIGINT and on SIGTERM.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trio
from asyncclick.testing import CliRunner

from maxtrio.cli._main import cli

MAX = str(Path(sys.executable).parent / "max")


async def _max(*args: str) -> tuple[int, str, str]:
    result = await CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


async def test_create_seed_list(tmp_path: Path) -> None:
    data = str(tmp_path / "tenants")
    assert await _max("acme", "list", "--data-dir", data) == (0, "No tenants found\n", "")
    code, out, _ = await _max("acme", "create", "--tenant", "demo", "--data-dir", data)
    lines = out.splitlines()
    assert code == 0 and lines[0] == 'Tenant "demo" created'
    assert lines[1].startswith("API Key: acme_") and len(lines) == 2
    code, out, _ = await _max("acme", "seed", "--tenant", "demo", "--data-dir", data)
    assert (code, out) == (0, "Seeded: 1 workspaces, 6 users, 3 projects, 30 tasks, 15 files\n")
    code, out, _ = await _max(
        "acme", "seed", "--tenant", "demo", "--data-dir", data, "--workspaces", "2",
        "--users-per-workspace", "1", "--projects-per-workspace", "1", "--tasks-per-project",
        "4", "--files-per-project", "0", "--no-ghost-users",
    )  # fmt: skip
    assert out == "Seeded: 2 workspaces, 2 users, 2 projects, 8 tasks, 0 files\n"
    await _max("acme", "create", "--tenant", "another", "--data-dir", data)
    assert await _max("acme", "list", "--data-dir", data) == (0, "another\ndemo\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create"], "Error: --tenant is required"),
        (["seed"], "Error: --tenant is required"),
        (["start"], "Error: --tenant is required"),
        (["seed", "--tenant", "nope"], 'Error: Tenant "nope" not found at'),
        (["create", "--tenant", "../up"], "Error: Invalid tenant name '../up'"),
        (["seed", "--tenant", "x", "--tasks-per-project", "-3"], "Invalid value"),
    ],
)
async def test_bad_invocations_fail_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    code, out, err = await _max("acme", *args, "--data-dir", str(tmp_path))
    assert code in (1, 2) and out == ""
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


async def _start(tmp_path: Path, *args: str, lines: int) -> tuple[trio.Process, str]:
    """Start ``max acme start`` and read its first ``lines`` lines of output."""
    process = await trio.lowlevel.open_process(
        [MAX, "acme", "start", "--data-dir", str(tmp_path), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    output = b""
    with trio.fail_after(20):
        while output.count(b"\n") < lines:
            chunk = await process.stdout.receive_some()
            assert chunk, "max acme start ended before printing its lines"
            output += chunk
    return process, output.decode()


async def _stop(process: trio.Process, sig: signal.Signals) -> tuple[int, bytes]:
    process.send_signal(sig)
    assert process.stderr is not None
    with trio.fail_after(20):
        code = await process.wait()
        err = await process.stderr.receive_some()
    return code, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_start_json_serves_until_signalled(tmp_path: Path, sig: signal.Signals) -> None:
    process, output = await _start(tmp_path, "--tenant", "live", "-o", "json", lines=1)
    try:
        line = json.loads(output)
        assert set(line) == {"url", "apiKey", "tenant"} and line["tenant"] == "live"
        assert line["url"].startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=line["url"]) as http:
            answer = await http.get(
                "/api/workspaces", headers={"authorization": f"Bearer {line['apiKey']}"}
            )
            assert (answer.status_code, answer.json()) == (200, [])
            assert (await http.get("/api/workspaces")).status_code == 401
    finally:
        code, err = await _stop(process, sig)
    assert code == 0, err
    assert b"Traceback" not in err


async def test_start_text_on_an_existing_tenant_with_fault_flags(tmp_path: Path) -> None:
    assert (await _max("acme", "create", "--tenant", "shop", "--data-dir", str(tmp_path)))[0] == 0
    process, output = await _start(tmp_path, "--tenant", "shop", "--rate-limit-ratio", "1", lines=5)
    try:
        lines = output.splitlines()
        assert lines[:2] == ['Opened existing tenant "shop"', ""]
        url = lines[2].removeprefix("Acme server running at ")
        assert lines[3].startswith("API Key: acme_") and lines[4] == f"Dashboard: {url}/"
        key = lines[3].removeprefix("API Key: ")
        async with httpx.AsyncClient(base_url=url) as http:
            limited = await http.get("/api/stats", headers={"authorization": f"Bearer {key}"})
            assert (limited.status_code, limited.headers["retry-after"]) == (429, "1")
            assert (await http.get("/")).status_code == 200
    finally:
        code, _ = await _stop(process, signal.SIGINT)
    assert code == 0


async def test_start_on_a_busy_port_fails_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = await _max(
            "acme", "start", "--tenant", "t", "--data-dir", str(tmp_path), "--port", str(port)
        )
    assert (code, out) == (1, "")
    assert err == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
