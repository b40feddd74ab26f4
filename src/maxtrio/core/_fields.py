"""Field kinds of entity definitions: string, number, boolean, date, ref and collection."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Union

import attrs

if TYPE_CHECKING:
    from ._entity import EntityDef

#: A ref or collection target: the def itself, a zero-argument callable returning it (for
#: cycles), or an entity-type name resolved against the schema.
TargetSpec = Union["EntityDef", Callable[[], "EntityDef"], str]


class FieldKind(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    REF = "ref"
    COLLECTION = "collection"


#: The SQLite column type of each stored kind (collections have no column).
SQL_TYPES: dict[FieldKind, str] = {
    FieldKind.STRING: "TEXT",
    FieldKind.NUMBER: "REAL",
    FieldKind.BOOLEAN: "INTEGER",
    FieldKind.DATE: "TEXT",
    FieldKind.REF: "TEXT",
}


@attrs.frozen(eq=False)
class Field:
    """One field of an entity definition. Build them with the constructors below."""

    kind: FieldKind
    target_spec: TargetSpec | None = None
    via: str | None = None
    """For a collection: the child's ref field that points back at the parent, if any.

    With it, membership is answered from the child rows (``AcmeProject.tasks`` is every
    ``AcmeTask`` whose ``project`` is that project) and a complete listing of the collection
    knows which local rows it covers (so rows it did not see can be removed)."""

    @property
    def is_stored(self) -> bool:
        """True for scalars and refs (they have a column); False for collections."""
        return self.kind is not FieldKind.COLLECTION

    @property
    def is_relation(self) -> bool:
        return self.kind in (FieldKind.REF, FieldKind.COLLECTION)

    def target(self, resolve_name: Callable[[str], EntityDef | None] | None = None) -> EntityDef:
        """The target def of a ref or collection field."""
        from ._entity import EntityDef

        spec = self.target_spec
        if isinstance(spec, EntityDef):
            return spec
        if isinstance(spec, str):
            found = resolve_name(spec) if resolve_name is not None else None
            if found is None:
                raise LookupError(spec)
            return found
        if spec is None:
            raise TypeError(f"a {self.kind} field has no target")
        return spec()

    @property
    def target_name(self) -> str | None:
        """The target's entity type name without resolving lazy targets that are names."""
        from ._entity import EntityDef

        spec = self.target_spec
        if spec is None:
            return None
        if isinstance(spec, str):
            return spec
        if isinstance(spec, EntityDef):
            return spec.name
        return spec().name

    # -- constructors ------------------------------------------------------------------------

    @staticmethod
    def string() -> Field:
        return Field(FieldKind.STRING)

    @staticmethod
    def number() -> Field:
        return Field(FieldKind.NUMBER)

    @staticmethod
    def boolean() -> Field:
        return Field(FieldKind.BOOLEAN)

    @staticmethod
    def date() -> Field:
        return Field(FieldKind.DATE)

    @staticmethod
    def ref(target: TargetSpec) -> Field:
        """A reference to one entity of ``target`` (a def, a thunk, or a type name)."""
        return Field(FieldKind.REF, target)

    @staticmethod
    def collection(target: TargetSpec, *, via: str | None = None) -> Field:
        """A one-to-many relationship; populated by collection loaders, no column.

        ``via`` names the ref field of ``target`` that points back at the parent
        (``Field.collection(AcmeTask, via="project")``)."""
        return Field(FieldKind.COLLECTION, target, via)

    def __repr__(self) -> str:
        if self.target_spec is None:
            return f"Field.{self.kind.value}()"
        return f"Field.{self.kind.value}({self.target_name})"
