"""Client proxies: the tiers' methods as calls over a :class:`Transport`.

``GlobalClient`` → ``workspace(id)`` → ``WorkspaceClient`` → ``installation(id)`` →
``InstallationClient`` (with ``engine``: an ``EngineClient``). A child client talks through a
:class:`ScopedTransport` that adds its id to the request's scope, so one connection reaches
every node below. Results come back as the messages of ``_rpc_messages`` (descriptions, not
live objects); errors come back as the node's own ``MaxError`` (code, facets, data, cause).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maxtrio.connector import HealthStatus
from maxtrio.core import EntityQuery, PageRequest, Projection
from maxtrio.execution import SyncRecord, SyncStatus

from . import _sync_wire  # noqa: F401  # SyncRecord's wire names
from ._records import InstallationInfo, WorkspaceInfo
from ._rpc import EmitEvent, RpcScope, ScopedTransport, Transport, call
from ._rpc_messages import (
    CreateInstallationArgs,
    CreateWorkspaceArgs,
    LifecycleResult,
    OnboardingStepInfo,
    PageMessage,
    QueryMessage,
    SchemaDescription,
    SyncResultMessage,
    SyncStartedMessage,
    from_wire,
    to_wire,
)
from ._status import NodeHealth, SyncSummary


class EngineClient:
    """An installation's engine, read-only, over a transport (target ``engine``)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def query(
        self, query: QueryMessage | EntityQuery, page: PageRequest | None = None
    ) -> PageMessage:
        message = query if isinstance(query, QueryMessage) else QueryMessage.from_query(query)
        args: list[Any] = [to_wire(message)]
        if page is not None:
            args.append(to_wire(page))
        result = await call(self.transport, "query", *args, target="engine")
        return from_wire(result, PageMessage, what="page")

    async def load_page(
        self,
        entity_type: str,
        projection: Projection | None = None,
        page: PageRequest | None = None,
    ) -> PageMessage:
        args = [entity_type, to_wire(projection or Projection.all())]
        if page is not None:
            args.append(to_wire(page))
        result = await call(self.transport, "loadPage", *args, target="engine")
        return from_wire(result, PageMessage, what="page")

    async def load(self, ref_key: str, fields: Sequence[str] | None = None) -> dict[str, Any]:
        args: list[Any] = [ref_key] if fields is None else [ref_key, list(fields)]
        return dict(await call(self.transport, "load", *args, target="engine"))

    async def load_field(self, ref_key: str, field: str) -> Any:
        return await call(self.transport, "loadField", ref_key, field, target="engine")

    async def count(self, entity_type: str) -> int:
        return int(await call(self.transport, "count", entity_type, target="engine"))


class RemoteSyncHandle:
    """A sync running in a node: ``status``, ``pause``, ``cancel``, ``completion``."""

    def __init__(self, transport: Transport, started: SyncStartedMessage) -> None:
        self.transport = transport
        self.id = started.id
        self.started_at = started.started_at

    def __repr__(self) -> str:
        return f"<RemoteSyncHandle {self.id}>"

    async def status(self) -> SyncStatus:
        return SyncStatus(await call(self.transport, "syncStatus", self.id))

    async def pause(self) -> None:
        await call(self.transport, "syncPause", self.id)

    async def cancel(self) -> None:
        await call(self.transport, "syncCancel", self.id)

    async def completion(self, on_event: EmitEvent | None = None) -> SyncResultMessage:
        """Wait for the end; with ``on_event`` the sync's events are streamed to it first."""
        result = await call(self.transport, "syncCompletion", self.id, on_event=on_event)
        return from_wire(result, SyncResultMessage, what="sync result")


class InstallationClient:
    """An installation over a transport."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.engine = EngineClient(transport)

    async def health(self) -> HealthStatus:
        return from_wire(await call(self.transport, "health"), HealthStatus, what="health")

    async def start(self) -> LifecycleResult:
        return from_wire(await call(self.transport, "start"), LifecycleResult, what="start")

    async def stop(self) -> LifecycleResult:
        return from_wire(await call(self.transport, "stop"), LifecycleResult, what="stop")

    async def describe(self) -> dict[str, Any]:
        """``{"connector", "name", "id", "schema": SchemaDescription}``."""
        described = dict(await call(self.transport, "describe"))
        described["schema"] = from_wire(described.get("schema"), SchemaDescription, what="schema")
        return described

    async def schema(self) -> SchemaDescription:
        return from_wire(await call(self.transport, "schema"), SchemaDescription, what="schema")

    async def sync(self) -> RemoteSyncHandle:
        started = from_wire(await call(self.transport, "sync"), SyncStartedMessage, what="sync")
        return RemoteSyncHandle(self.transport, started)

    async def sync_resume(self, sync_id: str) -> RemoteSyncHandle:
        result = await call(self.transport, "syncResume", sync_id)
        return RemoteSyncHandle(self.transport, from_wire(result, SyncStartedMessage, what="sync"))

    async def sync_history(self, limit: int = 10) -> list[SyncRecord]:
        records = await call(self.transport, "syncHistory", limit)
        return from_wire(records, list[SyncRecord], what="sync history")

    async def last_sync(self) -> SyncSummary | None:
        summary = await call(self.transport, "lastSync")
        return None if summary is None else from_wire(summary, SyncSummary, what="last sync")


class WorkspaceClient:
    """A workspace over a transport; ``installation(id)`` scopes calls to one installation."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def installation(self, installation_id: str) -> InstallationClient:
        scoped = ScopedTransport(self.transport, RpcScope(installation_id=installation_id))
        return InstallationClient(scoped)

    async def health(self, *, deep: bool = False) -> HealthStatus:
        result = await call(self.transport, "health", deep)
        return from_wire(result, HealthStatus, what="health")

    async def list_installations(self) -> list[InstallationInfo]:
        result = await call(self.transport, "listInstallations")
        return from_wire(result, list[InstallationInfo], what="installations")

    async def create_installation(
        self,
        connector: str,
        *,
        config: dict[str, Any],
        credentials: dict[str, str],
        name: str | None = None,
    ) -> InstallationInfo:
        args = CreateInstallationArgs(connector, config, credentials, name)
        result = await call(self.transport, "createInstallation", to_wire(args))
        return from_wire(result, InstallationInfo, what="installation")

    async def remove_installation(self, name_or_id: str) -> InstallationInfo:
        result = await call(self.transport, "removeInstallation", name_or_id)
        return from_wire(result, InstallationInfo, what="installation")

    async def list_connectors(self) -> list[dict[str, Any]]:
        return list(await call(self.transport, "listConnectors"))

    async def connector_schema(self, connector: str) -> SchemaDescription:
        result = await call(self.transport, "connectorSchema", connector)
        return from_wire(result, SchemaDescription, what="schema")

    async def connector_onboarding(self, connector: str) -> list[OnboardingStepInfo]:
        result = await call(self.transport, "connectorOnboarding", connector)
        return from_wire(result, list[OnboardingStepInfo], what="onboarding")

    async def installation_health(self) -> list[NodeHealth]:
        result = await call(self.transport, "installationHealth")
        return from_wire(result, list[NodeHealth], what="installation health")


class GlobalClient:
    """The machine's Max over a transport; ``workspace(id)`` scopes calls to one workspace."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def workspace(self, workspace_id: str) -> WorkspaceClient:
        return WorkspaceClient(ScopedTransport(self.transport, RpcScope(workspace_id)))

    async def health(self) -> HealthStatus:
        return from_wire(await call(self.transport, "health"), HealthStatus, what="health")

    async def list_workspaces(self) -> list[WorkspaceInfo]:
        result = await call(self.transport, "listWorkspaces")
        return from_wire(result, list[WorkspaceInfo], what="workspaces")

    async def create_workspace(self, directory: str, *, force: bool = False) -> WorkspaceInfo:
        args = CreateWorkspaceArgs(directory, force)
        result = await call(self.transport, "createWorkspace", to_wire(args))
        return from_wire(result, WorkspaceInfo, what="workspace")

    async def workspace_health(self) -> list[NodeHealth]:
        result = await call(self.transport, "workspaceHealth")
        return from_wire(result, list[NodeHealth], what="workspace health")

    async def list_connectors(self) -> list[dict[str, Any]]:
        return list(await call(self.transport, "listConnectors"))
