"""Text pieces shared by ``ls`` and ``status``: the context header, health labels,
and when a sync happened.

* header: ``Node: <url>  [<level>]`` (``Node:`` yellow, the URL bold, ``[level]`` dim);
* health: ``● healthy`` (green), ``● degraded (<reason>)`` (yellow), ``○ not connected``
  (yellow), ``● unhealthy (<reason>)`` (red; the reason dim).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ._output import Style


def context_header(url: Any, level: str, style: Style) -> str:
    return f"{style.yellow('Node:')} {style.bold(str(url))}  {style.dim(f'[{level}]')}"


def health_label(health: Any, style: Style) -> str:
    status = health.state.value
    reason = health.reason
    if status == "unhealthy" and reason == "not connected":
        return f"{style.yellow('○')} {style.yellow(reason)}"
    detail = style.dim(f" ({reason})") if reason else ""
    if status == "healthy":
        return f"{style.green('●')} {style.green(status)}"
    if status == "degraded":
        return f"{style.yellow('●')} {style.yellow(status)}{detail}"
    return f"{style.red('●')} {style.red(status)}{detail}"


def health_json(health: Any) -> dict[str, Any]:
    """``{"status", "reason"?}``."""
    return dict(health.to_json())


def when(epoch_ms: int | None) -> str:
    """An epoch-milliseconds time as ``2026-03-12T10:35:44Z`` (UTC, seconds)."""
    if epoch_ms is None:
        return "-"
    moment = _dt.datetime.fromtimestamp(epoch_ms / 1000, _dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def last_sync_text(report: Any) -> str:
    """``<when> (<sync id> <status>, <n> entities synced)`` or ``never`` (``report``: a
    ``maxtrio.sql.SyncReport``; entities are rows, each counted once)."""
    if report is None:
        return "never"
    entities = report.entities_synced
    noun = "entity" if entities == 1 else "entities"
    return f"{when(report.started_at)} ({report.sync_id} {report.status}, {entities} {noun} synced)"
