"""One server per data dir: a second ``max flows serve`` on the same directory refuses to start
and leaves the first one alone; a server killed with ``kill -9`` leaves no stale lock, and the
next one recovers its orphaned runs."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from .conftest import API_KEY, AUTH, Flows, flow_program, schedule, wait_for
from .test_control import alive, wait_pids

MAX = str(Path(sys.executable).parent / "max")
# Writes its pid, then waits until the file $GO exists (the test decides when it may finish).
GATED_STEP = 'echo $$ > "$PIDS"\nwhile [ ! -e "$GO" ]; do sleep 0.05; done\n'


class MaxFlowsServe:
    """``max flows serve -p 0 -d DATA -f FLOWS [ARGS]`` in a subprocess (the launcher execs the
    CLI, so ``process.pid`` is the server's pid); ``env`` is added to the environment."""

    def __init__(
        self, data_dir: Path, flows_root: Path, *args: str, env: Mapping[str, str] | None = None
    ) -> None:
        env = {
            **os.environ,
            "MAXQ_API_KEY": API_KEY,
            "MAXQ_ABORT_GRACE_MS": "300",
            "MAXQ_SCHEDULER_INTERVAL_MS": "50",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [MAX, "flows", "serve", "-p", "0", "-d", str(data_dir), "-f", str(flows_root), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ready(self) -> httpx.Client:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("Server running on 127.0.0.1:"), line
        port = int(line.strip().rsplit(":", 1)[1])
        return httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=15,
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[MaxFlowsServe]]:
    started: list[MaxFlowsServe] = []
    yield started
    for server in started:
        server.close()


@dataclasses.dataclass
class GatedRun:
    """A server on ``data`` whose run ``run_id`` has a step (``step_pid``) waiting for ``go``."""

    data: Path
    flows_root: Path
    server: MaxFlowsServe
    client: httpx.Client
    run_id: str
    step_pid: int
    go: Path


def serve_a_gated_run(servers: list[MaxFlowsServe], tmp_path: Path) -> GatedRun:
    data, flows_root = tmp_path / "data", tmp_path / "flows"
    pids, go = tmp_path / "step.pid", tmp_path / "go"
    flows_root.mkdir(parents=True, exist_ok=True)
    step = {"id": "g", "name": "g", "env": {"PIDS": str(pids), "GO": str(go)}}
    flow = Flows(flows_root).add(
        "gated", flow_program(schedule("s", [step], final=True)), {"g": GATED_STEP}
    )
    server = MaxFlowsServe(data, flows_root)
    servers.append(server)
    client = server.ready()
    run_id = client.post("/runs", json={"flowName": flow}).json()["id"]
    [step_pid] = wait_pids(pids, count=1)
    return GatedRun(data, flows_root, server, client, run_id, step_pid, go)


def run_status(client: httpx.Client, run_id: str) -> str:
    return str(client.get(f"/runs/{run_id}").json()["status"])


def test_a_second_server_on_the_same_data_dir_refuses_and_the_first_runs_on(
    servers: list[MaxFlowsServe], tmp_path: Path
) -> None:
    first = serve_a_gated_run(servers, tmp_path)
    second = MaxFlowsServe(first.data, first.flows_root)
    servers.append(second)
    out, err = second.process.communicate(timeout=30)
    assert second.process.returncode == 1
    assert out == ""  # never "Server running"
    assert err.splitlines() == [
        f"Error: flows data dir '{first.data}' is in use by pid {first.server.process.pid}",
        "  Hint: stop that server first (SIGTERM), or serve another data dir "
        "(--data-dir / MAXQ_DATA_DIR)",
    ]

    # The environment-driven entry point refuses the same way, with its own prefix.
    env = {
        **os.environ,
        "MAXQ_DATA_DIR": str(first.data),
        "MAXQ_FLOWS_ROOT": str(first.flows_root),
        "MAXQ_SERVER_PORT": "0",
    }
    third = subprocess.run(
        [sys.executable, "-m", "maxtrio.flows"], env=env, capture_output=True, text=True
    )
    assert (third.returncode, third.stdout) == (1, "")
    assert third.stderr.splitlines()[0] == (
        f"maxtrio-flows: flows data dir '{first.data}' is in use by pid {first.server.process.pid}"
    )
    assert third.stderr.splitlines()[1].startswith("  Hint: stop that server first")

    # The first server and its step were not touched: the step finishes and the run completes.
    assert alive(first.step_pid) and first.server.process.poll() is None
    assert run_status(first.client, first.run_id) == "running"
    first.go.touch()
    wait_for(
        lambda: run_status(first.client, first.run_id) == "completed",
        what="the gated run to complete",
    )
    first.client.close()


def test_after_kill_9_the_lock_is_free_and_orphaned_runs_are_recovered(
    servers: list[MaxFlowsServe], tmp_path: Path
) -> None:
    first = serve_a_gated_run(servers, tmp_path)
    first.client.close()
    first.server.process.send_signal(signal.SIGKILL)
    first.server.process.wait(timeout=10)
    assert alive(first.step_pid), "the orphan should have outlived its server"

    second = MaxFlowsServe(first.data, first.flows_root)
    servers.append(second)
    client = second.ready()  # it started: the kernel dropped the dead server's lock
    wait_for(lambda: not alive(first.step_pid), what="the orphaned step to be killed")
    run = client.get(f"/runs/{first.run_id}").json()
    assert (run["status"], run["terminationReason"]) == ("failed", "server_restart")
    assert (first.data / "maxq.lock").read_text().strip() == str(second.process.pid)
    client.close()


def test_the_lock_is_not_inherited_by_scripts(servers: list[MaxFlowsServe], tmp_path: Path) -> None:
    """A script that outlives a clean shutdown must not keep the data dir locked."""
    data, flows_root = tmp_path / "data", tmp_path / "flows"
    flows_root.mkdir()
    probe = tmp_path / "fds"
    flow = Flows(flows_root).add(
        "fds", f'ls -l /proc/$$/fd > {probe}\ncurl -sS {AUTH} "$MAXQ_API/runs" >/dev/null\n'
    )
    first = MaxFlowsServe(data, flows_root)
    servers.append(first)
    client = first.ready()
    run_id = client.post("/runs", json={"flowName": flow}).json()["id"]
    wait_for(lambda: run_status(client, run_id) in ("completed", "failed"))
    assert "maxq.lock" not in probe.read_text()
    client.close()


def test_a_data_dir_that_cannot_be_locked_is_a_one_line_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    env = {
        **os.environ,
        "MAXQ_DATA_DIR": str(not_a_dir),
        "MAXQ_FLOWS_ROOT": str(tmp_path),
        "MAXQ_SERVER_PORT": "0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "maxtrio.flows"], env=env, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"maxtrio-flows: cannot lock flows data dir '{not_a_dir}': File exists",
        "  Hint: the server needs to create and write files in its data dir",
    ]
