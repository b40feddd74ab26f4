"""The reference's tenant.test.ts, ported: keys, CRUD, history, changelog, webhooks, seed, stats.

Plus maxtrio's fixes (docs/acme.md): 404 for updates and deletes of missing or deleted entities,
400 for unknown references, enum values compared by value.
"""

from __future__ import annotations

import json

import pytest

from maxtrio.acme import (
    AcmeInProcessClient,
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
    WebhookPayload,
    WorkspaceInput,
    WorkspacePatch,
    http_status_of,
)
from maxtrio.core import BadInput, MaxError, NotFound

# -- API keys -----------------------------------------------------------------------------------


def test_new_tenant_has_an_active_key(tenant: Tenant) -> None:
    key = tenant.api_key()
    assert key.startswith("acme_") and len(key) == len("acme_") + 32
    assert tenant.validate_api_key(key)
    assert not tenant.validate_api_key("bogus")
    assert tenant.api_key() == key


def test_rotation_invalidates_the_old_key(tenant: Tenant) -> None:
    old = tenant.api_key()
    new = tenant.rotate_api_key()
    assert new != old
    assert not tenant.validate_api_key(old)
    assert tenant.validate_api_key(new)
    assert tenant.api_key() == new


# -- CRUD for each type -------------------------------------------------------------------------


async def test_crud_for_every_entity_type(tenant: Tenant) -> None:
    client = AcmeInProcessClient(tenant)
    ws = await client.create_workspace(WorkspaceInput(name="Acme"))
    assert ws["id"].startswith("ws_") and ws["name"] == "Acme"
    assert await client.get_workspace(ws["id"]) == ws

    user = await client.create_user(
        UserInput(workspace_id=ws["id"], email="a@b.c", display_name="Ada")
    )
    assert user["id"].startswith("usr_")
    assert (user["role"], user["active"]) == ("member", True)
    assert await client.get_user(user["id"]) == user

    project = await client.create_project(
        ProjectInput(workspace_id=ws["id"], name="P", owner_id=user["id"])
    )
    assert project["id"].startswith("prj_") and project["status"] == "active"
    assert project["description"] is None
    assert await client.get_project(project["id"]) == project

    task = await client.create_task(
        TaskInput(project_id=project["id"], title="T", created_by_id=user["id"], tags=("a", "b"))
    )
    assert task["id"].startswith("tsk_")
    assert (task["status"], task["priority"], task["tags"]) == ("todo", "medium", ["a", "b"])
    assert task["lastModifiedById"] == user["id"] and task["completedAt"] is None
    assert await client.get_task(task["id"]) == task

    file = await client.create_file(
        FileInput(
            project_id=project["id"],
            name="f.pdf",
            mime_type="application/pdf",
            size_bytes=2048,
            created_by_id=user["id"],
        )
    )
    assert file["id"].startswith("fil_") and file["sizeBytes"] == 2048
    assert await client.get_file(file["id"]) == file

    renamed = await client.update_workspace(ws["id"], WorkspacePatch(name="Acme 2"))
    assert renamed["name"] == "Acme 2"
    assert (await client.update_user(user["id"], UserPatch(active=False)))["active"] is False
    assert (await client.update_project(project["id"], ProjectPatch(status="paused")))[
        "status"
    ] == "paused"
    patched = await client.update_task(
        task["id"], TaskPatch(last_modified_by_id=user["id"], title="T2")
    )
    assert patched["title"] == "T2"
    patched_file = await client.update_file(
        file["id"], FilePatch(last_modified_by_id=user["id"], name="g.pdf")
    )
    assert patched_file["name"] == "g.pdf"

    assert len(await client.list_tasks(project["id"])) == 1
    await client.delete_task(task["id"])
    assert await client.list_tasks(project["id"]) == []
    with pytest.raises(MaxError, match=f'Task "{task["id"]}" not found'):
        await client.get_task(task["id"])
    await client.delete_file(file["id"])
    await client.delete_project(project["id"])
    await client.delete_user(user["id"])
    await client.delete_workspace(ws["id"])
    assert await client.list_workspaces() == []
    assert await client.list_users() == []


async def test_patch_changes_only_supplied_fields_and_may_null_optional_ones(
    acme_client: AcmeInProcessClient,
) -> None:
    project = (await acme_client.list_projects())[0]
    assert project["description"] is not None
    updated = await acme_client.update_project(project["id"], ProjectPatch(description=None))
    assert updated["description"] is None
    assert updated["name"] == project["name"] and updated["status"] == project["status"]
    assert updated["updatedAt"] >= project["updatedAt"]


async def test_deletes_do_not_cascade(acme_client: AcmeInProcessClient) -> None:
    project = (await acme_client.list_projects())[0]
    await acme_client.delete_project(project["id"])
    assert len(await acme_client.list_tasks(project["id"])) == 10
    assert len(await acme_client.list_projects()) == 2


# -- task history -------------------------------------------------------------------------------


async def test_status_change_records_one_history_entry(acme_client: AcmeInProcessClient) -> None:
    users = await acme_client.list_users()
    project = (await acme_client.list_projects())[0]
    task = await acme_client.create_task(
        TaskInput(project_id=project["id"], title="H", created_by_id=users[0]["id"])
    )
    await acme_client.update_task(
        task["id"], TaskPatch(last_modified_by_id=users[1]["id"], status="in_progress")
    )
    history = await acme_client.get_task_history(task["id"])
    assert len(history["entries"]) == 1
    entry = history["entries"][0]
    assert entry["changes"] == {"status": {"before": "todo", "after": "in_progress"}}
    assert entry["changedById"] == users[1]["id"] and entry["taskId"] == task["id"]
    assert history["nextCursor"] is None


async def test_unchanged_values_record_nothing_and_tags_compare_by_value(
    acme_client: AcmeInProcessClient,
) -> None:
    task = (await acme_client.list_tasks())[0]
    same = TaskPatch(
        last_modified_by_id=task["createdById"], tags=tuple(task["tags"]), title=task["title"]
    )
    await acme_client.update_task(task["id"], same)
    assert (await acme_client.get_task_history(task["id"]))["entries"] == []
    last = (await acme_client.get_recent_changes(1))[0]
    assert (last["action"], last["payload"]) == ("update", {})


async def test_done_sets_completed_at_and_leaving_done_keeps_it(
    acme_client: AcmeInProcessClient,
) -> None:
    task = next(t for t in await acme_client.list_tasks() if t["status"] != "done")
    done = await acme_client.update_task(
        task["id"], TaskPatch(last_modified_by_id=task["createdById"], status="done")
    )
    assert done["completedAt"] is not None
    reopened = await acme_client.update_task(
        task["id"], TaskPatch(last_modified_by_id=task["createdById"], status="todo")
    )
    assert reopened["completedAt"] == done["completedAt"]


async def test_history_pages_newest_first_with_a_cursor(tenant: Tenant) -> None:
    client = AcmeInProcessClient(tenant)
    tenant.seed(SeedOptions(projects_per_workspace=1, tasks_per_project=1, files_per_project=0))
    task = (await client.list_tasks())[0]
    statuses = ["todo", "in_progress", "in_review", "done", "cancelled"]
    for status in [s for s in statuses if s != task["status"]]:
        await client.update_task(
            task["id"],
            TaskPatch(last_modified_by_id=task["createdById"], status=status),  # type: ignore[arg-type]
        )
    first = await client.get_task_history(task["id"], limit=2)
    assert len(first["entries"]) == 2 and first["nextCursor"] == first["entries"][-1]["id"]
    assert first["entries"][0]["id"] > first["entries"][1]["id"]
    second = await client.get_task_history(task["id"], before=first["nextCursor"], limit=2)
    assert len(second["entries"]) == 2
    assert second["entries"][0]["id"] < first["entries"][-1]["id"]
    third = await client.get_task_history(task["id"], before=second["nextCursor"], limit=2)
    assert third["entries"] == [] and third["nextCursor"] is None


async def test_history_of_an_unknown_task_is_empty(acme_client: AcmeInProcessClient) -> None:
    assert await acme_client.get_task_history("tsk_nope") == {"entries": [], "nextCursor": None}


# -- changelog ----------------------------------------------------------------------------------


async def test_changelog_records_creates_in_order_and_pages(tenant: Tenant) -> None:
    client = AcmeInProcessClient(tenant)
    ws = await client.create_workspace(WorkspaceInput(name="W"))
    user = await client.add_user(ws["id"], "Ada Lovelace")
    project = await client.add_project(ws["id"], "P")
    events = (await client.get_changes())["events"]
    assert [e["entityType"] for e in events] == ["workspace", "user", "project"]
    assert [e["action"] for e in events] == ["create"] * 3
    assert events[0]["sequence"] < events[1]["sequence"] < events[2]["sequence"]
    assert events[0]["payload"] == ws and events[2]["payload"] == project
    page = await client.get_changes(since=events[0]["sequence"], limit=1)
    assert [e["entityId"] for e in page["events"]] == [user["id"]]
    assert page["nextCursor"] == events[1]["sequence"]
    empty = await client.get_changes(since=events[2]["sequence"])
    assert empty == {"events": [], "nextCursor": events[2]["sequence"]}


async def test_update_payload_rules(acme_client: AcmeInProcessClient) -> None:
    task = next(t for t in await acme_client.list_tasks() if t["status"] != "done")
    await acme_client.update_task(
        task["id"],
        TaskPatch(last_modified_by_id=task["createdById"], status="done", title=task["title"]),
    )
    assert (await acme_client.get_recent_changes(1))[0]["payload"] == {"status": "done"}

    file = (await acme_client.list_files())[0]
    await acme_client.update_file(
        file["id"], FilePatch(last_modified_by_id=file["createdById"], name="x.txt")
    )
    assert (await acme_client.get_recent_changes(1))[0]["payload"] is None

    user = (await acme_client.list_users())[1]
    await acme_client.update_user(user["id"], UserPatch(display_name=user["displayName"]))
    last = (await acme_client.get_recent_changes(1))[0]
    assert last["payload"] == {"displayName": user["displayName"]}

    await acme_client.delete_user(user["id"])
    last = (await acme_client.get_recent_changes(1))[0]
    assert (last["action"], last["payload"], last["entityId"]) == ("delete", None, user["id"])


async def test_recent_changes_are_newest_first(acme_client: AcmeInProcessClient) -> None:
    recent = await acme_client.get_recent_changes(5)
    sequences = [e["sequence"] for e in recent]
    assert sequences == sorted(sequences, reverse=True) and sequences[0] == 55


# -- webhooks (in process) ----------------------------------------------------------------------


async def test_in_process_webhook_fires_once_per_mutation_until_unsubscribed(
    tenant: Tenant,
) -> None:
    client = AcmeInProcessClient(tenant)
    seen: list[WebhookPayload] = []
    unsubscribe = tenant.on_webhook(seen.append)
    ws = await client.create_workspace(WorkspaceInput(name="W"))
    await client.update_workspace(ws["id"], WorkspacePatch(name="W2"))
    assert [(p["entityType"], p["action"]) for p in seen] == [
        ("workspace", "create"),
        ("workspace", "update"),
    ]
    assert all(p["cursor"] > 0 and p["entityId"] == ws["id"] for p in seen)
    assert seen[1]["cursor"] == seen[0]["cursor"] + 1
    unsubscribe()
    await client.delete_workspace(ws["id"])
    assert len(seen) == 2


def test_a_failing_subscriber_never_fails_the_mutation(tenant: Tenant) -> None:
    def boom(_payload: WebhookPayload) -> None:
        raise RuntimeError("subscriber bug")

    seen: list[WebhookPayload] = []
    tenant.on_webhook(boom)
    tenant.on_webhook(seen.append)
    created = json.loads(tenant.create(WorkspaceInput(name="W")))
    assert seen[0]["entityId"] == created["id"]


def test_seed_notifies_every_entity_in_order_after_the_commit(tenant: Tenant) -> None:
    seen: list[WebhookPayload] = []
    tenant.on_webhook(seen.append)
    tenant.seed()
    assert len(seen) == 55
    assert [p["entityType"] for p in seen[:8]] == ["workspace"] + ["user"] * 6 + ["project"]
    assert {p["cursor"] for p in seen} == {55}


# -- seed and stats -----------------------------------------------------------------------------


async def test_default_seed_counts_and_lists_agree(acme_client: AcmeInProcessClient) -> None:
    stats = await acme_client.stats()
    assert stats == {
        "workspaces": 1,
        "users": 6,
        "projects": 3,
        "tasks": 30,
        "files": 15,
        "changelogSize": 55,
        "webhooks": 0,
        "generating": False,
    }
    assert len(await acme_client.list_users()) == 6
    assert len(await acme_client.list_projects()) == 3
    assert len(await acme_client.list_tasks()) == 30
    assert len(await acme_client.list_files()) == 15
    ghost = (await acme_client.list_users())[0]
    assert (ghost["email"], ghost["displayName"], ghost["role"]) == (
        "system@acme.local",
        "Acme System",
        "admin",
    )


def test_two_tenants_with_the_same_seed_have_the_same_names() -> None:
    names = []
    for _ in range(2):
        with Tenant.in_memory() as fresh:
            fresh.seed(SeedOptions(global_seed=123))
            names.append(
                sorted(u["displayName"] for u in json.loads(fresh.list_wire("users").json))
            )
    assert names[0] == names[1] and len(names[0]) == 6


# -- MAXTRIO fixes: missing entities, bad references --------------------------------------------


async def test_update_and_delete_of_missing_entities_are_not_found(
    acme_client: AcmeInProcessClient,
) -> None:
    before = (await acme_client.stats())["changelogSize"]
    with pytest.raises(MaxError, match='Workspace "ws_nope" not found') as caught:
        await acme_client.update_workspace("ws_nope", WorkspacePatch(name="x"))
    assert caught.value.has(NotFound) and http_status_of(caught.value) == 404
    with pytest.raises(MaxError, match='User "usr_nope" not found'):
        await acme_client.delete_user("usr_nope")
    user = (await acme_client.list_users())[-1]
    await acme_client.delete_user(user["id"])
    with pytest.raises(MaxError, match="not found"):
        await acme_client.delete_user(user["id"])
    with pytest.raises(MaxError, match="not found"):
        await acme_client.update_user(user["id"], UserPatch(email="x@y.z"))
    assert (await acme_client.stats())["changelogSize"] == before + 1


async def test_references_must_name_live_entities(acme_client: AcmeInProcessClient) -> None:
    project = (await acme_client.list_projects())[0]
    with pytest.raises(MaxError, match='Invalid createdById: no user "usr_nope"') as caught:
        await acme_client.create_task(
            TaskInput(project_id=project["id"], title="T", created_by_id="usr_nope")
        )
    assert caught.value.has(BadInput) and http_status_of(caught.value) == 400
    with pytest.raises(MaxError, match='Invalid ownerId: no user "usr_nope"'):
        await acme_client.update_project(project["id"], ProjectPatch(owner_id="usr_nope"))
    assert (await acme_client.stats())["changelogSize"] == 55
