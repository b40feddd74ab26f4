"""The wire forms of what crosses between tiers: attrs messages on the shared converter.

Live objects never cross the wire; their descriptions do:

=======================  ======================================================================
``SchemaDescription``    the schema as ``max schema -o json`` prints it: namespace,
                         entities with ``{name, kind: scalar|ref|collection, type|target}``
                         fields, roots, relationships
``QueryMessage``         ``{entityType, filter, orderBy, projection}``; the filter is the where
                         tree as JSON (leaves ``{field, op, value}``, groups ``{kind, clauses}``)
``PageMessage``          ``{items, hasMore, cursor}``; items ``{"_id", "_ref", <field>: value}``
                         (refs as RefKey strings, dates as ISO text)
``SyncStartedMessage``   ``{id, startedAt}`` of a sync started in the node
``SyncResultMessage``    ``SyncResult.to_json()`` read back
``OnboardingStepInfo``   a step's description (kind, label, fields, credentials…): no functions
=======================  ======================================================================

Each ``*_to_wire`` / ``from_wire`` pair goes through ``maxtrio.core.converter``; a malformed
value raises ``rpc.invalid_message`` naming what was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from maxtrio.connector import (
    InputStep,
    OnboardingFlow,
    SelectStep,
)
from maxtrio.core import (
    EMPTY_WHERE,
    EntityDef,
    EntityQuery,
    EntityResult,
    FieldKind,
    MaxError,
    Ordering,
    PageRequest,
    Projection,
    QueryItem,
    Ref,
    Schema,
    converter,
    objects_only,
    parse_ref_key,
)
from maxtrio.core import value_to_wire as value_to_wire
from maxtrio.core import where_from_wire as where_from_wire
from maxtrio.core import where_to_wire as where_to_wire
from maxtrio.execution import SyncResult, SyncStatus

from ._errors import ErrInvalidRpcMessage
from ._records import InstallationInfo, RecordProblem, structure_record

T = TypeVar("T")


def from_wire(value: Any, cls: type[T], *, what: str) -> T:
    """Structure ``value`` as ``cls``; ``rpc.invalid_message`` (naming ``what``) if it is not."""
    try:
        if isinstance(value, Mapping) and attrs.has(cls):
            return cast(T, structure_record(value, cls))
        return converter.structure(value, cls)
    except RecordProblem as problem:
        raise ErrInvalidRpcMessage(what=what, reason=str(problem)) from None
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise ErrInvalidRpcMessage(what=what, reason=str(exc) or type(exc).__name__) from None


def to_wire(value: Any) -> Any:
    return converter.unstructure(value)


def camel_hooks(cls: type, **renames: str) -> None:
    """Register ``cls``'s JSON form on the shared converter: its fields, ``renames`` applied
    (``started_at="startedAt"``); anything but an object reads as "expected an object"."""
    overrides = {name: override(rename=key) for name, key in renames.items()}
    converter.register_unstructure_hook(
        cls,
        make_dict_unstructure_fn(cls, converter, **overrides),  # type: ignore[arg-type]
    )
    converter.register_structure_hook(
        cls,
        objects_only(make_dict_structure_fn(cls, converter, **overrides)),  # type: ignore[arg-type]
    )


# -- health and lifecycle ------------------------------------------------------------------------


@attrs.frozen
class LifecycleResult:
    """``{"outcome": "started" | "already_running" | "stopped" | "already_stopped" | …}``."""

    outcome: str
    reason: str | None = None


def installation_to_wire(info: InstallationInfo) -> dict[str, Any]:
    """An installation record with its ``name`` (``max.json`` keeps the name as the key)."""
    return {"name": info.name, **to_wire(info)}


# -- syncs ---------------------------------------------------------------------------------------


@attrs.frozen
class SyncStartedMessage:
    """A sync started in the node: its id and when (ISO-8601 UTC)."""

    id: str
    started_at: str


@attrs.frozen
class SyncResultMessage:
    """How a sync ended, as ``SyncResult.to_json()`` carries it."""

    sync_id: str
    status: SyncStatus
    tasks_completed: int
    tasks_failed: int
    duration_ms: int
    stranded: int = 0
    error: str | None = None

    @classmethod
    def from_result(cls, result: SyncResult) -> SyncResultMessage:
        return cls(
            result.sync_id,
            result.status,
            result.tasks_completed,
            result.tasks_failed,
            result.duration_ms,
            result.stranded,
            result.error,
        )


camel_hooks(SyncStartedMessage, started_at="startedAt")
camel_hooks(
    SyncResultMessage,
    sync_id="syncId",
    tasks_completed="tasksCompleted",
    tasks_failed="tasksFailed",
    duration_ms="durationMs",
)


# -- schemas -------------------------------------------------------------------------------------


@attrs.frozen
class FieldDescription:
    name: str
    kind: str  # scalar | ref | collection
    type: str | None = None
    target: str | None = None


@attrs.frozen
class EntityDescription:
    name: str
    fields: tuple[FieldDescription, ...]


@attrs.frozen
class RelationshipDescription:
    from_: str
    field: str
    to: str
    cardinality: str


@attrs.frozen
class SchemaDescription:
    """A schema's description (the JSON of ``max schema -o json``)."""

    namespace: str
    entities: tuple[EntityDescription, ...]
    roots: tuple[str, ...]
    relationships: tuple[RelationshipDescription, ...]

    @classmethod
    def from_schema(cls, schema: Schema) -> SchemaDescription:
        entities = tuple(
            EntityDescription(
                e.name, tuple(_describe_field(schema, n, f) for n, f in e.fields.items())
            )
            for e in schema.entities
        )
        relationships = tuple(
            RelationshipDescription(r.from_, r.field, r.to, r.cardinality)
            for r in schema.relationships
        )
        return cls(schema.namespace, entities, tuple(r.name for r in schema.roots), relationships)

    @property
    def entity_types(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entities)


def _describe_field(schema: Schema, name: str, field: Any) -> FieldDescription:
    if field.kind is FieldKind.REF:
        return FieldDescription(name, "ref", target=field.target(schema.get_definition).name)
    if field.kind is FieldKind.COLLECTION:
        return FieldDescription(name, "collection", target=field.target(schema.get_definition).name)
    return FieldDescription(name, "scalar", type=field.kind.value)


def _unstructure_field(field: FieldDescription) -> dict[str, Any]:
    out: dict[str, Any] = {"name": field.name, "kind": field.kind}
    if field.type is not None:
        out["type"] = field.type
    if field.target is not None:
        out["target"] = field.target
    return out


converter.register_unstructure_hook(FieldDescription, _unstructure_field)
camel_hooks(RelationshipDescription, from_="from")


# -- queries and pages ---------------------------------------------------------------------------


@attrs.frozen
class QueryMessage:
    """A query by entity type name; the receiver looks the definition up in its schema."""

    entity_type: str
    filter: dict[str, Any] | None = None
    order_by: Ordering | None = None
    projection: Projection = attrs.field(factory=Projection.all)
    text: str | None = None  # a full-text query (absent from the reference's messages)

    @classmethod
    def from_query(cls, query: EntityQuery) -> QueryMessage:
        where = None if query.where == EMPTY_WHERE else where_to_wire(query.where)
        return cls(query.entity.name, where, query.ordering, query.projection, query.text)

    def to_query(self, schema: Schema) -> EntityQuery:
        entity = entity_def(schema, self.entity_type)
        where = EMPTY_WHERE if self.filter is None else where_from_wire(self.filter)
        return EntityQuery(entity, where, self.order_by, self.projection, self.text)


camel_hooks(QueryMessage, entity_type="entityType", order_by="orderBy")
camel_hooks(PageRequest)


@attrs.frozen
class PageMessage:
    """One page of results: items as JSON objects with ``_id`` and ``_ref``."""

    items: tuple[dict[str, Any], ...]
    has_more: bool = False
    cursor: str | None = None

    @classmethod
    def from_items(
        cls, items: Sequence[QueryItem], has_more: bool, cursor: str | None
    ) -> PageMessage:
        return cls(tuple(item_to_wire(i) for i in items), has_more, cursor)


camel_hooks(PageMessage, has_more="hasMore")


def item_to_wire(item: QueryItem) -> dict[str, Any]:
    if isinstance(item, Ref):
        return {"_id": item.id, "_ref": item.to_key()}
    assert isinstance(item, EntityResult)
    out: dict[str, Any] = {"_id": item.ref.id, "_ref": item.ref.to_key()}
    for name, value in item.values.items():
        out[name] = value_to_wire(value)
    return out


def entity_def(schema: Schema, entity_type: str) -> EntityDef:
    found = schema.get_definition(entity_type)
    if found is None:
        raise ErrInvalidRpcMessage(
            what="entity type", reason=f'"{entity_type}" is not in schema "{schema.namespace}"'
        )
    return found


def ref_from_key(schema: Schema, key: str) -> Ref:
    parsed = parse_ref_key(key)
    return entity_def(schema, parsed.entity_type).ref(parsed.entity_id, parsed.scope)


# -- onboarding ----------------------------------------------------------------------------------


@attrs.frozen
class OnboardingFieldInfo:
    label: str
    type: str
    required: bool = False
    default: str | float | bool | None = None


@attrs.frozen
class OnboardingStepInfo:
    """What a remote runner needs to show a step; functions stay on the node."""

    kind: str
    label: str
    description: str | None = None
    fields: dict[str, OnboardingFieldInfo] = attrs.field(factory=dict)
    credentials: tuple[str, ...] = ()
    field: str | None = None
    multiple: bool = False


def describe_onboarding(flow: OnboardingFlow) -> list[OnboardingStepInfo]:
    steps: list[OnboardingStepInfo] = []
    for step in flow.steps:
        if isinstance(step, InputStep):
            description = step.description if isinstance(step.description, str) else None
            fields = {
                key: OnboardingFieldInfo(f.label, f.type, f.required, f.default)
                for key, f in step.fields.items()
            }
            credentials = tuple(c.name for c in step.credentials.values())
            steps.append(
                OnboardingStepInfo(step.kind, step.label, description, fields, credentials)
            )
        elif isinstance(step, SelectStep):
            steps.append(
                OnboardingStepInfo(step.kind, step.label, field=step.field, multiple=step.multiple)
            )
        else:
            steps.append(OnboardingStepInfo(step.kind, step.label))
    return steps


# -- arguments of the tier methods -----------------------------------------------------------------


@attrs.frozen(repr=False)
class CreateInstallationArgs:
    """``createInstallation``'s argument; credentials are written to the node's 0600 file."""

    connector: str
    config: dict[str, Any] = attrs.field(factory=dict)
    credentials: dict[str, str] = attrs.field(factory=dict)
    name: str | None = None

    def __repr__(self) -> str:
        return f"CreateInstallationArgs({self.connector!r}, name={self.name!r}, <redacted>)"


@attrs.frozen
class CreateWorkspaceArgs:
    directory: str
    force: bool = False


def error_to_wire(error: BaseException) -> dict[str, Any]:
    return MaxError.wrap(error).to_wire()
