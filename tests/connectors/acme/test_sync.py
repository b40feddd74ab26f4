"""The acme connector under the product's executor (``maxtrio.execution.run_sync``) into a real
``data.db``: the default seed, a flaky upstream (429/500 retried), an upstream deletion, a
partial plan that loads fields of known entities."""

from __future__ import annotations

import json
from pathlib import Path

import trio

from maxtrio.acme import AcmeServer, FaultInjection, Tenant
from maxtrio.connector import Installation
from maxtrio.connectors.acme import (
    ACME_API_LIMIT,
    AcmeAppContext,
    AcmeFile,
    AcmeProject,
    AcmeRoot,
    AcmeSchema,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
    ById,
    GetUser,
    ListPage,
    ListTasks,
    ListWorkspaces,
    connector,
)
from maxtrio.core import (
    EntityDef,
    EntityInput,
    Field,
    OperationEnv,
    PageRequest,
    Projection,
    Ref,
    Schema,
    Seeder,
    SeederEnv,
    Step,
    SyncPlan,
)
from maxtrio.execution import (
    DispatchingOperationExecutor,
    FlowControllerProvider,
    RetryPolicy,
    SyncResult,
    SyncSetup,
    SyncStatus,
    default_dispatcher,
    run_sync,
)
from maxtrio.storage import InstallationStore, SqliteEngine, open_installation_store, parse_date

ENTITIES = (AcmeRoot, AcmeWorkspace, AcmeUser, AcmeProject, AcmeTask, AcmeFile)
SEEDED = [1, 1, 6, 3, 30, 15]
FAST_RETRIES = RetryPolicy(attempts=10, base=0.001, cap=0.01)


async def sync(store: InstallationStore, installation: Installation[AcmeAppContext]) -> SyncResult:
    setup = SyncSetup(
        engine=store.engine,
        resolvers=connector.definition.resolvers,
        ctx=installation.context,
        task_store=store.task_store,
        sync_store=store.sync_store,
        retry=FAST_RETRIES,
    )
    return await run_sync(setup, seeder=connector.definition.seeder)


async def counts(store: InstallationStore) -> list[int]:
    return [await store.engine.count(e) for e in ENTITIES]


async def test_default_seed_syncs_into_data_db(
    tenant: Tenant,
    acme_server: AcmeServer,
    installation: Installation[AcmeAppContext],
    tmp_path: Path,
) -> None:
    acme_server.reset_statistics()
    async with open_installation_store(tmp_path / "data.db", AcmeSchema) as store:
        result = await sync(store, installation)
        assert result.status is SyncStatus.COMPLETED, result.to_json()
        assert await counts(store) == SEEDED
        assert result.operations.total == 9  # every list is complete: no gets
        assert dict(result.operations.by_operation) == {
            "acme:workspace:list": 1,
            "acme:user:list": 1,
            "acme:project:list": 1,
            "acme:task:list": 3,
            "acme:file:list": 3,
        }
        assert acme_server.statistics().requests == 9
        page = await store.engine.load_page(AcmeTask, Projection.all(), PageRequest(None, 100))
        stored = {r.ref.id: r.to_dict() for r in page.items}  # type: ignore[union-attr]
        upstream = json.loads(tenant.list_wire("tasks").json)
        assert set(stored) == {t["id"] for t in upstream}
        for task in upstream:
            row = stored[task["id"]]
            assert (row["title"], row["status"]) == (task["title"], task["status"])
            assert row["assignee"] == AcmeUser.ref(task["assigneeId"])
            assert row["project"] == AcmeProject.ref(task["projectId"])
            assert json.loads(row["tags"]) == task["tags"]


async def test_a_flaky_upstream_still_yields_every_row(
    acme_server: AcmeServer, installation: Installation[AcmeAppContext], tmp_path: Path
) -> None:
    acme_server.faults = FaultInjection(
        rate_limit_ratio=0.25, error_ratio=0.15, retry_after_seconds=0, seed=7
    )
    async with open_installation_store(tmp_path / "data.db", AcmeSchema) as store:
        result = await sync(store, installation)
        assert result.status is SyncStatus.COMPLETED, result.to_json()
        assert await counts(store) == SEEDED
    stats = acme_server.statistics()
    assert stats.rate_limited > 0 and stats.injected_errors > 0
    assert stats.requests == 9 + stats.rate_limited + stats.injected_errors


async def test_an_upstream_deletion_is_removed_by_the_next_sync(
    tenant: Tenant,
    acme_server: AcmeServer,
    installation: Installation[AcmeAppContext],
    tmp_path: Path,
) -> None:
    """The reference fetched each listed user by id, so a user deleted between the list and the
    get failed the sync with a 404. Lists are complete now: the user is simply not listed, and
    since ``acme:workspace:users`` is a complete listing, its local row goes when the sync
    completes."""
    async with open_installation_store(tmp_path / "data.db", AcmeSchema) as store:
        assert (await sync(store, installation)).status is SyncStatus.COMPLETED
        user = json.loads(tenant.list_wire("users").json)[3]
        tenant.delete("users", user["id"])
        acme_server.reset_statistics()
        result = await sync(store, installation)
        assert result.status is SyncStatus.COMPLETED, result.to_json()
        assert result.failures == ()
        assert "acme:user:get" not in result.operations.by_operation
        assert acme_server.statistics().requests == 9
        assert result.removed == 1
        assert await store.engine.count(AcmeUser) == 5


async def test_a_partial_plan_loads_every_field_of_known_entities(
    tenant: Tenant, installation: Installation[AcmeAppContext], tmp_path: Path
) -> None:
    """``AcmeUser(*).fields{*}`` and ``AcmeTask(*).fields{…}``: the entity loaders fill rows."""
    async with open_installation_store(tmp_path / "data.db", AcmeSchema) as store:
        users = json.loads(tenant.list_wire("users").json)
        tasks = json.loads(tenant.list_wire("tasks").json)[:4]
        await store.engine.store_many(
            [EntityInput(AcmeUser.ref(u["id"]), {}) for u in users]
            + [EntityInput(AcmeTask.ref(t["id"]), {}) for t in tasks]
        )
        user_fields = [n for n, f in AcmeUser.fields.items() if f.is_stored]
        plan = SyncPlan.create(
            Step.for_all(AcmeUser).load_fields(*user_fields),
            Step.for_all(AcmeTask).load_fields("dueDate", "tags", "lastModifiedBy"),
        )

        async def seed(env: SeederEnv[AcmeAppContext]) -> SyncPlan:
            return plan

        setup = SyncSetup(
            engine=store.engine,
            resolvers=connector.definition.resolvers,
            ctx=installation.context,
            task_store=store.task_store,
            sync_store=store.sync_store,
            retry=FAST_RETRIES,
        )
        result = await run_sync(setup, seeder=Seeder(seed))
        assert result.status is SyncStatus.COMPLETED, result.to_json()
        assert dict(result.operations.by_operation) == {"acme:user:get": 6, "acme:task:get": 4}
        for user in users:
            row = (await store.engine.load(AcmeUser.ref(user["id"]))).to_dict()
            assert row["email"] == user["email"]
            assert row["workspace"] == AcmeWorkspace.ref(user["workspaceId"])
        for task in tasks:
            row = (await store.engine.load(AcmeTask.ref(task["id"]))).to_dict()
            assert json.loads(row["tags"]) == task["tags"]
            assert row["lastModifiedBy"] == AcmeUser.ref(task["lastModifiedById"])
            assert row["dueDate"] == (parse_date(task["dueDate"]) if task["dueDate"] else None)


async def test_the_operations_share_one_limit_of_50_at_the_fake(
    tenant: Tenant, acme_server: AcmeServer, installation: Installation[AcmeAppContext]
) -> None:
    users = [u["id"] for u in json.loads(tenant.list_wire("users").json)]
    projects = [p["id"] for p in json.loads(tenant.list_wire("projects").json)]
    limits = FlowControllerProvider()
    ops = DispatchingOperationExecutor(
        default_dispatcher(limits), OperationEnv(installation.context)
    )
    acme_server.faults = FaultInjection(latency_ms=30)
    acme_server.reset_statistics()
    async with trio.open_nursery() as nursery:
        for i in range(60):
            nursery.start_soon(ops.execute, GetUser, ById(users[i % len(users)]))
            nursery.start_soon(ops.execute, ListTasks, ListPage(projects[i % len(projects)]))
            nursery.start_soon(ops.execute, ListWorkspaces, ListPage())
    stats = acme_server.statistics()
    assert stats.requests == 180
    assert stats.peak_in_flight <= 50  # never more at the fake…
    flow = limits.get(ACME_API_LIMIT).statistics()
    assert (flow.max_concurrent, flow.peak_active, flow.admitted) == (
        50,
        50,
        180,
    )  # …though 180 wanted to go at once


def reference_schema() -> Schema:
    """The acme schema as the reference declared it (and older data.db files hold it)."""
    user = EntityDef.create(
        "AcmeUser",
        {
            "displayName": Field.string(),
            "email": Field.string(),
            "role": Field.string(),
            "active": Field.boolean(),
        },
    )
    task = EntityDef.create(
        "AcmeTask",
        {
            "title": Field.string(),
            "description": Field.string(),
            "status": Field.string(),
            "priority": Field.string(),
            "assignee": Field.ref(user),
        },
    )
    project = EntityDef.create(
        "AcmeProject",
        {
            "name": Field.string(),
            "description": Field.string(),
            "status": Field.string(),
            "owner": Field.ref(user),
            "tasks": Field.collection(task),
        },
    )
    workspace = EntityDef.create(
        "AcmeWorkspace",
        {
            "name": Field.string(),
            "users": Field.collection(user),
            "projects": Field.collection(project),
        },
    )
    root = EntityDef.create("AcmeRoot", {"workspaces": Field.collection(workspace)})
    return Schema.create("acme", [user, workspace, root, project, task], roots=[root])


async def test_a_data_db_of_the_reference_model_gains_the_new_columns(
    tenant: Tenant, installation: Installation[AcmeAppContext], tmp_path: Path
) -> None:
    task = json.loads(tenant.list_wire("tasks").json)[0]
    old = reference_schema()
    engine = SqliteEngine.open(tmp_path / "data.db", old)
    try:
        stale = {"title": "old title", "status": "todo", "priority": "low"}
        await engine.store(EntityInput(Ref(old.entities[4], task["id"]), stale))
    finally:
        await engine.aclose()
    async with open_installation_store(tmp_path / "data.db", AcmeSchema) as store:
        result = await sync(store, installation)
        assert result.status is SyncStatus.COMPLETED, result.to_json()
        assert await counts(store) == SEEDED
        row = (await store.engine.load(AcmeTask.ref(task["id"]))).to_dict()
        assert row["title"] == task["title"]
        assert row["project"] == AcmeProject.ref(task["projectId"])
        assert json.loads(row["tags"]) == task["tags"]
