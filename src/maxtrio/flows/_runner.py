"""Flow calls and step attempts: what happens when a script runs, and what its end means.

* **Flow calls**: the *initial* call (run creation, resume, retry) and the stage
  *callbacks* — ``MAXQ_COMPLETED_STAGE`` after a non-final stage completed, ``MAXQ_FAILED_STAGE``
  after a stage failed. Results of a call killed by abort/pause, or whose run was meanwhile
  terminated, paused or deleted, are ignored.
* **Steps**: attempt 0 then up to ``max_retries`` re-runs; every write is guarded by the
  claim token, so abort, pause, retry or deletion win over a late exit (D9).
* **Stage transitions** arrive here exactly once (D3): a completed final stage completes
  the run, a completed stage calls the flow back, a failed stage calls it back then fails the run.

Flow-call tasks live in :meth:`FlowRunner.run`'s nursery; step tasks in the scheduler's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal, TypeVarTuple, Unpack

import trio

from maxtrio.core import MaxError

from ._auth import ApiKey
from ._discovery import flow_script, step_script
from ._environment import flow_environment, step_environment
from ._errors import ErrLaunchCheck
from ._models import ClaimedStep, Run, StageTransition, StepWrite
from ._processes import ProcessOutcome, ProcessTable, run_script
from ._store import FlowCallKind, FlowStore

log = logging.getLogger("maxtrio.flows.runner")
Ts = TypeVarTuple("Ts")
StepOutcome = Literal["running", "completed", "failed"]


class FlowRunner:
    """Runs flow and step scripts for the runs in ``store``."""

    def __init__(
        self,
        store: FlowStore,
        *,
        flows_root: Path,
        api_url: str,
        base_environment: Mapping[str, str],
        capture_limit: int,
        processes: ProcessTable,
        api_key: ApiKey | None = None,
    ) -> None:
        self._store = store
        self._api_key = api_key
        self._flows_root = flows_root
        self._api_url = api_url
        self._base_environment = dict(base_environment)
        self._capture_limit = capture_limit
        self._processes = processes
        self._nursery: trio.Nursery | None = None
        # Flow calls running or about to start, per run (D7 needs "no other call in flight"),
        # and the exit status of the latest completion callback, settled when the last ends.
        self._calls_in_flight: dict[str, int] = {}
        self._unsettled_callback: dict[str, bool] = {}

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Host flow-call tasks until cancelled."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    # -- flow calls --------------------------------------------------------------------------

    def start_initial_call(self, run_id: str) -> None:
        """Launch the initial flow call of ``run_id`` (already marked ``running``)."""
        self._spawn(run_id, self._initial_call, run_id)

    def handle_transitions(self, transitions: Iterable[StageTransition]) -> None:
        """Act on stages that just became terminal (each transition is delivered once)."""
        for transition in transitions:
            self._spawn(transition.run_id, self._after_stage, transition)

    def _spawn(
        self, run_id: str, call: Callable[[Unpack[Ts]], Awaitable[None]], *args: *Ts
    ) -> None:
        assert self._nursery is not None, "FlowRunner.run is not running"
        self._calls_in_flight[run_id] = self._calls_in_flight.get(run_id, 0) + 1

        async def tracked() -> None:
            try:
                await call(*args)
            except Exception:
                log.exception("flow call of run %s crashed", run_id)
            finally:
                left = self._calls_in_flight[run_id] - 1
                if left:
                    self._calls_in_flight[run_id] = left
                else:
                    del self._calls_in_flight[run_id]
            if not left and run_id in self._unsettled_callback:
                await self._settle(run_id, self._unsettled_callback.pop(run_id))

        self._nursery.start_soon(tracked, name=f"flow call of run {run_id}")

    async def _initial_call(self, run_id: str) -> None:
        run = await self._store.runnable_for_flow_call(run_id, "initial")
        if run is None:
            return
        outcome = await self._call_flow(run, "initial")
        if outcome.killed:
            return
        # A call that never started (launch check, exec error) captured nothing on stdout.
        stdout = outcome.stdout if outcome.returncode is not None else None
        await self._store.finish_initial_call(
            run_id, stdout=stdout, stderr=outcome.stderr, succeeded=outcome.succeeded
        )

    async def _after_stage(self, transition: StageTransition) -> None:
        run_id = transition.run_id
        if transition.status == "completed" and transition.final:
            await self._store.complete_run(run_id)
            return
        run = await self._store.runnable_for_flow_call(run_id, "callback")
        if run is None:
            return
        if transition.status == "completed":
            outcome = await self._call_flow(run, "callback", completed_stage=transition.stage_name)
        else:
            outcome = await self._call_flow(run, "callback", failed_stage=transition.stage_name)
        if outcome.killed:
            return
        kind = "completion" if transition.status == "completed" else "failure"
        log.info(
            "%s callback of run %s for stage %r exited with %s",
            kind,
            run_id,
            transition.stage_name,
            outcome.returncode,
        )
        log.debug("callback stdout: %s\ncallback stderr: %s", outcome.stdout, outcome.stderr)
        if transition.status == "failed":
            await self._store.fail_run(run_id)
        else:
            # D7, settled once no other flow call of the run is running or about to start
            # (the initial call may still be exiting when a quick stage's callback ends).
            self._unsettled_callback[run_id] = outcome.succeeded

    async def _settle(self, run_id: str, callback_succeeded: bool) -> None:
        """D7: a run whose last completion callback scheduled nothing more ends with it."""
        try:
            await self._store.settle_run_after_callback(run_id, callback_succeeded)
        except Exception:
            log.exception("settling run %s failed", run_id)

    async def _call_flow(
        self,
        run: Run,
        kind: FlowCallKind,
        *,
        completed_stage: str | None = None,
        failed_stage: str | None = None,
    ) -> ProcessOutcome:
        try:
            script = flow_script(self._flows_root, run.flow_name)
            environment = flow_environment(
                self._base_environment,
                run_id=run.id,
                flow_name=run.flow_name,
                api_url=self._api_url,
                api_token=self._api_token(run.id),
                completed_stage=completed_stage,
                failed_stage=failed_stage,
            )
        except MaxError as exc:
            if not ErrLaunchCheck.matches(exc):
                raise
            log.warning("flow %r of run %s cannot be launched: %s", run.flow_name, run.id, exc)
            return ProcessOutcome(returncode=None, stdout="", stderr=exc.message)

        async def still_wanted() -> bool:
            return await self._store.runnable_for_flow_call(run.id, kind) is not None

        return await run_script(
            script,
            environment,
            capture_limit=self._capture_limit,
            table=self._processes,
            run_id=run.id,
            kind="flow",
            still_wanted=still_wanted,
        )

    def _api_token(self, run_id: str) -> str | None:
        """``MAXQ_API_TOKEN`` for the scripts of ``run_id`` when the API requires a key."""
        return None if self._api_key is None else self._api_key.run_token(run_id)

    # -- steps -------------------------------------------------------------------------------

    async def execute_step(self, claim: ClaimedStep) -> None:
        """Run a claimed step's attempts; return once its terminal status is written (or the
        claim was lost)."""
        for attempt in range(claim.max_retries + 1):
            try:
                script = step_script(self._flows_root, claim.flow_name, claim.step_name)
                environment = step_environment(
                    self._base_environment,
                    run_id=claim.run_id,
                    flow_name=claim.flow_name,
                    stage_name=claim.stage_name,
                    step_id=claim.step_id,
                    step_name=claim.step_name,
                    api_url=self._api_url,
                    api_token=self._api_token(claim.run_id),
                    user_env=claim.env,
                )
            except MaxError as exc:
                if not ErrLaunchCheck.matches(exc):
                    raise
                # Launch-check failures fail the step at once, without retries.
                write = await self._store.record_attempt(
                    claim,
                    attempt=attempt,
                    stdout=None,
                    stderr=f"Execution error: {exc.message}",
                    status="failed",
                )
                self._after_write(write)
                return

            async def still_wanted() -> bool:
                return await self._store.claim_is_current(claim)

            outcome = await run_script(
                script,
                environment,
                capture_limit=self._capture_limit,
                table=self._processes,
                run_id=claim.run_id,
                kind="step",
                step_id=claim.step_id,
                still_wanted=still_wanted,
            )
            if outcome.killed:
                return
            last = outcome.succeeded or attempt == claim.max_retries
            status: StepOutcome = (
                "completed" if outcome.succeeded else ("failed" if last else "running")
            )
            write = await self._store.record_attempt(
                claim,
                attempt=attempt,
                stdout=outcome.stdout,
                stderr=outcome.stderr,
                status=status,
            )
            if not write.applied or last:
                self._after_write(write)
                return

    def _after_write(self, write: StepWrite) -> None:
        if write.stage_transitions:
            self.handle_transitions(write.stage_transitions)
