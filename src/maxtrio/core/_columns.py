"""``EntityColumns``: many entities of one type, column by column (the bulk form of inputs).

A page of a thousand tasks as a thousand :class:`EntityInput` objects costs a dict and an
object per row, which the storage layer then takes apart again column by column. Loaders that
read big pages can return one ``EntityColumns`` instead: ``ids[i]`` has ``columns[f][i]`` for
every field ``f``. It means exactly what the inputs would (a merge upsert of those fields;
``None`` clears), and a ref field's values may be ids or :class:`Ref` values. Stores that
cannot take columns expand them with :meth:`EntityColumns.inputs`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from ._entity import EntityDef, EntityInput
from ._fields import FieldKind
from ._ref import Ref, format_ref_key


@attrs.frozen(eq=False)
class EntityColumns:
    """``ids`` of ``entity_def`` with one value per id in each of ``columns``."""

    entity_def: EntityDef
    ids: Sequence[str]
    columns: Mapping[str, Sequence[Any]]

    def __attrs_post_init__(self) -> None:
        size = len(self.ids)
        for name, values in self.columns.items():
            if len(values) != size:
                raise ValueError(f"column {name!r} has {len(values)} values for {size} ids")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def refs(self) -> list[Ref]:
        entity = self.entity_def
        return [Ref(entity, id_) for id_ in self.ids]

    def ref_keys(self) -> Sequence[str]:
        """The RefKey of every id, computed when read (a page's keys are rarely needed)."""
        return _RefKeys(self.entity_def.name, self.ids)

    def inputs(self) -> list[EntityInput]:
        """One input per id (ref ids become :class:`Ref` values of the field's target)."""
        entity = self.entity_def
        targets: dict[str, EntityDef] = {}
        for name in self.columns:
            field = entity.fields.get(name)
            if field is not None and field.kind is FieldKind.REF:
                # A target named by string cannot be resolved here: the id is kept as it is.
                with contextlib.suppress(LookupError):
                    targets[name] = field.target()
        names = tuple(self.columns)
        out: list[EntityInput] = []
        for index, id_ in enumerate(self.ids):
            fields = {name: self.columns[name][index] for name in names}
            for name, target in targets.items():
                value = fields[name]
                if isinstance(value, str):
                    fields[name] = Ref(target, value)
            out.append(EntityInput(Ref(entity, id_), fields))
        return out


class _RefKeys(Sequence[str]):
    def __init__(self, entity_type: str, ids: Sequence[str]) -> None:
        self._type = entity_type
        self._ids = ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [format_ref_key(self._type, i) for i in self._ids[index]]
        return format_ref_key(self._type, self._ids[index])

    def __iter__(self) -> Iterator[str]:
        prefix = f"ein:{self._type}:"
        return (prefix + i for i in self._ids)


def expand_entities(items: Sequence[EntityInput | EntityColumns]) -> list[EntityInput]:
    """Every item as inputs, in order (columns expanded)."""
    out: list[EntityInput] = []
    for item in items:
        if isinstance(item, EntityColumns):
            out.extend(item.inputs())
        else:
            out.append(item)
    return out


def count_entities(items: Sequence[EntityInput | EntityColumns]) -> int:
    """How many entities ``items`` hold (a column batch counts its ids)."""
    return sum(len(item) if isinstance(item, EntityColumns) else 1 for item in items)
