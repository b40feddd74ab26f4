"""The step scheduler: claims eligible steps and starts them within the concurrency limit.

The scheduler sleeps until something can have changed — a stage was scheduled, a step finished
and freed its slot, a run was resumed or a step retried — and, as a safety net for rows changed
by other processes, every ``MAXQ_SCHEDULER_INTERVAL_MS``. Each pass asks the store for
*eligible* steps only (readiness first, oldest ``queued_at`` first — Decision D10) and claims at
most ``min(free slots, MAXQ_SCHEDULER_BATCH_SIZE)`` of them.

Concurrency is one server-wide :class:`trio.CapacityLimiter` of ``MAXQ_MAX_CONCURRENT_STEPS``
tokens (``0`` claims nothing at all). A step task holds its token across all its attempts and
gives it back only after the step's terminal status is written, so the number of ``running``
rows never exceeds the limit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import attrs
import trio

from ._models import ClaimedStep
from ._store import FlowStore

log = logging.getLogger("maxtrio.flows.scheduler")


@attrs.frozen
class SchedulerStatistics:
    passes: int
    claimed: int
    running: int
    limit: int


class StepScheduler:
    """Claims steps from ``store`` and runs each through ``execute`` in its own task."""

    def __init__(
        self,
        store: FlowStore,
        execute: Callable[[ClaimedStep], Awaitable[None]],
        *,
        limiter: trio.CapacityLimiter,
        batch_size: int,
        interval_seconds: float,
        worker_id: str,
    ) -> None:
        self._store = store
        self._execute = execute
        self._limiter = limiter
        self._batch_size = batch_size
        self._interval = interval_seconds
        self._worker_id = worker_id
        self._wakeup = trio.Event()
        self._passes = 0
        self._claimed = 0

    def wake(self) -> None:
        """Ask for a pass as soon as possible (cheap; repeated calls coalesce)."""
        self._wakeup.set()

    def statistics(self) -> SchedulerStatistics:
        return SchedulerStatistics(
            passes=self._passes,
            claimed=self._claimed,
            running=int(self._limiter.borrowed_tokens),
            limit=int(self._limiter.total_tokens),
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Schedule until cancelled; step tasks live in this task's nursery."""
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                with trio.move_on_after(self._interval):
                    await self._wakeup.wait()
                self._wakeup = trio.Event()
                try:
                    await self._pass(nursery)
                except Exception:
                    # e.g. the database stayed locked by another process past the busy
                    # timeout: keep the server up and try again on the next pass.
                    log.exception("scheduler pass failed")

    async def _pass(self, nursery: trio.Nursery) -> None:
        self._passes += 1
        wanted = min(int(self._limiter.available_tokens), self._batch_size)
        if wanted <= 0:
            return
        claims = await self._store.claim_ready_steps(
            wanted, int(self._limiter.total_tokens), self._worker_id
        )
        for claim in claims:
            # Nobody else borrows from this limiter, so the tokens counted above are still free.
            token = object()
            self._limiter.acquire_on_behalf_of_nowait(token)
            nursery.start_soon(self._run_step, claim, token, name=f"step {claim.step_id}")
        self._claimed += len(claims)
        if len(claims) == wanted:
            self.wake()  # there may be more ready steps than one pass may claim

    async def _run_step(self, claim: ClaimedStep, token: object) -> None:
        try:
            await self._execute(claim)
        except Exception:
            log.exception("step %s of run %s crashed", claim.step_id, claim.run_id)
        finally:
            self._limiter.release_on_behalf_of(token)
            self.wake()
