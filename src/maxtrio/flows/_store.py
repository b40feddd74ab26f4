"""The store protocol: every read and write the engine and the API make, and their results.

The database is the single source of truth: implementations keep no run, stage or
step state in memory, and each method is one transaction. State transitions that must be atomic
with their guard — claim a step, record an attempt guarded by its claim token, abort, pause —
are single methods so that a SQL (SQLite now, PostgreSQL later) implementation can make them one
transaction. No SQL leaks out of an implementation; the scheduler and API see only this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

import attrs

from ._models import (
    ClaimedStep,
    FieldsItem,
    Run,
    RunLog,
    StageTransition,
    Step,
    StepSpec,
    StepWrite,
)


@attrs.frozen
class RunListQuery:
    flow_name: str | None = None
    status: str | None = None
    limit: int = 20
    offset: int = 0
    sort_by_created: bool = True
    descending: bool = True


@attrs.frozen
class LogQuery:
    entity_type: str | None = None
    entity_id: str | None = None
    level: str | None = None
    before: int | None = None
    after: int | None = None
    limit: int = 100


@attrs.frozen
class NewLog:
    entity_type: str
    level: str
    message: str
    entity_id: str | None = None
    metadata: Any = None


@attrs.frozen
class ScheduledStage:
    stage_id: str
    stage_name: str
    step_ids: tuple[str, ...]


@attrs.frozen
class ControlOutcome:
    """Result of abort / pause / resume / retry.

    ``previous`` is the run before the request (None: no such run); ``applied`` says whether the
    transition happened; ``current`` is the run as the response shows it.
    """

    previous: Run | None
    applied: bool = False
    current: Run | None = None


@attrs.frozen
class RetryStepOutcome:
    """Result of retry-step; ``step`` is None when the step does not exist."""

    run: Run | None
    step: Step | None = None
    applied: bool = False
    cascaded: tuple[Step, ...] = ()


FlowCallKind = Literal["initial", "callback"]


class FlowStore(Protocol):
    """Persistence of runs, stages, steps and run logs."""

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when a trivial query succeeds (health check)."""
        ...

    # -- runs --------------------------------------------------------------------------------

    async def create_run(
        self, *, flow_name: str, input: Any, metadata: Any, flow_title: str | None
    ) -> Run:
        """Insert a ``pending`` run, then mark it ``running``; return it as inserted."""
        ...

    async def get_run(self, run_id: str) -> Run | None: ...

    async def list_runs(self, query: RunListQuery) -> tuple[list[Run], int]:
        """One page of runs and the number matching the filters."""
        ...

    async def update_run(self, run_id: str, changes: Mapping[str, Any]) -> Run | None:
        """PATCH: overwrite the given columns (no state machine); None when the run is missing."""
        ...

    # -- stages, steps, fields ---------------------------------------------------------------

    async def schedule_stage(
        self, run_id: str, stage_name: str, final: bool, steps: Sequence[StepSpec]
    ) -> ScheduledStage:
        """The last request checks (flows.md), then upsert the stage and its steps and queue them.

        Raises ``flows.run_not_found``, ``flows.run_terminated``, ``flows.run_completed``,
        ``flows.step_running`` or ``flows.step_id_taken``.
        """
        ...

    async def settle_stage(self, stage_id: str) -> StageTransition | None:
        """Make a stage whose steps are all terminal ``completed``/``failed`` (exactly once)."""
        ...

    async def post_step_fields(
        self, run_id: str, step_id: str, fields: Mapping[str, Any]
    ) -> int | None:
        """Replace a step's fields; return the new ``completed_at`` or None if no such step."""
        ...

    async def query_fields(
        self, run_id: str, step_id: str | None, field_name: str | None
    ) -> list[FieldsItem]: ...

    # -- logs --------------------------------------------------------------------------------

    async def add_log(self, run_id: str, entry: NewLog) -> RunLog | None:
        """Append a run log entry; None when the run does not exist."""
        ...

    async def list_logs(self, run_id: str, query: LogQuery) -> list[RunLog]: ...

    # -- control operations ---------------------------------------------------------------

    async def abort_run(self, run_id: str, processes: int, grace_ms: int) -> ControlOutcome: ...

    async def pause_run(self, run_id: str, processes: int, grace_ms: int) -> ControlOutcome: ...

    async def resume_run(self, run_id: str) -> ControlOutcome: ...

    async def retry_run(self, run_id: str) -> ControlOutcome: ...

    async def retry_step(self, run_id: str, step_id: str, cascade: bool) -> RetryStepOutcome: ...

    # -- the engine's own writes ------------------------------------------------------------

    async def claim_ready_steps(
        self, limit: int, max_running: int, worker_id: str
    ) -> list[ClaimedStep]:
        """Claim up to ``limit`` eligible steps, oldest first, never exceeding ``max_running``
        ``running`` rows in total."""
        ...

    async def claim_is_current(self, claim: ClaimedStep) -> bool:
        """True while the step is still ``running`` under this claim token."""
        ...

    async def record_attempt(
        self,
        claim: ClaimedStep,
        *,
        attempt: int,
        stdout: str | None,
        stderr: str,
        status: Literal["running", "completed", "failed"],
    ) -> StepWrite:
        """Store one attempt's outcome, guarded by the claim token; on a terminal status also
        cascade a failure and settle the stage."""
        ...

    async def runnable_for_flow_call(self, run_id: str, kind: FlowCallKind) -> Run | None:
        """The run if a flow call of ``kind`` may start now, else None."""
        ...

    async def finish_initial_call(
        self, run_id: str, *, stdout: str | None, stderr: str, succeeded: bool
    ) -> None:
        """Store the initial call's output; fail the run, or complete it if it has no stage."""
        ...

    async def complete_run(self, run_id: str) -> bool:
        """A final stage completed: run ``completed`` (guarded: only a run still moving)."""
        ...

    async def fail_run(self, run_id: str) -> bool:
        """A stage failed and its failure callback ended: run ``failed`` (guarded alike)."""
        ...

    async def settle_run_after_callback(self, run_id: str, succeeded: bool) -> bool:
        """D7: end a ``running`` run that has no pending stage after its last callback."""
        ...

    # -- startup -----------------------------------------------------------------------

    async def known_run_ids(self, run_ids: Iterable[str]) -> set[str]: ...

    async def fail_interrupted_runs(self) -> int:
        """Fail every ``pending``/``running`` run with ``server_restart``; return how many."""
        ...
