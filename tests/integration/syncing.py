"""Running acme syncs in-process for the integration tests (the wiring is ``sync_worker``'s)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maxtrio.connectors.acme import AcmeSchema, connector
from maxtrio.execution import RetryPolicy, SyncResult, run_sync
from maxtrio.storage import open_installation_store

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
