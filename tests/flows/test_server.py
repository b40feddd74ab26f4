"""Server lifetime: limits, startup cleanup, signals, restarts, entry points."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import apsw

from .conftest import FlowsServer, flow_program, schedule, wait_for
from .test_control import LONG_STEP, alive, wait_pids
from .test_store import REFERENCE_STEP_TABLE

StartServer = Callable[..., FlowsServer]


def sample_running(server: FlowsServer, stop: threading.Event, seen: list[int]) -> None:
    db = apsw.Connection(str(server.data_dir / "maxq.db"))
    db.setbusytimeout(5000)
    while not stop.is_set():
        seen.append(db.execute("SELECT count(*) FROM step WHERE status = 'running'").fetchone()[0])
        time.sleep(0.01)
    db.close()


def test_concurrency_limit_holds_across_runs(start_server: StartServer) -> None:
    server = start_server(MAXQ_MAX_CONCURRENT_STEPS="2")
    steps = [{"id": f"s{i}", "name": "nap"} for i in range(5)]
    flow = server.flows.add(
        "wide", flow_program(schedule("s", steps, final=True)), {"nap": "sleep 0.15\n"}
    )
    stop, seen = threading.Event(), []
    sampler = threading.Thread(target=sample_running, args=(server, stop, seen))
    sampler.start()
    try:
        runs = [server.create_run(flow)["id"] for _ in range(2)]
        for run_id in runs:
            assert server.wait_run(run_id)["status"] == "completed"
    finally:
        stop.set()
        sampler.join()
    assert max(seen) == 2
    assert len(seen) > 20


def test_zero_concurrency_starts_no_step(start_server: StartServer) -> None:
    server = start_server(MAXQ_MAX_CONCURRENT_STEPS="0")
    flow = server.flows.add(
        "frozen", flow_program(schedule("s", [{"id": "a", "name": "ok"}], final=True)), {"ok": ""}
    )
    run_id = server.create_run(flow)["id"]
    wait_for(lambda: server.run(run_id).get("stdout") is not None, what="the flow call to end")
    time.sleep(0.3)  # several scheduler periods
    step = server.steps(run_id)["a"]
    assert (step["status"], step["worker_id"]) == ("pending", None)
    assert step["queued_at"] is not None
    assert server.run(run_id)["status"] == "running"


def test_startup_cleanup_kills_our_orphans_only(start_server: StartServer, tmp_path: Path) -> None:
    first = start_server(MAXQ_ABORT_GRACE_MS="300")
    pids_file = tmp_path / "orphan.pids"
    flow = first.flows.add(
        "orphaned",
        flow_program(
            schedule("s", [{"id": "long", "name": "long", "env": {"PIDS": str(pids_file)}}])
        ),
        {"long": LONG_STEP},
    )
    run_id = first.create_run(flow)["id"]
    step_pid, sleep_pid = wait_pids(pids_file)
    sleeper = first.flows.add("paused", "sleep 5\n")
    paused_id = first.create_run(sleeper)["id"]
    first.post(f"/runs/{paused_id}/pause")
    # A process of somebody else's run (D16): same variable, id unknown to this database.
    decoy = subprocess.Popen(["sleep", "30"], env={**os.environ, "MAXQ_RUN_ID": str(uuid.uuid4())})
    try:
        first.stop(signal.SIGKILL)
        assert alive(sleep_pid), "the orphan should have outlived its server"

        second = start_server(MAXQ_ABORT_GRACE_MS="300")
        wait_for(lambda: not alive(sleep_pid) and not alive(step_pid), what="orphans to die")
        assert decoy.poll() is None
        run = second.run(run_id)
        assert (run["status"], run["terminationReason"]) == ("failed", "server_restart")
        assert run["completedAt"]
        stage = second.stages(run_id)["s"]
        assert (stage["status"], stage["termination_reason"]) == ("failed", "server_restart")
        step = second.steps(run_id)["long"]
        assert (step["status"], step["termination_reason"]) == ("failed", "server_restart")
        assert step["claimed_at"] is not None  # queue columns are kept at startup
        assert second.run(paused_id)["status"] == "paused"
    finally:
        decoy.kill()
        decoy.wait()


def test_sigterm_exits_fast_and_takes_the_scripts_down(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server()
    pids_file = tmp_path / "term.pids"
    flow = server.flows.add(
        "terminated",
        flow_program(schedule("s", [{"id": "l", "name": "long", "env": {"PIDS": str(pids_file)}}])),
        {"long": LONG_STEP},
    )
    server.create_run(flow)
    step_pid, sleep_pid = wait_pids(pids_file)
    elapsed = server.stop(signal.SIGTERM)
    assert elapsed < 2.0
    assert server.process is not None and server.process.returncode == 0
    wait_for(lambda: not alive(sleep_pid) and not alive(step_pid), what="scripts to die")
    assert [line for line in server.stdout_lines if line.strip()] == [
        f"Server running on 127.0.0.1:{server.port}\n"
    ]


def test_restart_on_the_same_port_keeps_the_data(start_server: StartServer, tmp_path: Path) -> None:
    first = start_server()
    port = first.port
    flow = first.flows.add("persist", "exit 0\n")
    run_id = first.run_flow(flow)["id"]
    first.stop()
    for _ in range(3):
        again = FlowsServer(tmp_path / "data", tmp_path / "flows", {}).start(port=port)
        try:
            assert again.port == port
            assert again.run(run_id)["status"] == "completed"
        finally:
            again.stop()
            again.close()


def test_reference_created_database_is_used_as_is(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "refdata"
    data.mkdir()
    db = apsw.Connection(str(data / "maxq.db"))
    db.execute(REFERENCE_STEP_TABLE)
    db.close()
    server = start_server(data_dir=data)
    flow = server.flows.add("idle", "sleep 5\n")
    first, second = (server.create_run(flow)["id"] for _ in range(2))
    body = {"stage": "s", "final": True, "steps": [{"id": "shared", "name": "x"}]}
    assert server.post(f"/runs/{first}/steps", body).status_code == 201
    clash = server.post(f"/runs/{second}/steps", body)
    assert clash.status_code == 409
    assert clash.json() == {"error": 'Step ID "shared" is already used by another run'}
    assert server.rows("SELECT count(*) AS n FROM knex_migrations") == [{"n": 1}]
    for run_id in (first, second):
        server.post(f"/runs/{run_id}/abort")


def test_server_entry_point_requires_its_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAXQ_")}
    result = subprocess.run(
        [sys.executable, "-m", "maxtrio.flows"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "maxtrio-flows: MAXQ_DATA_DIR environment variable is required"
    )
    assert result.stdout == ""
    env["MAXQ_DATA_DIR"] = str(tmp_path)
    env["MAXQ_FLOWS_ROOT"] = str(tmp_path)
    env["MAXQ_SERVER_PORT"] = "port"
    result = subprocess.run(
        [sys.executable, "-m", "maxtrio.flows"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "MAXQ_SERVER_PORT must be an integer, got 'port'" in result.stderr


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "MAXQ_DATA_DIR": str(tmp_path / "d"),
            "MAXQ_FLOWS_ROOT": str(tmp_path / "f"),
            "MAXQ_SERVER_PORT": str(port),
        }
        result = subprocess.run(
            [sys.executable, "-m", "maxtrio.flows"], env=env, capture_output=True, text=True
        )
    assert result.returncode == 1
    assert result.stderr.startswith(f"maxtrio-flows: cannot serve on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr


def test_maxtrio_flows_console_script_takes_the_reference_flags(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "maxtrio-flows"
    bad = subprocess.run([str(script), "--port", "abc"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "argument -p/--port: expected an integer, got 'abc'" in bad.stderr
    process = subprocess.Popen(
        [
            str(script),
            "-p",
            "0",
            "-d",
            "data",
            "-f",
            "flows",
            "--max-concurrent-steps",
            "3",
            "--abort-grace-ms",
            "100",
            "--log-level",
            "error",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Server running on 127.0.0.1:")
        assert (tmp_path / "data" / "maxq.db").exists() and (tmp_path / "flows").is_dir()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        process.stdout.close()
