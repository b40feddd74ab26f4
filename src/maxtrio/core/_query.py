"""The query descriptor: an entity, a where tree, an ordering and a projection.

Pagination is not part of the descriptor; it travels separately as a ``PageRequest``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from ._entity import EntityDef
from ._where import EMPTY_WHERE, Op, Where, WhereClause, WhereGroup


class ProjectionKind(enum.StrEnum):
    REFS = "refs"
    SELECT = "select"
    ALL = "all"


@attrs.frozen
class Projection:
    """What to return per row: refs only, a selection of fields, or every stored field."""

    kind: ProjectionKind
    fields: tuple[str, ...] = ()

    @classmethod
    def refs(cls) -> Projection:
        return _REFS

    @classmethod
    def select(cls, *fields: str) -> Projection:
        return cls(ProjectionKind.SELECT, tuple(fields))

    @classmethod
    def all(cls) -> Projection:
        return _ALL


_REFS = Projection(ProjectionKind.REFS)
_ALL = Projection(ProjectionKind.ALL)


@attrs.frozen
class FieldSelector:
    """Which fields ``Engine.load`` reads: ``ALL`` (also ``"*"``) or named fields."""

    fields: tuple[str, ...] | None  # None = all

    @classmethod
    def select(cls, *fields: str) -> FieldSelector:
        return cls(tuple(fields))

    @property
    def is_all(self) -> bool:
        return self.fields is None


ALL = FieldSelector(None)


@attrs.frozen
class Ordering:
    field: str
    direction: Literal["asc", "desc"] = "asc"

    @property
    def descending(self) -> bool:
        return self.direction == "desc"


@attrs.frozen
class EntityQuery:
    """What to read of one entity type. ``text``: a full-text query (FTS5 syntax) over the
    type's text fields; without an ``ordering`` the rows come best match first."""

    entity: EntityDef
    where: WhereClause = EMPTY_WHERE
    ordering: Ordering | None = None
    projection: Projection = _ALL
    text: str | None = None


class Query:
    """Fluent builder: ``Query.from_(Def).where("f", "=", v).order_by("f", "desc").select("f")``.

    Several ``where`` calls make one flat ``and`` in call order; ``order_by`` keeps the last.
    """

    def __init__(self, entity: EntityDef) -> None:
        self._entity = entity
        self._leaves: list[Where] = []
        self._ordering: Ordering | None = None

    @classmethod
    def from_(cls, entity: EntityDef) -> Query:
        return cls(entity)

    def where(self, field: str, op: Op | str, value: Any) -> Query:
        self._leaves.append(Where(field, Op(op), value))
        return self

    def order_by(self, field: str, direction: Literal["asc", "desc"] = "asc") -> Query:
        self._ordering = Ordering(field, direction)
        return self

    def _build(self, projection: Projection) -> EntityQuery:
        return EntityQuery(
            self._entity, WhereGroup("and", tuple(self._leaves)), self._ordering, projection
        )

    def refs(self) -> EntityQuery:
        return self._build(Projection.refs())

    def select(self, *fields: str | Sequence[str]) -> EntityQuery:
        names: list[str] = []
        for f in fields:
            names.extend([f] if isinstance(f, str) else f)
        return self._build(Projection.select(*names))

    def select_all(self) -> EntityQuery:
        return self._build(Projection.all())
