"""The sync-plan AST: what :func:`maxtrio.query.parse_plan` returns (see docs/sync-plans.md).

A plan is a sequence of entries; an entry is a step or a ``Concurrently { … }`` block of steps.
A step names an entity type, a selector (``*``, ``#id`` or a filter) and one or more chained
operations (``.fields{…}``, ``.collection{…}``)::

    PlanAst(entries=(
        PlanStepNode("AcmeProject", IdSelector("prj_1"), (CollectionOperation(("tasks",)),)),
        ConcurrentNode((PlanStepNode("AcmeUser", AllSelector(), (FieldsOperation("*"),)),)),
    ))

Every node records where it starts in the plan text (``index``, a character position in the
normalised text: CRLF → LF, trimmed); positions take no part in equality, so tests can compare
with trees built in code. Nothing here knows a schema: :func:`maxtrio.query.lower_plan` checks
names and turns the tree into a :class:`maxtrio.core.SyncPlan`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, TypeAlias

import attrs

from ._ast import FilterAst

#: A ``{…}`` argument list: ``"*"`` (everything that can be loaded) or the names as written.
PlanNames: TypeAlias = Literal["*"] | tuple[str, ...]


@attrs.frozen
class AllSelector:
    """``(*)``: every stored entity of the type."""

    kind: Literal["all"] = "all"
    index: int = attrs.field(default=0, eq=False)


@attrs.frozen
class IdSelector:
    """``(#id)``: one entity by id."""

    id: str
    kind: Literal["one"] = "one"
    index: int = attrs.field(default=0, eq=False)


@attrs.frozen
class FilterSelector:
    """``(filter)``: the stored entities matching a filter. ``text`` is the filter as written
    (trimmed) and ``index`` the plan position of its first character; the filter's own
    positions (``Comparison.index``) count from there."""

    filter: FilterAst
    text: str = attrs.field(default="", eq=False)
    kind: Literal["filter"] = "filter"
    index: int = attrs.field(default=0, eq=False)


PlanSelector: TypeAlias = AllSelector | IdSelector | FilterSelector


@attrs.frozen
class FieldsOperation:
    """``.fields{a, b}`` / ``.fields{*}``. ``name_indices`` are the names' plan positions."""

    fields: PlanNames
    kind: Literal["fields"] = "fields"
    index: int = attrs.field(default=0, eq=False)
    name_indices: tuple[int, ...] = attrs.field(default=(), eq=False)


@attrs.frozen
class CollectionOperation:
    """``.collection{a, b}`` / ``.collection{*}``."""

    collections: PlanNames
    kind: Literal["collection"] = "collection"
    index: int = attrs.field(default=0, eq=False)
    name_indices: tuple[int, ...] = attrs.field(default=(), eq=False)


PlanOperation: TypeAlias = FieldsOperation | CollectionOperation


@attrs.frozen
class PlanStepNode:
    """``EntityType(selector).op1.op2…`` — operations in the order written (at least one)."""

    entity_type: str
    selector: PlanSelector
    operations: tuple[PlanOperation, ...]
    kind: Literal["step"] = "step"
    index: int = attrs.field(default=0, eq=False)


@attrs.frozen
class ConcurrentNode:
    """``Concurrently { step … }`` — at least one step, no nesting."""

    steps: tuple[PlanStepNode, ...]
    kind: Literal["concurrent"] = "concurrent"
    index: int = attrs.field(default=0, eq=False)


PlanEntryNode: TypeAlias = PlanStepNode | ConcurrentNode


@attrs.frozen
class PlanAst:
    """A parsed plan; ``text`` is the normalised input the positions refer to."""

    entries: tuple[PlanEntryNode, ...]
    text: str = attrs.field(default="", eq=False)

    @property
    def operation_count(self) -> int:
        """Operations in the whole plan (each ``.fields{…}`` / ``.collection{…}`` counts one)."""
        return sum(len(step.operations) for step in iter_plan_steps(self))


def iter_plan_steps(plan: PlanAst) -> Iterator[PlanStepNode]:
    """Every step of ``plan`` in textual order, the steps of blocks included."""
    for entry in plan.entries:
        if isinstance(entry, ConcurrentNode):
            yield from entry.steps
        else:
            yield entry
