"""Resolvers: which loader serves each field of an entity type."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from ._core_errors import Core
from ._entity import EntityDef
from ._errors import BadInput, HasEntityField
from ._loader import AnyLoader, FieldAssignment

ErrUnknownResolverField = Core.define(
    "unknown_resolver_field",
    facets=[BadInput, HasEntityField],
    message="Resolver for {entityType} maps field '{field}', which {entityType} does not have",
)


@attrs.frozen(eq=False, repr=False)
class Resolver:
    """Maps fields of one entity type to loaders. Several fields on one loader = one call."""

    entity: EntityDef
    field_mappings: Mapping[str, FieldAssignment]

    @classmethod
    def for_(
        cls, entity: EntityDef, mappings: Mapping[str, AnyLoader | FieldAssignment]
    ) -> Resolver:
        checked: dict[str, FieldAssignment] = {}
        for field, value in mappings.items():
            if field not in entity.fields:
                raise ErrUnknownResolverField(entityType=entity.name, field=field)
            checked[field] = value if isinstance(value, FieldAssignment) else FieldAssignment(value)
        return cls(entity, MappingProxyType(checked))

    @property
    def loaders(self) -> tuple[AnyLoader, ...]:
        """Distinct loaders in first-use order (by identity)."""
        seen: list[AnyLoader] = []
        for assignment in self.field_mappings.values():
            if not any(assignment.loader is s for s in seen):
                seen.append(assignment.loader)
        return tuple(seen)

    def loader_for(self, field: str) -> AnyLoader | None:
        assignment = self.field_mappings.get(field)
        return assignment.loader if assignment is not None else None

    def fields_for(self, loader: AnyLoader) -> tuple[str, ...]:
        """Fields served by ``loader``, in the entity's declaration order."""
        return tuple(
            f
            for f in self.entity.fields
            if f in self.field_mappings and self.field_mappings[f].loader is loader
        )

    def __repr__(self) -> str:
        return f"Resolver({self.entity.name})"
