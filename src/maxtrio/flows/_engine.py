"""The workflow engine: the operations the HTTP API offers, over the store, runner and scheduler.

:class:`FlowEngine` owns the pieces with in-memory state — the live-process table and the
concurrency limiter — and runs the runner and the scheduler in its nursery. Each operation is a
store transaction followed, where the contract asks, by process work (kill on abort/pause) or
by a wake-up (schedule, retry). Operations that launch the flow *after* the HTTP response
(create, resume, retry) are split in two: the store transition returns the run for the response
and :meth:`FlowEngine.launch_initial_call` starts the flow once the response is out.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import trio

from ._auth import ApiKey
from ._config import FlowsConfig
from ._discovery import read_flow_title
from ._models import Run, StepSpec
from ._processes import ProcessTable
from ._runner import FlowRunner
from ._scheduler import SchedulerStatistics, StepScheduler
from ._store import ControlOutcome, FlowStore, RetryStepOutcome, ScheduledStage


@attrs.frozen
class KillingOutcome:
    """Abort or pause: the store outcome plus how many processes the run had when it began."""

    outcome: ControlOutcome
    processes_killed: int


class FlowEngine:
    """Runs flows for ``store`` under ``config``; start with ``await nursery.start(engine.run)``."""

    def __init__(
        self,
        store: FlowStore,
        config: FlowsConfig,
        *,
        api_url: str,
        base_environment: Mapping[str, str],
        worker_id: str | None = None,
        api_key: ApiKey | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.processes = ProcessTable()
        self.limiter = trio.CapacityLimiter(config.max_concurrent_steps)
        self.runner = FlowRunner(
            store,
            flows_root=config.flows_root,
            api_url=api_url,
            base_environment=base_environment,
            capture_limit=config.max_log_capture,
            processes=self.processes,
            api_key=api_key,
        )
        self.scheduler = StepScheduler(
            store,
            self.runner.execute_step,
            limiter=self.limiter,
            batch_size=config.scheduler_batch_size,
            interval_seconds=config.scheduler_interval_ms / 1000,
            worker_id=worker_id or socket.gethostname(),
        )

    @property
    def grace_seconds(self) -> float:
        return self.config.abort_grace_ms / 1000

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run the flow-call host and the scheduler until cancelled."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self.runner.run)
            await nursery.start(self.scheduler.run)
            task_status.started()

    def statistics(self) -> SchedulerStatistics:
        return self.scheduler.statistics()

    # -- runs --------------------------------------------------------------------------------

    async def create_run(self, flow_name: str, input: Any, metadata: Any) -> Run:
        """Insert the run and mark it ``running``; the caller launches it after responding."""
        title = await trio.to_thread.run_sync(read_flow_title, self.config.flows_root, flow_name)
        return await self.store.create_run(
            flow_name=flow_name, input=input, metadata=metadata, flow_title=title
        )

    def launch_initial_call(self, run_id: str) -> None:
        """Start the initial flow call (after the response of create, resume or retry)."""
        self.runner.start_initial_call(run_id)

    async def schedule_stage(
        self, run_id: str, stage_name: str, final: bool, steps: Sequence[StepSpec]
    ) -> ScheduledStage:
        scheduled = await self.store.schedule_stage(run_id, stage_name, final, steps)
        if steps:
            self.scheduler.wake()
        else:
            # D6: a stage without steps is complete as soon as it exists.
            transition = await self.store.settle_stage(scheduled.stage_id)
            if transition is not None:
                self.runner.handle_transitions([transition])
        return scheduled

    # -- control operations -------------------------------------------------------------------

    async def abort(self, run_id: str) -> KillingOutcome:
        """Database first (D9), then SIGTERM / grace / SIGKILL the run's process groups."""
        count = self.processes.count(run_id)
        outcome = await self.store.abort_run(run_id, count, self.config.abort_grace_ms)
        if outcome.applied:
            await self.processes.terminate_run(run_id, self.grace_seconds)
        return KillingOutcome(outcome, count)

    async def pause(self, run_id: str) -> KillingOutcome:
        count = self.processes.count(run_id)
        outcome = await self.store.pause_run(run_id, count, self.config.abort_grace_ms)
        if outcome.applied:
            await self.processes.terminate_run(run_id, self.grace_seconds)
        return KillingOutcome(outcome, count)

    async def resume(self, run_id: str) -> ControlOutcome:
        """paused → pending → running; the caller launches the flow after responding."""
        return await self.store.resume_run(run_id)

    async def retry_run(self, run_id: str) -> ControlOutcome:
        """Reset what did not complete; the caller launches the flow after responding."""
        return await self.store.retry_run(run_id)

    async def retry_step(self, run_id: str, step_id: str, cascade: bool) -> RetryStepOutcome:
        """Reset and re-queue a failed step (and its dependants); the caller wakes the
        scheduler after responding so the response shows them ``pending``."""
        return await self.store.retry_step(run_id, step_id, cascade)

    def wake_scheduler(self) -> None:
        self.scheduler.wake()
