"""Execution: the step DAG, retries, cascade, callbacks and launch checks."""

from __future__ import annotations

import json
import os

from .conftest import POST_FIELDS, FlowsServer, flow_program, schedule

DIAMOND = [
    {"id": "fetch", "name": "work"},
    {"id": "left", "name": "work", "dependsOn": ["fetch"]},
    {"id": "right", "name": "work", "dependsOn": ["fetch"]},
    {"id": "join", "name": "work", "dependsOn": ["left", "right"]},
]


def test_diamond_runs_in_dependency_order_with_strict_timestamps(server: FlowsServer) -> None:
    flow = server.flows.add(
        "diamond",
        flow_program(schedule("main", DIAMOND, final=True)),
        {"work": "echo $MAXQ_STEP_ID\n"},
    )
    run = server.run_flow(flow)
    assert run["status"] == "completed"
    steps = server.steps(run["id"])
    for step_id, step in steps.items():
        assert step["status"] == "completed"
        assert step["stdout"] == f"{step_id}\n" and step["stderr"] == ""
        assert step["retry_count"] == 0
        assert step["claimed_at"] == step["started_at"] == step["heartbeat_at"]
        assert step["worker_id"]
        assert step["duration_ms"] == step["completed_at"] - step["started_at"]
    for step_id, step in steps.items():
        for dependency in json.loads(step["depends_on"]):
            assert steps[dependency]["completed_at"] < step["started_at"], step_id
    stage = server.stages(run["id"])["main"]
    assert (stage["status"], stage["final"], stage["started_at"]) == ("completed", 1, None)
    assert stage["completed_at"] <= run["completedAt"]


def test_dependant_listed_first_is_not_starved(start_server) -> None:  # type: ignore[no-untyped-def]
    """D10: with one slot and the dependant first, the reference deadlocked."""
    server = start_server(MAXQ_MAX_CONCURRENT_STEPS="1", MAXQ_SCHEDULER_BATCH_SIZE="1")
    steps = [{"id": f"s{i}", "name": "ok", "dependsOn": [f"s{i + 1}"]} for i in range(4)]
    steps.append({"id": "s4", "name": "ok"})
    flow = server.flows.add("reverse", flow_program(schedule("s", steps, final=True)), {"ok": ""})
    assert server.run_flow(flow)["status"] == "completed"


def test_step_environment_and_working_directory(server: FlowsServer) -> None:
    report = (
        POST_FIELDS + ' <<JSON\n{"fields": {"run": "$MAXQ_RUN_ID", "flow": "$MAXQ_FLOW_NAME", '
        '"stage": "$MAXQ_STAGE", "id": "$MAXQ_STEP_ID", "name": "$MAXQ_STEP_NAME", '
        '"api": "$MAXQ_API", "custom": "$CUSTOM", "cwd": "$(pwd)", '
        '"completed": "${MAXQ_COMPLETED_STAGE:-unset}", "seq": "${MAXQ_STEP_SEQUENCE:-unset}"}}'
        "\nJSON\n"
    )
    flow = server.flows.add(
        "envs",
        flow_program(
            schedule(
                "inspect",
                [
                    {
                        "id": "probe-1",
                        "name": "probe",
                        "env": {"CUSTOM": "yes", "MAXQ_STAGE": "mine"},
                    }
                ],
                final=True,
            )
        ),
        {"probe": report},
    )
    run = server.run_flow(flow)
    fields = server.get(f"/runs/{run['id']}/fields").json()["fields"][0]["fields"]
    assert fields == {
        "run": run["id"],
        "flow": flow,
        "stage": "mine",  # user env is applied last (reference behaviour)
        "id": "probe-1",
        "name": "probe",
        "api": f"http://localhost:{server.port}/api/v1",
        "custom": "yes",
        "cwd": str(server.flows_root / flow / "steps" / "probe"),
        "completed": "unset",
        "seq": "unset",
    }


def test_flow_callbacks_receive_their_stage_and_cwd(server: FlowsServer) -> None:
    record = 'echo "${MAXQ_COMPLETED_STAGE}|${MAXQ_FAILED_STAGE}|$(pwd)" >> calls.log\n'
    flow_sh = flow_program(
        schedule("one", [{"id": "a", "name": "ok"}]),
        completed={"one": schedule("two", [{"id": "b", "name": "bad"}], final=True)},
    ).replace("set -e\n", "set -e\n" + record, 1)
    flow = server.flows.add("callbacks", flow_sh, {"ok": "", "bad": "exit 1\n"})
    run = server.run_flow(flow)
    assert run["status"] == "failed"
    assert "terminationReason" not in run
    cwd = server.flows_root / flow
    calls = (cwd / "calls.log").read_text().splitlines()
    assert calls == [f"||{cwd}", f"one||{cwd}", f"|two|{cwd}"]
    stages = server.stages(run["id"])
    assert (stages["one"]["status"], stages["two"]["status"]) == ("completed", "failed")
    assert run["completedAt"] >= stages["two"]["completed_at"]


def test_retries_until_success(server: FlowsServer) -> None:
    flaky = (
        "n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count\n"
        'echo "attempt $n"; [ "$n" -ge 3 ]\n'
    )
    flow = server.flows.add(
        "flaky",
        flow_program(schedule("s", [{"id": "f", "name": "flaky", "maxRetries": 3}], final=True)),
        {"flaky": flaky},
    )
    run = server.run_flow(flow)
    step = server.steps(run["id"])["f"]
    assert (run["status"], step["status"], step["retry_count"]) == ("completed", "completed", 2)
    assert step["stdout"] == "attempt 3\n"


def test_always_failing_step_uses_all_retries_then_fails_the_run(server: FlowsServer) -> None:
    flow = server.flows.add(
        "doomed",
        flow_program(schedule("s", [{"id": "d", "name": "no", "maxRetries": 2}], final=True)),
        {"no": "echo try >&2\nexit 4\n"},
    )
    run = server.run_flow(flow)
    step = server.steps(run["id"])["d"]
    assert (step["status"], step["retry_count"], step["stderr"]) == ("failed", 2, "try\n")
    assert run["status"] == "failed"


def test_signal_death_is_a_failure(server: FlowsServer) -> None:
    """D4: the reference read "no exit code" as success."""
    flow = server.flows.add(
        "suicide",
        flow_program(schedule("s", [{"id": "k", "name": "kill"}], final=True)),
        {"kill": "kill -9 $$\n"},
    )
    run = server.run_flow(flow)
    assert run["status"] == "failed"
    assert server.steps(run["id"])["k"]["status"] == "failed"


def test_failure_cascades_to_dependants_only(server: FlowsServer) -> None:
    steps = [
        {"id": "broken", "name": "bad"},
        {"id": "child", "name": "ok", "dependsOn": ["broken"]},
        {"id": "grandchild", "name": "ok", "dependsOn": ["child"]},
        {"id": "bystander", "name": "slow"},
    ]
    flow = server.flows.add(
        "cascade",
        flow_program(schedule("s", steps, final=True)),
        {"bad": "exit 1\n", "ok": "", "slow": "sleep 0.3\n"},
    )
    run = server.run_flow(flow)
    rows = server.steps(run["id"])
    assert rows["broken"]["status"] == "failed"
    for skipped in ("child", "grandchild"):
        assert rows[skipped]["status"] == "failed"
        assert rows[skipped]["stderr"] == "Skipped: dependency 'broken' failed"
        assert rows[skipped]["started_at"] is None  # never executed
    assert rows["bystander"]["status"] == "completed"  # a failure does not cancel the stage
    assert run["status"] == "failed"


def test_failure_callback_may_compensate_with_a_final_stage(server: FlowsServer) -> None:
    flow = server.flows.add(
        "compensate",
        flow_program(
            schedule("main", [{"id": "m", "name": "bad"}], final=True),
            failed={"main": schedule("cleanup", [{"id": "c", "name": "ok"}], final=True)},
        ),
        {"bad": "exit 1\n", "ok": ""},
    )
    run_id = server.create_run(flow)["id"]
    run = server.wait_run(run_id, "completed", timeout=15)
    assert server.stages(run_id)["cleanup"]["status"] == "completed"
    assert run["status"] == "completed"


def test_completion_callback_that_schedules_nothing_ends_the_run(server: FlowsServer) -> None:
    """D7: exit 0 completes the run, a non-zero exit fails it (the reference hung)."""
    quiet = server.flows.add(
        "quiet",
        flow_program(schedule("only", [{"id": "a", "name": "ok"}]), completed={"only": "exit 0"}),
        {"ok": ""},
    )
    run = server.run_flow(quiet)
    assert run["status"] == "completed" and run["durationMs"] is not None
    angry = server.flows.add(
        "angry",
        flow_program(schedule("only", [{"id": "a", "name": "ok"}]), completed={"only": "exit 9"}),
        {"ok": ""},
    )
    failed = server.run_flow(angry)
    assert failed["status"] == "failed" and "terminationReason" not in failed
    assert server.get(f"/runs/{failed['id']}/logs").json()["count"] == 0  # no automatic logs


def test_two_stages_scheduled_together_each_call_back(server: FlowsServer) -> None:
    both = schedule("a", [{"id": "a1", "name": "ok"}]) + schedule("b", [{"id": "b1", "name": "ok"}])
    flow = server.flows.add(
        "parallel",
        flow_program(
            both,
            completed={
                "a": "echo a >> seen\n",
                "b": "echo b >> seen\n" + schedule("end", [{"id": "e", "name": "ok"}], final=True),
            },
        ),
        {"ok": "sleep 0.1\n"},
    )
    run = server.run_flow(flow, "completed")
    assert run["status"] == "completed"
    assert sorted((server.flows_root / flow / "seen").read_text().split()) == ["a", "b"]


def test_initial_call_failure_still_runs_what_it_queued(server: FlowsServer) -> None:
    flow = server.flows.add(
        "late-success",
        flow_program(schedule("s", [{"id": "a", "name": "slow"}], final=True) + "exit 5\n"),
        {"slow": "sleep 0.3\n"},
    )
    run_id = server.create_run(flow)["id"]
    server.wait_run(run_id, "failed")
    completed = server.wait_run(run_id, "completed")
    assert server.steps(run_id)["a"]["status"] == "completed"
    assert completed["status"] == "completed"


def test_step_launch_check_failures_fail_at_once_without_retries(server: FlowsServer) -> None:
    steps = [
        {"id": "missing", "name": "ghost", "maxRetries": 3},
        {"id": "plain", "name": "plain", "maxRetries": 3},
        {"id": "badenv", "name": "ok", "env": {"1BAD": "x"}, "maxRetries": 3},
        {"id": "linked", "name": "linked"},
    ]
    flow = server.flows.add(
        "unlaunchable", flow_program(schedule("s", steps, final=True)), {"ok": "", "plain": ""}
    )
    (server.flows_root / flow / "steps" / "plain" / "step.sh").chmod(0o644)
    outside = server.flows_root.parent / "outside-step"
    outside.mkdir(exist_ok=True)
    (outside / "step.sh").write_text("#!/bin/sh\necho escaped\n")
    (outside / "step.sh").chmod(0o755)
    os.symlink(outside, server.flows_root / flow / "steps" / "linked")
    run = server.run_flow(flow)
    rows = server.steps(run["id"])
    script = server.flows_root / flow / "steps"
    expected = {
        "missing": f"Execution error: Script does not exist: {script}/ghost/step.sh",
        "plain": f"Execution error: Script exists but is not executable: {script}/plain/step.sh. "
        f"Run: chmod +x {script}/plain/step.sh",
        "badenv": 'Execution error: Invalid environment variable name: "1BAD". Only '
        "alphanumeric and underscore allowed, must start with letter or underscore.",
        "linked": "Execution error: Path traversal attempt detected",
    }
    for step_id, stderr in expected.items():
        assert rows[step_id]["status"] == "failed", step_id
        assert rows[step_id]["stderr"] == stderr
        assert rows[step_id]["retry_count"] == 0
        assert rows[step_id]["stdout"] is None
    assert run["status"] == "failed"


def test_megabytes_of_step_output_are_truncated(server: FlowsServer) -> None:
    flow = server.flows.add(
        "loud",
        flow_program(schedule("s", [{"id": "big", "name": "big"}], final=True)),
        {"big": "head -c 4000000 /dev/zero | tr '\\0' z\nhead -c 100000 /dev/zero >&2\n"},
    )
    run = server.run_flow(flow)
    step = server.steps(run["id"])["big"]
    assert run["status"] == "completed"
    assert step["stdout"] == "z" * 8192 + "\n... (output truncated at 8192 bytes)"
    assert step["stderr"].endswith("\n... (output truncated at 8192 bytes)")
    assert server.http.get("/health").json()["status"] == "healthy"


def test_background_child_holding_stdout_keeps_the_step_running(server: FlowsServer) -> None:
    flow = server.flows.add(
        "lingering",
        flow_program(schedule("s", [{"id": "l", "name": "bg"}], final=True)),
        {"bg": "(sleep 0.4; echo late) &\necho early\n"},
    )
    run = server.run_flow(flow)
    step = server.steps(run["id"])["l"]
    assert step["stdout"] == "early\nlate\n"
    assert step["completed_at"] - step["started_at"] >= 400


def test_rescheduling_a_completed_stage_resets_its_steps(server: FlowsServer) -> None:
    counter = "n=$(cat runs 2>/dev/null || echo 0); echo $((n + 1)) > runs\n"
    flow = server.flows.add(
        "again",
        flow_program(
            schedule("work", [{"id": "w", "name": "count"}]),
            completed={
                "work": "[ -e second ] && exit 0\ntouch second\n"
                + schedule("work", [{"id": "w", "name": "count"}], final=True)
            },
        ),
        {"count": counter + POST_FIELDS + ' <<\'JSON\'\n{"fields": {"x": 1}}\nJSON\n'},
    )
    run = server.run_flow(flow)
    assert run["status"] == "completed"
    assert (server.flows_root / flow / "steps" / "count" / "runs").read_text().strip() == "2"
    stages = server.stages(run["id"])
    assert list(stages) == ["work"] and stages["work"]["final"] == 1


def test_callback_ending_before_the_initial_call_still_settles_the_run(
    server: FlowsServer,
) -> None:
    """D7 waits for the last flow call: here the initial call outlives the callback."""
    flow = server.flows.add(
        "slow-initial",
        flow_program(
            schedule("quick", [{"id": "q", "name": "ok"}]) + "sleep 0.5\n",
            completed={"quick": "exit 0"},
        ),
        {"ok": ""},
    )
    run = server.run_flow(flow)
    assert run["status"] == "completed"
    assert run["completedAt"] - run["startedAt"] >= 500


def test_unspawnable_step_is_a_failed_attempt(server: FlowsServer) -> None:
    """An OS-level launch failure (here a missing interpreter) is a failed attempt."""
    flow = server.flows.add(
        "bad-interpreter",
        flow_program(schedule("s", [{"id": "n", "name": "odd", "maxRetries": 1}], final=True)),
        {"odd": "#!/nonexistent/interpreter\n"},
    )
    run = server.run_flow(flow)
    step = server.steps(run["id"])["n"]
    assert (step["status"], step["retry_count"]) == ("failed", 1)
    script = server.flows_root / flow / "steps" / "odd" / "step.sh"
    assert step["stderr"] == f"\nProcess error: [Errno 2] No such file or directory: '{script}'"
    assert run["status"] == "failed"
