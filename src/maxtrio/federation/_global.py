"""``GlobalMax``: the machine's Max — the workspace registry, connectors, resolution.

::

    async with GlobalMax.open() as g:                 # MaxHome.from_env() by default
        ws = await g.create_workspace(Path("my-project"))
        target = await g.resolve(g.target_url("my-project/acme-1", g.cwd_context(Path.cwd())))
        result = await target.installation.sync()

``open`` owns a nursery: every workspace and installation opened through it is hosted there
(in-process deployer) and closed, newest first, when the block exits — also on Ctrl-C.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from maxtrio.connector import HealthStatus
from maxtrio.core import MaxError, MaxLevel, MaxUrl

from ._deployer import InProcessDeployer, close_deployer
from ._errors import (
    ErrCannotInitialiseProject,
    ErrInstallationNotResolved,
    ErrRemoteUrlNotSupported,
    ErrWorkspaceDirectoryMissing,
    ErrWorkspaceHandleNotFound,
    ErrWorkspaceNotResolved,
)
from ._health import DIRECTORY_MISSING, aggregate_health
from ._home import MaxHome
from ._identity import (
    identify,
    is_workspace,
    moved_entry,
    rekey,
    unique_name,
    write_workspace_id,
)
from ._provision import CONFIG_FILE_NAME, DATA_DIR_NAME, provision_workspace
from ._records import (
    DeploymentConfig,
    ResolvedTarget,
    WorkspaceInfo,
    WorkspaceSpec,
    now_iso,
)
from ._resolve import cwd_context, find_project_root, target_url
from ._workspace_registry import FileWorkspaceRegistry, WorkspaceRegistry

if TYPE_CHECKING:
    from maxtrio.connector import ConnectorRegistry
    from maxtrio.execution import RetryPolicy

    from ._status import NodeHealth
    from ._workspace import WorkspaceMax

UNREGISTERED_PROJECT_HINT = (
    "this directory is a Max project but is not registered; run 'max init --force .'"
)
ALREADY_IN_PROJECT = "you are already in a max project! Use `force=true` to create one here anyway."


class GlobalMax:
    """The global tier. Open with ``async with GlobalMax.open(home) as g``."""

    def __init__(
        self,
        home: MaxHome,
        *,
        registry: WorkspaceRegistry,
        deployer: InProcessDeployer,
        connectors: ConnectorRegistry | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.home = home
        self.registry = registry
        self._deployer = deployer
        self._connectors = connectors
        self._retry = retry
        self._workspaces: dict[str, WorkspaceMax] = {}

    def __repr__(self) -> str:
        return f"<GlobalMax {self.home.root}>"

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        home: MaxHome | None = None,
        *,
        connectors: ConnectorRegistry | None = None,
        registry: WorkspaceRegistry | None = None,
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[GlobalMax]:
        """Open the machine's Max. ``connectors`` defaults to discovery (entry points +
        ``<home>/collections``, on first use); ``registry`` to ``<home>/workspaces.json``;
        ``retry`` is the retry policy of every sync (the executor's default otherwise)."""
        home = home if home is not None else MaxHome.from_env()
        registry = registry if registry is not None else FileWorkspaceRegistry(home)
        async with trio.open_nursery() as nursery:
            deployer = InProcessDeployer(nursery)
            try:
                yield cls(
                    home, registry=registry, deployer=deployer, connectors=connectors, retry=retry
                )
            finally:
                await close_deployer(deployer, nursery)

    @property
    def url(self) -> MaxUrl:
        return MaxUrl.global_()

    def connectors(self) -> ConnectorRegistry:
        """The connector registry (discovered on first use, shared by every workspace)."""
        from maxtrio.connector import ConnectorRegistry

        if self._connectors is None:
            self._connectors = ConnectorRegistry.discover(max_home=self.home.root)
        return self._connectors

    # -- workspaces --------------------------------------------------------------------------

    async def list_workspaces(self) -> list[WorkspaceInfo]:
        """Registered workspaces, sorted by name."""
        return await trio.to_thread.run_sync(self.registry.list)

    async def find_workspace(self, name_or_id: str) -> WorkspaceInfo | None:
        """Names first, then ids."""
        return await trio.to_thread.run_sync(self.registry.find, name_or_id)

    async def create_workspace(
        self, directory: str | os.PathLike[str], *, force: bool = False
    ) -> WorkspaceInfo:
        """``max init``: provision ``directory`` (``.max/`` 0700, ``max.json`` ``{}``,
        ``.gitignore``), keep its id in ``.max/workspace.json`` and register it.

        Identity is the path (see ``_identity``): the name is the base name, or ``<base>-2``…
        when another directory has it (a registration whose directory is gone gives its name
        up). Re-initialising the same directory keeps its id and name; a moved workspace keeps
        its id. Errors: ``bun-platform.cannot_initialise_project`` when ``directory`` is
        inside a project and not ``force``.
        """
        return await trio.to_thread.run_sync(self._create_workspace, Path(directory), force)

    def _create_workspace(self, directory: Path, force: bool) -> WorkspaceInfo:
        root = directory.expanduser().resolve()
        if not force:
            existing_root = find_project_root(root)
            if existing_root is not None:
                raise ErrCannotInitialiseProject(
                    maxProjectRoot=str(existing_root), context=ALREADY_IN_PROJECT
                )
        if not root.name:
            raise ErrCannotInitialiseProject(
                maxProjectRoot=str(root), context="the file system root cannot be a project"
            )
        entries = self.registry.list()
        here = next((w for w in entries if w.root == root), None)
        moved = moved_entry(root, entries, by_name=False) if here is None else None
        try:
            provision_workspace(root)
        except OSError as exc:
            reason = f"{exc.strerror or exc}: {exc.filename or root}"
            raise ErrCannotInitialiseProject(
                maxProjectRoot=str(root), context=reason, cause=exc
            ) from exc
        if moved is not None:
            return rekey(self.registry, moved, root)
        if here is not None:
            workspace_id, name = here.id, here.name
        else:
            workspace_id, name = str(uuid.uuid4()), self._free_name(root, entries)
        info = WorkspaceInfo(
            id=workspace_id,
            name=name,
            connected_at=now_iso(),
            config=DeploymentConfig.in_process(root / DATA_DIR_NAME),
            spec=WorkspaceSpec(name),
        )
        self.registry.add(info)
        write_workspace_id(root, workspace_id)
        return info

    @staticmethod
    def _free_name(root: Path, entries: list[WorkspaceInfo]) -> str:
        """The base name — taken over from a registration whose directory is gone — or the
        first free ``<base>-N``."""
        holder = next((w for w in entries if w.name == root.name), None)
        if holder is not None and not is_workspace(holder.root):
            return root.name  # ``add`` replaces the dead registration
        return unique_name(root.name, entries)

    async def workspace(self, name_or_id: str) -> WorkspaceMax:
        """The live workspace (name first, then id). Unknown →
        ``app.workspace_handle_not_found``; a missing directory →
        ``app.workspace_directory_missing``."""
        info = await self.find_workspace(name_or_id)
        if info is None:
            raise ErrWorkspaceHandleNotFound(workspace=name_or_id)
        return await self._live_workspace(info)

    async def _live_workspace(self, info: WorkspaceInfo) -> WorkspaceMax:
        from ._workspace import WorkspaceMax

        live = self._workspaces.get(info.id)
        if live is not None and live.info.root == info.root:
            return live
        if not await trio.Path(info.root / CONFIG_FILE_NAME).exists():
            raise ErrWorkspaceDirectoryMissing(workspace=info.name, root=str(info.root))
        workspace = WorkspaceMax(
            info, connectors=self.connectors, deployer=self._deployer, retry=self._retry
        )
        self._workspaces[info.id] = workspace
        return workspace

    async def workspace_health(self) -> list[NodeHealth]:
        """Each registered workspace with its health (``unhealthy (directory missing)`` when
        its root is gone; otherwise the aggregate of its open installations)."""
        from ._status import NodeHealth

        out: list[NodeHealth] = []
        for info in await self.list_workspaces():
            try:
                workspace = await self._live_workspace(info)
            except MaxError:
                status = HealthStatus.unhealthy(DIRECTORY_MISSING)
            else:
                status = await workspace.health()
            out.append(NodeHealth(info.id, info.name, self.url.child(info.name), status))
        return out

    async def health(self) -> HealthStatus:
        """Aggregate of the workspaces (reason ``<n> workspace(s) checked``)."""
        return aggregate_health([w.health for w in await self.workspace_health()], "workspace")

    # -- targeting ---------------------------------------------------------------------------

    def cwd_context(self, directory: str | os.PathLike[str]) -> MaxUrl:
        """See :func:`maxtrio.federation.cwd_context` (names from this registry)."""
        return cwd_context(directory, self.registry)

    def target_url(self, value: str, cwd_url: MaxUrl) -> MaxUrl:
        """A ``-t`` value as a URL; see :func:`maxtrio.federation.target_url`."""
        return target_url(value, cwd_url)

    def _unregistered_here(self, cwd: str | os.PathLike[str] | None, segment: str) -> Path | None:
        """The project root ``cwd`` is in when it is named ``segment`` and not registered."""
        root = find_project_root(cwd) if cwd is not None else None
        if root is None or root.name != segment or identify(root, self.registry) is not None:
            return None
        return root

    async def resolve(
        self, url: MaxUrl, *, cwd: str | os.PathLike[str] | None = None
    ) -> ResolvedTarget:
        """Resolve ``url`` to live nodes; installations are opened (once per id).

        Errors: ``app.remote_url_not_supported``; ``app.workspace_not_resolved`` (with
        ``data["hint"]`` when ``cwd`` is inside an unregistered project of that name);
        ``app.installation_not_resolved``; ``app.workspace_directory_missing``;
        ``app.installation_unavailable`` when the installation cannot start.
        """
        if not url.is_local:
            raise ErrRemoteUrlNotSupported(url=str(url))
        segment = url.workspace
        if segment is None:
            return ResolvedTarget(url, MaxLevel.GLOBAL)
        info = await self.find_workspace(segment)
        if info is None or cwd is not None:
            unregistered = await trio.to_thread.run_sync(self._unregistered_here, cwd, segment)
            if info is None or (unregistered and info.root != unregistered):
                # a copy of a registered workspace is not that workspace (see ``_identity``)
                data: dict[str, str] = {"segment": segment, "url": str(url)}
                if unregistered is not None:
                    data["hint"] = UNREGISTERED_PROJECT_HINT
                raise ErrWorkspaceNotResolved(**data)
        workspace = await self._live_workspace(info)
        if url.installation is None:
            return ResolvedTarget(url, MaxLevel.WORKSPACE, workspace)
        found = await workspace.find_installation(url.installation)
        if found is None:
            raise ErrInstallationNotResolved(
                segment=url.installation, workspace=workspace.name, url=str(url)
            )
        installation = await workspace.installation(found.id)
        return ResolvedTarget(url, MaxLevel.INSTALLATION, workspace, installation)
