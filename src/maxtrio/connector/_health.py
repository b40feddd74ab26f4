"""The health of an installation (or of a node made of them): a state and a one-line reason.

Its own module so that reading health (``max ls``, ``max status``) does not import the connector
machinery of :mod:`._installation`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from maxtrio.core import wire_record


class HealthState(enum.StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@attrs.frozen
class HealthStatus:
    """``healthy``, or ``degraded``/``unhealthy`` with a one-line reason."""

    state: HealthState
    reason: str | None = None

    @classmethod
    def healthy(cls) -> HealthStatus:
        return cls(HealthState.HEALTHY)

    @classmethod
    def degraded(cls, reason: str) -> HealthStatus:
        return cls(HealthState.DEGRADED, reason)

    @classmethod
    def unhealthy(cls, reason: str) -> HealthStatus:
        return cls(HealthState.UNHEALTHY, reason)

    @property
    def is_healthy(self) -> bool:
        return self.state is HealthState.HEALTHY

    def to_json(self) -> dict[str, str]:
        """``{"status", "reason"?}``."""
        out = {"status": self.state.value}
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_json(cls, value: Any) -> HealthStatus:
        """What :meth:`to_json` wrote (``TypeError``/``ValueError`` for anything else)."""
        if not isinstance(value, Mapping):
            raise TypeError("expected an object")
        reason = value.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise ValueError('"reason" must be a string')
        return cls(HealthState(str(value.get("status"))), reason)


wire_record(HealthStatus, HealthStatus.from_json, HealthStatus.to_json)
