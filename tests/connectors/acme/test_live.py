"""Operations and loaders against the real Acme fake over loopback HTTP.

The expected inputs are written out here from the wire records, field by field, independently
of the connector's record tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from maxtrio.acme import AcmeServer, SeedOptions, TaskPatch, Tenant
from maxtrio.connector import Installation
from maxtrio.connectors.acme import (
    AcmeAppContext,
    AcmeFile,
    AcmeProject,
    AcmeRoot,
    AcmeSchema,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
    BatchTasks,
    ById,
    ByIds,
    ErrNotFound,
    FileBasicLoader,
    GetFile,
    GetProject,
    GetTask,
    GetUser,
    GetWorkspace,
    ListFiles,
    ListPage,
    ListProjects,
    ListTasks,
    ListUsers,
    ListWorkspaces,
    ProjectBasicLoader,
    ProjectFilesLoader,
    ProjectTasksLoader,
    RootWorkspacesLoader,
    TaskBasicLoader,
    UserBasicLoader,
    WorkspaceBasicLoader,
    WorkspaceProjectsLoader,
    WorkspaceUsersLoader,
    connector,
    create_installation,
)
from maxtrio.core import (
    BasicOperationExecutor,
    CollectionLoader,
    EntityInput,
    LoaderEnv,
    MaxError,
    PageRequest,
    Projection,
    Ref,
    expand_entities,
)
from maxtrio.storage import SqliteEngine, parse_date

from .conftest import platform_with_token
from .expected import (
    expected_file,
    expected_project,
    expected_task,
    expected_user,
    expected_workspace,
    upstream,
)
from .plan_walk import walk_sync

ENTITIES = (AcmeRoot, AcmeWorkspace, AcmeUser, AcmeProject, AcmeTask, AcmeFile)


async def read_all(loader: CollectionLoader[Any], parent: Ref, env: Any) -> list[EntityInput]:
    items: list[EntityInput] = []
    cursor: str | None = None
    while True:
        page = await loader.load(parent, PageRequest(cursor, 100), env)
        items += expand_entities(page.items)
        if not page.has_more:
            return items
        assert page.cursor
        cursor = page.cursor


# -- operations ------------------------------------------------------------------------------


async def test_each_operation_makes_one_authenticated_call(
    tenant: Tenant, acme_server: AcmeServer, installation: Installation[AcmeAppContext]
) -> None:
    ops = BasicOperationExecutor(installation.context)
    (workspace,) = upstream(tenant, "workspaces")
    users = upstream(tenant, "users", workspace["id"])
    projects = upstream(tenant, "projects", workspace["id"])
    tasks = upstream(tenant, "tasks", projects[0]["id"])
    files = upstream(tenant, "files", projects[1]["id"])
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
    assert (await ops.execute(GetTask, ById(tasks[3]["id"]))).data == tasks[3]
    listed_files = await ops.execute(ListFiles, ListPage(projects[1]["id"]))
    assert listed_files.data == files
    assert (await ops.execute(GetFile, ById(files[0]["id"]))).data == files[0]
    wanted = (tasks[4]["id"], tasks[1]["id"], "tsk_unknown")
    batch = await ops.execute(BatchTasks, ByIds(wanted))
    assert batch.data == [tasks[1], tasks[4]]
    assert batch.request == "GET /api/tasks?ids=<3 ids>"
    assert (len(tasks), len(files)) == (10, 5)
    assert acme_server.statistics().requests == 11


# -- collection loaders: complete inputs ------------------------------------------------------


async def test_collection_loaders_return_complete_inputs(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext]
) -> None:
    (workspace,) = upstream(tenant, "workspaces")
    page = await RootWorkspacesLoader.load(AcmeRoot.ref("root"), PageRequest(None, 100), env)
    assert (expand_entities(page.items), page.has_more, page.cursor) == (
        [expected_workspace(workspace)],
        False,
        None,
    )
    ws_ref = AcmeWorkspace.ref(workspace["id"])
    users = await WorkspaceUsersLoader.load(ws_ref, PageRequest(), env)
    assert expand_entities(users.items) == [expected_user(u) for u in upstream(tenant, "users")]
    assert len(expand_entities(users.items)) == 6 and not users.has_more
    projects = await WorkspaceProjectsLoader.load(ws_ref, PageRequest(), env)
    assert expand_entities(projects.items) == [
        expected_project(p) for p in upstream(tenant, "projects")
    ]
    for project in upstream(tenant, "projects"):
        ref = AcmeProject.ref(project["id"])
        tasks = await ProjectTasksLoader.load(ref, PageRequest(), env)
        assert expand_entities(tasks.items) == [
            expected_task(t) for t in upstream(tenant, "tasks", project["id"])
        ]
        files = await ProjectFilesLoader.load(ref, PageRequest(), env)
        assert expand_entities(files.items) == [
            expected_file(f) for f in upstream(tenant, "files", project["id"])
        ]
        assert len(expand_entities(tasks.items)) == 10 and len(expand_entities(files.items)) == 5
    # every field of every input, equal by value and by kind of value
    first = expand_entities((await ProjectTasksLoader.load(ref, PageRequest(), env)).items)[0]
    assert list(first.fields) == [n for n, f in AcmeTask.fields.items() if f.is_stored]
    assert first.fields["createdBy"].entity_def is AcmeUser
    assert first.fields["project"].entity_def is AcmeProject


async def test_null_and_empty_task_values_are_carried(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext]
) -> None:
    tasks = upstream(tenant, "tasks")
    assert any(t["description"] is None for t in tasks), "the seed has tasks without one"
    assert any(t["dueDate"] is None for t in tasks) and any(t["dueDate"] for t in tasks)
    assert any(t["tags"] == [] for t in tasks) and any(len(t["tags"]) > 1 for t in tasks)
    task = tasks[0]
    tenant.update(
        "tasks",
        task["id"],
        TaskPatch(
            last_modified_by_id=task["createdById"],
            assignee_id=None,
            due_date=None,
            description=None,
            tags=(),
            status="done",
        ),
    )
    page = await ProjectTasksLoader.load(AcmeProject.ref(task["projectId"]), PageRequest(), env)
    (read,) = [i for i in expand_entities(page.items) if i.ref.id == task["id"]]
    fields = dict(read.fields)
    assert fields["assignee"] is None and fields["dueDate"] is None
    assert fields["description"] is None and fields["tags"] == "[]"
    assert "assignee" in fields and "description" in fields  # present: the upsert clears them
    assert fields["completedAt"] == fields["updatedAt"]  # done sets completedAt
    assert fields["completedAt"].endswith("Z") and len(fields["completedAt"]) == 24


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
        project = upstream(tenant, "projects")[2]
        acme_server.reset_statistics()
        users = await read_all(WorkspaceUsersLoader, AcmeWorkspace.ref(workspace["id"]), env)
        assert users == [expected_user(u) for u in upstream(tenant, "users")]
        assert acme_server.statistics().requests == 2  # 4 + 2
        tasks = await read_all(ProjectTasksLoader, AcmeProject.ref(project["id"]), env)
        assert tasks == [expected_task(t) for t in upstream(tenant, "tasks", project["id"])]
        files = await read_all(ProjectFilesLoader, AcmeProject.ref(project["id"]), env)
        assert files == [expected_file(f) for f in upstream(tenant, "files", project["id"])]
        assert acme_server.statistics().requests == 2 + 3 + 2  # 4+4+2 tasks, 4+1 files


# -- entity loaders --------------------------------------------------------------------------


async def test_entity_loaders_return_complete_inputs(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext]
) -> None:
    (workspace,) = upstream(tenant, "workspaces")
    loaded = await WorkspaceBasicLoader.load(AcmeWorkspace.ref(workspace["id"]), env)
    assert loaded == expected_workspace(workspace)
    assert dict(loaded.fields) == dict(expected_workspace(workspace).fields)
    for user in upstream(tenant, "users"):
        loaded = await UserBasicLoader.load(AcmeUser.ref(user["id"]), env)
        assert dict(loaded.fields) == dict(expected_user(user).fields)
    for project in upstream(tenant, "projects"):
        loaded = await ProjectBasicLoader.load(AcmeProject.ref(project["id"]), env)
        assert dict(loaded.fields) == dict(expected_project(project).fields)
        assert loaded.fields["owner"].entity_def is AcmeUser
    for task in upstream(tenant, "tasks")[:12]:
        loaded = await TaskBasicLoader.load(AcmeTask.ref(task["id"]), env)
        assert dict(loaded.fields) == dict(expected_task(task).fields)
    for file in upstream(tenant, "files")[:6]:
        loaded = await FileBasicLoader.load(AcmeFile.ref(file["id"]), env)
        assert dict(loaded.fields) == dict(expected_file(file).fields)


async def test_an_entity_deleted_upstream_fails_its_get_with_the_404(
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
    listed = await WorkspaceUsersLoader.load(
        AcmeWorkspace.ref(user["workspaceId"]), PageRequest(), env
    )
    assert user["id"] not in {
        i.ref.id for i in expand_entities(listed.items)
    }  # a complete list leaves it out
    assert len(expand_entities(listed.items)) == 5


async def test_ids_are_escaped_in_paths(env: LoaderEnv[AcmeAppContext]) -> None:
    with pytest.raises(MaxError) as caught:
        await UserBasicLoader.load(AcmeUser.ref("../workspaces"), env)
    assert ErrNotFound.matches(caught.value)
    assert "GET /api/users/..%2Fworkspaces" in caught.value.message


# -- the whole plan --------------------------------------------------------------------------


async def stored(engine: SqliteEngine, entity: Any) -> dict[str, dict[str, Any]]:
    page = await engine.load_page(entity, Projection.all(), PageRequest(None, 1000))
    return {r.ref.id: r.to_dict() for r in expand_entities(page.items)}  # type: ignore[union-attr]


def date_or_none(text: str | None) -> Any:
    return None if text is None else parse_date(text)


async def test_the_plan_stores_exactly_the_upstream_data(
    tenant: Tenant,
    acme_server: AcmeServer,
    env: LoaderEnv[AcmeAppContext],
    tmp_path: Path,
) -> None:
    acme_server.reset_statistics()
    engine = SqliteEngine.open(tmp_path / "data.db", AcmeSchema)
    try:
        await walk_sync(connector.definition, engine, env)
        assert acme_server.statistics().requests == 9  # 1 + 1 + 1 + 3 + 3
        assert [await engine.count(e) for e in ENTITIES] == [1, 1, 6, 3, 30, 15]

        users = await stored(engine, AcmeUser)
        for user in upstream(tenant, "users"):
            row = users[user["id"]]
            assert [row[k] for k in ("displayName", "email", "role", "active")] == [
                user["displayName"],
                user["email"],
                user["role"],
                user["active"],
            ]
            assert row["workspace"] == AcmeWorkspace.ref(user["workspaceId"])
            assert row["createdAt"] == parse_date(user["createdAt"])
        projects = await stored(engine, AcmeProject)
        for project in upstream(tenant, "projects"):
            row = projects[project["id"]]
            assert (row["name"], row["status"]) == (project["name"], project["status"])
            assert row["description"] == project["description"]
            assert row["owner"] == AcmeUser.ref(project["ownerId"])
            assert row["workspace"] == AcmeWorkspace.ref(project["workspaceId"])
        tasks = await stored(engine, AcmeTask)
        assert set(tasks) == {t["id"] for t in upstream(tenant, "tasks")}
        for task in upstream(tenant, "tasks"):
            row = tasks[task["id"]]
            assert (row["title"], row["status"], row["priority"]) == (
                task["title"],
                task["status"],
                task["priority"],
            )
            assert row["description"] == task["description"]
            assert row["assignee"] == AcmeUser.ref(task["assigneeId"])
            assert row["project"] == AcmeProject.ref(task["projectId"])
            assert row["createdBy"] == AcmeUser.ref(task["createdById"])
            assert row["lastModifiedBy"] == AcmeUser.ref(task["lastModifiedById"])
            assert row["dueDate"] == date_or_none(task["dueDate"])
            assert row["completedAt"] == date_or_none(task["completedAt"])
            assert row["updatedAt"] == parse_date(task["updatedAt"])
            assert json.loads(row["tags"]) == task["tags"]
        files = await stored(engine, AcmeFile)
        for file in upstream(tenant, "files"):
            row = files[file["id"]]
            assert (row["name"], row["mimeType"]) == (file["name"], file["mimeType"])
            assert row["sizeBytes"] == file["sizeBytes"]
            assert row["project"] == AcmeProject.ref(file["projectId"])

        await walk_sync(connector.definition, engine, env)  # a second sync: same rows
        assert [await engine.count(e) for e in ENTITIES] == [1, 1, 6, 3, 30, 15]
        assert await stored(engine, AcmeTask) == tasks
    finally:
        await engine.aclose()


async def test_a_cleared_field_is_cleared_by_the_next_sync(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext], tmp_path: Path
) -> None:
    task = next(t for t in upstream(tenant, "tasks") if t["description"] and t["dueDate"])
    engine = SqliteEngine.open(tmp_path / "data.db", AcmeSchema)
    try:
        await walk_sync(connector.definition, engine, env)
        row = (await stored(engine, AcmeTask))[task["id"]]
        assert row["description"] and row["dueDate"] and row["assignee"]
        tenant.update(
            "tasks",
            task["id"],
            TaskPatch(
                last_modified_by_id=task["createdById"],
                description=None,
                due_date=None,
                assignee_id=None,
            ),
        )
        await walk_sync(connector.definition, engine, env)
        row = (await stored(engine, AcmeTask))[task["id"]]
        assert (row["description"], row["dueDate"], row["assignee"]) == (None, None, None)
    finally:
        await engine.aclose()


async def test_a_big_project_pages_through_complete_inputs(
    tenant: Tenant, acme_server: AcmeServer
) -> None:
    tenant.seed(SeedOptions(existing_only=True, tasks_per_project=40, files_per_project=0))
    project = upstream(tenant, "projects")[0]
    installed = create_installation(
        {"baseUrl": acme_server.url, "workspaceId": "w"},
        platform_with_token(acme_server.api_key),
        page_size=16,
    )
    async with installed.running():
        env = LoaderEnv(installed.context, BasicOperationExecutor(installed.context))
        acme_server.reset_statistics()
        tasks = await read_all(ProjectTasksLoader, AcmeProject.ref(project["id"]), env)
    assert tasks == [expected_task(t) for t in upstream(tenant, "tasks", project["id"])]
    assert len(tasks) == 50 and acme_server.statistics().requests == 4  # 16+16+16+2
