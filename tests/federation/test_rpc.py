"""The RPC protocol between tiers (reference ``installation-dispatcher``,
``workspace-dispatcher``, ``rpc-roundtrip``, ``engine-roundtrip``, ``supervised-roundtrip``
tests) — against the real tiers (real ``data.db``, real acme syncs over loopback HTTP), every
message making the full trip through JSON text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from maxtrio.acme import AcmeServer
from maxtrio.connectors.acme import AcmeSchema, AcmeTask, AcmeUser
from maxtrio.core import (
    MaxError,
    Ordering,
    PageRequest,
    Projection,
    Query,
    and_,
    converter,
    or_,
)
from maxtrio.core import Where as W
from maxtrio.execution import SyncStatus
from maxtrio.federation import (
    ErrInvalidRpcMessage,
    ErrNodeNotFound,
    ErrSyncHandleNotFound,
    ErrUnknownMethod,
    ErrUnknownTarget,
    GlobalClient,
    GlobalDispatcher,
    GlobalMax,
    InstallationClient,
    InstallationDispatcher,
    InstallationMax,
    LoopbackTransport,
    PageMessage,
    QueryMessage,
    RpcCancel,
    RpcEvent,
    RpcRequest,
    RpcResponse,
    RpcScope,
    SchemaDescription,
    SyncResultMessage,
    WorkspaceClient,
    WorkspaceDispatcher,
    WorkspaceMax,
    decode,
    encode,
    where_from_wire,
    where_to_wire,
)

from .conftest import connect_acme

# -- the envelope --------------------------------------------------------------------------------


def test_request_json_form() -> None:
    request = RpcRequest(
        "7d0c",
        "query",
        "engine",
        ({"entityType": "AcmeUser"}, {"limit": 5}),
        RpcScope("ws-1", "inst-1"),
        stream=True,
    )
    assert json.loads(encode(request)) == {
        "id": "7d0c",
        "target": "engine",
        "method": "query",
        "args": [{"entityType": "AcmeUser"}, {"limit": 5}],
        "scope": {"workspaceId": "ws-1", "installationId": "inst-1"},
        "stream": True,
    }
    assert decode(encode(request)) == request
    plain = RpcRequest.create("health")
    assert json.loads(encode(plain)) == {
        "id": plain.id,
        "target": "",
        "method": "health",
        "args": [],
    }
    assert decode(encode(plain)) == plain


def test_response_json_forms() -> None:
    ok = RpcResponse.success("1", {"status": "healthy"})
    assert json.loads(encode(ok)) == {"id": "1", "ok": True, "result": {"status": "healthy"}}
    assert decode(encode(ok)) == ok
    cause = ErrNodeNotFound(id="x")
    failed = RpcResponse.failure("2", ErrUnknownMethod(method="m", target="root", cause=cause))
    wire = json.loads(encode(failed))
    assert wire == {
        "id": "2",
        "ok": False,
        "error": {
            "message": 'Unknown method "m" on target "root"',
            "code": "rpc.unknown_method",
            "boundary": "rpc",
            "facets": ["BadInput"],
            "data": {"method": "m", "target": "root"},
            "cause": {
                "message": 'Node not found: "x"',
                "code": "rpc.node_not_found",
                "boundary": "rpc",
                "facets": ["NotFound"],
                "data": {"id": "x"},
            },
        },
    }
    back = decode(encode(failed))
    assert isinstance(back, RpcResponse) and not back.ok
    with pytest.raises(MaxError) as info:
        back.unwrap()
    assert ErrUnknownMethod.matches(info.value) and info.value.has("BadInput")
    assert info.value.cause is not None and ErrNodeNotFound.matches(info.value.cause)


def test_event_and_cancel_json_forms() -> None:
    event = RpcEvent("3", {"kind": "task-completed", "count": 2})
    assert json.loads(encode(event)) == {"id": "3", "event": {"kind": "task-completed", "count": 2}}
    assert decode(encode(event)) == event
    assert json.loads(encode(RpcCancel("4"))) == {"id": "4", "cancel": True}
    assert decode('{"id": "4", "cancel": true}') == RpcCancel("4")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "Invalid RPC message: not valid JSON"),
        ("[1]", "Invalid RPC message: expected a JSON object"),
        ('{"method": "x"}', 'Invalid RPC message: missing "id"'),
        ('{"id": "1", "method": ""}', 'Invalid RPC request: "method" must be a non-empty string'),
        ('{"id": "1", "method": "x", "args": {}}', 'Invalid RPC request: "args" must be an array'),
        (
            '{"id": "1", "method": "x", "target": 3}',
            'Invalid RPC request: "target" must be a string',
        ),
        (
            '{"id": "1", "method": "x", "scope": {"workspaceId": 1}}',
            "Invalid RPC request: scope.workspaceId must be a string",
        ),
        ('{"id": "1", "ok": false}', 'Invalid RPC response: a failed response needs an "error"'),
        ('{"id": "1"}', "Invalid RPC message: expected a request"),
    ],
)
def test_malformed_messages_are_one_line_errors(line: str, reason: str) -> None:
    with pytest.raises(MaxError) as info:
        decode(line)
    assert ErrInvalidRpcMessage.matches(info.value)
    assert str(info.value).startswith(reason)


def test_where_tree_round_trip() -> None:
    tree = and_(W("status", "=", "open"), or_(W("priority", ">=", 3), W("title", "contains", "x")))
    wire = where_to_wire(tree)
    assert wire == {
        "kind": "and",
        "clauses": [
            {"field": "status", "op": "=", "value": "open"},
            {
                "kind": "or",
                "clauses": [
                    {"field": "priority", "op": ">=", "value": 3},
                    {"field": "title", "op": "contains", "value": "x"},
                ],
            },
        ],
    }
    assert where_from_wire(json.loads(json.dumps(wire))) == tree


def test_schema_description_round_trip() -> None:
    described = SchemaDescription.from_schema(AcmeSchema)
    wire = json.loads(json.dumps(converter.unstructure(described)))
    assert wire["namespace"] == "acme"
    task = next(e for e in wire["entities"] if e["name"] == "AcmeTask")
    assert {"name": "assignee", "kind": "ref", "target": "AcmeUser"} in task["fields"]
    assert {"name": "title", "kind": "scalar", "type": "string"} in task["fields"]
    assert wire["roots"] == ["AcmeRoot"]
    assert {"from": "AcmeTask", "field": "assignee", "to": "AcmeUser", "cardinality": "one"} in (
        wire["relationships"]
    )
    assert converter.structure(wire, SchemaDescription) == described


# -- dispatchers and proxies over the real tiers ----------------------------------------


@pytest.fixture
async def synced(workspace: WorkspaceMax, acme: AcmeServer) -> InstallationMax:
    await connect_acme(workspace, acme)
    node = await workspace.installation("acme-1")
    assert (await node.sync()).status is SyncStatus.COMPLETED
    return node


def loopback(dispatcher: Any) -> LoopbackTransport:
    return LoopbackTransport(dispatcher, serialise=True)


async def test_installation_root_methods(synced: InstallationMax) -> None:
    client = InstallationClient(loopback(InstallationDispatcher(synced)))
    assert (await client.health()).is_healthy
    assert (await client.start()).outcome == "already_running"
    described = await client.describe()
    assert (described["connector"], described["name"], described["id"]) == (
        "acme",
        "acme-1",
        synced.id,
    )
    assert described["schema"] == SchemaDescription.from_schema(AcmeSchema)
    assert (await client.schema()).entity_types == AcmeSchema.entity_types
    (record,) = await client.sync_history()
    assert (record.id, record.status) == ("sync-1", SyncStatus.COMPLETED)
    summary = await client.last_sync()
    assert summary is not None and summary.id == "sync-1"


async def test_engine_methods(synced: InstallationMax) -> None:
    engine = InstallationClient(loopback(InstallationDispatcher(synced))).engine
    assert await engine.count("AcmeTask") == 30
    query = (
        Query.from_(AcmeTask).where("status", "=", "todo").order_by("title", "desc").select("title")
    )
    local = await synced.engine.query(query, PageRequest(None, 4))
    remote = await engine.query(query, PageRequest(None, 4))
    assert isinstance(remote, PageMessage)
    assert [i["_id"] for i in remote.items] == [i.ref.id for i in local.items]  # type: ignore[union-attr]
    assert set(remote.items[0]) == {"_id", "_ref", "title"}
    assert remote.items[0]["_ref"].startswith("ein:AcmeTask:")
    assert (remote.has_more, remote.cursor) == (local.has_more, local.cursor)
    users = await engine.load_page("AcmeUser", Projection.refs(), PageRequest(None, 2))
    assert len(users.items) == 2 and users.has_more and set(users.items[0]) == {"_id", "_ref"}
    task = remote.items[0]
    loaded = await engine.load(task["_ref"])
    assert loaded["title"] == task["title"]
    assert loaded["assignee"] is None or loaded["assignee"].startswith("ein:AcmeUser:")
    assert await engine.load_field(task["_ref"], "title") == task["title"]
    selected = await engine.load(task["_ref"], ["status"])
    assert set(selected) == {"_id", "_ref", "status"}
    message = QueryMessage.from_query(Query.from_(AcmeUser).where("active", "=", True).refs())
    assert message.order_by is None and message.projection == Projection.refs()
    assert (await engine.query(message)).items
    ordering = QueryMessage("AcmeTask", None, Ordering("title"), Projection.select("title"))
    assert len((await engine.query(ordering, PageRequest(None, 3))).items) == 3


async def test_errors_survive_the_trip(synced: InstallationMax) -> None:
    dispatcher = InstallationDispatcher(synced)
    transport = loopback(dispatcher)
    with pytest.raises(MaxError) as info:
        await transport.call(RpcRequest.create("x", target="bogus"))
    assert ErrUnknownTarget.matches(info.value)
    assert str(info.value) == 'Unknown RPC target "bogus"'
    with pytest.raises(MaxError) as info:
        await transport.call(RpcRequest.create("nope"))
    assert ErrUnknownMethod.matches(info.value)
    assert str(info.value) == 'Unknown method "nope" on target "root"'
    with pytest.raises(MaxError) as info:
        await transport.call(RpcRequest.create("store", target="engine"))
    assert info.value.data == {"method": "store", "target": "engine"}
    assert info.value.has("BadInput")
    with pytest.raises(MaxError) as info:
        await transport.call(RpcRequest.create("syncStatus", "nonexistent-id"))
    assert ErrSyncHandleNotFound.matches(info.value) and info.value.has("NotFound")
    with pytest.raises(MaxError, match="Invalid RPC arguments of health: expected 0, got 1"):
        await transport.call(RpcRequest.create("health", 1))
    with pytest.raises(MaxError, match='"Ghost" is not in schema "acme"'):
        await transport.call(RpcRequest.create("count", "Ghost", target="engine"))
    with pytest.raises(MaxError) as info:
        await transport.call(RpcRequest.create("load", "ein:AcmeUser:nobody", target="engine"))
    assert info.value.code == "storage.entity_not_found" and info.value.has("NotFound")
    with pytest.raises(MaxError, match="Invalid RefKey format: garbage"):
        await transport.call(RpcRequest.create("load", "garbage", target="engine"))
    # the dispatcher itself never raises
    response = await dispatcher.dispatch(RpcRequest.create("query", {"no": 1}, target="engine"))
    assert not response.ok and response.error is not None
    assert response.error.code == "rpc.invalid_message"


async def test_a_remote_sync_with_streamed_events(synced: InstallationMax) -> None:
    client = InstallationClient(loopback(InstallationDispatcher(synced)))
    handle = await client.sync()
    assert handle.id == "sync-2" and handle.started_at.endswith("Z")
    assert await handle.status() in (SyncStatus.RUNNING, SyncStatus.COMPLETED)
    events: list[dict[str, Any]] = []

    async def on_event(event: dict[str, Any]) -> None:
        events.append(event)

    result = await handle.completion(on_event)
    assert isinstance(result, SyncResultMessage)
    assert (result.sync_id, result.status, result.tasks_failed) == (
        "sync-2",
        SyncStatus.COMPLETED,
        0,
    )
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "sync-started" and kinds[-1] == "sync-completed"
    assert kinds.count("task-completed") == result.tasks_completed
    assert events[-1]["result"]["syncId"] == "sync-2"
    completed = next(e for e in events if e["kind"] == "task-completed")
    assert set(completed) == {"kind", "syncId", "taskId", "entityType", "operation", "count"}
    with pytest.raises(MaxError) as info:  # completion forgets the handle
        await handle.status()
    assert info.value.has("NotFound")


async def test_cancel_and_resume_over_rpc(synced: InstallationMax, acme: AcmeServer) -> None:
    from maxtrio.acme import FaultInjection

    client = InstallationClient(loopback(InstallationDispatcher(synced)))
    acme.faults = FaultInjection(latency_ms=30)
    handle = await client.sync()
    await handle.pause()
    assert await handle.status() is SyncStatus.PAUSED
    await handle.cancel()
    acme.faults = FaultInjection()
    assert (await client.last_sync()).status is SyncStatus.CANCELLED  # type: ignore[union-attr]
    with pytest.raises(MaxError) as info:
        await client.sync_resume(handle.id)
    assert info.value.code == "execution.sync_not_resumable"


async def test_workspace_dispatcher_routes_by_scope(
    workspace: WorkspaceMax, acme: AcmeServer, tmp_path: Path
) -> None:
    transport = loopback(WorkspaceDispatcher(workspace))
    client = WorkspaceClient(transport)
    assert (await client.health()).is_healthy
    assert await client.list_installations() == []
    created = await client.create_installation(
        "acme",
        config={"baseUrl": acme.url, "workspaceId": "w"},
        credentials={"api_token": acme.api_key},
    )
    assert created.name == "acme-1"
    assert created.data_dir == workspace.root / ".max" / "installations" / "acme-1"
    assert (created.data_dir / "credentials.json").is_file()
    second = await connect_acme(workspace, acme, "other")
    listed = await client.list_installations()
    assert [i.name for i in listed] == ["acme-1", "other"]
    assert listed[0] == created
    # scoped calls reach each installation's own engine
    first = client.installation(created.id)
    assert (await first.health()).is_healthy
    assert (await first.describe())["name"] == "acme-1"
    both = RpcRequest.create("health", scope=RpcScope("any-workspace", created.id))
    assert await transport.call(both) == {"status": "healthy"}  # installationId consumed
    handle = await first.sync()
    assert (await handle.completion()).status is SyncStatus.COMPLETED
    assert await first.engine.count("AcmeTask") == 30
    assert await client.installation(second.id).engine.count("AcmeTask") == 0
    assert await client.installation("other").engine.count("AcmeTask") == 0  # names work too
    statuses = {h.name: h.health.is_healthy for h in await client.installation_health()}
    assert statuses == {"acme-1": True, "other": True}
    assert "acme" in [c["name"] for c in await client.list_connectors()]
    assert (await client.connector_schema("acme")).namespace == "acme"
    steps = await client.connector_onboarding("acme")
    assert [s.kind for s in steps] == ["input", "input", "validation", "select"]
    assert steps[0].fields["baseUrl"].required and steps[1].credentials == ("api_token",)
    assert steps[3].field == "workspaceId"
    with pytest.raises(MaxError) as info:
        await client.installation("nonexistent").health()
    assert info.value.has("NotFound")
    assert str(info.value) == "Installation not found: nonexistent"
    removed = await client.remove_installation("other")
    assert removed.id == second.id
    assert [i.name for i in await client.list_installations()] == ["acme-1"]
    with pytest.raises(MaxError, match='Installation "acme:acme-1" already exists'):
        await client.create_installation("acme", name="acme-1", config={}, credentials={})
    with pytest.raises(MaxError, match="Invalid RPC createInstallation argument"):
        await transport.call(RpcRequest.create("createInstallation", {"config": {}}))


async def test_global_dispatcher_and_the_full_chain(
    gmax: GlobalMax, tmp_path: Path, acme: AcmeServer
) -> None:
    transport = loopback(GlobalDispatcher(gmax))
    client = GlobalClient(transport)
    assert await client.list_workspaces() == []
    info = await client.create_workspace(str(tmp_path / "team"))
    assert info.name == "team" and (tmp_path / "team" / "max.json").is_file()
    assert await client.list_workspaces() == [info]
    workspace = client.workspace(info.id)
    created = await workspace.create_installation(
        "acme",
        config={"baseUrl": acme.url, "workspaceId": "w"},
        credentials={"api_token": acme.api_key},
    )
    installation = workspace.installation(created.id)
    result = await (await installation.sync()).completion()
    assert result.status is SyncStatus.COMPLETED
    assert await installation.engine.count("AcmeUser") == 6
    assert json.loads(transport.sent[-1])["scope"] == {
        "workspaceId": info.id,
        "installationId": created.id,
    }
    (health,) = await client.workspace_health()
    assert (health.name, str(health.url), health.health.is_healthy) == (
        "team",
        "max://@/team",
        True,
    )
    assert (await client.health()).is_healthy
    assert "acme" in [c["name"] for c in await client.list_connectors()]
    with pytest.raises(MaxError) as error:
        await client.workspace("nowhere").list_installations()
    assert ErrNodeNotFound.matches(error.value) and error.value.has("NotFound")
    assert error.value.cause is not None
    assert error.value.cause.code == "app.workspace_handle_not_found"
    with pytest.raises(MaxError) as error:
        await client.create_workspace(str(tmp_path / "team"))
    assert error.value.code == "bun-platform.cannot_initialise_project"


async def test_the_unserialised_loopback_gives_the_same_answers(synced: InstallationMax) -> None:
    dispatcher = InstallationDispatcher(synced)
    plain = InstallationClient(LoopbackTransport(dispatcher, serialise=False))
    wired = InstallationClient(LoopbackTransport(dispatcher, serialise=True))
    assert await plain.schema() == await wired.schema()
    page = PageRequest(None, 5)
    query = Query.from_(AcmeTask).order_by("title").select("title", "status")
    assert await plain.engine.query(query, page) == await wired.engine.query(query, page)
