"""Several ``max flows serve`` processes on one PostgreSQL database (the session's real server).

Steps append ``start``/``done`` lines to a file, so the tests count what really ran: with two
live servers every step starts exactly once; when a server is killed with ``kill -9`` its
running steps are run again by a live server (or the next one started) — never a step that had
completed — and the processes it left behind on this host are killed first.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.pg.server import PASSWORD, PgServer

from .conftest import Database, Flows, flow_program, schedule, schema_url, wait_for
from .test_control import alive
from .test_data_dir_lock import MAX, MaxFlowsServe


@pytest.fixture
def database_url(pg_server: PgServer) -> str:
    return schema_url(pg_server, pg_server.new_schema_name("peers"))


@pytest.fixture
def servers() -> Iterator[list[MaxFlowsServe]]:
    started: list[MaxFlowsServe] = []
    yield started
    for server in started:
        server.close()


def serve(
    servers: list[MaxFlowsServe], data: Path, flows_root: Path, url: str, limit: int
) -> tuple[MaxFlowsServe, httpx.Client]:
    """A server on ``url`` — alternately by ``--database-url`` and by ``MAXQ_DATABASE_URL``."""
    env = {"MAXQ_MAX_CONCURRENT_STEPS": str(limit), "LOG_LEVEL": "info"}
    if len(servers) % 2:
        server = MaxFlowsServe(data, flows_root, env={**env, "MAXQ_DATABASE_URL": url})
    else:
        server = MaxFlowsServe(data, flows_root, "--database-url", url, env=env)
    servers.append(server)
    return server, server.ready()


def fanout(flows_root: Path, log: Path, naps: list[float]) -> str:
    """A flow of one final stage, step ``s<i>`` sleeping ``naps[i]`` between its two lines."""
    steps = [{"id": f"s{i}", "name": "w", "env": {"NAP": str(nap)}} for i, nap in enumerate(naps)]
    body = (
        f'echo "start $MAXQ_RUN_ID $MAXQ_STEP_ID $$" >> {log}\n'
        "sleep $NAP\n"
        f'echo "done $MAXQ_RUN_ID $MAXQ_STEP_ID" >> {log}\n'
    )
    flows_root.mkdir(parents=True, exist_ok=True)
    return Flows(flows_root).add(
        "fanout", flow_program(schedule("all", steps, final=True)), {"w": body}
    )


def lines(log: Path, kind: str) -> collections.Counter[tuple[str, str]]:
    """How often each (run, step) wrote a ``kind`` line."""
    found: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in log.read_text().splitlines():
        words = line.split()
        if words[0] == kind:
            found[(words[1], words[2])] += 1
    return found


def wait_completed(client: httpx.Client, run_id: str, timeout: float = 30) -> None:
    wait_for(
        lambda: client.get(f"/runs/{run_id}").json()["status"] in ("completed", "failed"),
        timeout=timeout,
        what=f"run {run_id} to end",
    )
    assert client.get(f"/runs/{run_id}").json()["status"] == "completed"


def worker_of(server: MaxFlowsServe) -> str:
    """The ``worker_id`` pattern of a server's claims (``host:pid:…``)."""
    return f"%:{server.process.pid}:%"


def test_two_servers_on_one_database_start_every_step_exactly_once(
    servers: list[MaxFlowsServe], database_url: str, tmp_path: Path
) -> None:
    log, data, flows_root = tmp_path / "steps.log", tmp_path / "data", tmp_path / "flows"
    flow = fanout(flows_root, log, [0.02] * 30)
    # The same data dir for both: on PostgreSQL it is not locked.
    first, a = serve(servers, data, flows_root, database_url, limit=4)
    second, b = serve(servers, data, flows_root, database_url, limit=4)
    runs = [client.post("/runs", json={"flowName": flow}).json()["id"] for client in (a, b, a, b)]
    for run_id in runs:
        wait_completed(b, run_id)
    started = lines(log, "start")
    assert set(started) == {(run, f"s{i}") for run in runs for i in range(30)}
    assert set(started.values()) == {1}, "a step was started twice"
    assert set(lines(log, "done").values()) == {1}
    db = Database(data, database_url)
    by_server = db.execute(
        "SELECT worker_id LIKE ? AS first, count(*) AS n FROM step GROUP BY 1 ORDER BY 1",
        (worker_of(first),),
    )
    db.close()
    assert [row["n"] > 0 for row in by_server] == [True, True], by_server  # both ran steps
    for server in (first, second):
        server.process.send_signal(signal.SIGTERM)
        stdout, stderr = server.process.communicate(timeout=10)
        assert server.process.returncode == 0
        assert stdout == ""  # the "Server running" line was read by ready()
        # The log names the database without its password.
        assert "flows tables in postgresql://maxtrio_pw@127.0.0.1:" in stderr
        assert PASSWORD not in stderr


def test_a_server_killed_mid_run_leaves_its_steps_to_the_other(
    servers: list[MaxFlowsServe], database_url: str, tmp_path: Path
) -> None:
    log, flows_root = tmp_path / "steps.log", tmp_path / "flows"
    # Six quick steps complete first; six long ones then run three per server.
    flow = fanout(flows_root, log, [0.02] * 6 + [3.0] * 6)
    victim, _ = serve(servers, tmp_path / "a", flows_root, database_url, limit=3)
    survivor, b = serve(servers, tmp_path / "b", flows_root, database_url, limit=3)
    run_id = b.post("/runs", json={"flowName": flow}).json()["id"]
    db = Database(tmp_path, database_url)

    def steps(condition: str, *params: str) -> list[str]:
        rows = db.execute(
            f"SELECT id FROM step WHERE run_id = ? AND {condition}", (run_id, *params)
        )
        return sorted(row["id"] for row in rows)

    def on_victim() -> list[str]:
        return steps("status = 'running' AND worker_id LIKE ?", worker_of(victim))

    seen: dict[str, list[str]] = {}

    def long_steps_started_on_victim() -> bool:
        # The victim at its limit (3 long steps: it claims no more until one ends, seconds
        # later), each step's script past its "start" line: what it runs when killed is known.
        running = on_victim()
        begun = {step for _, step in lines(log, "start")} if log.exists() else set()
        completed = steps("status = 'completed'")
        seen.update(running=running, completed=completed)
        return len(completed) == 6 and len(running) == 3 and begun >= set(running)

    wait_for(long_steps_started_on_victim, what="long steps running on the first server")
    completed_before, interrupted = seen["completed"], seen["running"]
    orphan_pids = [
        int(line.split()[3])
        for line in log.read_text().splitlines()
        if line.startswith("start") and line.split()[2] in interrupted
    ]
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()

    wait_completed(b, run_id)
    # The survivor killed the orphans on this host before running their steps again.
    assert not any(alive(pid) for pid in orphan_pids)
    started = lines(log, "start")
    assert all(started[(run_id, step)] == 1 for step in completed_before)
    assert all(started[(run_id, step)] == 2 for step in interrupted)
    assert set(lines(log, "done").values()) == {1}  # every step finished once
    assert set(steps("worker_id LIKE ?", worker_of(survivor))) >= set(interrupted)
    db.close()


def test_the_next_server_finishes_what_a_killed_one_was_running(
    servers: list[MaxFlowsServe], database_url: str, tmp_path: Path
) -> None:
    log, data, flows_root = tmp_path / "steps.log", tmp_path / "data", tmp_path / "flows"
    flow = fanout(flows_root, log, [0.02, 30.0])
    first, a = serve(servers, data, flows_root, database_url, limit=1)
    run_id = a.post("/runs", json={"flowName": flow}).json()["id"]
    wait_for(lambda: log.exists() and len(lines(log, "start")) == 2, what="the long step")
    [orphan] = [int(x.split()[3]) for x in log.read_text().splitlines() if " s1 " in x]
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    assert alive(orphan)
    # The long step becomes short for its second attempt (the env is read at launch).
    db = Database(data, database_url)
    db.execute("UPDATE step SET env = ? WHERE run_id = ? AND id = 's1'", ('{"NAP": "0"}', run_id))
    db.close()

    _, c = serve(servers, data, flows_root, database_url, limit=1)
    wait_completed(c, run_id)
    wait_for(lambda: not alive(orphan), what="the orphan to be killed")
    assert lines(log, "start") == {(run_id, "s0"): 1, (run_id, "s1"): 2}
    assert lines(log, "done") == {(run_id, "s0"): 1, (run_id, "s1"): 1}


def test_a_run_whose_flow_call_died_with_its_server_fails_as_after_a_restart(
    servers: list[MaxFlowsServe], database_url: str, tmp_path: Path
) -> None:
    flows_root, pids = tmp_path / "flows", tmp_path / "flow.pid"
    flows_root.mkdir()
    flow = Flows(flows_root).add("slow-flow", f"echo $$ > {pids}\nsleep 30\n")
    victim, a = serve(servers, tmp_path / "a", flows_root, database_url, limit=1)
    _, b = serve(servers, tmp_path / "b", flows_root, database_url, limit=1)
    run_id = a.post("/runs", json={"flowName": flow}).json()["id"]
    wait_for(lambda: pids.exists() and pids.read_text().strip(), what="the flow call")
    flow_pid = int(pids.read_text())
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    wait_for(
        lambda: b.get(f"/runs/{run_id}").json()["status"] == "failed",
        what="the run to fail on the other server",
    )
    run = b.get(f"/runs/{run_id}").json()
    assert run["terminationReason"] == "server_restart" and run["completedAt"]
    wait_for(lambda: not alive(flow_pid), what="the orphaned flow script to be killed")
    assert b.post(f"/runs/{run_id}/retry").status_code == 200  # and it can be retried


def test_abort_through_one_server_kills_the_step_running_on_another(
    servers: list[MaxFlowsServe], database_url: str, tmp_path: Path
) -> None:
    log, flows_root = tmp_path / "steps.log", tmp_path / "flows"
    flow = fanout(flows_root, log, [30.0])
    _, a = serve(servers, tmp_path / "a", flows_root, database_url, limit=1)
    _, b = serve(servers, tmp_path / "b", flows_root, database_url, limit=0)
    run_id = a.post("/runs", json={"flowName": flow}).json()["id"]
    wait_for(lambda: log.exists() and lines(log, "start"), what="the step to start on a")
    [pid] = [int(x.split()[3]) for x in log.read_text().splitlines()]
    aborted = b.post(f"/runs/{run_id}/abort")
    assert aborted.status_code == 200
    wait_for(lambda: not alive(pid), what="the step on the other server to be killed")
    run = a.get(f"/runs/{run_id}").json()
    assert (run["status"], run["terminationReason"]) == ("failed", "aborted")
    assert not lines(log, "done")


@pytest.mark.parametrize("problem", ["wrong password", "nothing listening", "not postgresql"])
def test_an_unusable_database_is_one_line_and_never_shows_the_password(
    pg_server: PgServer, tmp_path: Path, problem: str
) -> None:
    port = pg_server.port
    url = {
        "wrong password": f"postgresql://maxtrio_pw:{PASSWORD}-nope@127.0.0.1:{port}/maxtrio",
        "nothing listening": f"postgresql://maxtrio_pw:{PASSWORD}@127.0.0.1:1/maxtrio",
        "not postgresql": f"mysql://maxtrio_pw:{PASSWORD}@127.0.0.1:{port}/maxtrio",
    }[problem]
    env = {**os.environ, "MAXQ_DATABASE_URL": url}
    done = subprocess.run(
        [MAX, "flows", "serve", "-p", "0", "-d", str(tmp_path / "d"), "-f", str(tmp_path / "f")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert PASSWORD not in done.stderr and "Traceback" not in done.stderr
    first, *rest = done.stderr.strip().splitlines()
    if problem == "not postgresql":
        assert first == (
            "Error: MAXQ_DATABASE_URL must be a PostgreSQL URL "
            "(postgresql://user:password@host:port/database)"
        )
        return
    shown_port = port if problem == "wrong password" else 1
    label = f"postgresql://maxtrio_pw@127.0.0.1:{shown_port}/maxtrio"
    assert first.startswith(f"Error: cannot use the flows database {label}: ")
    assert len(rest) == 1 and rest[0].strip().startswith("Hint: check MAXQ_DATABASE_URL")
