"""The execution registry: what the runner resolves task payload names through.

Built once from a connector's resolvers:

* entity definitions by name — only entities that have a resolver are known, so a task naming
  another type fails with ``core.unknown_entity_type``;
* the resolver of each entity type;
* loaders by name (a later duplicate name replaces an earlier one);
* co-derivations: derivations sharing one source object, in registration order, so one fetch
  of the source feeds all of them;
* ``depends_on``: every dependency chain is checked when the registry is built; a cycle raises
  ``core.circular_dependency`` naming the chain (``a → b → a``), and a dependency that cannot
  be bound to a ref raises ``execution.invalid_dependency``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

from maxtrio.core import (
    AnyLoader,
    AnySource,
    BatchedLoader,
    CollectionLoader,
    Derivation,
    EntityDef,
    EntityLoader,
    ErrCircularDependency,
    ErrUnknownEntityType,
    PaginatedSource,
    Resolver,
    SingleSource,
)

from ._errors import ErrInvalidDependency, ErrNoResolver

#: Anything that can declare ``depends_on``: loaders (but derivations, which use their
#: source's) and sources.
DependencyOwner: TypeAlias = (
    EntityLoader[Any] | BatchedLoader[Any] | CollectionLoader[Any] | AnySource
)


class ExecutionRegistry:
    """Entity types, resolvers, loaders and co-derivation groups of one connector."""

    def __init__(self, resolvers: Iterable[Resolver]) -> None:
        self._entities: dict[str, EntityDef] = {}
        self._resolvers: dict[str, Resolver] = {}
        self._loaders: dict[str, AnyLoader] = {}
        self._derivation_groups: list[tuple[AnySource, list[Derivation]]] = []
        for resolver in resolvers:
            name = resolver.entity.name
            self._entities[name] = resolver.entity
            self._resolvers[name] = resolver
            for loader in resolver.loaders:
                self._loaders[loader.name] = loader
                if isinstance(loader, Derivation):
                    self._add_derivation(loader)
        for loader in self._loaders.values():
            owner: DependencyOwner = loader.source if isinstance(loader, Derivation) else loader
            _check_dependencies(owner)

    def _add_derivation(self, derivation: Derivation) -> None:
        for source, group in self._derivation_groups:
            if source is derivation.source:
                if not any(d is derivation for d in group):
                    group.append(derivation)
                return
        self._derivation_groups.append((derivation.source, [derivation]))

    # -- lookups -----------------------------------------------------------------------------

    @property
    def entity_types(self) -> tuple[str, ...]:
        return tuple(self._entities)

    @property
    def resolvers(self) -> tuple[Resolver, ...]:
        return tuple(self._resolvers.values())

    def entity(self, name: str) -> EntityDef:
        """The definition of a type that has a resolver; else ``core.unknown_entity_type``."""
        try:
            return self._entities[name]
        except KeyError:
            raise ErrUnknownEntityType(entityType=name) from None

    def resolver(self, name: str) -> Resolver:
        """The resolver of a type; else ``execution.no_resolver``."""
        try:
            return self._resolvers[name]
        except KeyError:
            raise ErrNoResolver(entityType=name) from None

    def loader(self, name: str) -> AnyLoader | None:
        return self._loaders.get(name)

    def co_derivations(self, derivation: Derivation) -> tuple[Derivation, ...]:
        """Every derivation sharing ``derivation``'s source (itself alone if unregistered)."""
        for source, group in self._derivation_groups:
            if source is derivation.source:
                return tuple(group)
        return (derivation,)


def _check_dependencies(owner: DependencyOwner) -> None:
    """Walk ``depends_on`` depth-first from ``owner``: refuse cycles and unbindable refs."""

    def visit(node: DependencyOwner, path: Sequence[DependencyOwner]) -> None:
        for dep in node.depends_on:
            source: SingleSource[Any] = dep.source
            if dep.ref is None:
                if isinstance(node, BatchedLoader):
                    raise ErrInvalidDependency(
                        loader=node.name,
                        source=source.name,
                        reason="a batched loader loads many refs, so name the dependency's ref",
                    )
                own = _bound_entity(node)
                if source.parent.name != own.name:
                    raise ErrInvalidDependency(
                        loader=node.name,
                        source=source.name,
                        reason=(
                            f"it is bound to {source.parent.name} refs but would get "
                            f"{own.name} refs; name the dependency's ref"
                        ),
                    )
            if any(p is source for p in path):
                start = next(i for i, p in enumerate(path) if p is source)
                chain = [p.name for p in path[start:]] + [source.name]
                raise ErrCircularDependency(chain=chain)
            visit(source, [*path, source])

    visit(owner, [owner])


def _bound_entity(node: DependencyOwner) -> EntityDef:
    """The type of the ref a loader or source is called with (its "own" ref)."""
    if isinstance(node, PaginatedSource | SingleSource):
        return node.parent
    return node.entity
