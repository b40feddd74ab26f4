"""The task model: states, payloads (with their exact JSON shapes), tasks and templates.

A sync plan expands into tasks; each task carries a payload that names entities, fields and
refs **by name only** (RefKeys, entity type names), so a task row survives a restart and the
runner resolves names through the registry when it executes the task.

Payload JSON — optional keys are absent, never ``null``; key order as
written here::

    {"kind":"sync-step","target":{"kind":"forAll","entityType":"AcmeUser"[,"cursor":…]},
     "operation":{"kind":"loadFields","fields":[…]}}
    {"kind":"sync-step","target":{"kind":"forRoot","entityType":"AcmeRoot","refKey":"ein:…"},
     "operation":{"kind":"loadCollection","field":"workspaces"}}
    {"kind":"sync-step","target":{"kind":"forWhere","entityType":"AcmeTask","where":{…}
     [,"cursor":…]},"operation":{…}}
    {"kind":"sync-group"}
    {"kind":"load-fields","entityType":"AcmeUser","refKeys":[…],"fields":[…]}
    {"kind":"load-collection","entityType":"AcmeWorkspace"[,"targetEntityType":"AcmeUser"],
     "refKey":"ein:…","field":"users"[,"cursor":"100"]}

``forWhere`` (MAXTRIO, not in the reference) carries its where tree under ``where`` in the core
JSON form (:func:`maxtrio.core.where_to_wire`: leaves ``{"field","op","value"}``, groups
``{"kind","clauses"}``); its ``cursor`` is the continuation cursor of ``Engine.query``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

import attrs

from maxtrio.core import (
    BadInput,
    Boundary,
    InvariantViolated,
    NotFound,
    WhereClause,
    where_from_wire,
    where_to_wire,
)

Execution = Boundary("execution")

ErrTaskNotFound = Execution.define(
    "task_not_found", facets=[NotFound], message="Task not found: {taskId}"
)
ErrInvalidPayload = Execution.define(
    "invalid_payload", facets=[BadInput], message="Invalid task payload: {reason}"
)
ErrInvalidTransition = Execution.define(
    "invalid_transition",
    facets=[InvariantViolated],
    message="Task {taskId} cannot go from {state} to {to}",
)
ErrUnknownTargetKind = Execution.define(
    "unknown_target_kind", facets=[InvariantViolated], message="Unknown target kind: {targetKind}"
)


class TaskState(enum.StrEnum):
    NEW = "new"
    PENDING = "pending"
    RUNNING = "running"
    AWAITING_CHILDREN = "awaiting_children"
    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED)

    @property
    def is_active(self) -> bool:
        """Active tasks (pending, running) keep a sync alive."""
        return self in (TaskState.PENDING, TaskState.RUNNING)


# -- payloads ---------------------------------------------------------------------------------


#: The target kinds a persisted plan step may have.
_TARGET_KINDS = ("forAll", "forRoot", "forOne", "forWhere")


@attrs.frozen
class StepTarget:
    kind: Literal["forAll", "forRoot", "forOne", "forWhere"]
    entity_type: str
    ref_key: str | None = None  # forRoot / forOne
    cursor: str | None = None  # forAll / forWhere continuation page
    where: WhereClause | None = None  # forWhere

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "entityType": self.entity_type}
        if self.ref_key is not None:
            out["refKey"] = self.ref_key
        if self.where is not None:
            out["where"] = where_to_wire(self.where)
        if self.cursor is not None:
            out["cursor"] = self.cursor
        return out


@attrs.frozen
class StepOperationPayload:
    kind: Literal["loadFields", "loadCollection"]
    fields: tuple[str, ...] = ()  # loadFields
    field: str | None = None  # loadCollection

    def to_json(self) -> dict[str, Any]:
        if self.kind == "loadFields":
            return {"kind": "loadFields", "fields": list(self.fields)}
        return {"kind": "loadCollection", "field": self.field}


@attrs.frozen
class SyncStepPayload:
    target: StepTarget
    operation: StepOperationPayload
    kind: Literal["sync-step"] = "sync-step"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target.to_json(),
            "operation": self.operation.to_json(),
        }


@attrs.frozen
class SyncGroupPayload:
    kind: Literal["sync-group"] = "sync-group"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind}


@attrs.frozen
class LoadFieldsPayload:
    entity_type: str
    ref_keys: tuple[str, ...]
    fields: tuple[str, ...]
    kind: Literal["load-fields"] = "load-fields"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "entityType": self.entity_type,
            "refKeys": list(self.ref_keys),
            "fields": list(self.fields),
        }


@attrs.frozen
class LoadCollectionPayload:
    entity_type: str
    ref_key: str
    field: str
    target_entity_type: str | None = None
    cursor: str | None = None
    kind: Literal["load-collection"] = "load-collection"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "entityType": self.entity_type}
        if self.target_entity_type is not None:
            out["targetEntityType"] = self.target_entity_type
        out["refKey"] = self.ref_key
        out["field"] = self.field
        if self.cursor is not None:
            out["cursor"] = self.cursor
        return out


TaskPayload: TypeAlias = (
    SyncStepPayload | SyncGroupPayload | LoadFieldsPayload | LoadCollectionPayload
)


def payload_to_json(payload: TaskPayload) -> str:
    """The persisted JSON text of a payload (compact, key order of the reference)."""
    return json.dumps(payload.to_json(), separators=(",", ":"), ensure_ascii=False)


def payload_from_json(text: str | Mapping[str, Any]) -> TaskPayload:
    """Parse a persisted payload; a malformed one raises ``execution.invalid_payload``."""
    try:
        data = json.loads(text) if isinstance(text, str) else text
        kind = data["kind"]
        if kind == "sync-step":
            t, o = data["target"], data["operation"]
            if t["kind"] not in _TARGET_KINDS:
                raise ErrUnknownTargetKind(targetKind=t["kind"])
            where = where_from_wire(t["where"]) if t["kind"] == "forWhere" else None
            target = StepTarget(
                t["kind"],
                _str(t["entityType"]),
                _opt(t.get("refKey")),
                _opt(t.get("cursor")),
                where,
            )
            if o["kind"] == "loadFields":
                op = StepOperationPayload("loadFields", fields=tuple(_str(f) for f in o["fields"]))
            elif o["kind"] == "loadCollection":
                op = StepOperationPayload("loadCollection", field=_str(o["field"]))
            else:
                raise ValueError(f"unknown operation kind {o['kind']!r}")
            return SyncStepPayload(target, op)
        if kind == "sync-group":
            return SyncGroupPayload()
        if kind == "load-fields":
            return LoadFieldsPayload(
                _str(data["entityType"]),
                tuple(_str(k) for k in data["refKeys"]),
                tuple(_str(f) for f in data["fields"]),
            )
        if kind == "load-collection":
            return LoadCollectionPayload(
                _str(data["entityType"]),
                _str(data["refKey"]),
                _str(data["field"]),
                _opt(data.get("targetEntityType")),
                _opt(data.get("cursor")),
            )
        raise ValueError(f"unknown payload kind {kind!r}")
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ErrInvalidPayload(reason=reason) from None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _opt(value: Any) -> str | None:
    return None if value is None else _str(value)


# -- tasks ------------------------------------------------------------------------------------


@attrs.frozen
class Task:
    """A task row. Times are integer ms since the epoch."""

    id: str
    sync_id: str
    state: TaskState
    payload: TaskPayload
    created_at: int
    parent_id: str | None = None
    blocked_by: str | None = None
    not_before: int | None = None
    completed_at: int | None = None
    error: str | None = None
    attempts: int = 0  # how many times a resume sent this task back to pending after failing
    worker: str | None = None  # who claimed it (``claim_many(worker=…)``); None: nobody named
    lease_until: int | None = None  # ms; a ``running`` task past it may be claimed again


@attrs.frozen
class TaskTemplate:
    """A task to enqueue as part of a graph; ``parent``/``blocked_by`` name other templates.

    ``not_before`` (ms) delays its first claim, e.g. for a retry with back-off.
    """

    temp_id: str
    state: TaskState
    payload: TaskPayload
    parent: str | None = None
    blocked_by: str | None = None
    not_before: int | None = None
