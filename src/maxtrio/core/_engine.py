"""The ``Engine`` protocol: how connectors, the executor and the CLI read and write entities.

Implemented by ``maxtrio.storage.SqliteEngine`` (apsw) and ``InMemoryEngine`` (tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ._entity import EntityDef, EntityInput
from ._page import Page, PageRequest
from ._query import EntityQuery, FieldSelector, Projection
from ._ref import Ref
from ._result import EntityResult
from ._schema import Schema

#: What a page of a query holds: refs for the ``refs`` projection, else results.
QueryItem = Ref | EntityResult

#: Default page size of ``load_page`` and ``query``.
DEFAULT_PAGE_LIMIT = 1000


class Engine(Protocol):
    """Entity storage for one installation. All methods are safe to call from trio tasks."""

    schema: Schema

    async def store(self, entity: EntityInput) -> Ref:
        """Merge-upsert one entity; returns its installation-scoped ref."""
        ...

    async def store_many(self, entities: Sequence[EntityInput]) -> None:
        """Merge-upsert a batch in one transaction (all or nothing), in input order."""
        ...

    async def delete_many(self, refs: Sequence[Ref]) -> int:
        """Delete these entities (unknown ones are ignored); returns how many were removed."""
        ...

    async def load(self, ref: Ref, selector: FieldSelector = ...) -> EntityResult:
        """One entity with the selected fields; ``storage.entity_not_found`` if absent."""
        ...

    async def load_field(self, ref: Ref, field: str) -> Any:
        """One field of one entity."""
        ...

    async def load_page(
        self, entity: EntityDef, projection: Projection = ..., page: PageRequest | None = None
    ) -> Page[QueryItem]:
        """Every row of a type in ``_id`` order, a page at a time."""
        ...

    async def query(self, query: EntityQuery, page: PageRequest | None = None) -> Page[QueryItem]:
        """Rows matching a where tree, ordered, a page at a time (keyset cursors)."""
        ...

    async def count(self, entity: EntityDef) -> int:
        """How many rows a type has."""
        ...

    async def aclose(self) -> None: ...
