"""Loaders: how a connector fetches fields and collections, and sources with derivations.

=================  ============================================  ===============================
kind               call                                          returns
=================  ============================================  ===============================
``entity``         ``load(ref, env)``                            one ``EntityInput``
``entityBatched``  ``load(refs, env)``                           ``Batch[EntityInput]`` by ref
``collection``     ``load(parent_ref, page_request, env)``       ``Page`` of inputs or columns
``derivation``     ``extract(source_data)`` (pure)               list of ``EntityInput``
=================  ============================================  ===============================

A *source* fetches raw data once for a parent ref (``SingleSource``) or a page at a time
(``PaginatedSource``); every derivation of the same source runs on the same fetched data.

``depends_on`` (closing a gap of the reference): a loader or source may
declare :class:`Dependency` entries — single sources whose results the runner computes at most
once per sync (per ref when bound to the loader's own ref) and hands over as ``env.deps``. A
single source bound to the root plays the part of the reference's removed "raw loader".
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar

import attrs

from ._batch import Batch
from ._columns import EntityColumns
from ._core_errors import Core
from ._entity import EntityDef, EntityInput
from ._errors import HasLoaderName, NotFound
from ._page import Page, PageRequest
from ._ref import Ref

C = TypeVar("C")

ErrLoaderResultNotAvailable = Core.define(
    "loader_result_not_available",
    facets=[NotFound, HasLoaderName],
    message="Result of loader {loaderName} is not available",
)


class LoaderStrategy(enum.StrEnum):
    AUTOLOAD = "autoload"
    MANUAL = "manual"


@attrs.frozen
class SourcePage:
    """One page of raw source data."""

    data: Any
    has_more: bool = False
    cursor: str | None = None


@attrs.frozen(eq=False)
class FieldAssignment:
    """Which loader serves a field (``source_field`` is informational)."""

    loader: AnyLoader
    source_field: str | None = None


class _Assignable:
    def field(self, source_field: str | None = None) -> FieldAssignment:
        return FieldAssignment(self, source_field)  # type: ignore[arg-type]


@attrs.frozen(eq=False)
class Dependency:
    """A single source whose result a loader needs; ``ref`` None = the loader's own ref."""

    source: SingleSource[Any]
    ref: Ref | None = None


@attrs.frozen(eq=False, repr=False)
class EntityLoader(_Assignable, Generic[C]):
    kind: ClassVar[str] = "entity"
    name: str
    entity: EntityDef
    load: Callable[[Ref, Any], Awaitable[EntityInput]]
    strategy: LoaderStrategy = LoaderStrategy.AUTOLOAD
    depends_on: tuple[Dependency, ...] = ()
    ttl: timedelta | None = None

    def __repr__(self) -> str:
        return f"EntityLoader({self.name})"


@attrs.frozen(eq=False, repr=False)
class BatchedLoader(_Assignable, Generic[C]):
    kind: ClassVar[str] = "entityBatched"
    name: str
    entity: EntityDef
    load: Callable[[Sequence[Ref], Any], Awaitable[Batch[EntityInput]]]
    strategy: LoaderStrategy = LoaderStrategy.AUTOLOAD
    depends_on: tuple[Dependency, ...] = ()
    ttl: timedelta | None = None

    def __repr__(self) -> str:
        return f"BatchedLoader({self.name})"


@attrs.frozen(eq=False, repr=False)
class CollectionLoader(_Assignable, Generic[C]):
    kind: ClassVar[str] = "collection"
    name: str
    entity: EntityDef  # the parent
    target: EntityDef
    load: Callable[[Ref, PageRequest, Any], Awaitable[Page[EntityInput] | Page[EntityColumns]]]
    strategy: LoaderStrategy = LoaderStrategy.AUTOLOAD
    depends_on: tuple[Dependency, ...] = ()
    complete: bool = False
    """True when the loader's pages, read to the end, list *every* member of the collection:
    a sync that lists it completely removes the local members it did not see."""

    def __repr__(self) -> str:
        return f"CollectionLoader({self.name})"


@attrs.frozen(eq=False, repr=False)
class PaginatedSource(Generic[C]):
    kind: ClassVar[str] = "paginated"
    name: str
    parent: EntityDef
    fetch: Callable[[Ref, PageRequest, Any], Awaitable[SourcePage]]
    depends_on: tuple[Dependency, ...] = ()

    def __repr__(self) -> str:
        return f"PaginatedSource({self.name})"


@attrs.frozen(eq=False, repr=False)
class SingleSource(Generic[C]):
    kind: ClassVar[str] = "single"
    name: str
    parent: EntityDef
    fetch: Callable[[Ref, Any], Awaitable[Any]]
    depends_on: tuple[Dependency, ...] = ()

    def __repr__(self) -> str:
        return f"SingleSource({self.name})"


AnySource: TypeAlias = PaginatedSource[Any] | SingleSource[Any]


@attrs.frozen(eq=False, repr=False)
class Derivation(_Assignable):
    """Entities extracted from a source's data. Creating one does not change the source."""

    kind: ClassVar[str] = "derivation"
    name: str
    source: AnySource
    target: EntityDef
    extract: Callable[[Any], Sequence[EntityInput]]
    strategy: LoaderStrategy = LoaderStrategy.AUTOLOAD

    @property
    def parent(self) -> EntityDef:
        return self.source.parent

    @property
    def entity(self) -> EntityDef:
        return self.source.parent

    def __repr__(self) -> str:
        return f"Derivation({self.name} of {self.source.name})"


AnyLoader: TypeAlias = EntityLoader[Any] | BatchedLoader[Any] | CollectionLoader[Any] | Derivation


class Loader:
    """Constructors named as in the reference: ``Loader.entity(...)``, ``Loader.batched(...)``."""

    @staticmethod
    def entity(
        name: str,
        entity: EntityDef,
        load: Callable[[Ref, Any], Awaitable[EntityInput]],
        *,
        strategy: LoaderStrategy = LoaderStrategy.AUTOLOAD,
        depends_on: Sequence[Dependency] = (),
        ttl: timedelta | None = None,
    ) -> EntityLoader[Any]:
        return EntityLoader(name, entity, load, strategy, tuple(depends_on), ttl)

    @staticmethod
    def batched(
        name: str,
        entity: EntityDef,
        load: Callable[[Sequence[Ref], Any], Awaitable[Batch[EntityInput]]],
        *,
        strategy: LoaderStrategy = LoaderStrategy.AUTOLOAD,
        depends_on: Sequence[Dependency] = (),
        ttl: timedelta | None = None,
    ) -> BatchedLoader[Any]:
        return BatchedLoader(name, entity, load, strategy, tuple(depends_on), ttl)

    @staticmethod
    def collection(
        name: str,
        entity: EntityDef,
        target: EntityDef,
        load: Callable[[Ref, PageRequest, Any], Awaitable[Page[EntityInput] | Page[EntityColumns]]],
        *,
        strategy: LoaderStrategy = LoaderStrategy.AUTOLOAD,
        depends_on: Sequence[Dependency] = (),
        complete: bool = False,
    ) -> CollectionLoader[Any]:
        """A loader of one page of ``entity``'s collection of ``target``.

        ``complete=True`` declares that the pages, read to the end, list every member, so a
        sync that read them all removes the local members it did not see (deletions)."""
        return CollectionLoader(
            name, entity, target, load, strategy, tuple(depends_on), complete=complete
        )

    @staticmethod
    def paginated_source(
        name: str,
        parent: EntityDef,
        fetch: Callable[[Ref, PageRequest, Any], Awaitable[SourcePage]],
        *,
        depends_on: Sequence[Dependency] = (),
    ) -> PaginatedSource[Any]:
        return PaginatedSource(name, parent, fetch, tuple(depends_on))

    @staticmethod
    def single_source(
        name: str,
        parent: EntityDef,
        fetch: Callable[[Ref, Any], Awaitable[Any]],
        *,
        depends_on: Sequence[Dependency] = (),
    ) -> SingleSource[Any]:
        return SingleSource(name, parent, fetch, tuple(depends_on))

    @staticmethod
    def derive_entities(
        source: AnySource,
        name: str,
        target: EntityDef,
        extract: Callable[[Any], Sequence[EntityInput]],
    ) -> Derivation:
        return Derivation(name, source, target, extract)


class LoaderResults:
    """Results of a loader's declared dependencies, keyed by source name (``env.deps``)."""

    def __init__(self, results: Mapping[str, Any] | None = None) -> None:
        self._results = dict(results or {})

    def has(self, source: SingleSource[Any] | str) -> bool:
        return _name(source) in self._results

    def get(self, source: SingleSource[Any] | str) -> Any:
        return self._results.get(_name(source))

    def get_or_raise(self, source: SingleSource[Any] | str) -> Any:
        name = _name(source)
        if name not in self._results:
            raise ErrLoaderResultNotAvailable(loaderName=name)
        return self._results[name]


def _name(source: SingleSource[Any] | str) -> str:
    return source if isinstance(source, str) else source.name
