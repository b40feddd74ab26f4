"""Entity definitions: a named type with ordered, typed fields."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from ._core_errors import ErrInvalidEntityDef, ErrReservedFieldPrefix
from ._fields import Field, FieldKind
from ._ref import Ref
from ._scope import INSTALLATION, Scope


@attrs.frozen(eq=False, repr=False)
class EntityDef:
    """A named entity type. Identity is the object: two defs are the same only if identical.

    Build with :meth:`create`, which validates names. Field order is declaration order and is
    significant (column order, default output order).
    """

    name: str
    fields: Mapping[str, Field]

    @classmethod
    def create(cls, name: str, fields: Mapping[str, Field] | None = None) -> EntityDef:
        if not isinstance(name, str) or not name or ":" in name:
            raise ErrInvalidEntityDef(
                entityType=str(name), reason="the name must be a non-empty string without ':'"
            )
        checked: dict[str, Field] = {}
        for field_name, field in (fields or {}).items():
            if not isinstance(field_name, str) or not field_name:
                raise ErrInvalidEntityDef(entityType=name, reason="field names must be strings")
            if field_name.startswith("_"):
                raise ErrReservedFieldPrefix(entityType=name, field=field_name)
            if not isinstance(field, Field):
                raise ErrInvalidEntityDef(
                    entityType=name, reason=f"field {field_name!r} is not a Field"
                )
            checked[field_name] = field
        return cls(name, MappingProxyType(checked))

    def __repr__(self) -> str:
        return f"EntityDef({self.name})"

    def ref(self, id: str, scope: Scope = INSTALLATION) -> Ref:
        return Ref(self, id, scope)

    def field(self, name: str) -> Field | None:
        return self.fields.get(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self.fields)

    @property
    def stored_field_names(self) -> tuple[str, ...]:
        """Scalar and ref fields (those with a column), in declaration order."""
        return tuple(n for n, f in self.fields.items() if f.is_stored)

    @property
    def collection_field_names(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.fields.items() if f.kind is FieldKind.COLLECTION)

    def input(self, id: str, fields: Mapping[str, Any] | None = None, /, **kw: Any) -> EntityInput:
        """An upsert request for entity ``id`` of this type."""
        values = dict(fields or {})
        values.update(kw)
        return EntityInput(Ref(self, id), values)


@attrs.frozen(repr=False)
class EntityInput:
    """An upsert request: a ref and a partial mapping of field values.

    A field absent from ``fields`` is not written (its stored value is kept); a field present
    with ``None`` is set to NULL.
    """

    ref: Ref
    fields: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def create(
        cls, entity_def: EntityDef, id: str, fields: Mapping[str, Any] | None = None
    ) -> EntityInput:
        return cls(Ref(entity_def, id), dict(fields or {}))

    @property
    def entity_def(self) -> EntityDef:
        return self.ref.entity_def

    def __repr__(self) -> str:
        return f"EntityInput({self.ref!r}, {dict(self.fields)!r})"
