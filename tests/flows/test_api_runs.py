"""Runs over HTTP: health, create, get, list, patch, and request decoding."""

from __future__ import annotations

import json

import pytest

from .conftest import FlowsServer, flow_program, schedule, wait_for


def test_health_reports_the_database_and_node_env(server: FlowsServer) -> None:
    response = server.http.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["environment"] == "test"
    assert body["services"] == {"database": "connected"}
    assert body["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/api/v1/flows"),
        ("POST", "/api/v1/flows/x/runs"),
        ("GET", "/api/v1/runs/x/steps"),
        ("GET", "/api/v1/steps/x"),
        ("PATCH", "/api/v1/steps/x"),
        ("DELETE", "/api/v1/runs/x"),
        ("PUT", "/api/v1/runs"),
        ("GET", "/api/v1/runs/x/abort"),
    ],
)
def test_unknown_routes_and_methods_are_404(server: FlowsServer, method: str, path: str) -> None:
    response = server.http.request(method, path)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}


def test_trailing_slash_is_tolerated_without_redirect(server: FlowsServer) -> None:
    assert server.http.get("/health/").status_code == 200
    response = server.http.get("/api/v1/runs/?limit=1")
    assert response.status_code == 200 and "data" in response.json()


def test_create_run_answers_pending_but_the_row_is_already_running(
    server: FlowsServer,
) -> None:
    flow = server.flows.add("sleepy", "sleep 0.3\n", yaml="title: Sleepy flow\n")
    response = server.post("/runs", {"flowName": flow, "input": {"n": 1}, "metadata": [1]})
    assert response.status_code == 201
    run = response.json()
    assert run["status"] == "pending"
    assert run["flowName"] == flow
    assert run["flowTitle"] == "Sleepy flow"
    assert run["input"] == {"n": 1} and run["metadata"] == [1]
    assert set(run) == {"id", "flowName", "status", "input", "metadata", "createdAt", "flowTitle"}
    row = server.rows("SELECT status, started_at FROM run WHERE id = ?", run["id"])[0]
    assert row["status"] == "running" and row["started_at"] >= run["createdAt"]
    done = server.wait_run(run["id"])
    assert done["status"] == "completed"
    assert done["stdout"] == "" and done["stderr"] == ""
    assert done["durationMs"] == done["completedAt"] - done["startedAt"]


@pytest.mark.parametrize("value", [0, False, "", [], {}])
def test_falsy_json_inputs_are_stored(server: FlowsServer, value: object) -> None:
    """D12: every non-null JSON value is kept (the reference dropped falsy ones)."""
    flow = server.flows.add("falsy", "exit 0\n")
    run = server.create_run(flow, input=value, metadata=value)
    assert run["input"] == value and run["metadata"] == value
    stored = server.rows("SELECT input, metadata FROM run WHERE id = ?", run["id"])[0]
    assert json.loads(stored["input"]) == value


@pytest.mark.parametrize(
    "body",
    [{}, {"flowName": ""}, {"flowName": 3}, {"flowName": None}, {"input": 1}],
)
def test_create_run_validates_flow_name(server: FlowsServer, body: dict[str, object]) -> None:
    response = server.post("/runs", body)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"
    details = response.json()["details"]
    assert details and details[0]["path"] == ["flowName"] and details[0]["message"]


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "42"])
def test_non_object_bodies_are_invalid_requests(server: FlowsServer, body: str) -> None:
    response = server.http.post(
        "/api/v1/runs", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"


@pytest.mark.parametrize(
    "body",
    ['{"flowName": ', "{'flowName': 'x'}", '{"a": NaN}', '{"input": 1e400}', "{" * 5000, "\xff"],
)
def test_malformed_json_is_a_clear_400(server: FlowsServer, body: str) -> None:
    response = server.http.post(
        "/api/v1/runs", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid JSON in request body"}


def test_form_bodies_and_json_without_content_type_are_accepted(server: FlowsServer) -> None:
    flow = server.flows.add("forms", "exit 0\n")
    form = server.http.post("/api/v1/runs", data={"flowName": flow})
    assert form.status_code == 201 and form.json()["flowName"] == flow
    bare = server.http.post("/api/v1/runs", content=json.dumps({"flowName": flow}))
    assert bare.status_code == 201
    # curl -d '{...}' labels JSON as a form: still understood.
    curl_style = server.http.post(
        "/api/v1/runs",
        content=json.dumps({"flowName": flow, "input": {"a": 1}}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert curl_style.status_code == 201 and curl_style.json()["input"] == {"a": 1}


def test_oversized_body_is_rejected(server: FlowsServer) -> None:
    body = b'{"flowName": "' + b"x" * (10 * 1024 * 1024 + 10) + b'"}'
    response = server.http.post(
        "/api/v1/runs", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large"}


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        ("does-not-exist", "Script does not exist: "),
        ("no_such_flow", "Script does not exist: "),
    ],
)
def test_unlaunchable_flows_are_created_then_fail(
    server: FlowsServer, flow: str, message: str
) -> None:
    created = server.post("/runs", {"flowName": flow})
    assert created.status_code == 201
    run = server.wait_run(created.json()["id"])
    assert run["status"] == "failed"
    assert message in run["stderr"]
    assert "stdout" not in run
    assert run["completedAt"] >= run["startedAt"] and "durationMs" in run  # D8


def test_non_executable_flow_fails_with_chmod_hint(server: FlowsServer) -> None:
    flow = server.flows.add("plain", "exit 0\n")
    (server.flows_root / flow / "flow.sh").chmod(0o644)
    run = server.run_flow(flow)
    assert run["status"] == "failed"
    assert "Script exists but is not executable" in run["stderr"]
    assert "chmod +x" in run["stderr"]


def test_initial_call_output_and_exit_code_decide(server: FlowsServer) -> None:
    ok = server.flows.add("talks", "echo to-out\necho to-err >&2\n")
    run = server.run_flow(ok)
    assert (run["status"], run["stdout"], run["stderr"]) == ("completed", "to-out\n", "to-err\n")
    bad = server.flows.add("exit3", "echo nope >&2\nexit 3\n")
    failed = server.run_flow(bad)
    assert failed["status"] == "failed" and failed["stderr"] == "nope\n"
    assert "terminationReason" not in failed
    assert failed["completedAt"] and failed["durationMs"] is not None  # D8


def test_megabytes_of_flow_output_are_truncated(server: FlowsServer) -> None:
    flow = server.flows.add("chatty", "head -c 3000000 /dev/zero | tr '\\0' y\n")
    run = server.run_flow(flow)
    assert run["status"] == "completed"
    assert run["stdout"] == "y" * 8192 + "\n... (output truncated at 8192 bytes)"
    assert server.http.get("/health").status_code == 200


def test_get_run_404(server: FlowsServer) -> None:
    response = server.get("/runs/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"error": "Run not found"}


def test_list_runs_filters_paginates_and_sorts(server: FlowsServer) -> None:
    flow = server.flows.add("listed", "exit 0\n")
    ids = [server.run_flow(flow)["id"] for _ in range(3)]
    failing = server.flows.add("listed-bad", "exit 1\n")
    bad = server.run_flow(failing)["id"]

    page = server.get("/runs", params={"flowName": flow, "limit": 2}).json()
    assert page["pagination"] == {"total": 3, "limit": 2, "offset": 0}
    assert [r["id"] for r in page["data"]] == ids[::-1][:2]  # newest first

    rest = server.get("/runs", params={"flowName": flow, "limit": 2, "offset": 2}).json()
    assert [r["id"] for r in rest["data"]] == [ids[0]]

    ascending = server.get(
        "/runs", params={"flowName": flow, "sortBy": "createdAt", "sortOrder": "asc"}
    ).json()
    assert [r["id"] for r in ascending["data"]] == ids

    by_completion = server.get(
        "/runs", params={"flowName": flow, "sortBy": "anything", "sortOrder": "up"}
    ).json()
    assert [r["id"] for r in by_completion["data"]] == ids  # completed_at ascending

    failed = server.get("/runs", params={"flowName": failing, "status": "failed"}).json()
    assert [r["id"] for r in failed["data"]] == [bad]
    nothing = server.get("/runs", params={"flowName": flow, "status": "weird"}).json()
    assert nothing == {"data": [], "pagination": {"total": 0, "limit": 20, "offset": 0}}


@pytest.mark.parametrize(
    "params",
    [{"limit": "ten"}, {"limit": "-1"}, {"offset": "1.5"}, [("status", "a"), ("status", "b")]],
)
def test_list_runs_rejects_bad_parameters(server: FlowsServer, params: object) -> None:
    response = server.get("/runs", params=params)
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"
    assert response.json()["details"]


def test_patch_overwrites_without_side_effects(server: FlowsServer) -> None:
    flow = server.flows.add("patched", "exit 0\n")
    run = server.run_flow(flow)
    response = server.http.patch(
        f"/api/v1/runs/{run['id']}",
        json={
            "status": "failed",
            "output": {"result": 42},
            "error": False,
            "name": "Nightly",
            "description": "by hand",
            "completedAt": 1,
        },
    )
    assert response.status_code == 200
    patched = response.json()
    assert patched["status"] == "failed"
    assert (patched["output"], patched["error"]) == ({"result": 42}, False)
    assert (patched["name"], patched["description"]) == ("Nightly", "by hand")
    assert patched["completedAt"] == run["completedAt"]
    assert server.rows("SELECT output FROM run WHERE id = ?", run["id"])[0]["output"] == (
        '{"result":42}'
    )


def test_patch_errors(server: FlowsServer) -> None:
    flow = server.flows.add("patch-errors", "exit 0\n")
    run_id = server.run_flow(flow)["id"]
    nothing = server.http.patch(f"/api/v1/runs/{run_id}", json={"completedAt": 5})
    assert nothing.status_code == 400 and nothing.json() == {"error": "No fields to update"}
    paused = server.http.patch(f"/api/v1/runs/{run_id}", json={"status": "paused"})
    assert paused.status_code == 400 and paused.json()["error"] == "Invalid request"
    typed = server.http.patch(f"/api/v1/runs/{run_id}", json={"name": 12})
    assert typed.status_code == 400 and typed.json()["details"][0]["path"] == ["name"]
    missing = server.http.patch("/api/v1/runs/no-such-run", json={"name": "x"})
    assert missing.status_code == 400 and missing.json() == {"error": "Run not found"}


def test_rows_inserted_behind_the_servers_back_are_served(server: FlowsServer) -> None:
    server.db.execute(
        "INSERT INTO run (id, flow_name, status, created_at, termination_reason) "
        "VALUES ('external-run', 'x', 'failed', 1, 'aborted')"
    )
    run = server.run("external-run")
    assert run == {
        "id": "external-run",
        "flowName": "x",
        "status": "failed",
        "createdAt": 1,
        "terminationReason": "aborted",
    }


def test_a_patched_run_is_not_launched_or_overwritten(server: FlowsServer) -> None:
    """A client may change the run right after the 201; the server must not undo it."""
    flow = server.flows.add(
        "patched-early",
        flow_program(schedule("s", [{"id": "a", "name": "w"}], final=True)),
        {"w": "exit 0\n"},
    )
    run = server.create_run(flow)
    server.http.patch(f"/api/v1/runs/{run['id']}", json={"status": "completed"})
    wait_for(lambda: server.run(run["id"])["status"] == "completed")
    assert server.run(run["id"])["status"] == "completed"


def test_strings_that_are_not_unicode_text_are_rejected(server: FlowsServer) -> None:
    response = server.http.post(
        "/api/v1/runs",
        content=b'{"flowName": "x\\ud800y"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid JSON in request body"}


def test_integers_beyond_sqlite_are_rejected(server: FlowsServer) -> None:
    response = server.get("/runs", params={"limit": str(2**64)})
    assert response.status_code == 400
    assert response.json()["details"][0]["path"] == ["limit"]


def test_json_columns_written_by_others_are_served_safely(server: FlowsServer) -> None:
    server.db.execute(
        "INSERT INTO run (id, flow_name, status, created_at, input, output) "
        "VALUES ('odd-json', 'x', 'failed', 1, '{\"n\": NaN}', 'not json')"
    )
    run = server.run("odd-json")
    assert (run["input"], run["output"]) == ('{"n": NaN}', "not json")
