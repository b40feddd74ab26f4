"""EntityResult: a loaded entity — its ref and the field values that were loaded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._core_errors import ErrFieldNotLoaded
from ._entity import EntityDef
from ._meta_fields import DEFAULT_META_FIELDS, is_known_meta_field, resolve_meta_field
from ._ref import Ref


@attrs.frozen(repr=False)
class EntityResult:
    """A loaded entity. ``values`` holds every loaded field (a NULL column is loaded as None)."""

    ref: Ref
    values: Mapping[str, Any]

    @property
    def entity_def(self) -> EntityDef:
        return self.ref.entity_def

    @property
    def id(self) -> str:
        return self.ref.id

    def get(self, name: str) -> Any:
        """The value of a meta or loaded field; ``core.field_not_loaded`` otherwise."""
        if is_known_meta_field(name):
            return resolve_meta_field(self.ref, name)
        try:
            return self.values[name]
        except KeyError:
            raise ErrFieldNotLoaded(entityType=self.ref.entity_type, field=name) from None

    def maybe_get(self, name: str) -> Any:
        if is_known_meta_field(name):
            return resolve_meta_field(self.ref, name)
        return self.values.get(name)

    def has(self, name: str) -> bool:
        return is_known_meta_field(name) or name in self.values

    def loaded_fields(self) -> list[str]:
        return [*DEFAULT_META_FIELDS, *self.values]

    def to_dict(self) -> dict[str, Any]:
        return {"_id": self.ref.id, **self.values}

    def __getattr__(self, name: str) -> Any:
        # Attribute access to fields: ``user.displayName``. attrs slots are found before this.
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get(name)

    def __repr__(self) -> str:
        return f"EntityResult({self.ref!r}, {dict(self.values)!r})"
