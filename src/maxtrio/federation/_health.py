"""Health of a parent node from its children's.

None or all healthy → healthy; all unhealthy → unhealthy; anything else → degraded. When not
healthy the reason says how many children were checked (``2 installation(s) checked``).
"""

from __future__ import annotations

from collections.abc import Sequence

from maxtrio.connector import HealthState, HealthStatus

DIRECTORY_MISSING = "directory missing"


def aggregate_health(children: Sequence[HealthStatus], kind: str) -> HealthStatus:
    if all(c.state is HealthState.HEALTHY for c in children):
        return HealthStatus.healthy()
    reason = f"{len(children)} {kind}(s) checked"
    if all(c.state is HealthState.UNHEALTHY for c in children):
        return HealthStatus.unhealthy(reason)
    return HealthStatus.degraded(reason)
