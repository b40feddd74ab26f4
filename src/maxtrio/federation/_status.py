"""Health and sync summaries as the tiers report them, with their JSON forms.

``NodeHealth`` is a child node and its health (what ``ls``/``status`` list); ``SyncSummary`` is
the last sync of an installation with its task counts. Their JSON forms are written
here and marked with ``core.wire_record`` (as ``HealthStatus`` marks its own), so the shared
converter uses them without this module importing it (``SyncRecord``'s hooks are in
:mod:`._sync_wire`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from maxtrio.connector import HealthStatus
from maxtrio.core import MaxUrl, wire_record
from maxtrio.execution import SyncStatus


@attrs.frozen
class SyncSummary:
    """A past sync of an installation with its task counts (for ``status``)."""

    id: str
    status: SyncStatus
    started_at: int
    completed_at: int | None
    tasks_completed: int
    tasks_failed: int
    tasks_total: int

    def to_json(self) -> dict[str, Any]:
        return {
            "syncId": self.id,
            "status": self.status.value,
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "tasksCompleted": self.tasks_completed,
            "tasksFailed": self.tasks_failed,
            "tasksTotal": self.tasks_total,
        }


@attrs.frozen
class NodeHealth:
    """A child node and its health, as listed by ``ls``/``status``."""

    id: str
    name: str
    url: MaxUrl
    health: HealthStatus
    connector: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "url": str(self.url)}
        if self.connector is not None:
            out["connector"] = self.connector
        out.update(self.health.to_json())
        return out


def _structure_node_health(value: Any) -> NodeHealth:
    if not isinstance(value, Mapping):
        raise TypeError("expected an object")
    return NodeHealth(
        id=str(value["id"]),
        name=str(value["name"]),
        url=MaxUrl.parse(str(value["url"])),
        health=HealthStatus.from_json(value),
        connector=value.get("connector"),
    )


wire_record(NodeHealth, _structure_node_health, lambda node: node.to_json())


def _structure_summary(value: Any) -> SyncSummary:
    if not isinstance(value, Mapping):
        raise TypeError("expected an object")
    return SyncSummary(
        id=str(value["syncId"]),
        status=SyncStatus(value["status"]),
        started_at=int(value["startedAt"]),
        completed_at=None if value.get("completedAt") is None else int(value["completedAt"]),
        tasks_completed=int(value["tasksCompleted"]),
        tasks_failed=int(value["tasksFailed"]),
        tasks_total=int(value["tasksTotal"]),
    )


wire_record(SyncSummary, _structure_summary, lambda summary: summary.to_json())
