"""Lowering: a sync-plan AST → a :class:`maxtrio.core.SyncPlan` for one connector.

The rules (docs/sync-plans.md):

* selectors — ``(*)`` → ``Step.for_all(E)``; ``(#id)`` → ``Step.for_root(E.ref(id))`` when ``E``
  is a root of the schema, else ``Step.for_one(E.ref(id))`` (a RefKey of ``E`` gives its id);
  ``(filter)`` → ``Step.for_where(E, lower(filter))`` (fields checked as ``max search
  --filter`` checks them);
* ``.fields{a, b}`` → one ``load_fields("a", "b")`` step (names de-duplicated); ``.fields{*}``
  → one step with every stored field the connector has a field loader for, in declaration
  order (a stored field without one — e.g. ``AcmeTask.assignee`` — is left out: loading it
  would do nothing);
* ``.collection{a, b}`` → one ``load_collection`` step per name (de-duplicated);
  ``.collection{*}`` → one per collection field the connector has a collection loader for, in
  declaration order;
* chained operations ``op1 … opn`` of a step → their steps one after another, in that order;
* ``Concurrently { … }`` → rounds of concurrent groups: round *k* holds the steps of the *k*-th
  operation of every block step that has one, and the next round waits for the whole round.
  A single-operation block is one group; a chained step still runs its operations in order
  (the plan model has no sequence inside a group, so its later operations wait for the round).

Every name is checked against the schema and the resolvers: an unknown entity type, field or
collection, a field used as a collection (or the reverse), an explicitly named field or
collection without a loader, and a ``*`` that finds nothing loadable are
``plan-parser.invalid_plan`` errors — one line naming the entity/field, the position of the
offending name in the plan text, and what exists as a hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from maxtrio.core import (
    AnyLoader,
    BatchedLoader,
    CollectionLoader,
    Derivation,
    EntityDef,
    EntityLoader,
    FieldKind,
    MaxError,
    PaginatedSource,
    PlanEntry,
    Resolver,
    Schema,
    SingleSource,
    Step,
    StepBuilder,
    SyncPlan,
    SyncStep,
    concurrent,
    quote_input,
    try_parse_ref_key,
)

from ._ast import iter_conditions
from ._entity_filter import filterable_fields
from ._errors import ErrInvalidPlan, suggestion
from ._lower import lower
from ._plan_ast import (
    AllSelector,
    CollectionOperation,
    ConcurrentNode,
    FieldsOperation,
    IdSelector,
    PlanAst,
    PlanOperation,
    PlanStepNode,
)
from ._plan_grammar import parse_plan


def parse_sync_plan(text: str, schema: Schema, resolvers: Iterable[Resolver]) -> SyncPlan:
    """Parse plan text and lower it for a connector (its schema and resolvers)."""
    return lower_plan(parse_plan(text), schema, resolvers)


def lower_plan(plan: PlanAst, schema: Schema, resolvers: Iterable[Resolver]) -> SyncPlan:
    """The :class:`SyncPlan` a parsed plan means; see the module docstring for the rules."""
    return _Lowering(plan.text, schema, resolvers).plan(plan)


def loads_fields(loader: AnyLoader | None) -> bool:
    """Whether the runner can load fields with ``loader`` (entity, batched, single-source)."""
    if isinstance(loader, Derivation):
        return isinstance(loader.source, SingleSource)
    return isinstance(loader, EntityLoader | BatchedLoader)


def loads_collection(loader: AnyLoader | None) -> bool:
    """Whether the runner can page a collection with ``loader`` (collection, paginated)."""
    if isinstance(loader, Derivation):
        return isinstance(loader.source, PaginatedSource)
    return isinstance(loader, CollectionLoader)


class _Lowering:
    def __init__(self, text: str, schema: Schema, resolvers: Iterable[Resolver]) -> None:
        self.text = text
        self.schema = schema
        self.resolvers = {r.entity.name: r for r in resolvers}

    def plan(self, plan: PlanAst) -> SyncPlan:
        entries: list[PlanEntry] = []
        for entry in plan.entries:
            if isinstance(entry, ConcurrentNode):
                entries.extend(self.block(entry))
            else:
                entries.extend(step for round_ in self.step(entry) for step in round_)
        return SyncPlan(tuple(entries))

    def block(self, node: ConcurrentNode) -> list[PlanEntry]:
        per_step = [self.step(step) for step in node.steps]
        rounds = max(len(steps) for steps in per_step)
        return [
            concurrent(*(s for steps in per_step if k < len(steps) for s in steps[k]))
            for k in range(rounds)
        ]

    def step(self, node: PlanStepNode) -> list[list[SyncStep]]:
        """The plan steps of each of ``node``'s operations, in order."""
        entity = self.entity(node)
        builder = self.target(node, entity)
        return [self.operation(builder, entity, op) for op in node.operations]

    # -- targets ------------------------------------------------------------------------------

    def entity(self, node: PlanStepNode) -> EntityDef:
        entity = self.schema.get_definition(node.entity_type)
        if entity is None:
            raise self.fail(
                f'Unknown entity type "{node.entity_type}"; entity types: '
                f"{_listing(self.schema.entity_types)}",
                node.index,
                entityType=node.entity_type,
                available=list(self.schema.entity_types),
            )
        return entity

    def target(self, node: PlanStepNode, entity: EntityDef) -> StepBuilder:
        selector = node.selector
        if isinstance(selector, AllSelector):
            return Step.for_all(entity)
        if isinstance(selector, IdSelector):
            ref = entity.ref(self.entity_id(selector, entity))
            if any(root is entity for root in self.schema.roots):
                return Step.for_root(ref)
            return Step.for_one(ref)
        valid = filterable_fields(entity)
        for condition in iter_conditions(selector.filter):
            if condition.field not in valid:
                raise self.fail(
                    f'Unknown field "{quote_input(condition.field, 60)}" in the filter of '
                    f"{entity.name}; filterable fields: {_listing(valid)}",
                    selector.index + condition.index,
                    entityType=entity.name,
                    field=condition.field,
                    available=list(valid),
                    **suggestion(condition.field, valid),
                )
        return Step.for_where(entity, lower(selector.filter))

    def entity_id(self, selector: IdSelector, entity: EntityDef) -> str:
        """The id of ``#id`` — a RefKey (``#ein:AcmeUser:u1``) gives its id, if of ``entity``."""
        parsed = try_parse_ref_key(selector.id)
        if parsed is None:
            return selector.id
        if parsed.entity_type != entity.name:
            raise self.fail(
                f'"{selector.id}" is a RefKey of {parsed.entity_type}, not of {entity.name}',
                selector.index + 1,
                entityType=entity.name,
            )
        return parsed.entity_id

    # -- operations ---------------------------------------------------------------------------

    def operation(
        self, builder: StepBuilder, entity: EntityDef, op: PlanOperation
    ) -> list[SyncStep]:
        if isinstance(op, FieldsOperation):
            return [builder.load_fields(*self.fields(entity, op))]
        return [builder.load_collection(name) for name in self.collections(entity, op)]

    def fields(self, entity: EntityDef, op: FieldsOperation) -> list[str]:
        resolver = self.resolvers.get(entity.name)
        loadable = [
            name
            for name in entity.stored_field_names
            if resolver is not None and loads_fields(resolver.loader_for(name))
        ]
        if op.fields == "*":
            if not loadable:
                raise self.nothing_loadable(entity, "fields", op.index, resolver)
            return loadable
        names: list[str] = []
        for name, at in zip(op.fields, _positions(op), strict=True):
            field = entity.field(name)
            if field is None or field.kind is FieldKind.COLLECTION:
                if field is None:
                    reason = (
                        f'{entity.name} has no field "{name}"; fields: '
                        f"{_listing(entity.stored_field_names)}"
                    )
                else:
                    reason = f'"{name}" of {entity.name} is a collection: use .collection{{{name}}}'
                raise self.fail(
                    reason,
                    at,
                    entityType=entity.name,
                    field=name,
                    available=list(entity.stored_field_names),
                )
            if name not in loadable:
                raise self.fail(
                    f"The connector has no loader for {entity.name}.{name}{_why(resolver)}; "
                    f"loadable fields: {_listing(loadable)}",
                    at,
                    entityType=entity.name,
                    field=name,
                    available=loadable,
                )
            if name not in names:
                names.append(name)
        return names

    def collections(self, entity: EntityDef, op: CollectionOperation) -> list[str]:
        resolver = self.resolvers.get(entity.name)
        loadable = [
            name
            for name in entity.collection_field_names
            if resolver is not None and loads_collection(resolver.loader_for(name))
        ]
        if op.collections == "*":
            if not loadable:
                raise self.nothing_loadable(entity, "collections", op.index, resolver)
            return loadable
        for name, at in zip(op.collections, _positions(op), strict=True):
            field = entity.field(name)
            if field is None or field.kind is not FieldKind.COLLECTION:
                if field is None:
                    reason = (
                        f'{entity.name} has no collection "{name}"; collections: '
                        f"{_listing(entity.collection_field_names)}"
                    )
                else:
                    reason = f'"{name}" of {entity.name} is not a collection: use .fields{{{name}}}'
                raise self.fail(
                    reason,
                    at,
                    entityType=entity.name,
                    field=name,
                    available=list(entity.collection_field_names),
                )
            if name not in loadable:
                raise self.fail(
                    f"The connector has no loader for the collection {entity.name}.{name}"
                    f"{_why(resolver)}; loadable collections: {_listing(loadable)}",
                    at,
                    entityType=entity.name,
                    field=name,
                    available=loadable,
                )
        return list(dict.fromkeys(op.collections))

    # -- errors -------------------------------------------------------------------------------

    def nothing_loadable(
        self, entity: EntityDef, what: str, index: int, resolver: Resolver | None
    ) -> MaxError:
        return self.fail(
            f"The connector cannot load any {what} of {entity.name}{_why(resolver)}",
            index,
            entityType=entity.name,
            available=[],
        )

    def fail(self, reason: str, index: int, **data: Any) -> MaxError:
        return ErrInvalidPlan(expression=self.text, reason=reason, index=index, **data)


def _positions(op: PlanOperation) -> Sequence[int]:
    """The plan positions of an operation's names (the operation's own when not recorded)."""
    names = op.fields if isinstance(op, FieldsOperation) else op.collections
    if len(op.name_indices) == len(names):
        return op.name_indices
    return [op.index] * len(names)


def _why(resolver: Resolver | None) -> str:
    return " (it has no resolver for that entity type)" if resolver is None else ""


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"
