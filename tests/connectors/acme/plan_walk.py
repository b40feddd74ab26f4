"""Running the acme seeder's plan step by step, sequentially, for the connector's own tests.

This is not the product's executor (``maxtrio.execution``: tasks, limits, retries, sync meta).
It is the plainest reading of a sync plan — targets × operations through the connector's
resolvers and loaders into an ``Engine`` — so the connector's pieces can be shown to compose
into a full sync without depending on the executor.
"""

from __future__ import annotations

from typing import Any

from maxtrio.connector import ConnectorDef
from maxtrio.core import (
    CollectionLoader,
    ConcurrentGroup,
    Engine,
    EntityLoader,
    ForAll,
    LoadCollection,
    LoaderEnv,
    PageRequest,
    Projection,
    Ref,
    SeederEnv,
    SyncStep,
    expand_entities,
)


async def walk_sync(definition: ConnectorDef, engine: Engine, env: LoaderEnv[Any]) -> None:
    plan = await definition.seeder.seed(SeederEnv(env.ctx, engine))
    for entry in plan.entries:
        steps = entry.steps if isinstance(entry, ConcurrentGroup) else (entry,)
        for step in steps:
            await _run(step, definition, engine, env)


async def _refs(step: SyncStep, engine: Engine) -> list[Ref]:
    target = step.target
    if not isinstance(target, ForAll):
        return [target.ref]
    refs: list[Ref] = []
    cursor: str | None = None
    while True:
        page = await engine.load_page(target.entity, Projection.refs(), PageRequest(cursor, 2))
        refs += [item for item in page.items if isinstance(item, Ref)]
        if not page.has_more:
            return refs
        cursor = page.cursor


async def _run(
    step: SyncStep, definition: ConnectorDef, engine: Engine, env: LoaderEnv[Any]
) -> None:
    resolver = definition.resolver_for(step.target.entity)
    assert resolver is not None, f"no resolver for {step.target.entity.name}"
    refs = await _refs(step, engine)
    operation = step.operation
    if isinstance(operation, LoadCollection):
        loader = resolver.loader_for(operation.field)
        assert isinstance(loader, CollectionLoader)
        for ref in refs:
            cursor: str | None = None
            while True:
                page = await loader.load(ref, PageRequest(cursor, 100), env)
                await engine.store_many(expand_entities(page.items))
                if not page.has_more:
                    break
                cursor = page.cursor
        return
    loaders: list[Any] = []
    for field in operation.fields:
        found = resolver.loader_for(field)
        if found is not None and not any(found is seen for seen in loaders):
            loaders.append(found)
    for loader in loaders:
        assert isinstance(loader, EntityLoader)
        await engine.store_many([await loader.load(ref, env) for ref in refs])
