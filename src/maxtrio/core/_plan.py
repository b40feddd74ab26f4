"""Sync plans: what a seeder asks the executor to do, as pure data.

A plan is an ordered list of entries; each entry is a step or a concurrent group of steps.
Entries run one after another; the steps of a group run in parallel. A step is a target
(``for_root(ref)``, ``for_one(ref)``, ``for_all(EntityDef)`` — every entity of that type in the
*local store* — or ``for_where(EntityDef, where)`` — the entities of that type in the local store
that match a where tree) and an operation (``load_fields(...)``, ``load_collection(field)``)::

    SyncPlan.create(
        Step.for_root(AcmeRoot.ref("root")).load_collection("workspaces"),
        Step.for_all(AcmeWorkspace).load_fields("name"),
        concurrent(
            Step.for_all(AcmeWorkspace).load_collection("users"),
            Step.for_all(AcmeWorkspace).load_collection("projects"),
        ),
    )

Steps are validated when built: ``load_fields`` takes at least one stored (scalar or ref) field,
``load_collection`` one collection field, ``for_where`` a tree whose leaves name ``_id`` or stored
fields of the entity, and a concurrent group at least one step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Literal, TypeAlias, TypeVar

import attrs

from ._context import SeederEnv
from ._core_errors import Core
from ._entity import EntityDef
from ._errors import BadInput
from ._fields import FieldKind
from ._meta_fields import FILTERABLE_META_FIELDS
from ._ref import Ref
from ._where import WhereClause, iter_leaves

C = TypeVar("C")

ErrInvalidPlanStep = Core.define(
    "invalid_plan_step", facets=[BadInput], message="Invalid sync plan step: {reason}"
)


@attrs.frozen
class ForRoot:
    ref: Ref
    kind: Literal["forRoot"] = "forRoot"

    @property
    def entity(self) -> EntityDef:
        return self.ref.entity_def


@attrs.frozen
class ForOne:
    ref: Ref
    kind: Literal["forOne"] = "forOne"

    @property
    def entity(self) -> EntityDef:
        return self.ref.entity_def


@attrs.frozen
class ForAll:
    entity: EntityDef
    kind: Literal["forAll"] = "forAll"


@attrs.frozen
class ForWhere:
    """The entities of a type in the local store that match ``where`` (read page by page)."""

    entity: EntityDef
    where: WhereClause
    kind: Literal["forWhere"] = "forWhere"


Target: TypeAlias = ForRoot | ForOne | ForAll | ForWhere


@attrs.frozen
class LoadFields:
    fields: tuple[str, ...]
    kind: Literal["loadFields"] = "loadFields"


@attrs.frozen
class LoadCollection:
    field: str
    kind: Literal["loadCollection"] = "loadCollection"


StepOperation: TypeAlias = LoadFields | LoadCollection


@attrs.frozen
class SyncStep:
    target: Target
    operation: StepOperation


@attrs.frozen
class ConcurrentGroup:
    steps: tuple[SyncStep, ...]


PlanEntry: TypeAlias = SyncStep | ConcurrentGroup


@attrs.frozen
class SyncPlan:
    entries: tuple[PlanEntry, ...]

    @classmethod
    def create(cls, *entries: PlanEntry | Sequence[PlanEntry]) -> SyncPlan:
        flat: list[PlanEntry] = []
        for e in entries:
            if isinstance(e, SyncStep | ConcurrentGroup):
                flat.append(e)
            else:
                flat.extend(e)
        return cls(tuple(flat))

    @property
    def step_count(self) -> int:
        return sum(len(e.steps) if isinstance(e, ConcurrentGroup) else 1 for e in self.entries)


class StepBuilder:
    """A target waiting for its operation."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def load_fields(self, *fields: str) -> SyncStep:
        entity = self.target.entity
        if not fields:
            raise ErrInvalidPlanStep(
                reason=f"load_fields on {entity.name} needs at least one field"
            )
        for name in fields:
            field = entity.field(name)
            if field is None:
                raise ErrInvalidPlanStep(reason=f"{entity.name} has no field '{name}'")
            if field.kind is FieldKind.COLLECTION:
                raise ErrInvalidPlanStep(
                    reason=(
                        f"'{name}' is a collection of {entity.name}; "
                        "use load_collection for collections"
                    )
                )
        return SyncStep(self.target, LoadFields(tuple(fields)))

    def load_collection(self, field: str) -> SyncStep:
        entity = self.target.entity
        f = entity.field(field)
        if f is None:
            raise ErrInvalidPlanStep(reason=f"{entity.name} has no field '{field}'")
        if f.kind is not FieldKind.COLLECTION:
            raise ErrInvalidPlanStep(
                reason=f"'{field}' of {entity.name} is not a collection; use load_fields"
            )
        return SyncStep(self.target, LoadCollection(field))


class Step:
    """Targets: ``Step.for_root(ref)``, ``Step.for_one(ref)``, ``Step.for_all(EntityDef)``,
    ``Step.for_where(EntityDef, where)``."""

    @staticmethod
    def for_root(ref: Ref) -> StepBuilder:
        return StepBuilder(ForRoot(ref))

    @staticmethod
    def for_one(ref: Ref) -> StepBuilder:
        return StepBuilder(ForOne(ref))

    @staticmethod
    def for_all(entity: EntityDef) -> StepBuilder:
        return StepBuilder(ForAll(entity))

    @staticmethod
    def for_where(entity: EntityDef, where: WhereClause) -> StepBuilder:
        """The stored entities of ``entity`` matching ``where`` (e.g. from
        ``maxtrio.query.lower``); every leaf must name ``_id`` or a stored field."""
        for leaf in iter_leaves(where):
            if leaf.field in FILTERABLE_META_FIELDS:
                continue
            field = entity.field(leaf.field)
            if field is None or not field.is_stored:
                valid = ", ".join((*FILTERABLE_META_FIELDS, *entity.stored_field_names))
                raise ErrInvalidPlanStep(
                    reason=(
                        f"for_where on {entity.name} filters on '{leaf.field}', which is not "
                        f"a stored field (filterable: {valid})"
                    )
                )
        return StepBuilder(ForWhere(entity, where))


def concurrent(*steps: SyncStep) -> ConcurrentGroup:
    """Steps that run in parallel; the next entry waits for all of them."""
    if not steps:
        raise ErrInvalidPlanStep(reason="a concurrent group needs at least one step")
    return ConcurrentGroup(tuple(steps))


@attrs.frozen(eq=False)
class Seeder(Generic[C]):
    """Stores the root entities and returns the plan; called at the start of every sync."""

    seed: Callable[[SeederEnv[C]], Awaitable[SyncPlan]]

    @classmethod
    def create(cls, seed: Callable[[SeederEnv[Any]], Awaitable[SyncPlan]]) -> Seeder[Any]:
        return cls(seed)
