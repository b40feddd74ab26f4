"""Names from outside never reach the file system unchecked: flow names, step script names, step
ids and the ids in URL paths follow one rule (letters, digits, ``_``, ``-``; the whole string),
and anything else is a 400 in the API's usual error shape with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import FlowsServer

UNSAFE_NAMES = [
    "../x",
    "/etc",
    "a/b",
    ".",
    "..",
    "ok\n",
    "\nok",
    "tab\there",
    "nul\x00",
    "bell\x07",
    "esc\x1b[31m",
    "del\x7f",
    "flow name",
    "x;rm -rf",
    "back\\slash",
    "caf\u00e9",
    "x" * 300 + "/",
]


def run_count(server: FlowsServer) -> int:
    return int(server.rows("SELECT count(*) AS n FROM run")[0]["n"])


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_create_run_refuses_unsafe_flow_names_and_stores_nothing(
    server: FlowsServer, name: str
) -> None:
    before = run_count(server)
    response = server.post("/runs", {"flowName": name})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "details"} and body["error"] == "Invalid request"
    [issue] = body["details"]
    assert issue["path"] == ["flowName"]
    assert issue["message"].startswith('Invalid flow name: "')
    assert issue["message"].endswith('". Only alphanumeric, underscore, and hyphen allowed.')
    # Control characters come back escaped and long names shortened (at most ~200 characters).
    assert issue["message"].isprintable() and len(issue["message"]) < 300
    assert server.rows("SELECT id FROM run WHERE flow_name = ?", name) == []
    assert run_count(server) == before


def test_empty_flow_name_is_refused_too(server: FlowsServer) -> None:
    response = server.post("/runs", {"flowName": ""})
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"path": ["flowName"], "message": "String must contain at least 1 character(s)"}
    ]


def test_a_newline_in_a_flow_name_is_escaped_in_the_message(server: FlowsServer) -> None:
    response = server.post("/runs", {"flowName": "ok\n"})
    assert response.json()["details"][0]["message"] == (
        'Invalid flow name: "ok\\n". Only alphanumeric, underscore, and hyphen allowed.'
    )


def test_good_names_are_still_accepted(server: FlowsServer) -> None:
    flow = server.flows.add("Good_name-9", "exit 0\n")
    assert server.run_flow(flow)["status"] == "completed"


def idle_run(server: FlowsServer) -> str:
    flow = server.flows.add("names-idle", "sleep 5\n")
    return str(server.create_run(flow)["id"])


@pytest.mark.parametrize("field", ["name", "id"])
@pytest.mark.parametrize("name", ["../x", "a/b", ".", "..", "ok\n", "esc\x1b"])
def test_schedule_refuses_unsafe_step_names_and_ids(
    server: FlowsServer, field: str, name: str
) -> None:
    run_id = idle_run(server)
    step: dict[str, Any] = {"id": "fine", "name": "fine", field: name}
    response = server.post(f"/runs/{run_id}/steps", {"stage": "s", "final": True, "steps": [step]})
    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request"
    assert [issue["path"] for issue in response.json()["details"]] == [["steps", 0, field]]
    assert server.stages(run_id) == {} and server.steps(run_id) == {}
    server.post(f"/runs/{run_id}/abort")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/runs/%2E%2E", "runId"),
        ("/runs/a%0Ab", "runId"),
        ("/runs/a%20b/logs", "runId"),
        ("/runs/ok/steps/%2E%2E/fields", "stepId"),
        ("/runs/ok/steps/x%0A/retry", "stepId"),
    ],
)
def test_unsafe_ids_in_url_paths_are_400(server: FlowsServer, path: str, field: str) -> None:
    method = "GET" if path.endswith(("%2E%2E", "%0Ab", "/logs")) else "POST"
    kwargs: dict[str, Any] = {} if method == "GET" else {"json": {"fields": {}}}
    response = server.http.request(method, "/api/v1" + path, **kwargs)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "Invalid request"
    assert [issue["path"] for issue in body["details"]] == [[field]]
    assert body["details"][0]["message"].isprintable()


def test_rows_written_by_others_still_meet_the_launch_check(server: FlowsServer) -> None:
    """A run row inserted behind the server's back with an unsafe name fails at launch."""
    server.db.execute(
        "INSERT INTO run (id, flow_name, status, created_at) VALUES (?, ?, 'paused', 1)",
        ("external-newline", "ok\n"),
    )
    resumed = server.post("/runs/external-newline/resume")
    assert resumed.status_code == 200
    run = server.wait_run("external-newline")
    assert run["status"] == "failed"
    assert run["stderr"] == (
        'Invalid flow name: "ok\\n". Only alphanumeric, underscore, and hyphen allowed.'
    )


@pytest.mark.parametrize(
    ("stage", "env", "path"),
    [("bad\x00stage", {}, ["stage"]), ("s", {"X": "v\x00"}, ["steps", 0, "env", "X"])],
)
def test_text_no_process_can_receive_is_refused_at_scheduling(
    server: FlowsServer, stage: str, env: dict[str, str], path: list[Any]
) -> None:
    """A NUL in a stage name or an env value would fail every launch: refused up front."""
    run_id = idle_run(server)
    step = {"id": "a", "name": "a", "env": env}
    response = server.post(
        f"/runs/{run_id}/steps", {"stage": stage, "final": True, "steps": [step]}
    )
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"path": path, "message": "String must not contain a NUL character"}
    ]
    assert server.stages(run_id) == {} and server.steps(run_id) == {}
    server.post(f"/runs/{run_id}/abort")
