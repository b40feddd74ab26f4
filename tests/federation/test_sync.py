"""``InstallationMax.sync()``: the acme connector against a real Acme server on loopback into
the installation's own ``data.db``, with events, history, interruption and resume."""

from __future__ import annotations

from pathlib import Path

import trio

from maxtrio.acme import AcmeServer, FaultInjection
from maxtrio.connectors.acme import AcmeProject, AcmeRoot, AcmeTask, AcmeUser, AcmeWorkspace
from maxtrio.core import MaxError, MaxUrl
from maxtrio.execution import SyncEvent, SyncStarted, SyncStatus, TaskCompleted
from maxtrio.federation import GlobalMax, InstallationMax, MaxHome, WorkspaceMax

from .conftest import connect_acme

ENTITIES = (AcmeRoot, AcmeWorkspace, AcmeUser, AcmeProject, AcmeTask)


async def counts(node: InstallationMax) -> list[int]:
    return [await node.engine.count(e) for e in ENTITIES]


async def test_a_sync_fills_the_installations_data_db(
    gmax: GlobalMax, workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    info = await connect_acme(workspace, acme)
    target = await gmax.resolve(MaxUrl.parse("max://@/my-project/acme-1"))
    node = target.installation
    assert node is not None
    assert await node.last_sync() is None
    events: list[SyncEvent] = []
    result = await node.sync(on_event=events.append)
    assert result.status is SyncStatus.COMPLETED, result.to_json()
    assert result.sync_id == "sync-1"
    assert await counts(node) == [1, 1, 6, 3, 30]
    assert isinstance(events[0], SyncStarted)
    assert sum(1 for e in events if isinstance(e, TaskCompleted)) == result.tasks_completed
    assert (info.data_dir / "data.db").is_file()
    assert node.engine.database.path == str(info.data_dir / "data.db")  # type: ignore[attr-defined]
    (record,) = await node.sync_history()
    assert (record.id, record.status) == ("sync-1", SyncStatus.COMPLETED)
    summary = await node.last_sync()
    assert summary is not None
    assert (summary.id, summary.status, summary.tasks_failed) == ("sync-1", SyncStatus.COMPLETED, 0)
    assert summary.tasks_completed == summary.tasks_total >= result.tasks_completed
    assert summary.to_json()["status"] == "completed"
    second = await node.sync()
    assert second.sync_id == "sync-2"
    assert [r.id for r in await node.sync_history()] == ["sync-2", "sync-1"]
    assert await counts(node) == [1, 1, 6, 3, 30]


async def test_cancelling_leaves_the_sync_interrupted_and_resumable(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    await connect_acme(workspace, acme)
    node = await workspace.installation("acme-1")
    acme.faults = FaultInjection(latency_ms=40)
    completed = trio.Event()

    def watch(event: SyncEvent) -> None:
        if isinstance(event, TaskCompleted):
            completed.set()

    async with trio.open_nursery() as nursery:

        async def run() -> None:
            await node.sync(on_event=watch)
            raise AssertionError("the sync should have been cancelled")  # pragma: no cover

        nursery.start_soon(run)
        await completed.wait()
        nursery.cancel_scope.cancel()  # what Ctrl-C does to the command's task
    summary = await node.last_sync()
    assert summary is not None and summary.status is SyncStatus.INTERRUPTED
    assert summary.tasks_completed < summary.tasks_total
    acme.faults = FaultInjection()
    result = await node.sync(resume=summary.id)
    assert result.status is SyncStatus.COMPLETED, result.to_json()
    assert result.sync_id == summary.id
    assert await counts(node) == [1, 1, 6, 3, 30]
    try:
        await node.sync(resume="sync-99")
    except MaxError as err:
        assert err.code == "execution.sync_not_found"
    else:  # pragma: no cover
        raise AssertionError("resuming an unknown sync must fail")


async def test_a_background_sync_and_its_handle(workspace: WorkspaceMax, acme: AcmeServer) -> None:
    await connect_acme(workspace, acme)
    node = await workspace.installation("acme-1")
    handle = await node.start_sync()
    assert node.sync_handle(handle.id) is handle
    result = await handle.completion()
    assert result.status is SyncStatus.COMPLETED
    assert await counts(node) == [1, 1, 6, 3, 30]
    assert node.sync_handle("sync-404") is None


async def test_closing_the_global_interrupts_background_syncs(
    home: MaxHome, tmp_path: Path, acme: AcmeServer
) -> None:
    acme.faults = FaultInjection(latency_ms=50)
    async with GlobalMax.open(home) as g:
        ws = await g.workspace((await g.create_workspace(tmp_path / "p")).name)
        await connect_acme(ws, acme)
        node = await ws.installation("acme-1")
        handle = await node.start_sync()
        async for event in handle.events:
            if isinstance(event, TaskCompleted):
                break
        assert handle.status() is SyncStatus.RUNNING
    acme.faults = FaultInjection()
    async with GlobalMax.open(home) as g:
        target = await g.resolve(MaxUrl.parse("max://@/p/acme-1"))
        assert target.installation is not None
        summary = await target.installation.last_sync()
        assert summary is not None and summary.status is SyncStatus.INTERRUPTED
        result = await target.installation.sync(resume=summary.id)
        assert result.status is SyncStatus.COMPLETED
        assert await counts(target.installation) == [1, 1, 6, 3, 30]
