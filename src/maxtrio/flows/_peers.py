"""Servers sharing one PostgreSQL database: what each does about the others, every second.

* **Gone servers** (their lock is free, see ``_pg_store.py``): first the processes they left on
  this host are killed (scripts whose outermost script is no longer a child of a live server),
  then their ``running`` steps go back to ``pending`` and the scheduler is woken — a live
  server runs them again; completed steps are never touched. A run whose flow call (the flow
  script itself) was running in a gone server fails with ``server_restart``, as on a restart.
  Done at startup and then every :data:`SWEEP_SECONDS`.
* **Runs halted elsewhere**: a run aborted or paused through another server (or deleted) has
  its scripts in *this* server killed, as the server that took the request kills its own.
* **This server's own lock**: if the connection holding it is lost, peers may already be
  re-running our steps, so the server stops (``flows.database_unavailable``) instead of
  running on without it.
"""

from __future__ import annotations

import logging

import trio

from ._engine import FlowEngine
from ._errors import ErrDatabaseUnavailable
from ._orphans import kill_orphans
from ._pg_store import PgFlowStore, Requeued

log = logging.getLogger("maxtrio.flows.peers")

SWEEP_SECONDS = 1.0


class PeerWatch:
    """The sweeps of one server on a shared database."""

    def __init__(self, store: PgFlowStore, grace_seconds: float) -> None:
        self._store = store
        self._grace = grace_seconds

    async def recover(self) -> Requeued:
        """Kill what gone servers left on this host, then give their running steps back."""
        dead = await self._store.dead_servers()
        if not dead:
            return Requeued()
        live = await self._store.server_pids_on(self._store.identity.host)
        orphans = await kill_orphans(self._store.known_run_ids, self._grace, live_servers=live)
        if orphans:
            log.warning("killed %d processes left by servers that are gone", len(orphans))
        requeued = await self._store.requeue_steps_of(dead)
        if requeued.steps or requeued.failed_runs:
            log.warning(
                "%d running steps of %d gone servers are pending again; %d runs whose flow "
                "call died with its server failed (server_restart)",
                requeued.steps,
                len(requeued.servers),
                requeued.failed_runs,
            )
        return requeued

    async def run(
        self, engine: FlowEngine, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Sweep until cancelled; raise ``flows.database_unavailable`` when the lock is lost."""
        task_status.started()
        while True:
            await trio.sleep(SWEEP_SECONDS)
            if not await self._store.lease_alive():
                raise ErrDatabaseUnavailable(
                    database=self._store.label,
                    reason="the connection holding this server's lock was lost",
                    hint="restart the server; steps it was running are run again by its peers",
                )
            try:
                if (await self.recover()).steps:
                    engine.wake_scheduler()
                for run_id in await self._store.halted_runs(engine.processes.run_ids()):
                    await engine.processes.terminate_run(run_id, self._grace)
            except Exception:
                # e.g. the database restarted: the next sweep tries again.
                log.exception("peer sweep failed")
