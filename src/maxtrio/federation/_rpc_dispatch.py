"""Dispatchers: a request in, a response out, for each tier.

==========================  ======================================================================
``InstallationDispatcher``  root: ``health start stop describe schema sync syncResume
                            syncStatus syncPause syncCancel syncCompletion syncHistory
                            lastSync``; target ``engine``: ``query loadPage load loadField
                            count``
``WorkspaceDispatcher``     ``scope.installationId`` → that installation's dispatcher (the scope
                            field is consumed); root: ``health start stop listInstallations
                            createInstallation removeInstallation listConnectors
                            connectorSchema connectorOnboarding installationHealth``
``GlobalDispatcher``        ``scope.workspaceId`` → that workspace's dispatcher; root: ``health
                            listWorkspaces createWorkspace workspaceHealth listConnectors``
==========================  ======================================================================

A dispatcher never raises: an unknown target is ``rpc.unknown_target``, an unknown method
``rpc.unknown_method`` (target ``root`` for ``""``), bad arguments ``rpc.invalid_message``, and
any error of the node comes back in its wire form (code, facets, data and cause survive).
``syncCompletion`` with ``stream`` sends the sync's events before its result; ``engine:query``
with ``stream`` sends its page and every next one as ``{"kind": "page", "page"}`` events, then
``{"pages", "items"}`` (the ``--all`` of RPC). Writes to an
engine (``store``) are not offered: data enters an installation through syncs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from maxtrio.core import (
    ALL,
    FieldSelector,
    MaxError,
    PageRequest,
    Projection,
)
from maxtrio.execution import SyncCompleted, SyncEvent, SyncHandle

from . import _sync_wire  # noqa: F401  # SyncRecord's wire names, for syncHistory
from ._errors import (
    ErrInvalidRpcMessage,
    ErrNodeNotFound,
    ErrSyncHandleNotFound,
    ErrUnknownMethod,
    ErrUnknownTarget,
)
from ._records import now_iso
from ._rpc import EmitEvent, RpcRequest, RpcResponse, positional
from ._rpc_messages import (
    CreateInstallationArgs,
    CreateWorkspaceArgs,
    LifecycleResult,
    PageMessage,
    QueryMessage,
    SchemaDescription,
    SyncResultMessage,
    SyncStartedMessage,
    describe_onboarding,
    entity_def,
    from_wire,
    installation_to_wire,
    item_to_wire,
    ref_from_key,
    to_wire,
    value_to_wire,
)

if TYPE_CHECKING:
    from ._global import GlobalMax
    from ._installation import InstallationMax
    from ._workspace import WorkspaceMax

Handler = Callable[[RpcRequest, "EmitEvent | None"], Awaitable[Any]]


class _MethodTable:
    """Dispatch by ``(target, method)`` with every outcome wrapped in a response."""

    targets: Mapping[str, Mapping[str, Handler]]

    async def dispatch(self, request: RpcRequest, emit: EmitEvent | None = None) -> RpcResponse:
        try:
            routed = await self.route(request, emit)
            if routed is not None:
                return routed
            handlers = self.targets.get(request.target)
            if handlers is None:
                raise ErrUnknownTarget(target=request.target)
            handler = handlers.get(request.method)
            if handler is None:
                raise ErrUnknownMethod(method=request.method, target=request.target or "root")
            return RpcResponse.success(request.id, await handler(request, emit))
        except Exception as exc:
            return RpcResponse.failure(request.id, exc)

    async def route(self, request: RpcRequest, emit: EmitEvent | None) -> RpcResponse | None:
        """Forward a scoped request down the hierarchy (None: handle it here)."""
        return None


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ErrInvalidRpcMessage(what=what, reason="expected a non-empty string")
    return value


def _page(value: Any) -> PageRequest | None:
    return None if value is None else from_wire(value, PageRequest, what="page request")


def event_to_wire(event: SyncEvent) -> dict[str, Any]:
    """A sync event's JSON: camelCase fields; ``sync-completed`` carries the result's JSON."""
    if isinstance(event, SyncCompleted):
        return {"kind": event.kind, "syncId": event.sync_id, "result": event.result.to_json()}
    return {_camel(k): v for k, v in attrs.asdict(event).items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# -- installation ----------------------------------------------------------------------------------


class InstallationDispatcher(_MethodTable):
    """Requests for one live :class:`InstallationMax`."""

    def __init__(self, node: InstallationMax) -> None:
        self.node = node
        self._handles: dict[str, SyncHandle] = {}
        self.targets = {
            "": {
                "health": self._health,
                "start": self._start,
                "stop": self._stop,
                "describe": self._describe,
                "schema": self._schema,
                "sync": self._sync,
                "syncResume": self._sync_resume,
                "syncStatus": self._sync_status,
                "syncPause": self._sync_pause,
                "syncCancel": self._sync_cancel,
                "syncCompletion": self._sync_completion,
                "syncHistory": self._sync_history,
                "lastSync": self._last_sync,
            },
            "engine": {
                "query": self._query,
                "loadPage": self._load_page,
                "load": self._load,
                "loadField": self._load_field,
                "count": self._count,
            },
        }

    # root

    async def _health(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return to_wire(await self.node.health())

    async def _start(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return to_wire(LifecycleResult("already_running"))

    async def _stop(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        await self.node.aclose()
        return to_wire(LifecycleResult("stopped"))

    async def _describe(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return {
            **self.node.describe(),
            "schema": to_wire(SchemaDescription.from_schema(self.node.schema)),
        }

    async def _schema(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return to_wire(SchemaDescription.from_schema(self.node.schema))

    async def _sync(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return self._started(await self.node.start_sync())

    async def _sync_resume(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        (sync_id,) = positional(request, 1)
        return self._started(await self.node.start_sync(resume=_text(sync_id, "sync id")))

    def _started(self, handle: SyncHandle) -> Any:
        self._handles[handle.id] = handle
        return to_wire(SyncStartedMessage(handle.id, now_iso()))

    def _handle(self, request: RpcRequest) -> SyncHandle:
        (sync_id,) = positional(request, 1)
        handle = self._handles.get(_text(sync_id, "sync id"))
        if handle is None:
            raise ErrSyncHandleNotFound(syncId=sync_id)
        return handle

    async def _sync_status(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        return self._handle(request).status().value

    async def _sync_pause(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        await self._handle(request).pause()
        return None

    async def _sync_cancel(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        handle = self._handle(request)
        await handle.cancel()
        self._handles.pop(handle.id, None)
        return None

    async def _sync_completion(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        handle = self._handle(request)
        if emit is not None:
            async with handle.events:
                async for event in handle.events:
                    await emit(event_to_wire(event))
        result = await handle.completion()
        self._handles.pop(handle.id, None)
        return to_wire(SyncResultMessage.from_result(result))

    async def _sync_history(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        (limit,) = positional(request, 1, optional=1)
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
            raise ErrInvalidRpcMessage(what="limit", reason="expected an integer")
        return to_wire(await self.node.sync_history(limit if limit is not None else 10))

    async def _last_sync(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        summary = await self.node.last_sync()
        return None if summary is None else to_wire(summary)

    # engine

    async def _query(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        query, page = positional(request, 2, optional=1)
        message = from_wire(query, QueryMessage, what="query")
        built = message.to_query(self.node.schema)
        asked = _page(page) or PageRequest()
        result = await self.node.engine.query(built, asked)
        if emit is None:
            return to_wire(PageMessage.from_items(result.items, result.has_more, result.cursor))
        # streamed (``--all``): this page and every next one as events, then the totals
        pages = items = 0
        while True:
            wire = to_wire(PageMessage.from_items(result.items, result.has_more, result.cursor))
            await emit({"kind": "page", "page": wire})
            pages, items = pages + 1, items + len(result.items)
            if not result.has_more or not result.cursor:
                return {"pages": pages, "items": items}
            asked = PageRequest(result.cursor, asked.limit)
            result = await self.node.engine.query(built, asked)

    async def _load_page(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        entity_type, projection, page = positional(request, 3, optional=2)
        entity = entity_def(self.node.schema, _text(entity_type, "entity type"))
        chosen = (
            Projection.all()
            if projection is None
            else from_wire(projection, Projection, what="projection")
        )
        result = await self.node.engine.load_page(entity, chosen, _page(page))
        return to_wire(PageMessage.from_items(result.items, result.has_more, result.cursor))

    async def _load(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        key, fields = positional(request, 2, optional=1)
        ref = ref_from_key(self.node.schema, _text(key, "ref"))
        selector = ALL
        if fields is not None:
            if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
                raise ErrInvalidRpcMessage(what="fields", reason="expected an array of names")
            selector = FieldSelector.select(*fields)
        return item_to_wire(await self.node.engine.load(ref, selector))

    async def _load_field(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        key, field = positional(request, 2)
        ref = ref_from_key(self.node.schema, _text(key, "ref"))
        return value_to_wire(await self.node.engine.load_field(ref, _text(field, "field")))

    async def _count(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        (entity_type,) = positional(request, 1)
        entity = entity_def(self.node.schema, _text(entity_type, "entity type"))
        return await self.node.engine.count(entity)


# -- workspace -------------------------------------------------------------------------------------


class WorkspaceDispatcher(_MethodTable):
    """Requests for one :class:`WorkspaceMax`, and through it its installations."""

    def __init__(self, workspace: WorkspaceMax) -> None:
        self.workspace = workspace
        self._installations: dict[str, InstallationDispatcher] = {}
        self.targets = {
            "": {
                "health": self._health,
                "start": self._start,
                "stop": self._stop,
                "listInstallations": self._list_installations,
                "createInstallation": self._create_installation,
                "removeInstallation": self._remove_installation,
                "listConnectors": self._list_connectors,
                "connectorSchema": self._connector_schema,
                "connectorOnboarding": self._connector_onboarding,
                "installationHealth": self._installation_health,
            }
        }

    async def route(self, request: RpcRequest, emit: EmitEvent | None) -> RpcResponse | None:
        scope = request.scope
        if scope is None or scope.installation_id is None:
            return None
        node = await self.workspace.installation(scope.installation_id)
        dispatcher = self._installations.get(node.id)
        if dispatcher is None or dispatcher.node is not node:
            dispatcher = self._installations[node.id] = InstallationDispatcher(node)
        return await dispatcher.dispatch(
            attrs.evolve(request, scope=scope.without_installation()), emit
        )

    async def _health(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        (deep,) = positional(request, 1, optional=1)
        return to_wire(await self.workspace.health(deep=deep is True))

    async def _start(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return to_wire(LifecycleResult("already_running"))

    async def _stop(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        for node in self.workspace.live_installations():
            await node.aclose()
        return to_wire(LifecycleResult("stopped"))

    async def _list_installations(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return [installation_to_wire(i) for i in await self.workspace.list_installations()]

    async def _create_installation(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        (raw,) = positional(request, 1)
        args = from_wire(raw, CreateInstallationArgs, what="createInstallation argument")
        info = await self.workspace.create_installation(
            args.connector, name=args.name, config=args.config, credentials=args.credentials
        )
        return installation_to_wire(info)

    async def _remove_installation(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        (name_or_id,) = positional(request, 1)
        removed = await self.workspace.remove_installation(_text(name_or_id, "installation"))
        self._installations.pop(removed.id, None)
        return installation_to_wire(removed)

    async def _list_connectors(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return [
            {"name": e.name, "source": e.source, "location": e.location}
            for e in self.workspace.connectors().list()
        ]

    async def _connector_schema(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        (name,) = positional(request, 1)
        schema = self.workspace.connector_schema(_text(name, "connector"))
        return to_wire(SchemaDescription.from_schema(schema))

    async def _connector_onboarding(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        (name,) = positional(request, 1)
        flow = self.workspace.connector_onboarding(_text(name, "connector"))
        return to_wire(describe_onboarding(flow))

    async def _installation_health(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return to_wire(await self.workspace.installation_health())


# -- global ----------------------------------------------------------------------------------------


class GlobalDispatcher(_MethodTable):
    """Requests for the machine's :class:`GlobalMax`, and through it its workspaces."""

    def __init__(self, global_max: GlobalMax) -> None:
        self.global_max = global_max
        self._workspaces: dict[str, WorkspaceDispatcher] = {}
        self.targets = {
            "": {
                "health": self._health,
                "listWorkspaces": self._list_workspaces,
                "createWorkspace": self._create_workspace,
                "workspaceHealth": self._workspace_health,
                "listConnectors": self._list_connectors,
            }
        }

    async def route(self, request: RpcRequest, emit: EmitEvent | None) -> RpcResponse | None:
        scope = request.scope
        if scope is None or scope.workspace_id is None:
            return None
        try:
            workspace = await self.global_max.workspace(scope.workspace_id)
        except MaxError as err:
            if err.has("NotFound"):
                raise ErrNodeNotFound(id=scope.workspace_id, cause=err) from err
            raise
        dispatcher = self._workspaces.get(workspace.id)
        if dispatcher is None or dispatcher.workspace is not workspace:
            dispatcher = self._workspaces[workspace.id] = WorkspaceDispatcher(workspace)
        return await dispatcher.dispatch(
            attrs.evolve(request, scope=scope.without_workspace()), emit
        )

    async def _health(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return to_wire(await self.global_max.health())

    async def _list_workspaces(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return to_wire(await self.global_max.list_workspaces())

    async def _create_workspace(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        (raw,) = positional(request, 1)
        args = from_wire(raw, CreateWorkspaceArgs, what="createWorkspace argument")
        return to_wire(await self.global_max.create_workspace(args.directory, force=args.force))

    async def _workspace_health(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return to_wire(await self.global_max.workspace_health())

    async def _list_connectors(self, request: RpcRequest, emit: EmitEvent | None) -> Any:
        positional(request, 0)
        return [
            {"name": e.name, "source": e.source, "location": e.location}
            for e in self.global_max.connectors().list()
        ]
