"""HTTP webhooks delivered to a real loopback receiver, and every attempt recorded."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import hypercorn.config
import hypercorn.trio
import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from maxtrio.acme import AcmeHttpClient, AcmeServer, Tenant, WebhookDelivery, WorkspaceInput


class Receiver:
    """A real HTTP server that records what is POSTed to ``/hook`` and answers ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[dict[str, Any]] = []
        self.headers: list[str] = []
        self.url = ""

    async def _hook(self, request: Request) -> Response:
        self.received.append(json.loads(await request.body()))
        self.headers.append(request.headers["content-type"])
        return Response(status_code=self.status)

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        config = hypercorn.config.Config()
        config.bind = ["127.0.0.1:0"]
        config.loglevel = "WARNING"

        async def started(*, task_status: trio.TaskStatus[list[str]]) -> None:
            await hypercorn.trio.serve(app, config, task_status=task_status)  # type: ignore[arg-type]

        async with trio.open_nursery() as nursery:
            binds = await nursery.start(started)
            self.url = binds[0] + "/hook"
            task_status.started()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for deliveries that travel over real sockets to be recorded."""
    with trio.fail_after(10):
        while not condition():
            await trio.sleep(0.01)


async def test_mutations_are_pushed_to_registered_hooks(
    acme_server: AcmeServer, http_client: AcmeHttpClient, nursery: trio.Nursery
) -> None:
    receiver = Receiver()
    await nursery.start(receiver.serve)
    hook = await http_client.register_webhook(receiver.url)
    created = await http_client.create_workspace(WorkspaceInput(name="Hooked"))
    await http_client.delete_workspace(created["id"])
    await _until(lambda: len(receiver.received) == 2)
    by_action = {p["action"]: p for p in receiver.received}
    assert set(by_action) == {"create", "delete"}
    assert by_action["create"]["entityType"] == "workspace"
    assert by_action["create"]["entityId"] == created["id"]
    assert set(by_action["create"]) == {"entityType", "entityId", "action", "cursor", "timestamp"}
    assert by_action["create"]["cursor"] == 56 and by_action["delete"]["cursor"] == 57
    assert receiver.headers == ["application/json"] * 2

    tenant = acme_server.tenant
    await _until(lambda: len(tenant.recent_deliveries()) == 2)
    deliveries: list[WebhookDelivery] = tenant.recent_deliveries()
    assert {d["webhookId"] for d in deliveries} == {hook["id"]}
    assert all(d["statusCode"] == 204 and d["success"] for d in deliveries)
    assert deliveries[0]["id"] > deliveries[1]["id"]
    assert acme_server.statistics().webhooks_delivered == 2

    await http_client.delete_webhook(hook["id"])
    await http_client.create_workspace(WorkspaceInput(name="Quiet"))
    assert acme_server.webhooks.statistics().queued == 0
    assert len(receiver.received) == 2


async def test_failed_deliveries_are_recorded(
    acme_server: AcmeServer, http_client: AcmeHttpClient, nursery: trio.Nursery
) -> None:
    failing = Receiver(status=500)
    await nursery.start(failing.serve)
    refused = await http_client.register_webhook(_closed_port_url())
    erroring = await http_client.register_webhook(failing.url)
    await http_client.create_workspace(WorkspaceInput(name="W"))
    tenant: Tenant = acme_server.tenant
    await _until(lambda: len(tenant.recent_deliveries()) == 2)
    by_hook = {d["webhookId"]: d for d in tenant.recent_deliveries()}
    assert (by_hook[refused["id"]]["statusCode"], by_hook[refused["id"]]["success"]) == (
        None,
        False,
    )
    assert (by_hook[erroring["id"]]["statusCode"], by_hook[erroring["id"]]["success"]) == (
        500,
        False,
    )
    assert acme_server.statistics().webhooks_failed == 2


async def test_seeding_in_a_worker_thread_still_delivers_every_entity(
    acme_server: AcmeServer, http_client: AcmeHttpClient, nursery: trio.Nursery
) -> None:
    receiver = Receiver()
    await nursery.start(receiver.serve)
    await http_client.register_webhook(receiver.url)
    await http_client.seed()
    await _until(lambda: len(receiver.received) == 55)
    assert sorted({p["entityType"] for p in receiver.received}) == [
        "file",
        "project",
        "task",
        "user",
        "workspace",
    ]
    assert {p["cursor"] for p in receiver.received} == {110}
