"""The execution registry: lookups, co-derivations, dependency checks."""

from __future__ import annotations

from typing import Any

import pytest

from maxtrio.core import (
    Dependency,
    EntityDef,
    ErrCircularDependency,
    ErrUnknownEntityType,
    Field,
    Loader,
    MaxError,
    Resolver,
    SingleSource,
)
from maxtrio.execution import ErrInvalidDependency, ErrNoResolver, ExecutionRegistry

from .connector import Project, TaskItem, User, Workspace, make_connector
from .sources import (
    AUTHORS_OF,
    G_RESOLVERS,
    ISSUES_OF,
    REPO_FIELDS,
    REPO_OWNER,
    Issue,
    Person,
    Repo,
)


def test_only_entities_with_a_resolver_are_known() -> None:
    registry = ExecutionRegistry(make_connector().resolvers)
    assert registry.entity_types == ("TRoot", "TWorkspace", "TUser", "TProject")
    assert registry.entity("TUser") is User
    assert registry.resolver("TProject").entity is Project
    with pytest.raises(MaxError) as caught:
        registry.entity(TaskItem.name)
    assert ErrUnknownEntityType.matches(caught.value)
    assert caught.value.message == "Unknown entity type: TTask"
    assert caught.value.data == {"entityType": "TTask"}
    with pytest.raises(MaxError) as caught:
        registry.resolver("TTask")
    assert ErrNoResolver.matches(caught.value)
    assert caught.value.message == "No resolver for entity: TTask"
    assert caught.value.has("NotFound") and caught.value.has("HasEntityType")


def test_loaders_by_name_and_a_later_duplicate_wins() -> None:
    registry = ExecutionRegistry(make_connector().resolvers)
    loader = registry.loader("test:user")
    assert loader is not None and loader.entity is User
    assert registry.loader("nope") is None

    async def load(ref: Any, env: Any) -> Any:
        raise AssertionError

    first = Loader.entity("dup", Workspace, load)
    second = Loader.entity("dup", Project, load)
    registry = ExecutionRegistry(
        [Resolver.for_(Workspace, {"name": first}), Resolver.for_(Project, {"name": second})]
    )
    assert registry.loader("dup") is second


def test_co_derivations_group_by_source_in_registration_order() -> None:
    registry = ExecutionRegistry(G_RESOLVERS)
    assert registry.co_derivations(ISSUES_OF) == (ISSUES_OF, AUTHORS_OF)
    assert registry.co_derivations(AUTHORS_OF) == (ISSUES_OF, AUTHORS_OF)
    assert registry.co_derivations(REPO_FIELDS) == (REPO_FIELDS, REPO_OWNER)
    stray = Loader.derive_entities(ISSUES_OF.source, "stray", Issue, lambda data: [])
    assert registry.co_derivations(stray) == (ISSUES_OF, AUTHORS_OF)  # same source object
    lone = Loader.single_source("lone", Repo, _fetch)
    only = Loader.derive_entities(lone, "only", Person, lambda data: [])
    assert registry.co_derivations(only) == (only,)


async def _fetch(ref: Any, env: Any) -> Any:
    return None


def _source(name: str, parent: EntityDef, *deps: Dependency) -> SingleSource[Any]:
    return Loader.single_source(name, parent, _fetch, depends_on=deps)


def test_a_dependency_cycle_is_refused_when_the_registry_is_built() -> None:
    Node = EntityDef.create("Node", {"value": Field.string()})
    c = SingleSource("c", Node, _fetch, ())
    b = _source("b", Node, Dependency(c))
    a = _source("a", Node, Dependency(b))
    object.__setattr__(c, "depends_on", (Dependency(a),))  # close the loop a → b → c → a
    loader = Loader.entity("node", Node, _fetch, depends_on=[Dependency(a)])
    with pytest.raises(MaxError) as caught:
        ExecutionRegistry([Resolver.for_(Node, {"value": loader})])
    assert ErrCircularDependency.matches(caught.value)
    assert caught.value.data["chain"] == ["a", "b", "c", "a"]
    assert caught.value.message == "Circular dependency: a → b → c → a"
    assert caught.value.has("InvariantViolated")


def test_a_source_depending_on_itself_is_a_cycle() -> None:
    Node = EntityDef.create("Node", {"value": Field.string()})
    me = SingleSource("me", Node, _fetch, ())
    object.__setattr__(me, "depends_on", (Dependency(me),))
    loader = Loader.derive_entities(me, "node", Node, lambda data: [])
    with pytest.raises(MaxError) as caught:
        ExecutionRegistry([Resolver.for_(Node, {"value": loader})])
    assert caught.value.data["chain"] == ["me", "me"]


def test_dependencies_must_be_bindable_to_a_ref() -> None:
    config = _source("config", Workspace)

    async def load_many(refs: Any, env: Any) -> Any:
        raise AssertionError

    batched = Loader.batched("users", User, load_many, depends_on=[Dependency(config)])
    with pytest.raises(MaxError) as caught:
        ExecutionRegistry([Resolver.for_(User, {"email": batched})])
    assert ErrInvalidDependency.matches(caught.value)
    assert "batched loader" in caught.value.message

    other = Loader.entity("project", Project, _fetch, depends_on=[Dependency(config)])
    with pytest.raises(MaxError) as caught:
        ExecutionRegistry([Resolver.for_(Project, {"name": other})])
    assert "TWorkspace refs but would get TProject refs" in caught.value.message

    bound = Loader.entity(
        "project", Project, _fetch, depends_on=[Dependency(config, Workspace.ref("w1"))]
    )
    registry = ExecutionRegistry([Resolver.for_(Project, {"name": bound})])
    assert registry.loader("project") is bound
