"""``InstallationMax``: one connector, one data store — the installation tier (§11.3).

An installation node owns, for as long as it is open: its ``data.db``
(:class:`~maxtrio.storage.InstallationStore`: entity engine, task store, sync store, sync meta
on one file), its credential store (``credentials.json``, 0600), the connector's
:class:`~maxtrio.connector.Installation` (started, background tasks running) and one
:class:`~maxtrio.execution.FlowControllerProvider`, so every sync of the installation shares the
connector's declared limits.

It is opened by :meth:`InstallationMax.open` (an async context manager; the workspace tier
hosts it in the in-process deployer's nursery and opens it lazily, once per id).

``sync()`` runs in the caller's task: cancelling the caller (Ctrl-C) interrupts the sync,
which stays ``interrupted`` in the store and is resumed with ``sync(resume=<id>)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from maxtrio.connector import ConnectorModule, HealthStatus
from maxtrio.core import MaxUrl, Schema
from maxtrio.execution import EventCallback, RetryPolicy, SyncHandle, SyncRecord, SyncResult
from maxtrio.storage import SqliteEngine, SqliteSyncStore, SqliteTaskStore

from ._records import InstallationInfo, SyncSummary


class InstallationMax:
    """A live installation. Get one from :meth:`WorkspaceMax.installation`."""

    info: InstallationInfo
    connector: ConnectorModule
    workspace_name: str

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        info: InstallationInfo,
        connector: ConnectorModule,
        *,
        workspace_name: str,
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[InstallationMax]:
        """Open the store, read credentials, initialise and start the connector; close all
        on exit (also on cancellation)."""
        raise NotImplementedError
        yield  # type: ignore[unreachable]

    # -- identity ----------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def url(self) -> MaxUrl:
        """``max://@/<workspace>/<installation>``."""
        return MaxUrl.for_installation(self.workspace_name, self.info.name)

    @property
    def schema(self) -> Schema:
        return self.connector.definition.schema

    @property
    def engine(self) -> SqliteEngine:
        """The query engine on this installation's ``data.db``."""
        raise NotImplementedError

    @property
    def task_store(self) -> SqliteTaskStore:
        raise NotImplementedError

    @property
    def sync_store(self) -> SqliteSyncStore:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """``{"connector", "name", "id"}``."""
        raise NotImplementedError

    # -- syncing -----------------------------------------------------------------------------

    async def sync(
        self, *, on_event: EventCallback | None = None, resume: str | None = None
    ) -> SyncResult:
        """Seed and run a sync to its end (or resume sync ``resume``, without seeding).

        ``on_event`` receives every :class:`~maxtrio.execution.SyncEvent` in order. Runs in
        the caller's task: cancellation leaves the sync ``interrupted`` and resumable. An
        unknown ``resume`` id raises ``execution.sync_not_found``; a finished one
        ``execution.sync_not_resumable``.
        """
        raise NotImplementedError

    async def start_sync(self, *, resume: str | None = None) -> SyncHandle:
        """Start (or resume) a sync in the node's own nursery and return its handle at once
        (what the RPC ``sync`` method uses). Closing the node interrupts it."""
        raise NotImplementedError

    def sync_handle(self, sync_id: str) -> SyncHandle | None:
        """A sync started by :meth:`start_sync` on this node, by id."""
        raise NotImplementedError

    async def sync_history(self, limit: int = 10) -> list[SyncRecord]:
        """Past syncs, most recent first."""
        raise NotImplementedError

    async def last_sync(self) -> SyncSummary | None:
        """The most recent sync with its task counts, or None when never synced."""
        raise NotImplementedError

    # -- health ------------------------------------------------------------------------------

    async def health(self) -> HealthStatus:
        """The connector's own ``health()`` (bounded by its timeout, 10 s by default)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop this node (its workspace opens a fresh one on next use)."""
        raise NotImplementedError
