"""``ConnectorHarness``: a connector installation on an in-memory ``data.db``, for tests.

It runs the same sync as ``max sync`` (seeder, plan, complete listings and removals, the change
feed) without a workspace, a daemon or files::

    harness = ConnectorHarness(connector, {"path": "/tmp/items.json"})
    result = await harness.sync()
    rows = await harness.rows(NotesItem)
    harness.close()

``installation=`` takes one built by the connector's own seam (e.g. with a fake client).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from maxtrio.core import EntityDef, EntityResult, PageRequest, Projection

from ._credentials import InMemoryCredentialStore
from ._installation import ConnectorModule, Installation, Platform

if TYPE_CHECKING:  # imported when used: connectors importing the SDK need not load the engine
    from maxtrio.execution import SyncResult
    from maxtrio.storage import InstallationStore


class ConnectorHarness:
    """One installation of ``module`` on a private in-memory store (see the module docstring)."""

    def __init__(
        self,
        module: ConnectorModule,
        config: Mapping[str, Any] | None = None,
        *,
        installation: Installation[Any] | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.module = module
        if installation is None:
            store = InMemoryCredentialStore(dict(credentials or {}))
            platform = Platform.for_connector(module.definition, store)
            installation = module.initialise(dict(config or {}), platform)
        self.installation = installation
        from maxtrio.storage import open_installation_store

        self.store: InstallationStore = open_installation_store(":memory:", module.schema)

    async def sync(self, *, full: bool = False) -> SyncResult:
        """One sync to its end, as ``max sync`` runs it (incremental when the feed allows)."""
        from maxtrio.execution import SyncSetup, run_sync

        definition = self.module.definition
        setup = SyncSetup(
            engine=self.store.engine,
            resolvers=definition.resolvers,
            ctx=self.installation.context,
            task_store=self.store.task_store,
            sync_store=self.store.sync_store,
            change_feed=definition.change_feed,
            freshness=self.store.sync_meta,
        )
        async with self.installation.running():
            return await run_sync(setup, seeder=definition.seeder, full=full)

    async def rows(self, entity: EntityDef) -> list[EntityResult]:
        """Every stored row of ``entity``, in id order, with every field."""
        rows: list[EntityResult] = []
        cursor: str | None = None
        while True:
            page = await self.store.engine.load_page(
                entity, Projection.all(), PageRequest(cursor, 1000)
            )
            rows.extend(item for item in page.items if isinstance(item, EntityResult))
            if not page.has_more or not page.cursor:
                return rows
            cursor = page.cursor

    def close(self) -> None:
        self.store.close()
