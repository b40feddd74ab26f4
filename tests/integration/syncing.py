"""Running acme syncs in-process for the integration tests (the wiring is ``sync_worker``'s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs

from maxtrio.connectors.acme import AcmeSchema, connector
from maxtrio.core import SeederEnv, SyncPlan
from maxtrio.execution import RetryPolicy, SyncResult, SyncSetup, run_sync
from maxtrio.storage import InstallationStore, open_installation_store

from .sync_worker import acme_installation, sync_setup

FAST_RETRIES = RetryPolicy(attempts=20, base=0.001, cap=0.01)
"""Retries that do not slow a test down, and enough of them that 40 % faults never exhaust."""


async def sync_into(db: Path, url: str, api_key: str, **options: Any) -> SyncResult:
    """One acme sync of the Acme API at ``url`` into ``db``; ``options`` go to ``SyncSetup``."""
    async with (
        acme_installation(url, api_key) as installation,
        open_installation_store(db, AcmeSchema) as store,
    ):
        setup = sync_setup(store, installation, **options)
        return await run_sync(setup, seeder=connector.definition.seeder)


@attrs.frozen(eq=False)
class Sync:
    """A sync ready to start (``setup.executor().running(plan)``) and the store it writes to."""

    setup: SyncSetup
    plan: SyncPlan
    store: InstallationStore


@asynccontextmanager
async def prepared_sync(db: Path, url: str, api_key: str, **options: Any) -> AsyncIterator[Sync]:
    """The acme sync of ``url`` into ``db``, seeded (root stored, plan made) but not started,
    for tests that need its handle."""
    async with (
        acme_installation(url, api_key) as installation,
        open_installation_store(db, AcmeSchema) as store,
    ):
        setup = sync_setup(store, installation, **options)
        plan = await connector.definition.seeder.seed(SeederEnv(setup.ctx, setup.engine))
        yield Sync(setup, plan, store)
