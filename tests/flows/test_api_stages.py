"""Scheduling stages, step fields and run logs over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import AUTH, POST_FIELDS, FlowsServer, flow_program, schedule, wait_for


def idle_run(server: FlowsServer, base: str = "idle") -> str:
    """A run whose flow schedules nothing and stays ``running`` while we call the API."""
    flow = server.flows.add(base, "sleep 5\n")
    return str(server.create_run(flow)["id"])


def post_stage(server: FlowsServer, run_id: str, body: Any) -> Any:
    return server.post(f"/runs/{run_id}/steps", body)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"final": True, "steps": []}, ["stage"]),
        ({"stage": "", "final": True, "steps": []}, ["stage"]),
        ({"stage": "s", "steps": []}, ["final"]),
        ({"stage": "s", "final": "true", "steps": []}, ["final"]),
        ({"stage": "s", "final": True}, ["steps"]),
        ({"stage": "s", "final": True, "steps": {}}, ["steps"]),
        ({"stage": "s", "final": True, "steps": [{"name": "x"}]}, ["steps", 0, "id"]),
        ({"stage": "s", "final": True, "steps": [{"id": "a b", "name": "x"}]}, ["steps", 0, "id"]),
        ({"stage": "s", "final": True, "steps": [{"id": "a.b", "name": "x"}]}, ["steps", 0, "id"]),
        ({"stage": "s", "final": True, "steps": [{"id": "a"}]}, ["steps", 0, "name"]),
        (
            {"stage": "s", "final": True, "steps": [{"id": "a", "name": "x", "maxRetries": -1}]},
            ["steps", 0, "maxRetries"],
        ),
        (
            {"stage": "s", "final": True, "steps": [{"id": "a", "name": "x", "maxRetries": "2"}]},
            ["steps", 0, "maxRetries"],
        ),
        (
            {"stage": "s", "final": True, "steps": [{"id": "a", "name": "x", "env": {"N": 1}}]},
            ["steps", 0, "env", "N"],
        ),
        (
            {"stage": "s", "final": True, "steps": [{"id": "a", "name": "x", "dependsOn": "b"}]},
            ["steps", 0, "dependsOn"],
        ),
    ],
)
def test_schedule_schema_violations(server: FlowsServer, body: Any, path: list[Any]) -> None:
    response = post_stage(server, "any-run", body)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"
    assert path in [issue["path"] for issue in response.json()["details"]]


@pytest.mark.parametrize(
    ("steps", "error"),
    [
        (
            [{"id": "a", "name": "x"}, {"id": "a", "name": "y"}],
            "Duplicate step IDs detected - all step IDs must be unique",
        ),
        (
            [{"id": "a", "name": "x", "dependsOn": ["elsewhere"]}],
            'Step "a" depends on unknown step ID "elsewhere"',
        ),
        (
            [{"id": "a", "name": "x", "dependsOn": ["a"]}],
            "Circular dependency detected among steps: a",
        ),
        (
            [
                {"id": "a", "name": "x", "dependsOn": ["c"]},
                {"id": "b", "name": "x", "dependsOn": ["a"]},
                {"id": "c", "name": "x", "dependsOn": ["b"]},
            ],
            "Circular dependency detected among steps: a, b, c",
        ),
    ],
)
def test_schedule_graph_errors(server: FlowsServer, steps: list[Any], error: str) -> None:
    response = post_stage(server, "any-run", {"stage": "s", "final": True, "steps": steps})
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_schedule_on_a_missing_run_is_exactly_404(server: FlowsServer) -> None:
    body = {"stage": "s", "final": True, "steps": [{"id": "a", "name": "x"}]}
    response = post_stage(server, "missing-run", body)
    assert response.status_code == 404
    assert response.json() == {"error": "Run not found"}
    assert server.rows("SELECT * FROM stage WHERE run_id = 'missing-run'") == []


def test_schedule_response_queues_steps_and_ignores_unknown_keys(server: FlowsServer) -> None:
    run_id = idle_run(server)
    body = {
        "stage": "build",
        "final": False,
        "instances": 3,
        "steps": [
            {"id": "a", "name": "compile", "instances": 2},
            {"id": "b", "name": "compile", "dependsOn": ["a"], "maxRetries": 2, "env": {"K": "v"}},
        ],
    }
    response = post_stage(server, run_id, body)
    assert response.status_code == 201
    assert response.json() == {
        "stage": "build",
        "scheduled": 2,
        "steps": [
            {"id": "a", "name": "compile", "status": "pending"},
            {"id": "b", "name": "compile", "status": "pending"},
        ],
    }
    stage = server.stages(run_id)["build"]
    assert (stage["final"], stage["started_at"]) == (0, None)
    b = server.steps(run_id)["b"]
    assert b["depends_on"] == '["a"]'
    assert (b["max_retries"], b["env"]) == (2, '{"K":"v"}')
    assert b["queued_at"] is not None
    server.post(f"/runs/{run_id}/abort")


def test_schedule_refuses_terminated_and_completed_runs(server: FlowsServer) -> None:
    body = {"stage": "late", "final": True, "steps": [{"id": "z", "name": "x"}]}
    aborted = idle_run(server)
    server.post(f"/runs/{aborted}/abort")
    response = post_stage(server, aborted, body)
    assert response.status_code == 400
    assert response.json() == {"error": "Cannot schedule stages for terminated run (aborted)"}

    done = server.flows.add("done", "exit 0\n")
    completed = server.run_flow(done)["id"]
    response = post_stage(server, completed, body)
    assert response.status_code == 400
    assert response.json() == {"error": "Run already completed"}


def test_rescheduling_a_running_step_is_409(server: FlowsServer) -> None:
    """D13: the reference reset a running step under its live process."""
    flow = server.flows.add(
        "busy",
        flow_program(schedule("s", [{"id": "long", "name": "wait"}], final=True)),
        {"wait": "sleep 5\n"},
    )
    run_id = server.create_run(flow)["id"]
    wait_for(lambda: server.steps(run_id).get("long", {}).get("status") == "running")
    body = {"stage": "again", "final": True, "steps": [{"id": "long", "name": "wait"}]}
    response = post_stage(server, run_id, body)
    assert response.status_code == 409
    assert response.json() == {"error": 'Step "long" is currently running'}
    server.post(f"/runs/{run_id}/abort")


def test_same_step_ids_in_two_runs_are_independent(server: FlowsServer) -> None:
    """D1: steps are addressed by (run, id)."""
    flow = server.flows.add(
        "twice",
        flow_program(schedule("s", [{"id": "only", "name": "ok"}], final=True)),
        {"ok": "exit 0\n"},
    )
    first = server.run_flow(flow)
    second = server.run_flow(flow)
    assert (first["status"], second["status"]) == ("completed", "completed")
    assert server.steps(second["id"])["only"]["status"] == "completed"


def test_zero_step_stages_complete_at_once(server: FlowsServer) -> None:
    """D6: a final empty stage completes the run; a non-final one calls the flow back."""
    final = server.flows.add("empty-final", flow_program(schedule("nothing", [], final=True)))
    run = server.run_flow(final)
    assert run["status"] == "completed"
    assert server.stages(run["id"])["nothing"]["status"] == "completed"

    chained = server.flows.add(
        "empty-chain",
        flow_program(
            schedule("first", []),
            completed={"first": schedule("second", [], final=True)},
        ),
    )
    run = server.run_flow(chained)
    assert run["status"] == "completed"
    assert [s["status"] for s in server.stages(run["id"]).values()] == ["completed", "completed"]


# -- fields ----------------------------------------------------------------------------------


def test_fields_round_trip_and_query_filters(server: FlowsServer) -> None:
    publish = POST_FIELDS + ' <<JSON\n{"fields": {"who": "$MAXQ_STEP_ID", "n": 1}}\nJSON\n'
    flow = server.flows.add(
        "fielded",
        flow_program(
            schedule("first", [{"id": "p1", "name": "pub"}, {"id": "quiet", "name": "silent"}]),
            completed={"first": schedule("second", [{"id": "p2", "name": "pub"}], final=True)},
        ),
        {"pub": publish, "silent": "exit 0\n"},
    )
    run = server.run_flow(flow)
    assert run["status"] == "completed"
    items = server.get(f"/runs/{run['id']}/fields").json()["fields"]
    assert [(i["stepId"], i["stageName"], i["status"]) for i in items] == [
        ("p1", "first", "completed"),
        ("quiet", "first", "completed"),
        ("p2", "second", "completed"),
    ]
    assert items[0]["fields"] == {"who": "p1", "n": 1}
    assert items[1]["fields"] is None
    assert set(items[0]) == {
        "stepId",
        "stepName",
        "stageId",
        "stageName",
        "status",
        "fields",
        "completedAt",
    }
    one = server.get(f"/runs/{run['id']}/fields", params={"stepId": "p2"}).json()["fields"]
    assert [i["fields"] for i in one] == [{"who": "p2", "n": 1}]
    named = server.get(f"/runs/{run['id']}/fields", params={"fieldName": "who"}).json()
    assert [i["fields"] for i in named["fields"]] == [{"who": "p1"}, None, {"who": "p2"}]
    absent = server.get(f"/runs/{run['id']}/fields", params={"fieldName": "nope"}).json()
    assert [i["fields"] for i in absent["fields"]] == [{}, None, {}]


def test_downstream_steps_read_upstream_fields(server: FlowsServer) -> None:
    producer = POST_FIELDS + ' <<\'JSON\'\n{"fields": {"answer": 42}}\nJSON\n'
    consumer = (
        f'n=$(curl -sS -f {AUTH} "$MAXQ_API/runs/$MAXQ_RUN_ID/fields?stepId=produce" '
        "| jq '.fields[0].fields.answer')\n"
        + POST_FIELDS
        + ' <<JSON\n{"fields": {"double": $((n * 2))}}\nJSON\n'
    )
    flow = server.flows.add(
        "exchange",
        flow_program(
            schedule(
                "s",
                [
                    {"id": "produce", "name": "producer"},
                    {"id": "consume", "name": "consumer", "dependsOn": ["produce"]},
                ],
                final=True,
            )
        ),
        {"producer": producer, "consumer": consumer},
    )
    run = server.run_flow(flow)
    assert run["status"] == "completed"
    fields = server.get(f"/runs/{run['id']}/fields", params={"stepId": "consume"}).json()
    assert fields["fields"][0]["fields"] == {"double": 84}


def test_exit_code_alone_decides_success(server: FlowsServer) -> None:
    liar = POST_FIELDS + ' <<\'JSON\'\n{"fields": {"status": "failed"}}\nJSON\nexit 0\n'
    flow = server.flows.add(
        "liar",
        flow_program(schedule("s", [{"id": "l", "name": "liar"}], final=True)),
        {"liar": liar},
    )
    run = server.run_flow(flow)
    assert run["status"] == "completed"
    assert server.steps(run["id"])["l"]["status"] == "completed"


def test_post_fields_errors_and_replacement(server: FlowsServer) -> None:
    run_id = idle_run(server)
    missing = server.post(f"/runs/{run_id}/steps/ghost/fields", {"fields": {}})
    assert missing.status_code == 400
    assert missing.json() == {"error": f"Step not found: runId={run_id}, stepId=ghost"}
    server.post(f"/runs/{run_id}/abort")  # fields may be posted to terminated runs
    server.db.execute(
        "INSERT INTO stage (id, run_id, name, final, status, created_at) "
        "VALUES ('st-x', ?, 'manual', 0, 'failed', 1)",
        (run_id,),
    )
    server.db.execute(
        "INSERT INTO step (id, run_id, stage_id, name, status, depends_on, retry_count, "
        "max_retries, created_at) VALUES ('m', ?, 'st-x', 'n', 'failed', '[]', 0, 0, 1)",
        (run_id,),
    )
    for body in ({"fields": []}, {"fields": None}, {"fields": "x"}, {}):
        response = server.post(f"/runs/{run_id}/steps/m/fields", body)
        assert response.status_code == 400 and response.json()["error"] == "Invalid request"
    first = server.post(f"/runs/{run_id}/steps/m/fields", {"fields": {"a": 1, "b": 2}}).json()
    second = server.post(f"/runs/{run_id}/steps/m/fields", {"fields": {"c": [3]}}).json()
    assert second["id"] == "m" and second["runId"] == run_id
    assert second["fields"] == {"c": [3]} and second["completedAt"] > first["completedAt"]
    stored = server.rows("SELECT fields, status FROM step WHERE run_id = ? AND id = 'm'", run_id)
    assert stored == [{"fields": '{"c":[3]}', "status": "failed"}]


def test_query_fields_of_unknown_run_and_duplicate_parameters(server: FlowsServer) -> None:
    assert server.get("/runs/nobody/fields").json() == {"fields": []}
    response = server.get("/runs/nobody/fields", params=[("stepId", "a"), ("stepId", "b")])
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid query parameters"
    assert response.json()["details"]


# -- logs ------------------------------------------------------------------------------------


def test_logs_add_filter_and_order(server: FlowsServer) -> None:
    flow = server.flows.add("logged", "exit 0\n")
    run_id = server.run_flow(flow)["id"]
    assert server.get(f"/runs/{run_id}/logs").json() == {"logs": [], "count": 0}
    created = []
    for entity, level in (("run", "info"), ("step", "error"), ("stage", "warn")):
        response = server.post(
            f"/runs/{run_id}/logs",
            {
                "entityType": entity,
                "entityId": f"{entity}-1",
                "level": level,
                "message": f"{entity} says hi",
                "metadata": {"k": 0},
            },
        )
        assert response.status_code == 201
        created.append(response.json())
    assert set(created[0]) == {
        "id",
        "runId",
        "entityType",
        "entityId",
        "level",
        "message",
        "metadata",
        "createdAt",
    }
    plain = server.post(
        f"/runs/{run_id}/logs", {"entityType": "run", "level": "debug", "message": "bare"}
    ).json()
    assert "entityId" not in plain and "metadata" not in plain

    logs = server.get(f"/runs/{run_id}/logs").json()
    assert logs["count"] == 4
    assert [entry["message"] for entry in logs["logs"]] == [
        "bare",
        "stage says hi",
        "step says hi",
        "run says hi",
    ]
    errors = server.get(f"/runs/{run_id}/logs", params={"level": "error"}).json()
    assert [e["entityType"] for e in errors["logs"]] == ["step"]
    by_entity = server.get(
        f"/runs/{run_id}/logs", params={"entityType": "stage", "entityId": "stage-1"}
    ).json()
    assert by_entity["count"] == 1
    middle = created[1]["createdAt"]
    older = server.get(f"/runs/{run_id}/logs", params={"before": middle}).json()
    assert [e["message"] for e in older["logs"]] == ["run says hi"]
    newer = server.get(f"/runs/{run_id}/logs", params={"after": middle, "limit": 1}).json()
    assert [e["message"] for e in newer["logs"]] == ["bare"]


@pytest.mark.parametrize(
    "body",
    [
        {"entityType": "flow", "level": "info", "message": "m"},
        {"entityType": "run", "level": "loud", "message": "m"},
        {"entityType": "run", "level": "info", "message": ""},
        {"entityType": "run", "level": "info"},
        {"entityType": "run", "level": "info", "message": "m", "entityId": 5},
    ],
)
def test_log_validation(server: FlowsServer, body: dict[str, Any]) -> None:
    response = server.post("/runs/whatever/logs", body)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"


def test_log_on_unknown_run_is_404(server: FlowsServer) -> None:
    """D11: the reference answered 500 from the foreign key."""
    response = server.post(
        "/runs/no-such-run/logs", {"entityType": "run", "level": "info", "message": "m"}
    )
    assert response.status_code == 404
    assert response.json() == {"error": "Run not found"}
    assert server.get("/runs/no-such-run/logs").json() == {"logs": [], "count": 0}


def test_log_list_rejects_bad_numbers(server: FlowsServer) -> None:
    for params in ({"limit": "x"}, {"before": "yesterday"}, {"after": "-5"}):
        response = server.get("/runs/r/logs", params=params)
        assert response.status_code == 400


def test_huge_max_retries_is_rejected(server: FlowsServer) -> None:
    body = {"stage": "s", "final": True, "steps": [{"id": "a", "name": "x", "maxRetries": 10**30}]}
    response = post_stage(server, "any-run", body)
    assert response.status_code == 400
    assert response.json()["details"] == [
        {
            "path": ["steps", 0, "maxRetries"],
            "message": "Number must be less than or equal to 2147483647",
        }
    ]
