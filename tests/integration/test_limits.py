"""The ``acme:api`` limit (50) holds end to end: a whole sync over real HTTP never has more than
50 requests in flight at the Acme server, though more than 50 of its tasks run at once.

120 projects mean 120 task-list and 120 file-list tasks; the executor may run 200 tasks at
once. A proxy asks the Acme server to hold every task-list request 1 s (its ``delay_ms``
extension), so those requests overlap at the server for as long as the client lets them. The
server counts what it sees (``/api/traffic``); the sync's handle and flow controller say what
the client did.
"""

from __future__ import annotations

from pathlib import Path

import trio

from maxtrio.acme import AcmeHttpClient, SeedOptions
from maxtrio.connectors.acme import ACME_API_LIMIT
from maxtrio.execution import FlowControllerProvider, SyncStatus

from .conftest import StartAcme
from .data_db import Upstream, entity_tables, expected_tables
from .syncing import prepared_sync
from .tampering_proxy import TamperingProxy

MANY_PROJECTS = SeedOptions(
    workspaces=1, users_per_workspace=4, projects_per_workspace=120, tasks_per_project=3
)  # 5 users, 120 projects, 360 tasks
HOLD_MS = 1000  # long enough for 50 requests to pile up on a loaded CI machine
CALLS = 1 + 1 + 1 + 120 + 120  # lists: workspaces, users, projects, tasks and files of each


async def test_a_sync_never_has_more_than_50_requests_in_flight_at_the_server(
    start_acme: StartAcme, nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_acme(MANY_PROJECTS)
    upstream = await Upstream.fetch(server.url, server.api_key)
    proxy: TamperingProxy = await nursery.start(
        TamperingProxy(server.url, slow_paths={"/api/tasks": HOLD_MS}).serve
    )
    limits = FlowControllerProvider()
    db = tmp_path / "data.db"
    async with AcmeHttpClient(server.url, server.api_key) as client:
        await client.request("POST", "/api/traffic/reset")
        async with (
            prepared_sync(
                db, proxy.url, server.api_key, limits=limits, task_concurrency=200
            ) as sync,
            sync.setup.executor().running(sync.plan) as handle,
        ):
            result = await handle.completion()
        traffic = (await client.request("GET", "/api/traffic")).json()

    assert result.status is SyncStatus.COMPLETED, result.to_json()
    assert entity_tables(db) == expected_tables(upstream)
    assert handle.statistics().peak_running_tasks > 50  # the task lists all wanted to go…
    assert 30 < traffic["peakInFlight"] <= 50  # …the server never saw more than the limit
    assert traffic["requests"] == result.operations.total == CALLS
    assert (traffic["inFlight"], traffic["rateLimited"], traffic["injectedErrors"]) == (0, 0, 0)
    assert server.statistics().peak_in_flight == traffic["peakInFlight"]
    flow = limits.get(ACME_API_LIMIT).statistics()
    assert (flow.max_concurrent, flow.peak_active, flow.admitted) == (50, 50, CALLS)
