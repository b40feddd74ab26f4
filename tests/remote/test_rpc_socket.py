"""``WS /rpc`` of a real ``max serve`` (a workspace synced from the slow Acme server, so a
sync lasts seconds), with a trio-websocket client: unary and concurrent calls, ``engine:query``
pages streamed to the last row, a streamed sync (events, then its result), cancelling it by
message and by hanging up, garbage / binary / oversized frames closing only their own
connection, a read-only server's refusal, and no token.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
import trio_websocket as tws

from tests.cli.serving import Server, serving, start_server
from tests.daemon.conftest import PROJECTS, TASKS_PER_PROJECT, Acme

from .nodes import synced_workspace

TASKS = PROJECTS * TASKS_PER_PROJECT
INSTALLATION = {"installationId": "acme-1"}


@pytest.fixture(scope="module")
def workspace(slow_acme: Acme, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A synced workspace: (its MAX_HOME, its root)."""
    return synced_workspace(tmp_path_factory.mktemp("rpc-node"), slow_acme)


@pytest.fixture(scope="module")
def server(
    workspace: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    home, root = workspace
    yield from serving(root, home, tmp_path_factory.mktemp("rpc-log") / "serve.log")


@asynccontextmanager
async def rpc_socket(
    server: Server, token: str | None = None, path: str = "/rpc"
) -> AsyncIterator[Any]:
    url = server.http.replace("http://", "ws://") + path
    headers = [(b"authorization", f"Bearer {token or server.token}".encode())]
    async with tws.open_websocket_url(
        url, extra_headers=headers, max_message_size=1 << 24
    ) as websocket:
        yield websocket


async def send(websocket: Any, message: dict[str, Any]) -> None:
    await websocket.send_message(json.dumps(message))


async def receive(websocket: Any) -> dict[str, Any]:
    with trio.fail_after(60):
        message = json.loads(await websocket.get_message())
    assert isinstance(message, dict)
    return message


async def answer(websocket: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The events of the next call to answer, then its response."""
    events: list[dict[str, Any]] = []
    while True:
        message = await receive(websocket)
        if "event" in message:
            events.append(message["event"])
        else:
            return events, message


def last_sync(server: Server) -> dict[str, Any] | None:
    response = server.post("/rpc", {"id": "l", "method": "lastSync", "scope": INSTALLATION})
    result = response.json()["result"]
    assert result is None or isinstance(result, dict)
    return result


async def test_unary_calls_concurrently_and_their_error_frames(server: Server) -> None:
    async with rpc_socket(server) as websocket:
        await send(websocket, {"id": "a", "method": "listInstallations"})
        await send(websocket, {"id": "b", "method": "explode"})
        await send(
            websocket, {"id": "c", "method": "health", "scope": {"workspaceId": "elsewhere"}}
        )
        await send(websocket, {"id": "d", "target": "engine", "method": "count",
                               "args": ["AcmeTask"], "scope": INSTALLATION})  # fmt: skip
        answers = {m["id"]: m for m in [await receive(websocket) for _ in range(4)]}
    assert [i["name"] for i in answers["a"]["result"]] == ["acme-1"]
    assert answers["b"]["ok"] is False
    assert answers["b"]["error"]["code"] == "rpc.unknown_method"
    assert answers["c"]["error"]["code"] == "remote.workspace_not_served"
    assert answers["d"] == {"id": "d", "ok": True, "result": TASKS}


async def test_a_streamed_query_sends_every_page_then_the_totals(server: Server) -> None:
    query = {"entityType": "AcmeTask"}
    async with rpc_socket(server) as websocket:
        await send(websocket, {"id": "q", "target": "engine", "method": "query",
                               "args": [query, {"limit": 100}], "scope": INSTALLATION,
                               "stream": True})  # fmt: skip
        events, response = await answer(websocket)
    assert response == {"id": "q", "ok": True, "result": {"pages": TASKS // 100, "items": TASKS}}
    assert [e["kind"] for e in events] == ["page"] * (TASKS // 100)
    ids = [
        item["_id"] if "_id" in item else item["id"] for e in events for item in e["page"]["items"]
    ]
    assert len(set(map(str, ids))) == TASKS


async def test_a_streamed_sync_sends_its_events_then_its_result(server: Server) -> None:
    async with rpc_socket(server) as websocket:
        await send(websocket, {"id": "s", "method": "sync", "scope": INSTALLATION, "stream": True})
        events, response = await answer(websocket)
    assert response["ok"] is True, response
    assert response["result"]["status"] == "completed"
    kinds = [e["kind"] for e in events]
    assert kinds[-1] == "sync-completed" and "task-completed" in kinds, kinds
    finished = last_sync(server)
    assert finished is not None and finished["status"] == "completed"


async def test_cancel_and_hanging_up_cancel_the_streamed_sync(server: Server) -> None:
    async with rpc_socket(server) as websocket:
        await send(websocket, {"id": "s1", "method": "sync", "scope": INSTALLATION, "stream": True})
        first = await receive(websocket)
        assert first["id"] == "s1" and "event" in first, first
        await send(websocket, {"id": "s1", "cancel": True})
        _, response = await answer(websocket)
    assert response["ok"] is False and response["error"]["code"] == "remote.call_cancelled"
    cancelled = last_sync(server)
    assert cancelled is not None and cancelled["status"] == "cancelled", cancelled
    async with rpc_socket(server) as websocket:  # hang up in the middle of the stream
        await send(websocket, {"id": "s2", "method": "sync", "scope": INSTALLATION, "stream": True})
        first = await receive(websocket)
        assert first["id"] == "s2" and "event" in first, first
    deadline = time.monotonic() + 30
    while True:  # the server cancels it as it notices the hang-up
        latest = last_sync(server)
        assert latest is not None
        if latest["syncId"] != cancelled["syncId"] and latest["status"] != "running":
            break
        assert time.monotonic() < deadline, latest
        await trio.sleep(0.1)
    assert latest["status"] == "cancelled", latest
    assert "WS /rpc: sync " in server.log_text()


@pytest.mark.parametrize(
    ("frame", "code"),
    [("garbage", 1007), (b"\x00binary", 1003), ("x" * (2 << 20), 1009),
     (json.dumps({"id": "r", "ok": True}), 1007)],
    ids=["not-json", "binary", "oversized", "a-response"],
)  # fmt: skip
async def test_bad_frames_close_their_connection_and_others_are_still_served(
    server: Server, frame: str | bytes, code: int
) -> None:
    with trio.fail_after(60):  # the server hangs up: the `async with` ends
        async with rpc_socket(server) as other, rpc_socket(server) as bad:
            await bad.send_message(frame)
            with pytest.raises(tws.ConnectionClosed) as closed:
                await receive(bad)
            reason = closed.value.reason
            assert reason is not None and reason.code == code
            await send(other, {"id": "h", "method": "health"})
            _, response = await answer(other)
            assert response["ok"] is True
    assert server.token not in server.log_text()


async def test_an_oversized_command_message_closes_ws_cli_with_1009(server: Server) -> None:
    """``WS /cli`` has the same 1 MiB limit, and the server hangs up (the client's ``async
    with`` ends: it waits for the server's TCP close)."""
    with trio.fail_after(60):
        async with rpc_socket(server, path="/cli") as bad:
            assert (await receive(bad))["kind"] == "ready"
            await bad.send_message(json.dumps({"argv": ["x" * (2 << 20)]}))
            with pytest.raises(tws.ConnectionClosed) as closed:
                await receive(bad)
    reason = closed.value.reason
    assert reason is not None and reason.code == 1009
    assert "WS /cli closed (1009)" in server.log_text()


async def test_a_read_only_server_refuses_writes_and_answers_reads(
    workspace: tuple[Path, Path], tmp_path: Path
) -> None:
    home, root = workspace
    server = start_server(root, home, tmp_path / "serve.log", "--read-only")
    try:
        async with rpc_socket(server) as websocket:
            await send(
                websocket, {"id": "s", "method": "sync", "scope": INSTALLATION, "stream": True}
            )
            _, refused = await answer(websocket)
            await send(websocket, {"id": "c", "target": "engine", "method": "count",
                                   "args": ["AcmeTask"], "scope": INSTALLATION})  # fmt: skip
            _, counted = await answer(websocket)
        assert refused["ok"] is False
        assert refused["error"]["code"] == "remote.method_not_allowed"
        assert counted["result"] == TASKS
    finally:
        assert server.stop() == 0


async def test_no_token_is_refused_at_the_handshake(server: Server) -> None:
    with pytest.raises(tws.ConnectionRejected) as rejected:
        async with rpc_socket(server, token="not-the-token-at-all"):
            pass
    assert rejected.value.status_code == 401
