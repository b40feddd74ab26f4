"""Throughput of the flows engine: a 200-step fan-out and 50-step chains, end to end.

Starts ``python -m maxtrio.flows`` on a free loopback port with a temporary data dir and
flows root (``MAXQ_MAX_CONCURRENT_STEPS=10``), runs each flow once after a warm-up run, and
prints one JSON line per measurement:

* ``fanout_200``: one stage of 200 independent ``true`` steps — ``seconds``, ``steps_per_s``;
* ``chain_50``: 50 ``true`` steps, each depending on the previous — ``seconds``,
  ``per_step_overhead_ms`` = (wall time − the steps' own time) / 50;
* ``chain_50_sleep``: the same chain with steps sleeping 0.1 s — plus ``overhead_pct`` (the
  target is ≤ 20 % of the steps' own time);
* ``schedule_chain_10000``: how long ``POST /runs/{id}/steps`` of a 10,000-step chain takes
  (``seconds``, client wall time) and the slowest ``GET /health`` answered meanwhile
  (``health_max_ms``) — the server must keep answering while it checks a big stage.

The server runs with an API key (``MAXQ_API_KEY``), so the figures include authentication:
the client sends the key, the flow script its run's ``MAXQ_API_TOKEN``.

Times come from the server's own timestamps (``completed_at − created_at`` of the run). A
``*_breakdown`` line after each chain splits the per-step time into the scheduling gap
(dependency completed → dependant claimed) and the step process (claim → exit, which includes
fork/exec of ``/bin/sh``). Usage: ``python benchmarks/flows_throughput.py``.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import apsw
import httpx

FLOW_SH = """#!/bin/sh
set -e
if [ -z "$MAXQ_COMPLETED_STAGE" ] && [ -z "$MAXQ_FAILED_STAGE" ]; then
  curl -sS -f -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" \\
    -H "Authorization: Bearer $MAXQ_API_TOKEN" \\
    -H 'Content-Type: application/json' --data-binary @stage.json >/dev/null
fi
"""


API_KEY = "bench-key"
BIG_CHAIN = 10_000


def write_flow(root: Path, name: str, steps: list[dict[str, Any]], step_body: str) -> None:
    flow = root / name
    (flow / "steps" / "work").mkdir(parents=True)
    (flow / "flow.sh").write_text(FLOW_SH)
    (flow / "flow.sh").chmod(0o755)
    (flow / "stage.json").write_text(json.dumps({"stage": "main", "final": True, "steps": steps}))
    (flow / "steps" / "work" / "step.sh").write_text("#!/bin/sh\n" + step_body)
    (flow / "steps" / "work" / "step.sh").chmod(0o755)


def chain(length: int) -> list[dict[str, Any]]:
    return [
        {"id": f"s{i}", "name": "work", "dependsOn": [f"s{i - 1}"] if i else []}
        for i in range(length)
    ]


def start_server(
    data: Path, flows: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """A server on a free port (``extra_env`` on top, e.g. ``MAXQ_DATABASE_URL``)."""
    env = {
        **os.environ,
        "MAXQ_DATA_DIR": str(data),
        "MAXQ_FLOWS_ROOT": str(flows),
        "MAXQ_SERVER_PORT": "0",
        "MAXQ_MAX_CONCURRENT_STEPS": "10",
        "MAXQ_API_KEY": API_KEY,
        "LOG_LEVEL": "error",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "maxtrio.flows"], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("Server running on"):
        raise SystemExit(f"server did not start: {line!r}")
    return process, f"http://127.0.0.1:{line.strip().rsplit(':', 1)[1]}/api/v1"


def run_to_completion(client: httpx.Client, flow: str) -> dict[str, Any]:
    run_id = client.post("/runs", json={"flowName": flow}).json()["id"]
    while True:
        run: dict[str, Any] = client.get(f"/runs/{run_id}").json()
        if run["status"] in ("completed", "failed"):
            if run["status"] != "completed":
                raise SystemExit(f"{flow} ended {run['status']}: {run.get('stderr')}")
            return run
        time.sleep(0.01)


def server_seconds(run: dict[str, Any]) -> float:
    return float(run["completedAt"] - run["createdAt"]) / 1000


def breakdown(db: apsw.Connection, run_id: str, name: str) -> dict[str, Any]:
    rows = db.execute(
        "SELECT id, started_at, completed_at FROM step WHERE run_id = ? ORDER BY started_at",
        (run_id,),
    ).fetchall()
    gaps = [b[1] - a[2] for a, b in itertools.pairwise(rows)]
    process = [r[2] - r[1] for r in rows]
    return {
        "name": f"{name}_breakdown",
        "schedule_gap_ms": round(sum(gaps) / len(gaps), 2),
        "step_process_ms": round(sum(process) / len(process), 2),
    }


def schedule_big_chain(client: httpx.Client, api: str) -> dict[str, Any]:
    """Schedule a 10,000-step chain on an idle run while another client polls /health."""
    run_id = client.post("/runs", json={"flowName": "idle"}).json()["id"]
    body = {"stage": "big", "final": True, "steps": chain(BIG_CHAIN)}
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=api.removesuffix("/api/v1"), timeout=60) as health:
            while not done.is_set():
                before = time.perf_counter()
                health.get("/health")
                latencies.append(time.perf_counter() - before)

    prober = threading.Thread(target=probe)
    prober.start()
    started = time.perf_counter()
    response = client.post(f"/runs/{run_id}/steps", json=body)
    seconds = time.perf_counter() - started
    done.set()
    prober.join()
    client.post(f"/runs/{run_id}/abort")
    if response.status_code != 201:
        raise SystemExit(f"big chain refused: {response.status_code} {response.text[:200]}")
    return {
        "name": "schedule_chain_10000",
        "seconds": round(seconds, 3),
        "health_max_ms": round(1000 * max(latencies), 1),
        "health_answers": len(latencies),
    }


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="flows-bench-") as tmp:
        root = Path(tmp) / "flows"
        write_flow(root, "warmup", chain(5), "true\n")
        write_flow(root, "fanout", [{"id": f"s{i}", "name": "work"} for i in range(200)], "true\n")
        write_flow(root, "chain", chain(50), "true\n")
        write_flow(root, "chain_sleep", chain(50), "sleep 0.1\n")
        (root / "idle").mkdir()
        (root / "idle" / "flow.sh").write_text("#!/bin/sh\nsleep 60\n")
        (root / "idle" / "flow.sh").chmod(0o755)
        process, api = start_server(Path(tmp) / "data", root)
        db = apsw.Connection(str(Path(tmp) / "data" / "maxq.db"))
        try:
            auth = {"Authorization": f"Bearer {API_KEY}"}
            with httpx.Client(base_url=api, headers=auth, timeout=60) as client:
                run_to_completion(client, "warmup")

                run = run_to_completion(client, "fanout")
                seconds = server_seconds(run)
                emit(
                    {
                        "name": "fanout_200",
                        "seconds": round(seconds, 3),
                        "steps_per_s": round(200 / seconds, 1),
                    }
                )

                run = run_to_completion(client, "chain")
                seconds = server_seconds(run)
                emit(
                    {
                        "name": "chain_50",
                        "seconds": round(seconds, 3),
                        "per_step_overhead_ms": round(seconds * 1000 / 50, 2),
                    }
                )
                emit(breakdown(db, run["id"], "chain_50"))

                run = run_to_completion(client, "chain_sleep")
                seconds = server_seconds(run)
                own = 50 * 0.1
                overhead = seconds - own
                emit(
                    {
                        "name": "chain_50_sleep",
                        "seconds": round(seconds, 3),
                        "per_step_overhead_ms": round(overhead * 1000 / 50, 2),
                        "overhead_pct": round(100 * overhead / own, 1),
                    }
                )
                emit(breakdown(db, run["id"], "chain_50_sleep"))

                emit(schedule_big_chain(client, api))
        finally:
            db.close()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


if __name__ == "__main__":
    main()
