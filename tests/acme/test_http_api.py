"""The HTTP API over loopback HTTP: the reference's client.test.ts, auth, errors, extensions."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

from maxtrio.acme import (
    AcmeHttpClient,
    AcmeServer,
    FaultInjection,
    FileInput,
    FilePatch,
    ProjectInput,
    ProjectPatch,
    SeedOptions,
    TaskInput,
    TaskPatch,
    Tenant,
    UserInput,
    UserPatch,
    WorkspaceInput,
    WorkspacePatch,
    create_tenant,
    http_status_of,
    open_tenant,
    serve_acme,
)
from maxtrio.core import MaxError

# -- client.test.ts -----------------------------------------------------------------------------


async def test_crud_over_http_in_order(tenant: Tenant, nursery: trio.Nursery) -> None:
    server: AcmeServer = await nursery.start(serve_acme, tenant)
    async with AcmeHttpClient(server.url + "/", tenant.api_key()) as client:
        ws = await client.create_workspace(WorkspaceInput(name="HTTP"))
        assert ws["id"].startswith("ws_") and await client.get_workspace(ws["id"]) == ws
        user = await client.create_user(
            UserInput(workspace_id=ws["id"], email="a@b.c", display_name="A", active=False)
        )
        assert user["active"] is False and user["role"] == "member"
        project = await client.create_project(
            ProjectInput(workspace_id=ws["id"], name="P", owner_id=user["id"], description="d")
        )
        task = await client.create_task(
            TaskInput(project_id=project["id"], title="T", created_by_id=user["id"], tags=("x",))
        )
        assert task["tags"] == ["x"] and task["assigneeId"] is None
        file = await client.create_file(
            FileInput(
                project_id=project["id"],
                name="a.csv",
                mime_type="text/csv",
                size_bytes=1,
                created_by_id=user["id"],
            )
        )
        assert await client.list_workspaces() == [ws]
        assert await client.list_users(ws["id"]) == [user]
        assert await client.list_projects(ws["id"]) == [project]
        assert await client.list_tasks(project["id"]) == [task]
        assert await client.list_files(project["id"]) == [file]

        assert (await client.update_workspace(ws["id"], WorkspacePatch(name="H2")))["name"] == "H2"
        assert (await client.update_user(user["id"], UserPatch(role="viewer")))["role"] == "viewer"
        updated_project = await client.update_project(project["id"], ProjectPatch(description=None))
        assert updated_project["description"] is None
        patch = TaskPatch(last_modified_by_id=user["id"], status="done", assignee_id=user["id"])
        done = await client.update_task(task["id"], patch)
        assert done["completedAt"] is not None and done["assigneeId"] == user["id"]
        file_patch = FilePatch(last_modified_by_id=user["id"], name="b.csv")
        assert (await client.update_file(file["id"], file_patch))["name"] == "b.csv"

        history = await client.get_task_history(task["id"])
        assert set(history["entries"][0]["changes"]) == {"status", "assigneeId"}

        await client.delete_file(file["id"])
        await client.delete_task(task["id"])
        await client.delete_project(project["id"])
        await client.delete_user(user["id"])
        await client.delete_workspace(ws["id"])
        assert await client.list_workspaces() == []
        with pytest.raises(MaxError, match="404") as caught:
            await client.get_task(task["id"])
        assert http_status_of(caught.value) == 404
        assert caught.value.message == f'GET /api/tasks/{task["id"]}: 404 {{"error":"Not found"}}'


async def test_changelog_paging_and_recent_changes(http_client: AcmeHttpClient) -> None:
    first = await http_client.get_changes(limit=3)
    assert len(first["events"]) == 3
    assert first["nextCursor"] == first["events"][2]["sequence"]
    second = await http_client.get_changes(since=first["nextCursor"], limit=3)
    assert second["events"][0]["sequence"] == first["nextCursor"] + 1
    recent = await http_client.get_recent_changes(10)
    sequences = [e["sequence"] for e in recent]
    assert sequences == sorted(sequences, reverse=True) and len(set(sequences)) == 10


async def test_webhook_registration_over_http(http_client: AcmeHttpClient) -> None:
    hook = await http_client.register_webhook("http://127.0.0.1:9/hook")
    assert hook["id"].startswith("wh_") and hook["active"] is True
    assert await http_client.list_webhooks() == [hook]
    await http_client.delete_webhook(hook["id"])
    assert await http_client.list_webhooks() == []
    await http_client.delete_webhook("wh_unknown")


async def test_a_bogus_key_is_rejected_with_403(acme_server: AcmeServer) -> None:
    async with AcmeHttpClient(acme_server.url, "bogus") as client:
        with pytest.raises(MaxError, match="403") as caught:
            await client.list_workspaces()
    assert caught.value.data["body"] == '{"error":"Invalid API key"}'


# -- auth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "bearer KEY", "Basic KEY", "KEY"],
)
async def test_missing_or_malformed_bearer_is_401(
    acme_server: AcmeServer, authorization: str | None
) -> None:
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.replace("KEY", acme_server.api_key)
    async with httpx.AsyncClient() as raw:
        response = await raw.get(acme_server.url + "/api/workspaces", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Missing API key"}
    assert response.headers["access-control-allow-origin"] == "*"


async def test_bearer_with_an_empty_key_is_401(acme_server: AcmeServer) -> None:
    """h11 clients refuse to send a trailing space, so this request goes out as raw bytes."""
    host, port = acme_server.url.removeprefix("http://").rsplit(":", 1)
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        request = b"GET /api/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \r\n\r\n"
        await stream.send_all(request)
        answer = b""
        while b"Missing API key" not in answer and len(answer) < 4096:
            chunk = await stream.receive_some()
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401")
    assert answer.endswith(b'{"error":"Missing API key"}')


async def test_auth_runs_before_routing(acme_server: AcmeServer) -> None:
    async with httpx.AsyncClient(base_url=acme_server.url) as raw:
        assert (await raw.get("/api/nothing-here")).status_code == 401
        assert (await raw.options("/api/workspaces")).status_code == 401
        not_api = await raw.get("/elsewhere")
        assert (not_api.status_code, not_api.json()) == (404, {"error": "Not found"})


async def test_rotated_key_is_rejected(
    http_client: AcmeHttpClient, acme_server: AcmeServer
) -> None:
    old = acme_server.api_key
    new = await http_client.rotate_api_key()
    assert new != old and (await http_client.list_workspaces())
    async with AcmeHttpClient(acme_server.url, old) as stale:
        with pytest.raises(MaxError, match="403"):
            await stale.list_workspaces()


async def test_public_routes_and_dashboard(acme_server: AcmeServer) -> None:
    async with httpx.AsyncClient(base_url=acme_server.url) as raw:
        health = await raw.post("/api/health")
        assert health.json() == {"status": "ok", "tenant": "test"}
        meta = await raw.get("/api/meta")
        assert meta.json() == {"tenant": "test", "apiKey": acme_server.api_key}
        for path in ("/", "/dashboard"):
            page = await raw.get(path)
            assert page.status_code == 200
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert "/api/meta" in page.text and "Recent Changes" in page.text


# -- routing and error bodies -------------------------------------------------------------------


async def test_unknown_routes_methods_and_ids_are_404(http_client: AcmeHttpClient) -> None:
    for method, path in [
        ("GET", "/api/nothing"),
        ("PUT", "/api/workspaces"),
        ("POST", "/api/users/usr_x"),
        ("GET", "/api/users/"),
        ("GET", "/api/users/a/b"),
        ("GET", "/api/users/usr_missing"),
    ]:
        with pytest.raises(MaxError) as caught:
            await http_client.request(method, path)
        assert caught.value.data["status"] == 404, (method, path)
        assert caught.value.data["body"] == '{"error":"Not found"}'


async def test_mutations_of_missing_entities_name_them(http_client: AcmeHttpClient) -> None:
    patch = TaskPatch(last_modified_by_id="usr_x", title="t")
    with pytest.raises(MaxError) as caught:
        await http_client.update_task("tsk_missing", patch)
    assert caught.value.data["status"] == 404
    assert caught.value.data["body"] == '{"error":"Task \\"tsk_missing\\" not found"}'
    with pytest.raises(MaxError) as caught:
        await http_client.delete_project("prj_x")
    assert caught.value.message.endswith('404 {"error":"Project \\"prj_x\\" not found"}')


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/workspaces", b"{not json", "body is not valid JSON"),
        ("/api/workspaces", b"[1]", "body must be a JSON object"),
        ("/api/workspaces", b"", "body must be a JSON object"),
        ("/api/workspaces", b'{"name": 5}', "name must be a string"),
        ("/api/users", b'{"workspaceId": "w"}', "email is required; displayName is required"),
        (
            "/api/users",
            b'{"workspaceId": "w", "email": "e", "displayName": "d", "role": "boss"}',
            "role must be one of admin, member, viewer",
        ),
        (
            "/api/tasks",
            b'{"projectId": "p", "title": "t", "createdById": "u", "dueDate": "soon"}',
            "dueDate must be a date YYYY-MM-DD",
        ),
        (
            "/api/tasks",
            b'{"projectId": "prj_nope", "title": "t", "createdById": "u"}',
            'Invalid projectId: no project \\"prj_nope\\"',
        ),
        ("/api/webhooks", b'{"url": "file:///etc/passwd"}', "url must be an http(s) URL"),
        ("/api/seed", b'{"tasksPerProject": "many"}', "tasksPerProject must be an integer"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field(
    http_client: AcmeHttpClient, path: str, body: bytes, message: str
) -> None:
    with pytest.raises(MaxError) as caught:
        await http_client.request("POST", path, content=body)
    assert caught.value.data["status"] == 400
    assert caught.value.data["body"] == '{"error":"' + message + '"}'


async def test_patch_without_last_modified_by_is_400(http_client: AcmeHttpClient) -> None:
    task = (await http_client.list_tasks())[0]
    with pytest.raises(MaxError) as caught:
        await http_client.request("PATCH", f"/api/tasks/{task['id']}", body={"title": "x"})
    assert caught.value.data["status"] == 400
    assert caught.value.data["body"] == '{"error":"lastModifiedById is required"}'


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/changes?since=abc", "since must be an integer"),
        ("/api/changes?limit=2.9", "limit must be an integer"),
        ("/api/changes?limit=0", "limit must be between 1 and 100000"),
        ("/api/changes/recent?limit=-1", "limit must be between 1 and 100000"),
        ("/api/tasks/x/history?before=abc", "before must be an integer"),
        ("/api/tasks?limit=5x", "limit must be an integer"),
        ("/api/tasks?cursor=abc", "cursor must be an integer"),
        ("/api/workspaces?delay_ms=soon", "delay_ms must be an integer between 0 and 60000"),
    ],
)
async def test_bad_query_parameters_are_400(
    http_client: AcmeHttpClient, path: str, message: str
) -> None:
    with pytest.raises(MaxError) as caught:
        await http_client.request("GET", path)
    assert caught.value.data["status"] == 400
    assert caught.value.data["body"] == '{"error":"' + message + '"}'


async def test_empty_query_values_mean_not_given(http_client: AcmeHttpClient) -> None:
    everything = await http_client.request_json("GET", "/api/users?workspaceId=")
    assert len(everything) == 6
    assert len(await http_client.request_json("GET", "/api/users?ids=")) == 6
    page = await http_client.request_json("GET", "/api/changes?since=&limit=")
    assert len(page["events"]) == 55


async def test_stats_seed_and_generation_routes(http_client: AcmeHttpClient) -> None:
    result = await http_client.seed(SeedOptions(projects_per_workspace=1, tasks_per_project=2))
    assert (result.workspaces, result.users, result.projects, result.tasks) == (1, 6, 1, 2)
    stats = await http_client.stats()
    assert (stats["workspaces"], stats["tasks"], stats["generating"]) == (2, 32, False)
    empty = await http_client.request_json("POST", "/api/seed")
    assert empty == {"workspaces": 1, "users": 6, "projects": 3, "tasks": 30, "files": 15}


# -- extensions: pagination and batch get -------------------------------------------------------


async def test_list_pagination_with_limit_and_cursor(http_client: AcmeHttpClient) -> None:
    everything = await http_client.list_tasks()
    seen = []
    cursor = None
    pages = 0
    while True:
        page = await http_client.list_page("tasks", limit=7, cursor=cursor)
        seen += page.items
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == everything and pages == 5
    project = everything[0]["projectId"]
    exact = await http_client.list_page("tasks", parent_id=project, limit=10)
    assert len(exact.items) == 10 and exact.next_cursor is None
    assert all(t["projectId"] == project for t in exact.items)


async def test_one_request_returns_a_whole_project(tenant: Tenant, nursery: trio.Nursery) -> None:
    tenant.seed(SeedOptions(projects_per_workspace=2, tasks_per_project=1000, files_per_project=0))
    server: AcmeServer = await nursery.start(serve_acme, tenant)
    async with AcmeHttpClient(server.url, server.api_key) as client:
        project = (await client.list_projects())[1]
        tasks = await client.list_tasks(project["id"])
        assert len(tasks) == 1000 and {t["projectId"] for t in tasks} == {project["id"]}


async def test_batch_get_by_ids(http_client: AcmeHttpClient) -> None:
    users = await http_client.list_users()
    wanted = [users[4]["id"], users[1]["id"], "usr_unknown"]
    got = await http_client.get_many("users", wanted)
    assert [u["id"] for u in got] == [users[1]["id"], users[4]["id"]]
    raw = await http_client.request_json("GET", "/api/users", params={"ids": ",".join(wanted)})
    assert raw == got
    assert await http_client.get_many("users", []) == []
    too_many = ",".join(f"usr_{i}" for i in range(1001))
    with pytest.raises(MaxError, match="ids must name at most 1000 entities"):
        await http_client.request("GET", "/api/tasks", params={"ids": too_many})


async def test_lists_see_writes_made_by_another_connection(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    """List answers are cached until the tenant changes, including changes by other processes."""
    served = create_tenant("shared", tmp_path)
    served.seed(SeedOptions(projects_per_workspace=1, tasks_per_project=2, files_per_project=0))
    server: AcmeServer = await nursery.start(serve_acme, served)
    async with AcmeHttpClient(server.url, server.api_key) as client:
        assert len(await client.list_tasks()) == 2
        assert len(await client.list_tasks()) == 2
        assert server.list_cache.hits == 1
        with open_tenant("shared", tmp_path) as writer:
            writer.seed(SeedOptions(existing_only=True, tasks_per_project=3, files_per_project=0))
        assert len(await client.list_tasks()) == 5
        await client.delete_task((await client.list_tasks())[0]["id"])
        assert len(await client.list_tasks()) == 4


async def test_client_never_opens_more_connections_than_allowed(
    autojump_clock: trio.testing.MockClock, tenant: Tenant, nursery: trio.Nursery
) -> None:
    tenant.seed()
    server: AcmeServer = await nursery.start(_serve_slowly, tenant)
    async with (
        AcmeHttpClient(server.url, server.api_key, max_connections=5) as client,
        trio.open_nursery() as requests,
    ):
        for _ in range(40):
            requests.start_soon(client.list_workspaces)
    assert server.statistics().peak_in_flight == 5
    assert server.statistics().requests == 40


async def _serve_slowly(
    tenant: Tenant, *, task_status: trio.TaskStatus[AcmeServer] = trio.TASK_STATUS_IGNORED
) -> None:
    await serve_acme(tenant, faults=FaultInjection(latency_ms=20), task_status=task_status)
