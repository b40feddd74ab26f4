"""The server: lock the data dir, open the store, clean up after a previous server, listen,
schedule.

:func:`serve` is the whole lifetime of one server inside ``trio.run``: startup cleanup (orphan
processes, interrupted runs) before the socket exists, then hypercorn's trio worker and the
engine in one nursery. The data dir's lock (``_lock.py``) is held for the whole lifetime, so a
second server on the same data dir refuses to start instead of "cleaning up" this one's runs.

With ``MAXQ_DATABASE_URL`` the tables are in PostgreSQL and several servers may share them: no
data dir lock, no "fail every interrupted run" at startup — each server holds its own lock in
the database and the sweeps of ``_peers.py`` recover what a gone server left, at startup and
while serving.
SIGTERM or SIGINT cancels that nursery: running scripts' process groups
are killed, the database is closed, and the call returns — well within the 2 s harnesses allow.
Run state is left to the next startup's cleanup.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio.run import worker_serve
from hypercorn.utils import wrap_app

from maxtrio.core import MaxError

from ._api import create_app
from ._auth import ApiKey
from ._clock import MonotonicMsClock
from ._config import FlowsConfig
from ._engine import FlowEngine
from ._lock import DataDirLock
from ._orphans import kill_orphans
from ._sqlite_store import SqliteFlowStore
from ._store import FlowStore

if TYPE_CHECKING:
    from ._peers import PeerWatch

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
    data dir, ``flows.database_unavailable`` when the PostgreSQL database cannot be used.
    """
    if config.database_url is not None:
        await _serve_shared(config, config.database_url, base_environment, task_status)
        return
    lock = DataDirLock.acquire(config.data_dir)
    try:
        store = await SqliteFlowStore.open(config.database_path, MonotonicMsClock())
        try:
            orphans = await kill_orphans(store.known_run_ids, config.abort_grace_ms / 1000)
            if orphans:
                log.warning("killed %d processes left by a previous server", len(orphans))
            interrupted = await store.fail_interrupted_runs()
            if interrupted:
                log.warning("marked %d interrupted runs as failed (server_restart)", interrupted)
            await _serve_store(store, config, base_environment, task_status)
        finally:
            with trio.CancelScope(shield=True):
                await store.close()
    finally:
        lock.release()


async def _serve_shared(
    config: FlowsConfig,
    url: str,
    base_environment: Mapping[str, str],
    task_status: trio.TaskStatus[int],
) -> None:
    from ._peers import PeerWatch
    from ._pg_store import PgFlowStore

    store = await PgFlowStore.open(url, MonotonicMsClock())
    log.info("flows tables in %s; this server is %s", store.label, store.identity.id)
    try:
        watch = PeerWatch(store, config.abort_grace_ms / 1000)
        await watch.recover()
        await _serve_store(
            store,
            config,
            base_environment,
            task_status,
            worker_id=store.identity.id,
            watch=watch,
        )
    finally:
        with trio.CancelScope(shield=True):
            await store.close()


async def _serve_store(
    store: FlowStore,
    config: FlowsConfig,
    base_environment: Mapping[str, str],
    task_status: trio.TaskStatus[int],
    *,
    worker_id: str | None = None,
    watch: PeerWatch | None = None,
) -> None:
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
        worker_id=worker_id,
        api_key=api_key,
    )
    asgi_app: Any = create_app(engine, environment=config.environment, api_key=api_key)
    app = wrap_app(asgi_app, 0, "asgi")
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(_cancel_on_signal, nursery.cancel_scope)
            await nursery.start(
                lambda task_status: worker_serve(
                    app, http, sockets=sockets, task_status=task_status
                )
            )
            await nursery.start(engine.run)
            if watch is not None:
                await nursery.start(watch.run, engine)
            print(f"Server running on {config.host}:{port}", flush=True)
            task_status.started(port)
    except BaseExceptionGroup as group:
        # A task that ends the server with a reason (e.g. the peer watch's lost lock): that
        # reason, not the nursery's group, is what the entry points print.
        reasons = group.subgroup(MaxError)
        if reasons is None:
            raise
        first: BaseException = reasons
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    finally:
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
