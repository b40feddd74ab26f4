"""Plan expansion: a ``SyncPlan`` becomes task templates, all enqueued in one transaction.

Entries run in order, so each entry's tasks are blocked by the previous entry; a concurrent
group becomes a synthetic ``sync-group`` parent (``awaiting_children``) whose member steps are
its children and share the previous entry as blocker, and the next entry waits for the group.
Plan ``[A, concurrent[B, C], D]`` gives::

    temp  payload     state              parent  blocked_by
    1     A           pending            -       -
    2     sync-group  awaiting_children  -       -
    3     B           new                2       1
    4     C           new                2       1
    5     D           new                -       2

An empty concurrent group (``core.concurrent()`` refuses one, but a hand-built
``ConcurrentGroup(())`` is possible) is skipped: it would never complete and would strand every
later entry (reference bug B18).
"""

from __future__ import annotations

import itertools

from maxtrio.core import ConcurrentGroup, ForAll, ForOne, ForRoot, ForWhere, SyncPlan, SyncStep

from ._task import (
    ErrUnknownTargetKind,
    StepOperationPayload,
    StepTarget,
    SyncGroupPayload,
    SyncStepPayload,
    TaskState,
    TaskTemplate,
)


def step_payload(step: SyncStep) -> SyncStepPayload:
    """The persisted form of one plan step: names, RefKeys and (``forWhere``) the where tree."""
    target = step.target
    if isinstance(target, ForAll):
        step_target = StepTarget("forAll", target.entity.name)
    elif isinstance(target, ForWhere):
        step_target = StepTarget("forWhere", target.entity.name, where=target.where)
    elif isinstance(target, ForRoot | ForOne):
        step_target = StepTarget(target.kind, target.entity.name, ref_key=target.ref.to_key())
    else:
        raise ErrUnknownTargetKind(targetKind=str(getattr(target, "kind", type(target).__name__)))
    op = step.operation
    if op.kind == "loadFields":
        operation = StepOperationPayload("loadFields", fields=tuple(op.fields))
    else:
        operation = StepOperationPayload("loadCollection", field=op.field)
    return SyncStepPayload(step_target, operation)


class PlanExpander:
    """Turns plans into task templates with temporary ids ``temp-1``, ``temp-2``, …

    The counter lives on the instance and keeps counting across plans; temporary ids are
    replaced by real ones when the store enqueues the graph.
    """

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def _next_id(self) -> str:
        return f"temp-{next(self._ids)}"

    def expand(self, plan: SyncPlan) -> list[TaskTemplate]:
        templates: list[TaskTemplate] = []
        prev: str | None = None
        for entry in plan.entries:
            if isinstance(entry, ConcurrentGroup):
                if not entry.steps:
                    continue
                group = self._next_id()
                templates.append(
                    TaskTemplate(group, TaskState.AWAITING_CHILDREN, SyncGroupPayload())
                )
                for step in entry.steps:
                    templates.append(self._step(step, blocked_by=prev, parent=group))
                prev = group
            else:
                template = self._step(entry, blocked_by=prev, parent=None)
                templates.append(template)
                prev = template.temp_id
        return templates

    def _step(self, step: SyncStep, *, blocked_by: str | None, parent: str | None) -> TaskTemplate:
        state = TaskState.NEW if blocked_by is not None else TaskState.PENDING
        return TaskTemplate(
            self._next_id(), state, step_payload(step), parent=parent, blocked_by=blocked_by
        )
