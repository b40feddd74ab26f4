"""``MAXQ_API_KEY`` is enforced when set: over real sockets, requests without the key are 401
(``/health`` stays open), scripts get a token scoped to their own run instead of the key, and
the key never shows up in the server's log or a client's error."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from .conftest import API_KEY, AUTH, FlowsServer, flow_program, schedule
from .test_cli import max_flows

StartServer = Callable[..., FlowsServer]
UNAUTHORIZED = {"error": "Unauthorized: send Authorization: Bearer <MAXQ_API_KEY>"}


def bare(server: FlowsServer, **headers: str) -> httpx.Client:
    """A client of ``server`` that sends only ``headers`` (no key unless given)."""
    return httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=headers, timeout=15)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": f"Basic {API_KEY}"},
        {"Authorization": f"Bearer {API_KEY}x"},
        {"Authorization": API_KEY},
    ],
    ids=["none", "wrong", "basic", "longer", "no-scheme"],
)
def test_requests_without_the_key_are_401_and_change_nothing(
    server: FlowsServer, headers: dict[str, str]
) -> None:
    flow = server.flows.add("auth-refused", "exit 0\n")
    with bare(server, **headers) as client:
        for method, path in [
            ("POST", "/api/v1/runs"),
            ("GET", "/api/v1/runs"),
            ("GET", "/api/v1/runs/some-run"),
            ("POST", "/api/v1/runs/some-run/abort"),
            ("GET", "/api/v1/nowhere"),
        ]:
            response = client.request(method, path, json={"flowName": flow})
            assert response.status_code == 401, (method, path)
            assert response.json() == UNAUTHORIZED
            assert response.headers["www-authenticate"] == "Bearer"
    assert server.rows("SELECT id FROM run WHERE flow_name = ?", flow) == []


def test_the_key_is_accepted_and_health_stays_open(server: FlowsServer) -> None:
    with bare(server) as client:
        assert client.get("/health").status_code == 200
    with bare(server, Authorization=f"Bearer {API_KEY}") as client:
        assert client.get("/api/v1/runs", params={"limit": 1}).status_code == 200
    with bare(server, Authorization=f"bearer {API_KEY}") as client:  # scheme is case-blind
        assert client.get("/api/v1/runs", params={"limit": 1}).status_code == 200


def test_scripts_get_a_token_for_their_own_run_only(server: FlowsServer, tmp_path: Path) -> None:
    other = server.create_run(server.flows.add("auth-other", "exit 0\n"))["id"]
    out = tmp_path / "codes"
    probe = "\n".join(
        [
            "code() { curl -s -o /dev/null -w '%{http_code}' " + AUTH + ' "$@"; }',
            'env > "$OUT.env"',
            "{",
            '  echo own=$(code "$MAXQ_API/runs/$MAXQ_RUN_ID")',
            '  echo other=$(code "$MAXQ_API/runs/$OTHER")',
            '  echo list=$(code "$MAXQ_API/runs")',
            "  echo create=$(code -X POST -H 'Content-Type: application/json' "
            '-d \'{"flowName": "x"}\' "$MAXQ_API/runs")',
            '} > "$OUT"',
        ]
    )
    flow = server.flows.add(
        "auth-scoped",
        flow_program(
            schedule(
                "s",
                [{"id": "p", "name": "p", "env": {"OUT": str(out), "OTHER": other}}],
                final=True,
            )
        ),
        {"p": probe + "\n"},
    )
    run = server.run_flow(flow)
    assert run["status"] == "completed"  # the flow scheduled with its token
    codes = dict(line.split("=") for line in out.read_text().split())
    assert codes == {"own": "200", "other": "401", "list": "401", "create": "401"}
    env = dict(
        line.split("=", 1) for line in Path(f"{out}.env").read_text().splitlines() if "=" in line
    )
    assert "MAXQ_API_KEY" not in env
    assert env["MAXQ_API_TOKEN"] and API_KEY not in env["MAXQ_API_TOKEN"]


def test_without_a_key_nothing_is_checked(start_server: StartServer) -> None:
    open_server = start_server(MAXQ_API_KEY="")
    flow = open_server.flows.add(
        "auth-none",
        flow_program(schedule("s", [{"id": "a", "name": "a"}], final=True)),
        {"a": 'test -z "$MAXQ_API_TOKEN"\n'},
    )
    with bare(open_server) as client:
        created = client.post("/api/v1/runs", json={"flowName": flow})
        assert created.status_code == 201
    assert open_server.wait_run(created.json()["id"])["status"] == "completed"


def test_the_key_never_reaches_the_server_log(tmp_path: Path) -> None:
    secret = "s3cret-key-do-not-log"
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "MAXQ_DATA_DIR": str(tmp_path / "data"),
        "MAXQ_FLOWS_ROOT": str(tmp_path / "flows"),
        "MAXQ_SERVER_PORT": "0",
        "MAXQ_API_KEY": secret,
        "LOG_LEVEL": "trace",  # the most talkative level, access log included
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "maxtrio.flows"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline().strip().rsplit(":", 1)[1])
            url = f"http://127.0.0.1:{port}"
            for key in (secret, secret + "-wrong"):
                headers = {"Authorization": f"Bearer {key}"}
                httpx.post(f"{url}/api/v1/runs", json={"flowName": "x"}, headers=headers)
                httpx.get(f"{url}/api/v1/runs/nothing-here", headers=headers)
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
    text = log_path.read_text()
    assert "/api/v1/runs" in text  # the log did record the requests
    assert secret not in text


def test_max_flows_sends_the_key_from_the_environment(server: FlowsServer) -> None:
    flow = server.flows.add("auth-cli", "exit 0\n")
    sent = max_flows(server, "run", flow, "--wait", "-o", "json")
    assert sent.returncode == 0, sent.stderr
    refused = max_flows(server, "runs", "--flow", flow, api_key="")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "Error: Unauthorized: send Authorization: Bearer <MAXQ_API_KEY> (HTTP 401)"
    )
    wrong = max_flows(server, "runs", api_key="not-the-key")
    assert wrong.returncode == 1 and "not-the-key" not in wrong.stderr + wrong.stdout
