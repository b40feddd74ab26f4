"""Reads both engines derive the same way from their own ``load``, ``query`` and ``table``."""

from __future__ import annotations

from typing import Any

from maxtrio.core import (
    ALL,
    EntityDef,
    EntityQuery,
    EntityResult,
    FieldSelector,
    MaxError,
    Page,
    PageRequest,
    Projection,
    Query,
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
        """The members of ``ref``'s collection ``field``, in ``_id`` order, a page at a time.

        Answered from the children's own ref back to the parent (``Field.collection(...,
        via=...)``): ``AcmeProject.tasks`` is every ``AcmeTask`` whose ``project`` is it. A
        collection without ``via`` is not stored: ``storage.collection_not_supported``."""
        declared = ref.entity_def.field(field)
        if declared is None or declared.via is None:
            raise ErrCollectionNotSupported()
        child = self.table(declared.target(self._resolve)).entity
        query = Query.from_(child).where(declared.via, "=", ref.id).refs()
        result = await self.query(query, page)
        return Page(
            [item for item in result.items if isinstance(item, Ref)],
            result.has_more,
            result.cursor,
        )

    def _resolve(self, name: str) -> EntityDef | None:
        try:
            return self.table(name).entity
        except MaxError:
            return None

    async def load_page(
        self,
        entity: EntityDef,
        projection: Projection = _ALL_PROJECTION,
        page: PageRequest | None = None,
    ) -> Page[QueryItem]:
        """Every row of a type in ``_id`` order, a page at a time."""
        return await self.query(EntityQuery(entity, projection=projection), page)
