"""The server: lock the data dir, open the store, clean up after a previous server, listen,
schedule.

:func:`serve` is the whole lifetime of one server inside ``trio.run``: startup cleanup (orphan
processes, interrupted runs) before the socket exists, then hypercorn's trio worker and the
engine in one nursery. The data dir's lock (``_lock.py``) is held for the whole lifetime, so a
second server on the same data dir refuses to start instead of "cleaning up" this one's runs.
SIGTERM or SIGINT cancels that nursery: running scripts' process groups
are killed, the database is closed, and the call returns — well within the 2 s harnesses allow.
Run state is left to the next startup's cleanup.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Mapping
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio.run import worker_serve
from hypercorn.utils import wrap_app

from ._api import create_app
from ._auth import ApiKey
from ._clock import MonotonicMsClock
from ._config import FlowsConfig
from ._engine import FlowEngine
from ._lock import DataDirLock
from ._orphans import kill_orphans
from ._sqlite_store import SqliteFlowStore

log = logging.getLogger("maxtrio.flows.server")

KEEP_ALIVE_SECONDS = 30  # clients pool connections; the harness needs >= 5 s


async def serve(
    config: FlowsConfig,
    *,
    base_environment: Mapping[str, str],
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until SIGTERM/SIGINT or cancellation; ``task_status`` receives the bound port.

    Raise ``flows.data_dir_in_use`` (before touching anything) when another server holds the
    data dir.
    """
    lock = DataDirLock.acquire(config.data_dir)
    try:
        await _serve_locked(config, base_environment, task_status)
    finally:
        lock.release()


async def _serve_locked(
    config: FlowsConfig,
    base_environment: Mapping[str, str],
    task_status: trio.TaskStatus[int],
) -> None:
    store = await SqliteFlowStore.open(config.database_path, MonotonicMsClock())
    try:
        orphans = await kill_orphans(store.known_run_ids, config.abort_grace_ms / 1000)
        if orphans:
            log.warning("killed %d processes left by a previous server", len(orphans))
        interrupted = await store.fail_interrupted_runs()
        if interrupted:
            log.warning("marked %d interrupted runs as failed (server_restart)", interrupted)

        http = _hypercorn_config(config)
        sockets = http.create_sockets()
        for sock in sockets.insecure_sockets:
            sock.listen(http.backlog)
        port = int(sockets.insecure_sockets[0].getsockname()[1])
        api_key = ApiKey(config.api_key) if config.api_key else None
        engine = FlowEngine(
            store,
            config,
            api_url=config.api_url_for(port),
            base_environment=base_environment,
            api_key=api_key,
        )
        asgi_app: Any = create_app(engine, environment=config.environment, api_key=api_key)
        app = wrap_app(asgi_app, 0, "asgi")
        async with trio.open_nursery() as nursery:
            await nursery.start(_cancel_on_signal, nursery.cancel_scope)
            await nursery.start(
                lambda task_status: worker_serve(
                    app, http, sockets=sockets, task_status=task_status
                )
            )
            await nursery.start(engine.run)
            print(f"Server running on {config.host}:{port}", flush=True)
            task_status.started(port)
    finally:
        with trio.CancelScope(shield=True):
            await store.close()
        sys.stdout.flush()


def _hypercorn_config(config: FlowsConfig) -> HypercornConfig:
    http = HypercornConfig()
    http.bind = [
        f"[{config.host}]:{config.port}" if ":" in config.host else f"{config.host}:{config.port}"
    ]
    http.keep_alive_timeout = KEEP_ALIVE_SECONDS
    http.graceful_timeout = 0.5
    http.errorlog = logging.getLogger("maxtrio.flows.http")
    http.accesslog = (
        logging.getLogger("maxtrio.flows.access")
        if config.log_level in ("trace", "debug")
        else None
    )
    return http


async def _cancel_on_signal(
    scope: trio.CancelScope, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        task_status.started()
        async for signum in signals:
            log.info("received %s, shutting down", signal.Signals(signum).name)
            scope.cancel()
            return
