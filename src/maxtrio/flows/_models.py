"""Runs, stages, steps and log entries as values, and their JSON forms.

These are what the store returns. ``to_json`` gives the wire form: camelCase keys, JSON columns
decoded, and every property whose column is NULL *omitted* ("absent, not null").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import attrs

RunStatus = Literal["pending", "running", "paused", "completed", "failed"]
StageStatus = Literal["pending", "running", "completed", "failed"]
StepStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
TerminationReason = Literal["aborted", "server_restart"]
LogLevel = Literal["debug", "info", "warn", "error"]
EntityType = Literal["run", "stage", "step"]

TERMINAL_STEP_STATUSES = ("completed", "failed")


def dump_json(value: Any) -> str:
    """Compact JSON text for a TEXT column (``depends_on`` is matched by substring elsewhere)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def load_json(text: str | None) -> Any:
    """Decode a JSON column; a value that is not strict JSON is returned as the raw text.

    Columns may have been written by other processes: ``NaN``/``Infinity`` (which responses
    cannot carry) and invalid text come back as the string they are.
    """
    if text is None:
        return None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _present(pairs: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in pairs.items() if value is not None}


@attrs.frozen
class Run:
    id: str
    flow_name: str
    status: str
    created_at: int
    input: Any = None
    output: Any = None
    error: Any = None
    metadata: Any = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    stdout: str | None = None
    stderr: str | None = None
    name: str | None = None
    description: str | None = None
    flow_title: str | None = None
    termination_reason: str | None = None

    @property
    def is_terminated(self) -> bool:
        return self.termination_reason is not None

    def to_json(self) -> dict[str, Any]:
        return _present(
            {
                "id": self.id,
                "flowName": self.flow_name,
                "status": self.status,
                "input": self.input,
                "output": self.output,
                "error": self.error,
                "metadata": self.metadata,
                "createdAt": self.created_at,
                "startedAt": self.started_at,
                "completedAt": self.completed_at,
                "durationMs": self.duration_ms,
                "stdout": self.stdout,
                "stderr": self.stderr,
                "name": self.name,
                "description": self.description,
                "flowTitle": self.flow_title,
                "terminationReason": self.termination_reason,
            }
        )


@attrs.frozen
class Step:
    id: str
    run_id: str
    stage_id: str
    name: str
    status: str
    depends_on: tuple[str, ...]
    retry_count: int
    max_retries: int
    created_at: int
    env: Any = None
    fields: Any = None
    error: str | None = None
    started_at: int | None = None
    completed_at: int | None = None
    duration_ms: int | None = None
    stdout: str | None = None
    stderr: str | None = None
    termination_reason: str | None = None
    queued_at: int | None = None
    claimed_at: int | None = None
    heartbeat_at: int | None = None
    worker_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        # ``error`` is the raw column text, as in the reference.
        return _present(
            {
                "id": self.id,
                "runId": self.run_id,
                "stageId": self.stage_id,
                "name": self.name,
                "status": self.status,
                "dependsOn": list(self.depends_on),
                "retryCount": self.retry_count,
                "maxRetries": self.max_retries,
                "env": self.env,
                "fields": self.fields,
                "error": self.error,
                "createdAt": self.created_at,
                "startedAt": self.started_at,
                "completedAt": self.completed_at,
                "durationMs": self.duration_ms,
                "stdout": self.stdout,
                "stderr": self.stderr,
                "terminationReason": self.termination_reason,
                "queuedAt": self.queued_at,
                "claimedAt": self.claimed_at,
                "heartbeatAt": self.heartbeat_at,
                "workerId": self.worker_id,
            }
        )


@attrs.frozen
class RunLog:
    id: str
    run_id: str
    entity_type: str
    level: str
    message: str
    created_at: int
    entity_id: str | None = None
    metadata: Any = None

    def to_json(self) -> dict[str, Any]:
        return _present(
            {
                "id": self.id,
                "runId": self.run_id,
                "entityType": self.entity_type,
                "entityId": self.entity_id,
                "level": self.level,
                "message": self.message,
                "metadata": self.metadata,
                "createdAt": self.created_at,
            }
        )


@attrs.frozen
class FieldsItem:
    """One item of the query-fields answer; nulls are kept here."""

    step_id: str
    step_name: str
    stage_id: str
    stage_name: str | None
    status: str
    fields: Any
    completed_at: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "stepId": self.step_id,
            "stepName": self.step_name,
            "stageId": self.stage_id,
            "stageName": self.stage_name,
            "status": self.status,
            "fields": self.fields,
            "completedAt": self.completed_at,
        }


@attrs.frozen
class StepSpec:
    """One step of a schedule-stage request, already validated."""

    id: str
    name: str
    depends_on: tuple[str, ...] = ()
    max_retries: int = 0
    env: Mapping[str, str] | None = None


@attrs.frozen
class ClaimedStep:
    """A step this server claimed; (``claimed_at``, ``worker_id``) is the claim token."""

    run_id: str
    step_id: str
    step_name: str
    stage_id: str
    stage_name: str
    flow_name: str
    max_retries: int
    env: Mapping[str, Any] | None
    claimed_at: int
    worker_id: str


@attrs.frozen
class StageTransition:
    """A stage that just became terminal; exactly one caller receives it (D3)."""

    run_id: str
    flow_name: str
    stage_id: str
    stage_name: str
    final: bool
    status: Literal["completed", "failed"]


@attrs.frozen
class StepWrite:
    """What an executor write did: ``applied`` is False when the claim was no longer valid."""

    applied: bool
    stage_transitions: tuple[StageTransition, ...] = ()
