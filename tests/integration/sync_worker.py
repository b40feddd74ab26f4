"""One acme sync in its own process, to be killed: ``python tests/integration/sync_worker.py``.

    sync_worker.py --url URL --api-key KEY --db PATH [--resume SYNC_ID]

Opens the installation store at ``PATH``, starts the acme connector against the Acme server at
``URL`` and runs a new sync (or resumes ``SYNC_ID``). The first line of stdout is the sync id
(flushed before the sync touches the sync record); the last is the ``SyncResult`` as JSON.
A ``MaxError`` (e.g. a sync that cannot be resumed) is one line on stderr and exit status 2.

The wiring (``acme_installation``, ``sync_setup``) is also what the in-process integration
tests use, so both sides sync the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio

from maxtrio.connector import InMemoryCredentialStore, Installation, Platform
from maxtrio.connectors.acme import AcmeAppContext, AcmeSchema, connector
from maxtrio.core import MaxError
from maxtrio.execution import SyncResult, SyncSetup, resume_sync, run_sync
from maxtrio.storage import InstallationStore, open_installation_store

EXIT_MAX_ERROR = 2


@asynccontextmanager
async def acme_installation(url: str, api_key: str) -> AsyncIterator[Installation[AcmeAppContext]]:
    """The acme connector configured for ``url`` with ``api_key``, started for the block."""
    platform = Platform.for_connector(
        connector.definition, InMemoryCredentialStore({"api_token": api_key})
    )
    installation = connector.initialise({"baseUrl": url, "workspaceId": "any"}, platform)
    async with installation.running():
        yield installation


def sync_setup(
    store: InstallationStore, installation: Installation[AcmeAppContext], **options: Any
) -> SyncSetup:
    """What ``run_sync``/``resume_sync`` need for the acme connector on ``store``."""
    return SyncSetup(
        engine=store.engine,
        resolvers=connector.definition.resolvers,
        ctx=installation.context,
        task_store=store.task_store,
        sync_store=store.sync_store,
        **options,
    )


async def run_worker(url: str, api_key: str, db: str, resume: str | None) -> SyncResult:
    async with (
        acme_installation(url, api_key) as installation,
        open_installation_store(db, AcmeSchema) as store,
    ):
        setup = sync_setup(store, installation)
        if resume is not None:
            print(resume, flush=True)
            return await resume_sync(setup, resume)
        sync_id = await store.sync_store.next_id()
        print(sync_id, flush=True)
        return await run_sync(setup, seeder=connector.definition.seeder, sync_id=sync_id)


def single_max_error(exc: BaseException) -> MaxError | None:
    """``exc`` when it is a MaxError, alone or wrapped in (nested) one-member groups."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, MaxError) else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run (or resume) one acme sync into a data.db.")
    parser.add_argument("--url", required=True, help="the Acme server's base URL")
    parser.add_argument("--api-key", required=True, help="the tenant's API key")
    parser.add_argument("--db", required=True, help="the data.db to sync into")
    parser.add_argument("--resume", metavar="SYNC_ID", help="resume this sync instead")
    args = parser.parse_args(argv)
    try:
        result = trio.run(run_worker, args.url, args.api_key, args.db, args.resume)
    except BaseException as exc:
        err = single_max_error(exc)
        if err is None:
            raise
        print(f"sync_worker: {err.message}", file=sys.stderr, flush=True)
        return EXIT_MAX_ERROR
    print(json.dumps(result.to_json()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
