"""The acme change feed against the real Acme fake over loopback HTTP (and, for answers a real
Acme never gives, the canned server): head, creates/updates/deletes of every kind, collapsing,
read-back by batch gets, an expired cursor, overflow, and how many requests it all takes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio

from maxtrio.acme import (
    AcmeServer,
    FileInput,
    FilePatch,
    ProjectPatch,
    SeedOptions,
    TaskInput,
    TaskPatch,
    Tenant,
    UserInput,
    UserPatch,
    WorkspaceInput,
    WorkspacePatch,
    serve_acme,
)
from maxtrio.connector import Installation
from maxtrio.connectors.acme import (
    ACME_API_LIMIT,
    CHANGES_PAGE_SIZE,
    MAX_BATCH_IDS,
    MAX_BATCH_QUERY,
    AcmeAppContext,
    AcmeChangeFeed,
    AcmeFile,
    AcmeProject,
    AcmeSchema,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
    ErrBadResponse,
    ErrUpstreamError,
    ProjectTasksLoader,
    connector,
    id_batches,
)
from maxtrio.core import (
    BasicOperationExecutor,
    ChangeSet,
    EntityInput,
    ErrFeedCursorExpired,
    LoaderEnv,
    MaxError,
    OperationEnv,
    PageRequest,
    Projection,
    Ref,
    expand_entities,
)
from maxtrio.execution import DispatchingOperationExecutor, FlowControllerProvider
from maxtrio.execution import default_dispatcher as dispatcher_for
from maxtrio.storage import SqliteEngine

from .canned_server import Canned, CannedServer
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

SEEDED_EVENTS = 55  # 1 workspace + 6 users + 3 projects + 30 tasks + 15 files


def one(tenant: Tenant, collection: str, entity_id: str) -> dict[str, Any]:
    found = tenant.get_wire(collection, entity_id)  # type: ignore[arg-type]
    assert found is not None
    return json.loads(found)  # type: ignore[no-any-return]


def by_ref(change: ChangeSet) -> dict[Ref, EntityInput]:
    return {item.ref: item for item in change.upserts}


async def changes(env: LoaderEnv[AcmeAppContext], cursor: str, max_changes: int = 20_000) -> Any:
    return await AcmeChangeFeed.changes(cursor, env, max_changes)


# -- head ------------------------------------------------------------------------------------


async def test_head_is_the_newest_sequence(
    tenant: Tenant, acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext]
) -> None:
    acme_server.reset_statistics()
    assert await AcmeChangeFeed.head(env) == str(SEEDED_EVENTS)
    tenant.create(WorkspaceInput(name="Later"))
    assert await AcmeChangeFeed.head(env) == str(SEEDED_EVENTS + 1)
    assert acme_server.statistics().requests == 2


async def test_head_of_an_empty_log_is_zero(nursery: trio.Nursery) -> None:
    with Tenant.in_memory() as empty:
        server: AcmeServer = await nursery.start(serve_acme, empty)
        installed = connector.initialise(
            {"baseUrl": server.url, "workspaceId": "w"}, platform_with_token(server.api_key)
        )
        async with installed.running():
            env = LoaderEnv(installed.context, BasicOperationExecutor(installed.context))
            assert await AcmeChangeFeed.head(env) == "0"
            assert await changes(env, "0") == ChangeSet(cursor="0")


# -- what changed ------------------------------------------------------------------------------


async def test_nothing_changed_is_one_request(
    acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext]
) -> None:
    acme_server.reset_statistics()
    assert await changes(env, str(SEEDED_EVENTS)) == ChangeSet(cursor=str(SEEDED_EVENTS))
    assert acme_server.statistics().requests == 1


async def test_the_full_log_reads_back_everything_as_the_lists_do(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext]
) -> None:
    change = await changes(env, "0")
    assert change.cursor == str(SEEDED_EVENTS) and not change.overflow
    assert change.deletes == ()
    expected = (
        [expected_workspace(w) for w in upstream(tenant, "workspaces")]
        + [expected_user(u) for u in upstream(tenant, "users")]
        + [expected_project(p) for p in upstream(tenant, "projects")]
        + [expected_task(t) for t in upstream(tenant, "tasks")]
        + [expected_file(f) for f in upstream(tenant, "files")]
    )
    assert sorted(change.upserts, key=lambda i: str(i.ref)) == sorted(
        expected, key=lambda i: str(i.ref)
    )
    for item in change.upserts:  # equal field for field, not only by ref
        assert dict(item.fields) == dict(next(e for e in expected if e.ref == item.ref).fields)


async def test_task_creates_updates_and_deletes(
    tenant: Tenant, acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext]
) -> None:
    tasks = upstream(tenant, "tasks")
    project, user = tasks[0]["projectId"], tasks[0]["createdById"]
    described = next(t for t in tasks if t["description"] and t["assigneeId"] and t["dueDate"])
    created = json.loads(
        tenant.create(TaskInput(project_id=project, title="New", created_by_id=user, tags=("a",)))
    )
    tenant.update(
        "tasks",
        described["id"],
        TaskPatch(last_modified_by_id=user, description=None, assignee_id=None, due_date=None),
    )
    tenant.update("tasks", tasks[5]["id"], TaskPatch(last_modified_by_id=user, status="done"))
    tenant.delete("tasks", tasks[7]["id"])
    acme_server.reset_statistics()

    change = await changes(env, str(SEEDED_EVENTS))

    assert change.cursor == str(SEEDED_EVENTS + 4)
    assert change.deletes == (AcmeTask.ref(tasks[7]["id"]),)
    upserts = by_ref(change)
    assert set(upserts) == {
        AcmeTask.ref(i) for i in (created["id"], described["id"], tasks[5]["id"])
    }
    for task_id in (created["id"], described["id"], tasks[5]["id"]):
        assert upserts[AcmeTask.ref(task_id)] == expected_task(one(tenant, "tasks", task_id))
        assert dict(upserts[AcmeTask.ref(task_id)].fields) == dict(
            expected_task(one(tenant, "tasks", task_id)).fields
        )
    cleared = upserts[AcmeTask.ref(described["id"])].fields
    assert (cleared["description"], cleared["assignee"], cleared["dueDate"]) == (None, None, None)
    assert "description" in cleared  # present: the upsert clears the stored value
    done = upserts[AcmeTask.ref(tasks[5]["id"])].fields
    assert done["status"] == "done" and done["completedAt"] == done["updatedAt"]
    assert done["updatedAt"] != tasks[5]["updatedAt"]  # not in any payload: read back
    assert upserts[AcmeTask.ref(created["id"])].fields["tags"] == '["a"]'
    assert acme_server.statistics().requests == 2  # the changes page, one batch get of tasks


async def test_the_read_back_equals_the_list_loader(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext]
) -> None:
    tasks = upstream(tenant, "tasks")
    for task in tasks[:10]:
        tenant.update(
            "tasks", task["id"], TaskPatch(last_modified_by_id=task["createdById"], title="T")
        )
    change = await changes(env, str(SEEDED_EVENTS))
    page = await ProjectTasksLoader.load(AcmeProject.ref(tasks[0]["projectId"]), PageRequest(), env)
    listed = {item.ref: item for item in expand_entities(page.items)}
    assert len(change.upserts) == 10
    for item in change.upserts:
        assert dict(item.fields) == dict(listed[item.ref].fields)


async def test_a_deleted_project_and_the_other_kinds(
    tenant: Tenant, acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext]
) -> None:
    (workspace,) = upstream(tenant, "workspaces")
    users, projects, files = (upstream(tenant, c) for c in ("users", "projects", "files"))
    tenant.delete("projects", projects[2]["id"])
    tenant.update("projects", projects[0]["id"], ProjectPatch(description=None))
    tenant.update("users", users[1]["id"], UserPatch(display_name="Renamed", active=False))
    tenant.delete("users", users[4]["id"])
    new_user = json.loads(
        tenant.create(UserInput(workspace_id=workspace["id"], email="n@x", display_name="New"))
    )
    tenant.update("files", files[0]["id"], FilePatch(last_modified_by_id=users[2]["id"], name="r"))
    tenant.delete("files", files[1]["id"])
    new_file = json.loads(
        tenant.create(
            FileInput(
                project_id=projects[1]["id"],
                name="n.pdf",
                mime_type="application/pdf",
                size_bytes=0,
                created_by_id=users[3]["id"],
            )
        )
    )
    tenant.update("workspaces", workspace["id"], WorkspacePatch(name="Renamed"))
    acme_server.reset_statistics()

    change = await changes(env, str(SEEDED_EVENTS))

    assert set(change.deletes) == {
        AcmeProject.ref(projects[2]["id"]),
        AcmeUser.ref(users[4]["id"]),
        AcmeFile.ref(files[1]["id"]),
    }
    assert by_ref(change) == {
        item.ref: item
        for item in (
            expected_project(one(tenant, "projects", projects[0]["id"])),
            expected_user(one(tenant, "users", users[1]["id"])),
            expected_user(new_user),
            expected_file(one(tenant, "files", files[0]["id"])),
            expected_file(new_file),
            expected_workspace(one(tenant, "workspaces", workspace["id"])),
        )
    }
    for item in change.upserts:
        kind = item.ref.entity_type
        wire = one(tenant, _collection(kind), item.ref.id)
        assert dict(item.fields) == dict(EXPECTED[kind](wire).fields)
    renamed = by_ref(change)[AcmeFile.ref(files[0]["id"])].fields
    assert renamed["name"] == "r" and renamed["lastModifiedBy"] == AcmeUser.ref(users[2]["id"])
    assert by_ref(change)[AcmeProject.ref(projects[0]["id"])].fields["description"] is None
    # the changes page, then one batch get per type touched: projects, users, files, workspaces
    assert acme_server.statistics().requests == 1 + 4
    assert len(upstream(tenant, "tasks", projects[2]["id"])) == 10  # Acme does not cascade


EXPECTED = {
    "AcmeWorkspace": expected_workspace,
    "AcmeUser": expected_user,
    "AcmeProject": expected_project,
    "AcmeTask": expected_task,
    "AcmeFile": expected_file,
}


def _collection(entity_type: str) -> str:
    return {
        "AcmeWorkspace": "workspaces",
        "AcmeUser": "users",
        "AcmeProject": "projects",
        "AcmeTask": "tasks",
        "AcmeFile": "files",
    }[entity_type]


async def test_events_collapse_to_the_latest_per_entity(
    tenant: Tenant, acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext]
) -> None:
    task = upstream(tenant, "tasks")[3]
    user = task["createdById"]
    for title in ("one", "two", "three"):
        tenant.update("tasks", task["id"], TaskPatch(last_modified_by_id=user, title=title))
    short_lived = json.loads(
        tenant.create(TaskInput(project_id=task["projectId"], title="x", created_by_id=user))
    )
    tenant.update("tasks", short_lived["id"], TaskPatch(last_modified_by_id=user, title="y"))
    tenant.delete("tasks", short_lived["id"])
    acme_server.reset_statistics()

    change = await changes(env, str(SEEDED_EVENTS))

    assert [i.ref for i in change.upserts] == [AcmeTask.ref(task["id"])]
    assert change.upserts[0].fields["title"] == "three"
    assert change.deletes == (AcmeTask.ref(short_lived["id"]),)  # never read back
    assert change.cursor == str(SEEDED_EVENTS + 6)
    assert acme_server.statistics().requests == 2


async def test_one_hundred_mixed_task_changes_take_at_most_three_requests(
    tenant: Tenant, acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext]
) -> None:
    tasks = upstream(tenant, "tasks")
    user = tasks[0]["createdById"]
    made = 0
    for n in range(40):
        tenant.create(
            TaskInput(project_id=tasks[n % 30]["projectId"], title=f"n{n}", created_by_id=user)
        )
        made += 1
    for n in range(50):
        task = tasks[n % 30]
        tenant.update(
            "tasks",
            task["id"],
            TaskPatch(last_modified_by_id=user, priority="low" if n % 2 else "high"),
        )
        made += 1
    for task in tasks[20:30]:
        tenant.delete("tasks", task["id"])
        made += 1
    assert made == 100
    acme_server.reset_statistics()

    change = await changes(env, str(SEEDED_EVENTS))

    assert acme_server.statistics().requests == 2  # (at most 3 allowed) changes, task batch
    assert len(change.upserts) == 40 + 20 and len(change.deletes) == 10
    assert change.cursor == str(SEEDED_EVENTS + 100)


async def test_more_than_max_changes_is_an_overflow_read_no_further(
    tenant: Tenant, acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext]
) -> None:
    acme_server.reset_statistics()
    change = await changes(env, "0", max_changes=54)
    assert change == ChangeSet(cursor="0", overflow=True)
    assert acme_server.statistics().requests == 1  # one page of 55: stopped, nothing read back
    exactly = await changes(env, "0", max_changes=55)
    assert not exactly.overflow and exactly.size == 55


async def test_the_log_is_paged_and_big_read_backs_are_batched(
    tenant: Tenant, acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext]
) -> None:
    tenant.seed(SeedOptions(existing_only=True, tasks_per_project=400, files_per_project=0))
    created = [t["id"] for t in upstream(tenant, "tasks")][30:]
    assert len(created) == 1200
    acme_server.reset_statistics()

    change = await changes(env, str(SEEDED_EVENTS))

    assert change.cursor == str(SEEDED_EVENTS + 1200)
    assert sorted(i.ref.id for i in change.upserts) == sorted(created)
    batches = id_batches(created)
    assert len(batches) > 1 and max(map(len, batches)) <= MAX_BATCH_IDS
    assert acme_server.statistics().requests == 2 + len(batches)  # 1000 + 200 events; batches


async def test_an_expired_cursor_after_compaction(
    tenant: Tenant, acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext]
) -> None:
    tenant.compact_changes(30)
    with pytest.raises(MaxError) as caught:
        await changes(env, "10")
    assert ErrFeedCursorExpired.matches(caught.value)
    assert caught.value.message == "The change feed no longer knows cursor 10"
    assert caught.value.data["upstream"] == (
        "Cursor 10 is older than the retained changelog (oldest available: 30)"
    )
    assert not caught.value.has("Retryable")
    still = await changes(env, "29")
    assert still.cursor == str(SEEDED_EVENTS) and len(still.upserts) == SEEDED_EVENTS - 29


@pytest.mark.parametrize("cursor", ["", "abc", "-1", "01", "1.5", "٣"])
async def test_a_cursor_that_is_not_a_sequence_is_expired(
    acme_server: AcmeServer, env: LoaderEnv[AcmeAppContext], cursor: str
) -> None:
    acme_server.reset_statistics()
    with pytest.raises(MaxError) as caught:
        await changes(env, cursor)
    assert ErrFeedCursorExpired.matches(caught.value)
    assert acme_server.statistics().requests == 0


async def test_the_feed_goes_through_the_operation_executor(
    tenant: Tenant, installation: Installation[AcmeAppContext]
) -> None:
    limits = FlowControllerProvider()
    ops = DispatchingOperationExecutor(dispatcher_for(limits), OperationEnv(installation.context))
    env = LoaderEnv(installation.context, ops)
    task = upstream(tenant, "tasks")[0]
    tenant.update(
        "tasks", task["id"], TaskPatch(last_modified_by_id=task["createdById"], title="x")
    )
    tenant.delete("files", upstream(tenant, "files")[0]["id"])
    assert await AcmeChangeFeed.head(env) == str(SEEDED_EVENTS + 2)
    change = await changes(env, str(SEEDED_EVENTS))
    assert change.size == 2
    assert limits.get(ACME_API_LIMIT).statistics().admitted == 3  # head, changes, task batch


# -- an incremental sync writes what a full sync writes ------------------------------------------


async def rows(engine: SqliteEngine, entity: Any) -> dict[str, dict[str, Any]]:
    page = await engine.load_page(entity, Projection.all(), PageRequest(None, 1000))
    return {r.ref.id: r.to_dict() for r in expand_entities(page.items)}  # type: ignore[union-attr]


async def test_applied_changes_give_the_rows_of_a_full_sync(
    tenant: Tenant, env: LoaderEnv[AcmeAppContext], tmp_path: Path
) -> None:
    incremental = SqliteEngine.open(tmp_path / "incremental.db", AcmeSchema)
    full = SqliteEngine.open(tmp_path / "full.db", AcmeSchema)
    try:
        cursor = await AcmeChangeFeed.head(env)
        await walk_sync(connector.definition, incremental, env)
        tasks, files = upstream(tenant, "tasks"), upstream(tenant, "files")
        user = tasks[0]["createdById"]
        tenant.update(
            "tasks",
            tasks[1]["id"],
            TaskPatch(last_modified_by_id=user, description=None, tags=("x", "y"), status="done"),
        )
        tenant.create(TaskInput(project_id=tasks[0]["projectId"], title="n", created_by_id=user))
        tenant.update("files", files[2]["id"], FilePatch(last_modified_by_id=user, name="z"))
        tenant.update("users", user, UserPatch(role="viewer"))
        tenant.delete("tasks", tasks[9]["id"])

        change = await changes(env, cursor)
        await incremental.store_many(change.upserts)
        await walk_sync(connector.definition, full, env)

        assert change.deletes == (AcmeTask.ref(tasks[9]["id"]),)
        for entity in (AcmeWorkspace, AcmeUser, AcmeProject, AcmeTask, AcmeFile):
            expected = await rows(full, entity)
            got = await rows(incremental, entity)
            got.pop(tasks[9]["id"], None)  # removing deleted rows is the engine's part
            assert got == expected, entity.name
    finally:
        await incremental.aclose()
        await full.aclose()


# -- answers a real Acme never gives -------------------------------------------------------------


@pytest.fixture
async def canned(nursery: trio.Nursery) -> CannedServer:
    server: CannedServer = await nursery.start(CannedServer().serve)
    return server


@pytest.fixture
async def canned_env(canned: CannedServer) -> AsyncIterator[LoaderEnv[AcmeAppContext]]:
    installed: Installation[AcmeAppContext] = connector.initialise(
        {"baseUrl": canned.url, "workspaceId": "w"}, platform_with_token("acme_feed_token")
    )
    async with installed.running():
        yield LoaderEnv(installed.context, BasicOperationExecutor(installed.context))


def event(sequence: int, entity_id: str, action: str = "update", kind: str = "task") -> Any:
    return {
        "sequence": sequence,
        "entityType": kind,
        "entityId": entity_id,
        "action": action,
        "payload": None,
        "timestamp": "2026-03-08T14:03:27.512Z",
    }


def task(entity_id: str) -> dict[str, Any]:
    stamp = "2026-03-08T14:03:27.512Z"
    return {
        "id": entity_id,
        "projectId": "prj_1",
        "title": "T",
        "description": None,
        "status": "todo",
        "priority": "low",
        "assigneeId": None,
        "createdById": "usr_1",
        "lastModifiedById": "usr_1",
        "dueDate": None,
        "tags": [],
        "completedAt": None,
        "createdAt": stamp,
        "updatedAt": stamp,
    }


async def test_ids_asked_for_but_not_returned_are_gone_and_others_are_ignored(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    canned.routes["/api/changes"] = Canned.json(
        {"events": [event(8, "tsk_1"), event(9, "tsk_2"), event(10, "a,b")], "nextCursor": 10}
    )
    canned.routes["/api/tasks"] = Canned.json([task("tsk_0"), task("tsk_1"), task("tsk_3")])
    change = await changes(canned_env, "7")
    assert [i.ref.id for i in change.upserts] == ["tsk_1"]
    assert change.deletes == (AcmeTask.ref("tsk_2"), AcmeTask.ref("a,b"))  # 404 for the get
    assert change.cursor == "10"
    first, *read_back = [r.target for r in canned.requests]
    assert first == "/api/changes?since=7&limit=1000"
    assert sorted(read_back) == ["/api/tasks/a%2Cb", "/api/tasks?ids=tsk_1,tsk_2"]  # concurrent


async def test_a_failing_read_back_raises_its_own_error(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    """Read-backs run concurrently, but a failure comes out as the connector error itself (not
    wrapped in the nursery's exception group), so the engine sees its code and facets."""
    canned.routes["/api/changes"] = Canned.json(
        {"events": [event(8, "tsk_1"), event(9, "usr_1", kind="user")], "nextCursor": 9}
    )
    canned.routes["/api/tasks"] = Canned.json({"error": "database is locked"}, 503)
    canned.routes["/api/users"] = Canned.json([])
    with pytest.raises(MaxError) as caught:
        await changes(canned_env, "7")
    assert ErrUpstreamError.matches(caught.value) and caught.value.has("Retryable")
    assert caught.value.message == (
        "Acme failed to answer GET /api/tasks?ids=<1 ids>: 503 database is locked"
    )
    canned.routes["/api/tasks"] = Canned.json([{**task("tsk_1"), "tags": "bug"}])
    with pytest.raises(MaxError) as caught:
        await changes(canned_env, "7")
    assert caught.value.message == (
        "Acme sent a bad response to GET /api/tasks?ids=<1 ids>: "
        "item 0 (tsk_1): 'tags' must be an array, got string"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"events": "no"}, "'events' must be an array, got string"),
        ([], "expected a JSON object, got array"),
        ({"events": [event(8, "t"), "x"]}, "event 1: the event is string, not an object"),
        ({"events": [event(8, "")]}, "event 0: 'entityId' is empty"),
        (
            {"events": [{**event(8, "t"), "sequence": "8"}]},
            "event 0: 'sequence' must be a number, got string",
        ),
        ({"events": [event(7, "t")]}, "event 0: sequence 7 does not follow 7"),
        ({"events": [event(9, "t"), event(8, "u")]}, "event 1: sequence 8 does not follow 9"),
        (
            {"events": [{**event(8, "t"), "action": None}]},
            "event 0: 'action' must be a string, got null",
        ),
    ],
)
async def test_bad_change_pages_are_bad_responses(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext], body: Any, reason: str
) -> None:
    canned.routes["/api/changes"] = Canned.json(body)
    with pytest.raises(MaxError) as caught:
        await changes(canned_env, "7")
    assert ErrBadResponse.matches(caught.value)
    assert caught.value.message == (
        f"Acme sent a bad response to GET /api/changes?since=7&limit={CHANGES_PAGE_SIZE}: {reason}"
    )


async def test_unknown_entity_types_are_skipped(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    canned.routes["/api/changes"] = Canned.json(
        {"events": [event(8, "cmt_1", kind="comment")], "nextCursor": 8}
    )
    assert await changes(canned_env, "7") == ChangeSet(cursor="8")
    assert len(canned.requests) == 1


async def test_a_410_from_any_server_is_an_expired_cursor(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    canned.routes["/api/changes"] = Canned.json({"error": "gone"}, 410)
    with pytest.raises(MaxError) as caught:
        await changes(canned_env, "7")
    assert ErrFeedCursorExpired.matches(caught.value)
    assert caught.value.data["cursor"] == "7" and caught.value.data["upstream"] == "gone"


def test_id_batches_keep_to_the_id_count_and_the_url_length() -> None:
    assert id_batches([]) == []
    short = [f"t{i}" for i in range(2500)]
    assert [len(b) for b in id_batches(short)] == [1000, 1000, 500]
    long = [f"tsk_{i:032x}" for i in range(500)]
    batches = id_batches(long)
    assert [i for b in batches for i in b] == long
    assert all(len(",".join(b)) <= MAX_BATCH_QUERY for b in batches)
    assert len(batches) == 3  # 37 characters an id: 216 per batch
    huge = ["x" * (MAX_BATCH_QUERY + 5), "y"]
    assert id_batches(huge) == [[huge[0]], ["y"]]
    assert id_batches(["a/b", "c d"]) == [["a/b", "c d"]]
