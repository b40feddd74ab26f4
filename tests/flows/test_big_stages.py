"""A stage of 10,000 steps is checked in linear time and off the event loop: over a real socket,
the server accepts a 10,000-step chain (and refuses a 10,000-step cycle) while it keeps
answering other requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from .conftest import API_KEY, FlowsServer

StartServer = Callable[..., FlowsServer]
STEPS = 10_000
# Far above what either takes on a loaded 2-core machine (≈0.3 s and a few ms): a failure means
# the work went quadratic or onto the event loop again (it used to take ~11 s and stall all).
GENEROUS_SECONDS = 8.0
HEALTH_SECONDS = 2.0  # expected ≈ 0.2 s (health waits for the store's one writer at most)


def chain_body(cyclic: bool) -> dict[str, Any]:
    steps = [
        {"id": f"s{i}", "name": "t", "dependsOn": [f"s{(i - 1) % STEPS}"] if i or cyclic else []}
        for i in range(STEPS)
    ]
    return {"stage": "big", "final": True, "steps": steps}


def schedule_while_probing(server: FlowsServer, run_id: str, body: Any) -> tuple[Any, list[float]]:
    """POST ``body`` from another thread; meanwhile GET /health again and again. Return the
    schedule response and the latency of every health answer received before it."""
    answered = threading.Event()
    result: list[httpx.Response] = []

    def post() -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{server.port}/api/v1",
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=60,
        ) as client:
            result.append(client.post(f"/runs/{run_id}/steps", json=body))
        answered.set()

    latencies: list[float] = []
    poster = threading.Thread(target=post)
    started = time.monotonic()
    poster.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as probe:
        while not answered.is_set():
            before = time.monotonic()
            assert probe.get("/health").status_code == 200
            if not answered.is_set():
                latencies.append(time.monotonic() - before)
    poster.join()
    assert time.monotonic() - started < GENEROUS_SECONDS
    return result[0], latencies


def test_a_10000_step_chain_is_accepted_while_health_answers(start_server: StartServer) -> None:
    server = start_server(MAXQ_MAX_CONCURRENT_STEPS="0")  # only scheduling is measured here
    run_id = server.create_run(server.flows.add("big-idle", "sleep 30\n"))["id"]
    response, latencies = schedule_while_probing(server, run_id, chain_body(cyclic=False))
    assert response.status_code == 201, response.text
    assert response.json()["scheduled"] == STEPS
    # Health answered while the big request was in flight, and never had to wait for it.
    assert latencies, "no health answer arrived before the schedule response"
    assert max(latencies) < HEALTH_SECONDS
    assert server.rows("SELECT count(*) AS n FROM step WHERE run_id = ?", run_id)[0]["n"] == STEPS
    server.post(f"/runs/{run_id}/abort")


def test_a_10000_step_cycle_is_a_400_not_a_crash(start_server: StartServer) -> None:
    server = start_server(MAXQ_MAX_CONCURRENT_STEPS="0")
    run_id = server.create_run(server.flows.add("big-cycle", "sleep 30\n"))["id"]
    response, _ = schedule_while_probing(server, run_id, chain_body(cyclic=True))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("Circular dependency detected among steps: s0, s1, s2")
    assert error.endswith("… (9980 more)")
    assert server.steps(run_id) == {} and server.stages(run_id) == {}
    server.post(f"/runs/{run_id}/abort")
