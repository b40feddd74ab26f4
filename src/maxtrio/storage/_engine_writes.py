"""Write preparation both SQL engines share: validate a batch and convert it column by column.

Pure Python (no database access). Each engine turns a prepared column batch into its own
statement and rows (:meth:`PreparedWrites.write_run`).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from typing import Any

from maxtrio.core import EntityColumns, EntityDef, EntityInput, MaxError, Ref

from ._errors import ErrInvalidValue
from ._table import SyncStamp, TableSpec
from ._text_index import WriteRun
from ._values import (
    TEXT_EXPECTED,
    BadValue,
    convert_column,
    describe,
    is_utf8_text,
    printable,
)


class PreparedWrites:
    """``prepare_writes`` on top of an engine's ``table`` and ``write_run``."""

    def table(self, entity: EntityDef | str) -> TableSpec:
        raise NotImplementedError

    def write_run(
        self,
        table: TableSpec,
        fields: tuple[str, ...],
        ids: Sequence[str],
        columns: list[Sequence[Any]],
        stamp: SyncStamp | None,
    ) -> WriteRun:
        """The statement and rows writing ``ids`` with these converted field columns."""
        raise NotImplementedError

    def _unencodable_value(self, entities: Sequence[EntityInput]) -> MaxError:
        """The ``invalid_value`` error naming the first text of a batch the database cannot hold."""
        for entity in entities:
            id_ = entity.ref.id
            by_field = self.table(entity.ref.entity_def).by_field
            values = [("_id", id_), *((f, v) for f, v in entity.fields.items() if f in by_field)]
            for field, value in values:
                text = value.id if isinstance(value, Ref) else value
                if isinstance(text, str) and not is_utf8_text(text):
                    return ErrInvalidValue(
                        entityType=entity.ref.entity_type,
                        field=field,
                        entityId=printable(id_),
                        expected=TEXT_EXPECTED,
                        got=describe(value),
                    )
        raise AssertionError("UnicodeEncodeError without unencodable text")  # pragma: no cover

    def prepare_writes(
        self, entities: Sequence[EntityInput | EntityColumns], stamp: SyncStamp | None = None
    ) -> list[WriteRun]:
        """Validate and convert a batch into ``(sql, rows)`` runs, in input order.

        Pure Python (no database access), so callers that combine entity writes with other
        writes in one transaction (the task store) can prepare outside the writer thread. The
        common case — every input of one type with the same fields — is checked and converted
        column by column with C-level ``map``/``zip``; mixed batches fall back to runs.
        :class:`EntityColumns` arrive as columns already and are converted as they are.
        """
        if not any(isinstance(e, EntityColumns) for e in entities):
            return self._prepare_inputs(entities, stamp)  # type: ignore[arg-type]
        out: list[WriteRun] = []
        pending: list[EntityInput] = []
        for item in entities:
            if isinstance(item, EntityColumns):
                if pending:
                    out += self._prepare_inputs(pending, stamp)
                    pending = []
                if len(item):
                    out.append(self._prepare_columns(item, stamp))
            else:
                pending.append(item)
        if pending:
            out += self._prepare_inputs(pending, stamp)
        return out

    def _prepare_columns(self, batch: EntityColumns, stamp: SyncStamp | None) -> WriteRun:
        table = self.table(batch.entity_def)
        type_name = batch.entity_def.name
        ids = batch.ids
        if not set(map(type, ids)) <= {str}:
            bad = next(i for i in ids if not isinstance(i, str))
            raise ErrInvalidValue(
                entityType=type_name,
                field="_id",
                entityId=printable(str(bad)),
                expected="a string id",
                got=describe(bad),
            )
        fields = tuple(f for f in batch.columns if f in table.by_field)
        columns: list[Sequence[Any]] = []
        for field in fields:
            try:
                columns.append(convert_column(table.by_field[field].kind, batch.columns[field]))
            except BadValue as bad:
                raise ErrInvalidValue(
                    entityType=type_name,
                    field=field,
                    entityId=printable(ids[bad.index]),
                    expected=bad.expected,
                    got=describe(bad.got),
                ) from None
        return self.write_run(table, fields, ids, columns, stamp)

    def _prepare_inputs(
        self, entities: Sequence[EntityInput], stamp: SyncStamp | None = None
    ) -> list[WriteRun]:
        fields_list = list(map(_FIELDS, entities))
        first = fields_list[0]
        refs = list(map(_REF, entities))
        if (
            len(set(map(_DEF, refs))) == 1
            and set(map(len, fields_list)) == {len(first)}
            # Only when every key is a column: an ignored key (unknown or collection) in the
            # first input would hide a different key in another input of the same size.
            and all(map(self.table(refs[0].entity_def).by_field.__contains__, first))
        ):
            try:
                return [self._prepare_run(refs, fields_list, tuple(first), stamp)]
            except KeyError:
                pass  # same sizes, different keys: take the general path
        out = []
        for (_, keys), run in itertools.groupby(entities, key=_run_key):
            items = list(run)
            refs_of_run = list(map(_REF, items))
            out.append(self._prepare_run(refs_of_run, list(map(_FIELDS, items)), keys, stamp))
        return out

    def _prepare_run(
        self,
        refs: list[Ref],
        fields_list: list[Any],
        keys: tuple[str, ...],
        stamp: SyncStamp | None,
    ) -> WriteRun:
        """Inputs of one type with the same keys, taken apart into columns and prepared as a
        column batch. Raises ``KeyError`` when an input lacks one of ``keys`` (the caller then
        falls back to runs)."""
        entity = refs[0].entity_def
        table = self.table(entity)
        columns = {
            field: list(map(operator.itemgetter(field), fields_list))
            for field in keys
            if field in table.by_field
        }
        return self._prepare_columns(EntityColumns(entity, list(map(_ID, refs)), columns), stamp)


_FIELDS = operator.attrgetter("fields")
_REF = operator.attrgetter("ref")
_ID = operator.attrgetter("id")
_DEF = operator.attrgetter("entity_def")


def _run_key(entity: EntityInput) -> tuple[str, tuple[str, ...]]:
    return entity.ref.entity_def.name, tuple(entity.fields)
