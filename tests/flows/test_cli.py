"""``max flows …``: the server command and the client commands, against real servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from .conftest import API_KEY, FlowsServer, flow_program, schedule

MAX = str(Path(sys.executable).parent / "max")


def max_flows(
    server: FlowsServer, *args: str, api_key: str = API_KEY
) -> subprocess.CompletedProcess[str]:
    """``max flows ARGS --server <server>`` with ``MAXQ_API_KEY=api_key`` (unset when empty)."""
    env = {k: v for k, v in os.environ.items() if k != "MAXQ_API_KEY"}
    if api_key:
        env["MAXQ_API_KEY"] = api_key
    return subprocess.run(
        [MAX, "flows", *args, "--server", f"http://127.0.0.1:{server.port}/api/v1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_run_wait_list_show_and_logs(server: FlowsServer) -> None:
    flow = server.flows.add(
        "cli",
        flow_program(schedule("only", [{"id": "hello", "name": "hi"}], final=True)),
        {"hi": "echo hi\n"},
    )
    started = as_json(max_flows(server, "run", flow, "--input", '{"n": 1}', "--wait", "-o", "json"))
    assert started["status"] == "completed" and started["input"] == {"n": 1}

    text = max_flows(server, "run", flow, "--wait")
    assert text.returncode == 0 and text.stdout.split()[1:] == [flow, "completed"]

    listed = as_json(max_flows(server, "runs", "--flow", flow, "-o", "json"))
    assert listed["pagination"]["total"] == 2
    table = max_flows(server, "runs", "--flow", flow)
    assert table.stdout.splitlines()[0].split() == ["ID", "FLOW", "STATUS", "CREATED", "DURATION"]
    assert "2 of 2 runs" in table.stdout

    shown = as_json(max_flows(server, "runs", started["id"], "-o", "json"))
    assert shown["run"]["id"] == started["id"]
    assert [s["stepId"] for s in shown["steps"]] == ["hello"]
    detail = max_flows(server, "runs", started["id"]).stdout
    assert "hello" in detail and "completed" in detail

    server.post(f"/runs/{started['id']}/abort")  # refused: leaves a log entry
    entries = as_json(max_flows(server, "logs", started["id"], "-o", "json"))
    assert entries["count"] == 1
    assert (
        "Abort requested but run already completed"
        in max_flows(server, "logs", started["id"]).stdout
    )


def test_control_commands(server: FlowsServer) -> None:
    sleeper = server.flows.add("cli-sleep", "sleep 5\n")
    run_id = server.create_run(sleeper)["id"]
    paused = max_flows(server, "pause", run_id)
    assert paused.returncode == 0 and paused.stdout.strip() == "Run paused successfully"
    resumed = as_json(max_flows(server, "resume", run_id, "-o", "json"))
    assert resumed["message"] == "Run resumed successfully"
    aborted = as_json(max_flows(server, "abort", run_id, "-o", "json"))
    assert aborted["message"] == "Run aborted successfully"
    retried = max_flows(server, "retry", run_id)
    assert retried.stdout.strip() == "Run retry initiated"
    max_flows(server, "abort", run_id)
    step = max_flows(server, "retry", run_id, "--step", "nope", "--no-cascade")
    assert step.returncode == 1
    assert step.stderr.strip() == f"Error: Step not found: nope in run {run_id} (HTTP 404)"


def test_failures_are_one_line_errors(server: FlowsServer) -> None:
    missing = max_flows(server, "abort", "no-such-run")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "Error: Run not found: no-such-run (HTTP 404)"
    bad_json = max_flows(server, "run", "x", "--input", "{nope")
    assert bad_json.returncode == 2 and "--input" in bad_json.stderr
    failing = server.flows.add("cli-fail", "echo broken >&2\nexit 2\n")
    waited = max_flows(server, "run", failing, "--wait")
    assert waited.returncode == 1 and "broken" in waited.stderr
    unreachable = subprocess.run(
        [MAX, "flows", "runs", "--server", "http://127.0.0.1:9/api/v1"],
        capture_output=True,
        text=True,
    )
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("Error: cannot reach the flows server at")
    assert "Traceback" not in unreachable.stderr


def test_max_flows_serve_runs_a_flow(tmp_path: Path) -> None:
    flows_root = tmp_path / "flows"
    (flows_root / "hello").mkdir(parents=True)
    (flows_root / "hello" / "flow.sh").write_text("#!/bin/sh\necho hello\n")
    (flows_root / "hello" / "flow.sh").chmod(0o755)
    process = subprocess.Popen(
        [
            MAX,
            "flows",
            "serve",
            "-p",
            "0",
            "-d",
            str(tmp_path / "data"),
            "-f",
            str(flows_root),
            "--log-level",
            "error",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Server running on 127.0.0.1:")
        port = line.strip().rsplit(":", 1)[1]
        result = subprocess.run(
            [
                MAX,
                "flows",
                "run",
                "hello",
                "--wait",
                "-o",
                "json",
                "--server",
                f"http://127.0.0.1:{port}/api/v1",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        run = as_json(result)
        assert (run["status"], run["stdout"]) == ("completed", "hello\n")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        process.stdout.close()
