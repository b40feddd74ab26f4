"""``max serve`` and remote targets, with real processes on loopback: the synced workspace of
``conftest.synced`` served by ``max serve`` (its own ``MAX_HOME``), and a second machine (another
``MAX_HOME``, a directory outside any workspace) running ``max -t max+http://… <command>``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import SHARED_TASKS, Synced, max_sync_run
from .serving import Client, Server, new_client, one_error_line, serving, start_server

SEARCH_FORMATS = ("text", "table", "json", "ndjson", "csv")


@pytest.fixture(scope="module")
def served(synced: Synced, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    yield from serving(synced.root, synced.home, log)


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return new_client(tmp_path)


def local(synced: Synced, *args: str) -> tuple[int, str, str]:
    result = max_sync_run(*args, cwd=synced.root, home=synced.home)
    return result.code, result.out, result.err


# -- the server ----------------------------------------------------------------------------------


def test_start_line_token_file_and_health(served: Server, synced: Synced) -> None:
    assert re.fullmatch(r"max\+http://127\.0\.0\.1:\d+/shared-ws", served.url)
    token_file = synced.root / ".max" / "serve-token"
    assert token_file.read_text().strip() == served.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert len(served.token) >= 32
    response = httpx.get(f"{served.http}/health")
    assert response.status_code == 200 and response.json() == {"ok": True}


def test_the_json_start_line_is_exactly_url_and_token(synced: Synced, tmp_path: Path) -> None:
    server = start_server(synced.root, synced.home, tmp_path / "log", "--read-only")
    try:
        assert server.line == json.dumps({"url": server.url, "token": server.token}) + "\n"
        assert re.fullmatch(
            r'\{"url": "max\+http://127\.0\.0\.1:\d+/shared-ws", "token": "[\w-]+"\}\n', server.line
        )
    finally:
        assert server.stop() == 0
    # the same token on the next start: clients configured once keep working
    assert server.token == (synced.root / ".max" / "serve-token").read_text().strip()


def test_requests_without_the_token_get_401_and_never_reach_the_cli(served: Server) -> None:
    before = served.log_text().count("POST /cli status →")
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-wrong-token"},
        {"Authorization": "Basic x"},
    ):
        response = httpx.post(
            f"{served.http}/cli", json={"argv": ["status"]}, headers=headers, timeout=30
        )
        assert response.status_code == 401, response.text
        assert "Unauthorized" in response.json()["error"]
        response = httpx.post(
            f"{served.http}/rpc", json={"id": "1", "method": "health"}, headers=headers
        )
        assert response.status_code == 401
    assert served.log_text().count("POST /cli status →") == before  # no command ran
    assert "wrong-token-wrong-token" not in served.log_text()


def test_post_cli_is_the_reference_mini_server(served: Server) -> None:
    body = {"argv": ["search", "AcmeTask", "--limit", "3", "-o", "json"], "installation": "acme-1"}
    response = served.post("/cli", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"stdout", "stderr", "exitCode", "completions"}
    assert answer["exitCode"] == 0 and answer["completions"] is None
    assert answer["stdout"] and answer["stderr"] is None, answer

    response = served.post("/cli", {"argv": ["search", "NoSuchType"], "installation": "acme-1"})
    assert response.status_code == 200
    failed = response.json()
    assert failed["exitCode"] == 1 and failed["stderr"].startswith("Error: ")


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"argv": ["init", "x"]}, 403, "Command not allowed: init. Allowed: search, schema"),
        ({"argv": ["daemon", "stop"]}, 403, "Command not allowed: daemon."),
        ({"argv": "status"}, 400, "Missing argv array"),
        ({"args": []}, 400, "Missing argv array"),
        ([1, 2], 400, "Missing argv array"),
        ({"argv": ["-t", "@", "ls"]}, 400, "Target options are not allowed (-t)"),
        ({"argv": ["--global", "ls"]}, 400, "Target options are not allowed (--global)"),
        ({"argv": ["sync", "acme-1", "--plan", "@/etc/passwd"]}, 400, "File references"),
        ({"argv": ["ls"], "installation": "a/b"}, 400, "installation must be one name"),
        ({"argv": ["ls"], "workspace": "other-ws"}, 404, 'Workspace "other-ws" is not served'),
        ({"argv": ["ls"], "kind": "complete"}, 400, "Unsupported kind"),
    ],
)
def test_bad_cli_requests_get_json_errors(
    served: Server, body: object, status: int, error: str
) -> None:
    response = served.post("/cli", body)
    assert response.status_code == status, response.text
    assert error in response.json()["error"]


def test_malformed_oversized_and_unknown_requests_leave_it_serving(served: Server) -> None:
    headers = {**served.headers(), "Content-Type": "application/json"}
    for path in ("/cli", "/rpc"):
        response = httpx.post(f"{served.http}{path}", content=b"{not json", headers=headers)
        assert response.status_code == 400 and "Invalid JSON" in response.json()["error"]
        deep = b"[" * 100_000 + b"]" * 100_000
        response = httpx.post(f"{served.http}{path}", content=deep, headers=headers)
        assert response.status_code in (400, 413), response.text
        big = b'{"argv": ["' + b"x" * (2 << 20) + b'"]}'
        response = httpx.post(f"{served.http}{path}", content=big, headers=headers)
        assert response.status_code == 413, response.text
    assert httpx.get(f"{served.http}/nowhere", headers=headers).status_code == 404
    assert httpx.get(f"{served.http}/cli", headers=headers).status_code == 405
    response = served.post("/rpc", {"method": "health"})
    assert response.status_code == 400 and response.json()["error"].startswith("Invalid RpcRequest")
    # still serving
    response = served.post("/cli", {"argv": ["ls"]})
    assert response.status_code == 200 and response.json()["exitCode"] == 0


def test_rpc_over_post(served: Server) -> None:
    listed = served.post("/rpc", {"id": "a", "method": "listInstallations"}).json()
    assert listed["id"] == "a" and listed["ok"] is True
    assert [i["name"] for i in listed["result"]] == ["acme-1"]
    count = served.post(
        "/rpc",
        {
            "id": "b",
            "target": "engine",
            "method": "count",
            "args": ["AcmeTask"],
            "scope": {"installationId": "acme-1"},
        },
    ).json()
    assert count == {"id": "b", "ok": True, "result": SHARED_TASKS}
    unknown = served.post("/rpc", {"id": "c", "method": "explode"}).json()
    assert unknown["ok"] is False and unknown["error"]["code"] == "rpc.unknown_method"
    elsewhere = served.post(
        "/rpc", {"id": "d", "method": "health", "scope": {"workspaceId": "someone-else"}}
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["code"] == "remote.workspace_not_served"


# -- the client -----------------------------------------------------------------------------------


@pytest.mark.parametrize("output", SEARCH_FORMATS)
def test_remote_search_prints_what_local_search_prints(
    served: Server, synced: Synced, client: Client, output: str
) -> None:
    args = ("AcmeTask", "--limit", "25", "--order-by", "title", "-o", output)
    remote = client.run("-t", f"{served.url}/acme-1", "search", *args, token=served.token)
    code, out, err = local(synced, "search", "acme-1", *args)
    assert (remote.code, code) == (0, 0), (remote, err)
    assert remote.out == out


def test_remote_search_all_ndjson_is_identical_to_local(
    served: Server, synced: Synced, client: Client
) -> None:
    args = ("search", "AcmeTask", "--all", "-o", "ndjson")
    remote = client.run("-t", f"{served.url}/acme-1", *args, token=served.token)
    code, out, _ = local(synced, "-t", "acme-1", *args)
    assert remote.code == 0 and code == 0, remote
    assert len(remote.out.splitlines()) == SHARED_TASKS
    assert remote.out == out


@pytest.mark.parametrize(
    "command",
    [("schema",), ("status",), ("ls",), ("ls", "-o", "json"), ("schema", "-o", "json")],
    ids=["schema", "status", "ls", "ls-json", "schema-json"],
)
def test_remote_schema_status_ls_at_the_installation_and_workspace(
    served: Server, synced: Synced, client: Client, command: tuple[str, ...]
) -> None:
    for suffix, target in (("/acme-1", ("-t", "acme-1")), ("", ())):
        if (command[0] == "ls" and suffix) or (command[0] == "schema" and not suffix):
            continue  # ls runs at the workspace level; schema there needs a SOURCE
        remote = client.run("-t", f"{served.url}{suffix}", *command, token=served.token)
        code, out, err = local(synced, *target, *command)
        assert remote.code == code == 0, (remote, err)
        if command[0] == "status":  # health is asked again: its timing may differ
            assert remote.out.splitlines()[0] == out.splitlines()[0]
        else:
            assert remote.out == out


def test_max_target_env_and_token_file(served: Server, client: Client, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(served.token + "\n")
    result = client.run("--token-file", str(token_file), "ls", "-o", "json", MAX_TARGET=served.url)
    assert result.code == 0, result
    assert [i["name"] for i in json.loads(result.out)["installations"]] == ["acme-1"]


@pytest.mark.parametrize("token", [None, "not-the-token-at-all"])
def test_no_or_wrong_token_is_one_line_unauthorized(
    served: Server, client: Client, token: str | None
) -> None:
    result = client.run("-t", f"{served.url}/acme-1", "search", "AcmeTask", token=token)
    assert result.code == 1 and result.out == ""
    line = one_error_line(result.err)
    reason = "no token was sent" if token is None else "the token was refused"
    assert line == f"Error: Unauthorized by {served.url}/acme-1 — {reason}"
    assert "MAX_TOKEN" in result.err
    assert served.token not in result.err and (token is None or token not in result.err)


def test_a_command_outside_the_allow_list_is_refused(served: Server, client: Client) -> None:
    result = client.run("-t", served.url, "connect", "acme", token=served.token)
    assert result.code == 1
    assert one_error_line(result.err) == (
        "Error: Command not allowed: connect. Allowed: search, schema, status, ls, sync, sql"
    )


def test_nothing_listening_is_one_line_naming_the_url(client: Client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"max+http://127.0.0.1:{port}/ws"
    result = client.run("-t", url, "ls", token="whatever-token-123")
    assert result.code == 1
    assert one_error_line(result.err) == f"Error: Cannot reach {url} — connection refused"


def test_a_stopped_server_times_out_with_one_line(
    synced: Synced, client: Client, tmp_path: Path
) -> None:
    server = start_server(synced.root, synced.home, tmp_path / "log")
    try:
        os.kill(server.process.pid, signal.SIGSTOP)  # it accepts connections but never answers
        result = client.run("-t", server.url, "ls", token=server.token, MAX_REMOTE_TIMEOUT="1")
        assert result.code == 1
        assert one_error_line(result.err) == f"Error: No answer from {server.url} within 1s"
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        assert server.stop() == 0
