"""Reads both engines derive the same way from their own ``load``, ``query`` and ``table``."""

from __future__ import annotations

from typing import Any

from maxtrio.core import (
    ALL,
    EntityDef,
    EntityQuery,
    EntityResult,
    FieldSelector,
    Page,
    PageRequest,
    Projection,
    QueryItem,
    Ref,
)

from ._errors import ErrCollectionNotSupported
from ._table import TableSpec

_ALL_PROJECTION = Projection.all()


class DerivedReads:
    """``load_field``, ``load_collection`` and ``load_page`` on top of an engine's primitives."""

    def table(self, entity: EntityDef | str) -> TableSpec:
        raise NotImplementedError

    async def load(self, ref: Ref, selector: FieldSelector = ALL) -> EntityResult:
        raise NotImplementedError

    async def query(self, query: EntityQuery, page: PageRequest | None = None) -> Page[QueryItem]:
        raise NotImplementedError

    async def load_field(self, ref: Ref, field: str) -> Any:
        table = self.table(ref.entity_def)
        table.column(field)  # storage.field_not_found for unknown and collection fields
        return (await self.load(ref, FieldSelector.select(field))).get(field)

    async def load_collection(
        self, ref: Ref, field: str, page: PageRequest | None = None
    ) -> Page[Ref]:
        raise ErrCollectionNotSupported()

    async def load_page(
        self,
        entity: EntityDef,
        projection: Projection = _ALL_PROJECTION,
        page: PageRequest | None = None,
    ) -> Page[QueryItem]:
        """Every row of a type in ``_id`` order, a page at a time."""
        return await self.query(EntityQuery(entity, projection=projection), page)
