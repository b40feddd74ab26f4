"""Continuous generation: new tasks and status changes at a steady rate, until cancelled.

:func:`run_generation` is a trio task (the server starts it in its nursery and stops it by
cancelling its scope). It snapshots the tenant's projects and tasks, then on every tick either
moves an existing task to the next status or creates ``Generated task #<tick>``. Unlike the
reference, the acting user is always one of the project's own workspace. A tick that fails (say,
the project was deleted meanwhile) is skipped.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Final

import trio

from maxtrio.core import MaxError

from . import _model as m
from ._errors import ErrNothingToGenerate
from ._tenant import Tenant

GENERATED_STATUSES: Final[tuple[m.TaskStatus, ...]] = ("todo", "in_progress", "in_review", "done")
MIN_TICK_SECONDS: Final = 0.05


def tick_seconds(options: m.GenerationOptions) -> float:
    """``max(50 ms, ⌊1000 / (tasks + mutations per second)⌋ ms)``."""
    total = options.tasks_per_second + options.mutations_per_second
    if total <= 0:
        return math.inf
    return max(MIN_TICK_SECONDS, math.floor(1000 / total) / 1000)


def mutation_every(options: m.GenerationOptions) -> int | None:
    """Every how many ticks a status change happens (None: never)."""
    if options.mutations_per_second <= 0:
        return None
    total = options.tasks_per_second + options.mutations_per_second
    return math.ceil(total / options.mutations_per_second)


class _Snapshot:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.projects = tenant.live_ids("projects")
        self.tasks = tenant.live_ids("tasks")
        self._users_of_workspace: dict[str, list[str]] = {}
        self._workspace_of_project: dict[str, str | None] = {}

    def users_of_project(self, project_id: str) -> list[str]:
        if project_id not in self._workspace_of_project:
            self._workspace_of_project[project_id] = self.tenant.parent_of("projects", project_id)
        workspace = self._workspace_of_project[project_id]
        if workspace is None:
            return []
        if workspace not in self._users_of_workspace:
            self._users_of_workspace[workspace] = self.tenant.live_ids("users", parent_id=workspace)
        return self._users_of_workspace[workspace]

    def has_data(self) -> bool:
        return any(self.users_of_project(p) for p in self.projects)


def _tick(snapshot: _Snapshot, tick: int, every: int | None) -> None:
    tenant = snapshot.tenant
    if every is not None and tick % every == 0 and snapshot.tasks:
        task_id = snapshot.tasks[tick % len(snapshot.tasks)]
        project_id = tenant.parent_of("tasks", task_id)
        users = snapshot.users_of_project(project_id) if project_id else []
        if users:
            patch = m.TaskPatch(
                last_modified_by_id=users[tick % len(users)],
                status=GENERATED_STATUSES[tick % len(GENERATED_STATUSES)],
            )
            tenant.update("tasks", task_id, patch)
        return
    project_id = snapshot.projects[tick % len(snapshot.projects)]
    users = snapshot.users_of_project(project_id)
    if not users:
        return
    created = tenant.create(
        m.TaskInput(
            project_id=project_id,
            title=f"Generated task #{tick}",
            created_by_id=users[tick % len(users)],
        )
    )
    snapshot.tasks.append(json.loads(created)["id"])


async def run_generation(
    tenant: Tenant,
    options: m.GenerationOptions,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Generate until cancelled; fails before starting when there is nothing to generate from."""
    async with tenant.guard:
        snapshot = _Snapshot(tenant)
        if not snapshot.has_data():
            raise ErrNothingToGenerate()
    interval = tick_seconds(options)
    every = mutation_every(options)
    task_status.started()
    tick = 0
    while True:
        await trio.sleep(interval)
        async with tenant.guard:
            with contextlib.suppress(MaxError):
                _tick(snapshot, tick, every)
        tick += 1
