"""Schema: a connector's entity definitions, its roots, and the relationships between them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

from ._core_errors import ErrRootNotInEntities, ErrUnresolvedRefTarget
from ._entity import EntityDef
from ._fields import FieldKind


@attrs.frozen
class Relationship:
    from_: str
    field: str
    to: str
    cardinality: Literal["one", "many"]

    def to_dict(self) -> dict[str, str]:
        return {
            "from": self.from_,
            "field": self.field,
            "to": self.to,
            "cardinality": self.cardinality,
        }


@attrs.frozen(eq=False)
class Schema:
    """A namespace of entity definitions with roots; entities and roots are immutable tuples."""

    namespace: str
    entities: tuple[EntityDef, ...]
    roots: tuple[EntityDef, ...] = ()

    @classmethod
    def create(
        cls, namespace: str, entities: Iterable[EntityDef], roots: Iterable[EntityDef] = ()
    ) -> Schema:
        ents = tuple(entities)
        root_list = tuple(roots)
        for root in root_list:
            if not any(root is e for e in ents):
                raise ErrRootNotInEntities(root=root.name)
        schema = cls(namespace, ents, root_list)
        schema._check_targets()
        return schema

    def _check_targets(self) -> None:
        for entity in self.entities:
            for name, field in entity.fields.items():
                if field.is_relation:
                    try:
                        field.target(self.get_definition)
                    except LookupError:
                        raise ErrUnresolvedRefTarget(
                            entityType=entity.name, field=name, target=field.target_name
                        ) from None

    @property
    def entity_types(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entities)

    def get_definition(self, name: str) -> EntityDef | None:
        for e in self.entities:
            if e.name == name:
                return e
        return None

    @property
    def relationships(self) -> Sequence[Relationship]:
        rels: list[Relationship] = []
        for e in self.entities:
            for fname, field in e.fields.items():
                if field.kind is FieldKind.REF:
                    rels.append(
                        Relationship(e.name, fname, field.target(self.get_definition).name, "one")
                    )
                elif field.kind is FieldKind.COLLECTION:
                    rels.append(
                        Relationship(e.name, fname, field.target(self.get_definition).name, "many")
                    )
        return rels
