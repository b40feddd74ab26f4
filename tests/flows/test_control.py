"""Abort, pause, resume, retry run and retry step."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .conftest import AUTH, FlowsServer, flow_program, schedule, wait_for

# A step that records its pid and its child's, then waits on a long sleep.
LONG_STEP = 'echo $$ > "$PIDS"\nsleep 30 &\necho $! >> "$PIDS"\nwait\n'
# Fails on its first attempt ever (per flow directory), succeeds afterwards.
FAIL_ONCE = '[ -e "$MARK" ] && exit 0\ntouch "$MARK"\nexit 1\n'


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (it may vanish between the two looks)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def wait_pids(path: Path, count: int = 2) -> list[int]:
    def read() -> list[int]:
        try:
            lines = path.read_text().split()
        except FileNotFoundError:
            return []
        return [int(x) for x in lines] if len(lines) >= count else []

    return wait_for(read, what=f"pids in {path}")


def logs(server: FlowsServer, run_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = server.get(f"/runs/{run_id}/logs").json()["logs"]
    return entries


def long_running(server: FlowsServer, tmp_path: Path, base: str) -> tuple[str, list[int]]:
    pids = tmp_path / f"{base}.pids"
    flow = server.flows.add(
        base,
        flow_program(
            schedule(
                "work", [{"id": "long", "name": "long", "env": {"PIDS": str(pids)}}], final=True
            )
        ),
        {"long": LONG_STEP},
    )
    run_id = server.create_run(flow)["id"]
    return run_id, wait_pids(pids)


# -- abort -----------------------------------------------------------------------------------


def test_abort_kills_the_process_group_and_fails_everything(
    server: FlowsServer, tmp_path: Path
) -> None:
    run_id, (step_pid, sleep_pid) = long_running(server, tmp_path, "abortable")
    response = server.post(f"/runs/{run_id}/abort")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Run aborted successfully"
    assert body["processesKilled"] >= 1
    wait_for(lambda: not alive(sleep_pid) and not alive(step_pid), what="the step's group to die")

    run = server.run(run_id)
    assert (run["status"], run["terminationReason"]) == ("failed", "aborted")
    assert run["completedAt"] and "durationMs" in run
    stage = server.stages(run_id)["work"]
    assert (stage["status"], stage["termination_reason"]) == ("failed", "aborted")
    step = server.steps(run_id)["long"]
    assert (step["status"], step["termination_reason"]) == ("failed", "aborted")
    assert step["started_at"] is not None and step["completed_at"] is not None
    for column in ("queued_at", "claimed_at", "heartbeat_at", "worker_id"):
        assert step[column] is None
    [entry] = logs(server, run_id)
    assert entry["message"] == "Run aborted by user request"
    assert (entry["entityType"], entry["level"]) == ("run", "info")
    assert entry["metadata"] == {"processesKilled": body["processesKilled"], "graceMs": 500}


def test_abort_refusals_are_logged(server: FlowsServer) -> None:
    flow = server.flows.add("short", "exit 0\n")
    done = server.run_flow(flow)["id"]
    response = server.post(f"/runs/{done}/abort")
    assert response.status_code == 400
    assert response.json() == {"error": "Cannot abort run: already completed"}
    [entry] = logs(server, done)
    assert entry["message"] == "Abort requested but run already completed"
    assert entry["metadata"] == {"status": "completed"}

    sleeper = server.flows.add("sleeper", "sleep 5\n")
    aborted = server.create_run(sleeper)["id"]
    server.post(f"/runs/{aborted}/abort")
    again = server.post(f"/runs/{aborted}/abort")
    assert again.json() == {"error": "Cannot abort run: already failed"}
    assert logs(server, aborted)[0]["message"] == (
        "Abort requested but run already failed (aborted)"
    )
    assert logs(server, aborted)[0]["metadata"] == {
        "status": "failed",
        "terminationReason": "aborted",
    }
    missing = server.post("/runs/nope/abort")
    assert missing.status_code == 404 and missing.json() == {"error": "Run not found: nope"}


def test_aborted_flow_never_schedules(server: FlowsServer, tmp_path: Path) -> None:
    pids = tmp_path / "flow.pids"
    flow = server.flows.add(
        "slow-flow",
        flow_program(
            f"echo $$ > {pids}\nsleep 30 &\necho $! >> {pids}\nwait\n"
            + schedule("never", [{"id": "n", "name": "x"}])
        ),
    )
    run_id = server.create_run(flow)["id"]
    flow_pid, sleep_pid = wait_pids(pids)
    response = server.post(f"/runs/{run_id}/abort")
    assert response.json()["processesKilled"] == 1
    wait_for(lambda: not alive(sleep_pid) and not alive(flow_pid), what="the flow to die")
    assert server.stages(run_id) == {}
    assert server.run(run_id)["terminationReason"] == "aborted"


def test_sigterm_ignoring_step_is_killed_after_the_grace(
    server: FlowsServer, tmp_path: Path
) -> None:
    pids = tmp_path / "stubborn.pids"
    stubborn = f"trap '' TERM\necho $$ > {pids}\nsleep 30 &\necho $! >> {pids}\nwait\n"
    flow = server.flows.add(
        "stubborn",
        flow_program(schedule("s", [{"id": "st", "name": "st"}], final=True)),
        {"st": stubborn},
    )
    run_id = server.create_run(flow)["id"]
    step_pid, sleep_pid = wait_pids(pids)
    started = time.monotonic()
    assert server.post(f"/runs/{run_id}/abort").status_code == 200
    assert time.monotonic() - started >= 0.5  # the whole grace period, then SIGKILL
    wait_for(lambda: not alive(step_pid) and not alive(sleep_pid), what="SIGKILL")


def test_late_exit_after_abort_does_not_overwrite(server: FlowsServer, tmp_path: Path) -> None:
    """D9: a step that exits 0 on SIGTERM must stay failed/aborted."""
    pids = tmp_path / "graceful.pids"
    graceful = f"trap 'exit 0' TERM\necho $$ > {pids}\nwhile :; do sleep 0.05; done\n"
    flow = server.flows.add(
        "graceful",
        flow_program(schedule("s", [{"id": "g", "name": "g"}], final=True)),
        {"g": graceful},
    )
    run_id = server.create_run(flow)["id"]
    [step_pid] = wait_pids(pids, count=1)
    server.post(f"/runs/{run_id}/abort")
    wait_for(lambda: not alive(step_pid), what="the step to exit")
    step = server.steps(run_id)["g"]
    assert (step["status"], step["termination_reason"]) == ("failed", "aborted")
    assert server.run(run_id)["status"] == "failed"


# -- pause and resume ------------------------------------------------------------------------


def test_pause_resets_running_steps_and_resume_reruns_the_flow(
    server: FlowsServer, tmp_path: Path
) -> None:
    pids = tmp_path / "pausable.pids"
    mark = tmp_path / "pausable.mark"
    count = tmp_path / "pausable.count"
    body = (
        f"echo x >> {count}\n[ -e {mark} ] && exit 0\ntouch {mark}\n"
        f"echo $$ > {pids}\nsleep 30 &\necho $! >> {pids}\nwait\n"
    )
    flow = server.flows.add(
        "pausable",
        flow_program(schedule("s", [{"id": "p", "name": "p"}], final=True)),
        {"p": body},
    )
    run_id = server.create_run(flow)["id"]
    _, sleep_pid = wait_pids(pids)

    response = server.post(f"/runs/{run_id}/pause")
    assert response.status_code == 200
    assert response.json() == {"message": "Run paused successfully", "processesKilled": 1}
    wait_for(lambda: not alive(sleep_pid), what="the paused step to die")
    run = server.run(run_id)
    assert run["status"] == "paused" and "completedAt" not in run
    assert "terminationReason" not in run
    step = server.steps(run_id)["p"]
    assert step["status"] == "pending"
    for column in ("queued_at", "claimed_at", "heartbeat_at", "worker_id", "started_at"):
        assert step[column] is None
    assert server.stages(run_id)["s"]["status"] == "pending"
    time.sleep(0.3)  # several scheduler periods: an un-queued step must not start again
    assert count.read_text().split() == ["x"]
    assert logs(server, run_id)[0]["message"] == "Run paused by user request"
    assert logs(server, run_id)[0]["metadata"] == {"processesKilled": 1, "graceMs": 500}

    again = server.post(f"/runs/{run_id}/pause")
    assert again.status_code == 400
    assert again.json() == {"error": "Cannot pause run: already paused"}
    assert logs(server, run_id)[0]["message"] == "Pause requested but run already paused"
    assert logs(server, run_id)[0]["level"] == "info"

    resumed = server.post(f"/runs/{run_id}/resume")
    assert resumed.status_code == 200
    assert resumed.json()["message"] == "Run resumed successfully"
    assert resumed.json()["run"]["status"] == "pending"
    assert logs(server, run_id)[0]["message"] == "Run resume initiated"
    done = server.wait_run(run_id)
    assert done["status"] == "completed"
    assert count.read_text().split() == ["x", "x"]


def test_pause_refusals_and_resume_errors(server: FlowsServer) -> None:
    flow = server.flows.add("quick", "exit 0\n")
    done = server.run_flow(flow)["id"]
    response = server.post(f"/runs/{done}/pause")
    assert response.status_code == 400
    assert response.json() == {"error": "Cannot pause run: already completed"}
    assert (logs(server, done)[0]["level"], logs(server, done)[0]["message"]) == (
        "warn",
        "Pause requested but run already completed",
    )
    resume = server.post(f"/runs/{done}/resume")
    assert resume.status_code == 400
    assert resume.json() == {
        "error": "Run cannot be resumed: status is 'completed' (only paused runs can be resumed)"
    }
    assert server.post("/runs/nope/pause").json() == {"error": "Run not found: nope"}
    assert server.post("/runs/nope/resume").status_code == 404


def test_pause_right_after_create_wins_over_the_flow(server: FlowsServer) -> None:
    flow = server.flows.add(
        "raced",
        flow_program("sleep 0.2\n" + schedule("s", [{"id": "a", "name": "ok"}], final=True)),
        {"ok": ""},
    )
    run_id = server.create_run(flow)["id"]
    response = server.post(f"/runs/{run_id}/pause")
    assert response.status_code == 200
    time.sleep(0.4)  # longer than the flow would have needed
    assert server.run(run_id)["status"] == "paused"
    assert server.stages(run_id) == {}


# -- retry run -------------------------------------------------------------------------------


def test_retry_after_natural_failure(server: FlowsServer, tmp_path: Path) -> None:
    mark = tmp_path / "retry.mark"
    flow = server.flows.add(
        "retryable",
        flow_program(
            schedule(
                "main",
                [
                    {"id": "ok", "name": "ok"},
                    {"id": "once", "name": "once", "env": {"MARK": str(mark)}},
                ],
                final=True,
            ),
            failed={"main": "exit 0"},  # as documented: do not schedule on failure
        ),
        {"ok": "", "once": FAIL_ONCE},
    )
    run_id = server.create_run(flow)["id"]
    failed = server.wait_run(run_id)
    assert failed["status"] == "failed"

    response = server.post(f"/runs/{run_id}/retry")
    assert response.status_code == 200
    retried = response.json()
    assert retried["message"] == "Run retry initiated"
    assert retried["run"]["status"] == "pending"
    assert "terminationReason" not in retried["run"] and "completedAt" not in retried["run"]
    assert retried["run"]["startedAt"] == failed["startedAt"]
    assert logs(server, run_id)[0]["message"] == "Run retry initiated"
    done = server.wait_run(run_id)
    assert done["status"] == "completed"
    assert server.steps(run_id)["once"]["status"] == "completed"


def test_retry_after_abort(server: FlowsServer, tmp_path: Path) -> None:
    mark = tmp_path / "abort-retry.mark"
    pids = tmp_path / "abort-retry.pids"
    body = f"[ -e {mark} ] && exit 0\ntouch {mark}\n" + LONG_STEP.replace('"$PIDS"', str(pids))
    flow = server.flows.add(
        "abort-retry",
        flow_program(schedule("s", [{"id": "w", "name": "w"}], final=True)),
        {"w": body},
    )
    run_id = server.create_run(flow)["id"]
    wait_pids(pids)
    server.post(f"/runs/{run_id}/abort")
    response = server.post(f"/runs/{run_id}/retry")
    assert response.status_code == 200
    assert "terminationReason" not in response.json()["run"]
    assert server.wait_run(run_id)["status"] == "completed"
    step = server.steps(run_id)["w"]
    assert step["termination_reason"] is None and step["status"] == "completed"


def test_retry_refusals(server: FlowsServer) -> None:
    flow = server.flows.add("retry-done", "exit 0\n")
    done = server.run_flow(flow)["id"]
    completed = server.post(f"/runs/{done}/retry")
    assert completed.status_code == 400
    assert completed.json() == {
        "error": "Run cannot be retried: status is 'completed' (completed runs cannot be retried)"
    }
    sleeper = server.flows.add("retry-busy", "sleep 5\n")
    busy = server.create_run(sleeper)["id"]
    running = server.post(f"/runs/{busy}/retry")
    assert running.status_code == 409
    assert running.json() == {
        "error": "Run cannot be retried: run is still in progress (status: 'running'). "
        "Abort the run first."
    }
    server.post(f"/runs/{busy}/abort")
    assert server.post("/runs/nope/retry").json() == {"error": "Run not found: nope"}


# -- retry step ------------------------------------------------------------------------------


def cascading_flow(server: FlowsServer, tmp_path: Path, base: str) -> str:
    mark = tmp_path / f"{base}.mark"
    steps = [
        {"id": "a", "name": "once", "env": {"MARK": str(mark)}},
        {"id": "b", "name": "ok", "dependsOn": ["a"]},
        {"id": "c", "name": "ok", "dependsOn": ["b"]},
        {"id": "d", "name": "ok"},
    ]
    return server.flows.add(
        base,
        flow_program(schedule("main", steps, final=True), failed={"main": "exit 0"}),
        {"once": FAIL_ONCE, "ok": ""},
    )


def test_retry_step_cascades_requeues_and_completes(server: FlowsServer, tmp_path: Path) -> None:
    """D14: the reference never ran retried steps; we re-queue them and reopen the stage."""
    run_id = server.run_flow(cascading_flow(server, tmp_path, "retry-step"))["id"]
    assert [s["status"] for s in server.steps(run_id).values()] == [
        "failed",
        "failed",
        "failed",
        "completed",
    ]
    response = server.post(f"/runs/{run_id}/steps/a/retry")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Step retried successfully (2 dependent steps also reset)"
    assert body["step"]["id"] == "a" and body["step"]["status"] == "pending"
    assert body["step"]["retryCount"] == 0 and "stderr" not in body["step"]
    assert "queuedAt" in body["step"]
    assert [s["id"] for s in body["cascadedSteps"]] == ["b", "c"]
    assert all(s["status"] == "pending" for s in body["cascadedSteps"])
    [entry] = logs(server, run_id)
    assert (entry["entityType"], entry["entityId"]) == ("step", "a")
    assert entry["message"] == "Step retry initiated (cascading to 2 dependent steps)"
    assert entry["metadata"] == {"cascadeDownstream": True, "dependentStepCount": 2}
    done = server.wait_run(run_id)
    assert done["status"] == "completed"
    assert all(s["status"] == "completed" for s in server.steps(run_id).values())


def test_retry_step_without_cascading(server: FlowsServer, tmp_path: Path) -> None:
    run_id = server.run_flow(cascading_flow(server, tmp_path, "no-cascade"))["id"]
    response = server.post(f"/runs/{run_id}/steps/a/retry", {"cascadeDownstream": False})
    assert response.status_code == 200
    assert response.json()["message"] == "Step retried successfully"
    assert response.json()["cascadedSteps"] == []
    [entry] = logs(server, run_id)
    assert entry["message"] == "Step retry initiated"
    assert entry["metadata"] == {"cascadeDownstream": False, "dependentStepCount": 0}
    wait_for(lambda: server.steps(run_id)["a"]["status"] == "completed")
    # b and c stay failed (not reset), so the stage fails again.
    assert server.wait_run(run_id)["status"] == "failed"


def test_retry_step_refusals(server: FlowsServer, tmp_path: Path) -> None:
    run_id = server.run_flow(cascading_flow(server, tmp_path, "refusals"))["id"]
    not_failed = server.post(f"/runs/{run_id}/steps/d/retry")
    assert not_failed.status_code == 400
    assert not_failed.json() == {
        "error": "Cannot retry step: status is 'completed' (only failed steps can be retried)"
    }
    ghost = server.post(f"/runs/{run_id}/steps/ghost/retry")
    assert ghost.status_code == 404
    assert ghost.json() == {"error": f"Step not found: ghost in run {run_id}"}
    bad_body = server.post(f"/runs/{run_id}/steps/a/retry", {"cascadeDownstream": "no"})
    assert bad_body.status_code == 400
    assert bad_body.json()["error"] == "Invalid request body" and bad_body.json()["details"]
    assert server.post("/runs/nope/steps/a/retry").json() == {"error": "Run not found: nope"}

    sleeper = server.flows.add("busy-step", "sleep 5\n")
    busy = server.create_run(sleeper)["id"]
    running = server.post(f"/runs/{busy}/steps/a/retry")
    assert running.status_code == 400
    assert running.json() == {
        "error": "Cannot retry step: run is actively running (pause or abort the run first)"
    }
    server.post(f"/runs/{busy}/abort")
    quick = server.flows.add("done-step", "exit 0\n")
    completed = server.run_flow(quick)["id"]
    assert server.post(f"/runs/{completed}/steps/a/retry").json() == {
        "error": "Cannot retry step: run is completed (completed runs cannot be modified)"
    }


def test_no_automatic_log_entries_for_a_normal_run(server: FlowsServer) -> None:
    flow = server.flows.add(
        "silent-logs",
        flow_program(
            schedule("one", [{"id": "a", "name": "ok"}]),
            completed={"one": schedule("two", [{"id": "b", "name": "ok"}], final=True)},
        ),
        {"ok": ""},
    )
    run_id = server.run_flow(flow)["id"]
    assert logs(server, run_id) == []
    assert json.loads(json.dumps(server.run(run_id)))["status"] == "completed"


def test_abort_and_retry_of_a_paused_run(server: FlowsServer, tmp_path: Path) -> None:
    mark = tmp_path / "paused-abort.mark"
    flow = server.flows.add(
        "paused-abort",
        flow_program(f"[ -e {mark} ] && exit 0\ntouch {mark}\nsleep 5\n"),
    )
    first = server.create_run(flow)["id"]
    wait_for(mark.exists, what="the flow to start")
    assert server.post(f"/runs/{first}/pause").status_code == 200
    aborted = server.post(f"/runs/{first}/abort")
    assert aborted.status_code == 200 and aborted.json()["processesKilled"] == 0
    assert server.run(first)["terminationReason"] == "aborted"

    mark.unlink()
    third = server.create_run(flow)["id"]
    wait_for(mark.exists, what="the flow to start")
    server.post(f"/runs/{third}/pause")
    retried = server.post(f"/runs/{third}/retry")
    assert retried.status_code == 200 and retried.json()["run"]["status"] == "pending"
    assert server.wait_run(third)["status"] == "completed"


def test_retry_resets_only_what_did_not_complete(server: FlowsServer, tmp_path: Path) -> None:
    mark = tmp_path / "reset.mark"
    publish = (
        f'curl -sS -f -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID/fields" {AUTH} '
        "-H 'Content-Type: application/json' -d '{\"fields\": {\"k\": 1}}' >/dev/null\n"
    )
    # The flow schedules only on its very first call, so the reset rows stay observable.
    initial = f"[ -e {mark} ] && exit 0\ntouch {mark}\n" + schedule(
        "main",
        [{"id": "good", "name": "good"}, {"id": "bad", "name": "bad", "maxRetries": 1}],
        final=True,
    )
    flow = server.flows.add(
        "reset",
        flow_program(initial, failed={"main": "exit 0"}),
        {"good": publish, "bad": publish + "echo no >&2\nexit 1\n"},
    )
    run_id = server.run_flow(flow)["id"]
    before = server.steps(run_id)
    assert (before["bad"]["status"], before["bad"]["retry_count"]) == ("failed", 1)
    response = server.post(f"/runs/{run_id}/retry")
    assert response.status_code == 200
    wait_for(lambda: server.run(run_id).get("startedAt") != response.json()["run"].get("startedAt"))
    after = server.steps(run_id)
    assert after["good"] == before["good"]  # completed steps are untouched
    bad = after["bad"]
    assert (bad["status"], bad["retry_count"]) == ("pending", 0)
    for column in (
        "termination_reason",
        "started_at",
        "completed_at",
        "duration_ms",
        "stdout",
        "stderr",
        "fields",
        "error",
        "queued_at",
        "claimed_at",
        "heartbeat_at",
        "worker_id",
    ):
        assert bad[column] is None, column
    stage = server.stages(run_id)["main"]
    assert (stage["status"], stage["completed_at"], stage["termination_reason"]) == (
        "pending",
        None,
        None,
    )
    run = server.run(run_id)
    assert run["status"] == "running" and "completedAt" not in run
    server.post(f"/runs/{run_id}/abort")


def test_retry_step_of_a_paused_run(server: FlowsServer, tmp_path: Path) -> None:
    mark = tmp_path / "paused-step.mark"
    steps = [
        {"id": "once", "name": "once", "env": {"MARK": str(mark)}},
        {"id": "slow", "name": "slow"},
    ]
    flow = server.flows.add(
        "paused-step",
        flow_program(schedule("s", steps, final=True)),
        {"once": FAIL_ONCE, "slow": "sleep 30\n"},
    )
    run_id = server.create_run(flow)["id"]
    wait_for(lambda: server.steps(run_id).get("once", {}).get("status") == "failed")
    wait_for(lambda: server.steps(run_id).get("slow", {}).get("status") == "running")
    server.post(f"/runs/{run_id}/pause")
    response = server.post(f"/runs/{run_id}/steps/once/retry")
    assert response.status_code == 200
    assert server.run(run_id)["status"] == "running"
    wait_for(lambda: server.steps(run_id)["once"]["status"] == "completed")
    assert server.steps(run_id)["slow"]["status"] == "pending"  # paused, not re-queued
    server.post(f"/runs/{run_id}/abort")
