"""``InstallationReader``: an installation opened to read what it stored, and nothing else.

``max search`` in direct mode opens the installation it reads for one command and exits: it
needs the schema and the entity engine, not the sync machinery. Opening a reader is
:meth:`InstallationMax.open <maxtrio.federation.InstallationMax.open>` with the entity engine
for the whole store (``_installation_start.started``: the same steps, order and errors) —
without the task, sync and sync-meta stores, the sync setup and the executor, and without
building a deferred connector definition, so the command imports neither ``maxtrio.execution``
(nor cattrs, which its task records load) nor the connector's loaders, operations and change
feed. The entity tables are brought up to the schema as on a full open; the execution tables
are left to the next full open (the first sync of a new installation creates them).

:meth:`WorkspaceMax.reading <maxtrio.federation.WorkspaceMax.reading>` hands one out for a block
(the live node instead, when the installation is open already); the workspace daemon, which
keeps its nodes open between commands, opens the whole installation as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from maxtrio.core import MaxUrl

from ._installation_start import started
from ._store_choice import open_engine

if TYPE_CHECKING:
    from maxtrio.connector import ConnectorModule
    from maxtrio.core import Engine, Schema

    from ._records import InstallationInfo


class InstallationReader:
    """An open installation's identity, schema and query engine (what a search reads)."""

    def __init__(
        self,
        info: InstallationInfo,
        connector: ConnectorModule,
        *,
        workspace_name: str,
        engine: Engine,
    ) -> None:
        self.info = info
        self.connector = connector
        self.workspace_name = workspace_name
        self._engine = engine

    def __repr__(self) -> str:
        return f"<InstallationReader {self.url} ({self.info.connector})>"

    @classmethod
    @asynccontextmanager
    async def open(
        cls, info: InstallationInfo, connector: ConnectorModule, *, workspace_name: str
    ) -> AsyncIterator[InstallationReader]:
        """Open the entity engine and start the connector (as ``InstallationMax.open`` opens
        the store and starts it, with the same errors); close both on exit."""
        async with started(info, connector, open_engine) as (engine, _installation):
            yield cls(info, connector, workspace_name=workspace_name, engine=engine)

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
        return self.connector.schema

    @property
    def engine(self) -> Engine:
        """The query engine on this installation's ``data.db`` (or PostgreSQL schema)."""
        return self._engine

    @property
    def store_label(self) -> str | None:
        """The PostgreSQL store's password-free label; None for a ``data.db``."""
        return self.info.deployment.store
