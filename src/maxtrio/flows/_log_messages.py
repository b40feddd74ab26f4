"""The run-log entries the server writes by itself — exactly the reference's, no others."""

from __future__ import annotations

from typing import Any

from ._store import NewLog


def abort_accepted(processes: int, grace_ms: int) -> NewLog:
    return NewLog(
        entity_type="run",
        level="info",
        message="Run aborted by user request",
        metadata={"processesKilled": processes, "graceMs": grace_ms},
    )


def abort_refused(status: str, reason: str | None) -> NewLog:
    message = f"Abort requested but run already {status}"
    metadata: dict[str, Any] = {"status": status}
    if reason is not None:
        message += f" ({reason})"
        metadata["terminationReason"] = reason
    return NewLog(entity_type="run", level="info", message=message, metadata=metadata)


def pause_accepted(processes: int, grace_ms: int) -> NewLog:
    return NewLog(
        entity_type="run",
        level="info",
        message="Run paused by user request",
        metadata={"processesKilled": processes, "graceMs": grace_ms},
    )


def pause_refused(status: str) -> NewLog:
    return NewLog(
        entity_type="run",
        level="info" if status == "paused" else "warn",
        message=f"Pause requested but run already {status}",
        metadata={"status": status},
    )


def resume_accepted() -> NewLog:
    return NewLog(entity_type="run", level="info", message="Run resume initiated")


def retry_accepted() -> NewLog:
    return NewLog(entity_type="run", level="info", message="Run retry initiated")


def retry_step_accepted(step_id: str, cascade: bool, dependants: int) -> NewLog:
    message = "Step retry initiated"
    if cascade:
        message += f" (cascading to {dependants} dependent steps)"
    return NewLog(
        entity_type="step",
        entity_id=step_id,
        level="info",
        message=message,
        metadata={"cascadeDownstream": cascade, "dependentStepCount": dependants},
    )
