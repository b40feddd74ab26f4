"""Batch: the result container of batched loaders, mapping input keys to values."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from ._core_errors import ErrBatchKeyMissing

V = TypeVar("V")
W = TypeVar("W")


@runtime_checkable
class Keyable(Protocol):
    def to_key(self) -> str: ...


BatchKey = str | Keyable


def key_of(k: BatchKey) -> str:
    return k if isinstance(k, str) else k.to_key()


class Batch(Generic[V]):
    """Values keyed by the string form of their input keys (refs use their RefKey)."""

    __slots__ = ("_inputs", "_keyed", "_record", "_values")

    def __init__(
        self,
        values: Sequence[V],
        inputs: Sequence[BatchKey],
        record: dict[str, V],
        keyed: dict[str, V] | None = None,
    ):
        self._values = list(values)
        self._inputs = list(inputs)
        self._record = record
        # Every value by its key (last wins), reachable or not: ``with_inputs`` re-scopes these.
        self._keyed = keyed if keyed is not None else record

    # -- constructors ------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        values: Iterable[V],
        key: Callable[[V], BatchKey],
        inputs: Sequence[BatchKey] | None = None,
    ) -> Batch[V]:
        """Key each value with ``key``; the inputs default to the keys of the values."""
        vals = list(values)
        keyed = [(key_of(key(v)), v) for v in vals]
        ins: list[BatchKey] = list(inputs) if inputs is not None else [k for k, _ in keyed]
        by_key = dict(keyed)
        wanted = {key_of(i) for i in ins}
        record = {k: v for k, v in by_key.items() if k in wanted}
        return cls(vals, ins, record, by_key)

    @classmethod
    def from_list(cls, values: Iterable[V], prop: str) -> Batch[V]:
        return cls.build(values, lambda v: _prop(v, prop))

    @classmethod
    def by_id(cls, values: Iterable[V]) -> Batch[V]:
        return cls.from_list(values, "id")

    @classmethod
    def from_record(cls, record: Mapping[str, V]) -> Batch[V]:
        return cls(list(record.values()), list(record), dict(record))

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[BatchKey, V]]) -> Batch[V]:
        pairs = [(key_of(k), v) for k, v in entries]
        return cls([v for _, v in pairs], [k for k, _ in pairs], dict(pairs))

    @classmethod
    def empty(cls) -> Batch[V]:
        return cls([], [], {})

    # -- lookups -----------------------------------------------------------------------------

    @property
    def input_size(self) -> int:
        return len(self._inputs)

    @property
    def values(self) -> list[V]:
        return list(self._values)

    def get(self, key: BatchKey) -> V | None:
        return self._record.get(key_of(key))

    def get_or_raise(self, key: BatchKey) -> V:
        k = key_of(key)
        try:
            return self._record[k]
        except KeyError:
            raise ErrBatchKeyMissing(key=k) from None

    def has(self, key: BatchKey) -> bool:
        return key_of(key) in self._record

    def keys(self) -> list[str]:
        return list(self._record)

    def entries(self) -> list[tuple[str, V]]:
        return list(self._record.items())

    def __iter__(self) -> Iterator[tuple[str, V]]:
        return iter(self._record.items())

    @property
    def is_fully_resolved(self) -> bool:
        return all(key_of(i) in self._record for i in self._inputs)

    @property
    def unresolvable_keys(self) -> set[str]:
        return {key_of(i) for i in self._inputs if key_of(i) not in self._record}

    @property
    def unresolvable_inputs(self) -> list[BatchKey]:
        return [i for i in self._inputs if key_of(i) not in self._record]

    # -- derivations -------------------------------------------------------------------------

    def with_inputs(self, inputs: Sequence[BatchKey]) -> Batch[V]:
        wanted = {key_of(i) for i in inputs}
        record = {k: v for k, v in self._keyed.items() if k in wanted}
        return Batch(self._values, list(inputs), record, self._keyed)

    def map_values(self, fn: Callable[[V], W]) -> Batch[W]:
        keyed = {k: fn(v) for k, v in self._keyed.items()}
        record = {k: keyed[k] for k in self._record}
        return Batch(list(record.values()), self._inputs, record, keyed)

    def to_record(self) -> dict[str, V]:
        return dict(self._record)

    def to_record_with_defaults(self, default: Callable[[BatchKey], V]) -> dict[str, V]:
        out = dict(self._record)
        for i in self._inputs:
            out.setdefault(key_of(i), default(i))
        return out


def _prop(value: Any, prop: str) -> BatchKey:
    if isinstance(value, Mapping):
        return value[prop]  # type: ignore[no-any-return]
    return getattr(value, prop)  # type: ignore[no-any-return]
