"""Operations and loaders against the real Acme fake over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from maxtrio.acme import AcmeServer, Tenant
from maxtrio.connector import Installation
from maxtrio.connectors.acme import (
    AcmeAppContext,
    AcmeProject,
    AcmeRoot,
    AcmeSchema,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
    ById,
    ErrNotFound,
    GetProject,
    GetUser,
    GetWorkspace,
    ListPage,
    ListProjects,
    ListTasks,
    ListUsers,
    ListWorkspaces,
    ProjectBasicLoader,
    ProjectTasksLoader,
    RootWorkspacesLoader,
    UserBasicLoader,
    WorkspaceBasicLoader,
    WorkspaceProjectsLoader,
    WorkspaceUsersLoader,
    connector,
    create_installation,
)
from maxtrio.core import (
    BasicOperationExecutor,
    EntityInput,
    LoaderEnv,
    MaxError,
    PageRequest,
    Projection,
    Ref,
)
from maxtrio.storage import SqliteEngine

from .conftest import platform_with_token
from .plan_walk import walk_sync


def upstream(tenant: Tenant, collection: str, parent_id: str | None = None) -> list[dict[str, Any]]:
    """What the fake holds, read straight from the tenant (not over HTTP)."""
    return json.loads(tenant.list_wire(collection, parent_id=parent_id).json)  # type: ignore[arg-type, no-any-return]


def expected_task(task: dict[str, Any]) -> EntityInput:
    fields = {"title": task["title"], "status": task["status"], "priority": task["priority"]}
    if task["description"]:
        fields["description"] = task["description"]
    return EntityInput(AcmeTask.ref(task["id"]), fields)


# -- operations ------------------------------------------------------------------------------


async def test_each_operation_makes_one_authenticated_call(
    tenant: Tenant, acme_server: AcmeServer, installation: Installation[AcmeAppContext]
) -> None:
    ops = BasicOperationExecutor(installation.context)
    (workspace,) = upstream(tenant, "workspaces")
    users = upstream(tenant, "users", workspace["id"])
    projects = upstream(tenant, "projects", workspace["id"])
    tasks = upstream(tenant, "tasks", projects[0]["id"])
    acme_server.reset_statistics()

    listed = await ops.execute(ListWorkspaces, ListPage())
    assert listed.data == [workspace]
    assert (listed.request, listed.next_cursor) == ("GET /api/workspaces", None)
    got = await ops.execute(GetWorkspace, ById(workspace["id"]))
    assert got.data == workspace
    assert got.request == f"GET /api/workspaces/{workspace['id']}"
    assert (await ops.execute(ListUsers, ListPage(workspace["id"]))).data == users
    assert (await ops.execute(GetUser, ById(users[1]["id"]))).data == users[1]
    assert (await ops.execute(ListProjects, ListPage(workspace["id"]))).data == projects
    assert (await ops.execute(GetProject, ById(projects[2]["id"]))).data == projects[2]
    listed_tasks = await ops.execute(ListTasks, ListPage(projects[0]["id"]))
    assert listed_tasks.data == tasks
    assert listed_tasks.request == f"GET /api/tasks?projectId={projects[0]['id']}"
    assert len(tasks) == 10
    assert acme_server.statistics().requests == 7


# -- loaders ---------------------------------------------------------------------------------


async def test_collection_loaders_return_stubs_in_one_page(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext]
) -> None:
    (workspace,) = upstream(tenant, "workspaces")
    page = await RootWorkspacesLoader.load(AcmeRoot.ref("root"), PageRequest(None, 100), env)
    assert (page.items, page.has_more, page.cursor) == (
        [EntityInput(AcmeWorkspace.ref(workspace["id"]), {})],
        False,
        None,
    )
    ws_ref = AcmeWorkspace.ref(workspace["id"])
    users = await WorkspaceUsersLoader.load(ws_ref, PageRequest(), env)
    assert [i.ref for i in users.items] == [
        AcmeUser.ref(u["id"]) for u in upstream(tenant, "users")
    ]
    assert all(i.fields == {} for i in users.items)
    assert len(users.items) == 6 and not users.has_more
    projects = await WorkspaceProjectsLoader.load(ws_ref, PageRequest(), env)
    assert [i.ref for i in projects.items] == [
        AcmeProject.ref(p["id"]) for p in upstream(tenant, "projects")
    ]


async def test_entity_loaders_fill_the_fields(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext]
) -> None:
    (workspace,) = upstream(tenant, "workspaces")
    loaded = await WorkspaceBasicLoader.load(AcmeWorkspace.ref(workspace["id"]), env)
    assert loaded == EntityInput(AcmeWorkspace.ref(workspace["id"]), {"name": workspace["name"]})
    for user in upstream(tenant, "users"):
        loaded = await UserBasicLoader.load(AcmeUser.ref(user["id"]), env)
        assert loaded.fields == {
            "displayName": user["displayName"],
            "email": user["email"],
            "role": user["role"],
            "active": user["active"],
        }
    for project in upstream(tenant, "projects"):
        loaded = await ProjectBasicLoader.load(AcmeProject.ref(project["id"]), env)
        expected: dict[str, Any] = {"name": project["name"], "status": project["status"]}
        if project["description"]:
            expected["description"] = project["description"]
        expected["owner"] = AcmeUser.ref(project["ownerId"])
        assert dict(loaded.fields) == expected
        assert loaded.fields["owner"].entity_def is AcmeUser


async def test_task_collection_returns_full_inputs(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext]
) -> None:
    for project in upstream(tenant, "projects"):
        page = await ProjectTasksLoader.load(AcmeProject.ref(project["id"]), PageRequest(), env)
        assert page.items == [expected_task(t) for t in upstream(tenant, "tasks", project["id"])]
        assert not page.has_more
    nulls = [t for t in upstream(tenant, "tasks") if not t["description"]]
    assert nulls, "the default seed has tasks without a description"


async def test_collections_follow_next_cursor_when_the_server_pages(
    tenant: Tenant, acme_server: AcmeServer
) -> None:
    installed = create_installation(
        {"baseUrl": acme_server.url, "workspaceId": "w"},
        platform_with_token(acme_server.api_key),
        page_size=4,
    )
    async with installed.running():
        env = LoaderEnv(installed.context, BasicOperationExecutor(installed.context))
        (workspace,) = upstream(tenant, "workspaces")
        acme_server.reset_statistics()
        seen: list[Ref] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = await WorkspaceUsersLoader.load(
                AcmeWorkspace.ref(workspace["id"]), PageRequest(cursor, 100), env
            )
            pages += 1
            seen += [item.ref for item in page.items]
            if not page.has_more:
                break
            assert page.cursor
            cursor = page.cursor
    assert pages == 2
    assert seen == [AcmeUser.ref(u["id"]) for u in upstream(tenant, "users")]
    assert acme_server.statistics().requests == 2


async def test_an_entity_deleted_upstream_fails_with_the_404(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext]
) -> None:
    user = upstream(tenant, "users")[2]
    tenant.delete("users", user["id"])
    with pytest.raises(MaxError) as caught:
        await UserBasicLoader.load(AcmeUser.ref(user["id"]), env)
    assert ErrNotFound.matches(caught.value)
    assert caught.value.message == f"Acme has no GET /api/users/{user['id']}: 404 Not found"
    assert not caught.value.has("Retryable")
    assert caught.value.data["status"] == 404


async def test_ids_are_escaped_in_paths(env: LoaderEnv[AcmeAppContext]) -> None:
    with pytest.raises(MaxError) as caught:
        await UserBasicLoader.load(AcmeUser.ref("../workspaces"), env)
    assert ErrNotFound.matches(caught.value)
    assert "GET /api/users/..%2Fworkspaces" in caught.value.message


# -- the whole plan --------------------------------------------------------------------------


async def test_the_seven_step_plan_stores_exactly_the_upstream_data(
    tenant: Tenant,
    acme_server: AcmeServer,
    env: LoaderEnv[AcmeAppContext],
    tmp_path: Path,
) -> None:
    acme_server.reset_statistics()
    engine = SqliteEngine.open(tmp_path / "data.db", AcmeSchema)
    try:
        await walk_sync(connector.definition, engine, env)
        assert acme_server.statistics().requests == 16  # spec §2.8: 1+1+1+1+6+3+3
        counts = [
            await engine.count(e)
            for e in (AcmeRoot, AcmeWorkspace, AcmeUser, AcmeProject, AcmeTask)
        ]
        assert counts == [1, 1, 6, 3, 30]

        async def stored(entity: Any) -> dict[str, dict[str, Any]]:
            page = await engine.load_page(entity, Projection.all(), PageRequest(None, 1000))
            return {r.ref.id: r.to_dict() for r in page.items}  # type: ignore[union-attr]

        users = await stored(AcmeUser)
        for user in upstream(tenant, "users"):
            row = users[user["id"]]
            assert [row[k] for k in ("displayName", "email", "role", "active")] == [
                user["displayName"],
                user["email"],
                user["role"],
                user["active"],
            ]
        projects = await stored(AcmeProject)
        for project in upstream(tenant, "projects"):
            row = projects[project["id"]]
            assert (row["name"], row["status"]) == (project["name"], project["status"])
            assert row["description"] == (project["description"] or None)
            assert row["owner"] == AcmeUser.ref(project["ownerId"])
        tasks = await stored(AcmeTask)
        assert set(tasks) == {t["id"] for t in upstream(tenant, "tasks")}
        for task in upstream(tenant, "tasks"):
            row = tasks[task["id"]]
            assert (row["title"], row["status"], row["priority"]) == (
                task["title"],
                task["status"],
                task["priority"],
            )
            assert row["description"] == (task["description"] or None)
            assert row["assignee"] is None  # declared, never loaded (as in the reference)

        await walk_sync(connector.definition, engine, env)  # a second sync: same rows
        assert [
            await engine.count(e)
            for e in (AcmeRoot, AcmeWorkspace, AcmeUser, AcmeProject, AcmeTask)
        ] == [1, 1, 6, 3, 30]
    finally:
        await engine.aclose()
