"""What the two SQL engines share beyond reads and write preparation: their tables by type,
``store`` on top of ``store_many``, and their lifecycle (closing the database)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from maxtrio.core import EntityColumns, EntityDef, EntityInput, Ref, expand_entities

from ._engine_reads import DerivedReads
from ._engine_writes import PreparedWrites
from ._errors import ErrEntityNotRegistered
from ._table import SyncStamp, TableSpec
from ._text_index import WriteRun


class SqlEngineBase(DerivedReads, PreparedWrites):
    """The parts of ``SqliteEngine`` and ``PgEngine`` that do not depend on the database."""

    _tables: dict[str, TableSpec]
    database: Any

    def table(self, entity: EntityDef | str) -> TableSpec:
        name = entity if isinstance(entity, str) else entity.name
        try:
            return self._tables[name]
        except KeyError:
            raise ErrEntityNotRegistered(entityType=name) from None

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        return tuple(self._tables.values())

    @property
    def tables_by_type(self) -> dict[str, TableSpec]:
        """Every table by entity type name (a copy)."""
        return dict(self._tables)

    async def store_many(
        self, entities: Sequence[EntityInput | EntityColumns], stamp: SyncStamp | None = None
    ) -> None:
        """Merge-upsert ``entities`` in one transaction; with a ``stamp``, as a sync's write
        (the rows' sync state is updated too)."""
        if not entities:
            return
        batches = self.prepare_writes(entities, stamp)
        try:
            await self.database.write(lambda conn: self.apply_writes(conn, batches))
        except UnicodeEncodeError:
            # Neither apsw nor psycopg can send a str with lone surrogates; the transaction
            # was rolled back.
            raise self._unencodable_value(expand_entities(entities)) from None

    @staticmethod
    def apply_writes(conn: Any, batches: list[WriteRun]) -> None:
        """Execute prepared runs on ``conn`` (the caller holds the transaction)."""
        raise NotImplementedError

    async def store(self, entity: EntityInput) -> Ref:
        await self.store_many([entity])
        return Ref(entity.ref.entity_def, entity.ref.id)

    # -- lifecycle ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        self.database.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
