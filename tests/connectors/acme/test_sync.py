"""The acme connector under the product's executor (``maxtrio.execution.run_sync``) into a real
``data.db``: the default seed, a flaky upstream (429/500 retried), an upstream deletion."""

from __future__ import annotations

import json
from pathlib import Path

import trio

from maxtrio.acme import AcmeServer, FaultInjection, Tenant
from maxtrio.connector import Installation
from maxtrio.connectors.acme import (
    ACME_API_LIMIT,
    AcmeAppContext,
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
from maxtrio.core import OperationEnv, PageRequest, Projection
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
from maxtrio.storage import InstallationStore, open_installation_store

ENTITIES = (AcmeRoot, AcmeWorkspace, AcmeUser, AcmeProject, AcmeTask)
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
        assert await counts(store) == [1, 1, 6, 3, 30]
        assert result.operations.total == 16
        assert dict(result.operations.by_operation) == {
            "acme:workspace:list": 1,
            "acme:workspace:get": 1,
            "acme:user:list": 1,
            "acme:project:list": 1,
            "acme:user:get": 6,
            "acme:project:get": 3,
            "acme:task:list": 3,
        }
        assert acme_server.statistics().requests == 16
        page = await store.engine.load_page(AcmeTask, Projection.all(), PageRequest(None, 100))
        stored = {r.ref.id: r.to_dict() for r in page.items}  # type: ignore[union-attr]
        upstream = json.loads(tenant.list_wire("tasks").json)
        assert set(stored) == {t["id"] for t in upstream}
        for task in upstream:
            assert stored[task["id"]]["title"] == task["title"]
            assert stored[task["id"]]["status"] == task["status"]


async def test_a_flaky_upstream_still_yields_every_row(
    acme_server: AcmeServer, installation: Installation[AcmeAppContext], tmp_path: Path
) -> None:
    acme_server.faults = FaultInjection(
        rate_limit_ratio=0.25, error_ratio=0.15, retry_after_seconds=0, seed=7
    )
    async with open_installation_store(tmp_path / "data.db", AcmeSchema) as store:
        result = await sync(store, installation)
        assert result.status is SyncStatus.COMPLETED, result.to_json()
        assert await counts(store) == [1, 1, 6, 3, 30]
    stats = acme_server.statistics()
    assert stats.rate_limited > 0 and stats.injected_errors > 0
    assert stats.requests == 16 + stats.rate_limited + stats.injected_errors


async def test_an_upstream_deletion_fails_the_user_task_with_the_404(
    tenant: Tenant, installation: Installation[AcmeAppContext], tmp_path: Path
) -> None:
    async with open_installation_store(tmp_path / "data.db", AcmeSchema) as store:
        assert (await sync(store, installation)).status is SyncStatus.COMPLETED
        user = json.loads(tenant.list_wire("users").json)[3]
        tenant.delete("users", user["id"])
        result = await sync(store, installation)
        assert result.status is SyncStatus.FAILED
        (failure,) = result.failures
        assert failure.entity_type == "AcmeUser"
        assert failure.code == "connector-acme.not_found"
        assert failure.error == f"Acme has no GET /api/users/{user['id']}: 404 Not found"
        assert await counts(store) == [1, 1, 6, 3, 30]  # nothing was lost or half-written


async def test_the_seven_operations_share_one_limit_of_50_at_the_fake(
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
