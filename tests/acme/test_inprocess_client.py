"""The reference's test-client.test.ts, ported to AcmeInProcessClient, plus the fixture helpers."""

from __future__ import annotations

import json

import pytest

from maxtrio.acme import (
    AcmeClient,
    AcmeHttpClient,
    AcmeInProcessClient,
    ProjectFixture,
    SeedOptions,
    TaskInput,
    TaskPatch,
    UserFixture,
    WorkspaceFixture,
    default_email,
    http_status_of,
)
from maxtrio.core import MaxError

SMALL = SeedOptions(
    workspaces=1,
    users_per_workspace=3,
    projects_per_workspace=2,
    tasks_per_project=5,
    files_per_project=2,
)


@pytest.fixture
async def seeded() -> AcmeInProcessClient:
    client = AcmeInProcessClient()
    await client.seed(SMALL)
    return client


async def test_seeded_lists_and_gets(seeded: AcmeInProcessClient) -> None:
    workspace = (await seeded.list_workspaces())[0]
    assert len(await seeded.list_users(workspace["id"])) == 4
    projects = await seeded.list_projects(workspace["id"])
    assert len(projects) == 2
    tasks = await seeded.list_tasks(projects[0]["id"])
    assert len(tasks) == 5 and len(await seeded.list_files(projects[0]["id"])) == 2
    assert await seeded.get_workspace(workspace["id"]) == workspace
    assert await seeded.get_project(projects[0]["id"]) == projects[0]
    assert await seeded.get_task(tasks[0]["id"]) == tasks[0]
    assert seeded.tenant.name == "test"


async def test_task_lifecycle_and_not_found(seeded: AcmeInProcessClient) -> None:
    project = (await seeded.list_projects())[0]
    user = (await seeded.list_users())[0]
    task = await seeded.create_task(
        TaskInput(project_id=project["id"], title="New", created_by_id=user["id"])
    )
    updated = await seeded.update_task(
        task["id"], TaskPatch(last_modified_by_id=user["id"], title="Renamed")
    )
    assert updated["title"] == "Renamed"
    await seeded.delete_task(task["id"])
    with pytest.raises(MaxError, match="not found") as caught:
        await seeded.get_task(task["id"])
    assert http_status_of(caught.value) == 404


async def test_changes_recent_and_history(seeded: AcmeInProcessClient) -> None:
    assert len((await seeded.get_changes(limit=5))["events"]) == 5
    recent = await seeded.get_recent_changes(3)
    assert recent[0]["sequence"] > recent[1]["sequence"] > recent[2]["sequence"]
    task = next(t for t in await seeded.list_tasks() if t["status"] != "done")
    user = task["createdById"]
    await seeded.update_task(task["id"], TaskPatch(last_modified_by_id=user, status="done"))
    new_priority = "low" if task["priority"] != "low" else "high"
    await seeded.update_task(
        task["id"],
        TaskPatch(last_modified_by_id=user, priority=new_priority),  # type: ignore[arg-type]
    )
    entries = (await seeded.get_task_history(task["id"]))["entries"]
    assert [list(e["changes"]) for e in entries] == [["priority"], ["status"]]


async def test_same_seed_same_data() -> None:
    names = []
    for _ in range(2):
        async with AcmeInProcessClient() as client:
            await client.seed(SMALL)
            names.append(sorted(u["displayName"] for u in await client.list_users()))
    assert names[0] == names[1]


async def test_list_page_and_get_many_in_process(seeded: AcmeInProcessClient) -> None:
    tasks = await seeded.list_tasks()
    first = await seeded.list_page("tasks", limit=4)
    second = await seeded.list_page("tasks", limit=4, cursor=first.next_cursor)
    rest = await seeded.list_page("tasks", limit=4, cursor=second.next_cursor)
    assert first.items + second.items + rest.items == tasks and rest.next_cursor is None
    picked = await seeded.get_many("tasks", [tasks[3]["id"], "tsk_nope", tasks[1]["id"]])
    assert [t["id"] for t in picked] == [tasks[1]["id"], tasks[3]["id"]]


async def test_fixture_helpers() -> None:
    client = AcmeInProcessClient.with_data(
        [
            WorkspaceFixture(
                "Fixture",
                users=[UserFixture("Ada  Lovelace"), UserFixture("Root", "root@x.y", "admin")],
                projects=[ProjectFixture("Engine", "difference")],
            ),
            WorkspaceFixture("Bare", projects=[ProjectFixture("Lonely")]),
        ]
    )
    async with client:
        first, bare = await client.list_workspaces()
        users = await client.list_users(first["id"])
        assert [(u["email"], u["role"]) for u in users] == [
            ("ada.lovelace@test.local", "member"),
            ("root@x.y", "admin"),
        ]
        engine = (await client.list_projects(first["id"]))[0]
        assert (engine["ownerId"], engine["description"]) == (users[0]["id"], "difference")
        lonely = (await client.list_projects(bare["id"]))[0]
        default_user = await client.get_user(lonely["ownerId"])
        assert default_user["displayName"] == "Default User"
        extra = await client.add_user(bare["id"], "Grace Hopper", role="viewer")
        assert extra["email"] == default_email("Grace Hopper") == "grace.hopper@test.local"
        project = await client.add_project(bare["id"], "Second")
        assert project["ownerId"] == default_user["id"]


async def test_both_clients_agree(
    acme_client: AcmeInProcessClient, http_client: AcmeHttpClient
) -> None:
    clients: list[AcmeClient] = [acme_client, http_client]
    views = []
    for client in clients:
        workspace = (await client.list_workspaces())[0]
        project = (await client.list_projects(workspace["id"]))[0]
        views.append(
            json.dumps(
                [
                    await client.list_users(workspace["id"]),
                    await client.list_tasks(project["id"]),
                    await client.get_project(project["id"]),
                    await client.get_changes(limit=55),
                ]
            )
        )
    assert views[0] == views[1]
