"""``GlobalMax``: the machine's Max — the workspace registry, connectors, resolution (§11.1).

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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from maxtrio.connector import ConnectorRegistry, HealthStatus
from maxtrio.core import MaxUrl

from ._home import MaxHome
from ._records import NodeHealth, ResolvedTarget, WorkspaceInfo
from ._resolve import cwd_context, target_url
from ._workspace import WorkspaceMax
from ._workspace_registry import WorkspaceRegistry


class GlobalMax:
    """The global tier. Open with ``async with GlobalMax.open(home) as g``."""

    home: MaxHome
    registry: WorkspaceRegistry

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        home: MaxHome | None = None,
        *,
        connectors: ConnectorRegistry | None = None,
        registry: WorkspaceRegistry | None = None,
    ) -> AsyncIterator[GlobalMax]:
        """Open the machine's Max. ``connectors`` defaults to discovery (entry points +
        ``<home>/collections``); ``registry`` to ``<home>/workspaces.json``."""
        raise NotImplementedError
        yield  # type: ignore[unreachable]

    @property
    def url(self) -> MaxUrl:
        return MaxUrl.global_()

    def connectors(self) -> ConnectorRegistry:
        """The connector registry (shared by every workspace of this process)."""
        raise NotImplementedError

    # -- workspaces --------------------------------------------------------------------------

    async def list_workspaces(self) -> list[WorkspaceInfo]:
        """Registered workspaces, sorted by name."""
        raise NotImplementedError

    async def create_workspace(
        self, directory: str | os.PathLike[str], *, force: bool = False
    ) -> WorkspaceInfo:
        """``max init``: provision ``directory`` (``.max/`` 0700, ``max.json`` ``{}``,
        ``.gitignore``) and register it under its basename.

        Errors: ``bun-platform.cannot_initialise_project`` when ``directory`` is inside a
        project and not ``force``; ``app.workspace_already_exists`` when another directory is
        registered under the same name and not ``force`` (with ``force`` it is replaced).
        Re-initialising the same directory keeps its id.
        """
        raise NotImplementedError

    async def workspace(self, name_or_id: str) -> WorkspaceMax:
        """The live workspace (name first, then id). Unknown →
        ``app.workspace_handle_not_found``; a missing directory →
        ``app.workspace_directory_missing``."""
        raise NotImplementedError

    async def workspace_health(self) -> list[NodeHealth]:
        """Each registered workspace with its health (``unhealthy (directory missing)`` when
        its root is gone)."""
        raise NotImplementedError

    async def health(self) -> HealthStatus:
        """Aggregate of the workspaces (reason ``<n> workspace(s) checked``)."""
        raise NotImplementedError

    # -- targeting ---------------------------------------------------------------------------

    def cwd_context(self, directory: str | os.PathLike[str]) -> MaxUrl:
        """§5.3; see :func:`maxtrio.federation.cwd_context`."""
        return cwd_context(directory)

    def target_url(self, value: str, cwd_url: MaxUrl) -> MaxUrl:
        """§5.4; see :func:`maxtrio.federation.target_url`."""
        return target_url(value, cwd_url)

    async def resolve(self, url: MaxUrl, *, cwd: Path | None = None) -> ResolvedTarget:
        """Resolve ``url`` to live nodes (§5.5).

        Errors: ``app.remote_url_not_supported``; ``app.workspace_not_resolved`` (with
        ``data["hint"]`` = ``this directory is a Max project but is not registered; run
        'max init --force .'`` when ``cwd`` is inside an unregistered project of that name);
        ``app.installation_not_resolved``.
        """
        raise NotImplementedError
