"""Wiring for executor tests: the fake API, a connector, real stores, an executor.

:class:`Stores` is one installation's storage — entity engine, task store, sync store, sync
meta — either in memory or in a real ``data.db`` (apsw, via ``open_installation_store``).
:class:`Harness` adds the test connector over a :class:`FakeApi` and builds executors exactly
as ``SyncSetup`` does for the product.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from maxtrio.core import (
    Engine,
    EntityDef,
    Limit,
    PageRequest,
    Projection,
    Ref,
    Resolver,
    Schema,
    SeederEnv,
    SyncPlan,
)
from maxtrio.execution import (
    FlowControllerProvider,
    InMemorySyncMeta,
    InMemorySyncStore,
    InMemoryTaskStore,
    RetryPolicy,
    RunnerTuning,
    SyncExecutor,
    SyncMeta,
    SyncResult,
    SyncSetup,
    SyncStore,
    Task,
    TaskState,
    TaskStore,
)
from maxtrio.storage import InMemoryEngine, open_installation_store, open_pg_installation_store

from .connector import API_LIMIT, SCHEMA, Ctx, FakeApi, FakeConnector, make_connector

#: Retries that do not wait long (tests of the real policy build their own).
FAST_RETRY = RetryPolicy(attempts=5, base=0.001, cap=0.01)


@attrs.define
class Stores:
    kind: str
    engine: Engine
    task_store: TaskStore
    sync_store: SyncStore
    sync_meta: SyncMeta
    closers: list[Any] = attrs.field(factory=list)
    pg_schema: str | None = None  # the PostgreSQL schema of kind "postgresql"

    def close(self) -> None:
        for closer in self.closers:
            closer.close()

    async def rows(self, entity: EntityDef) -> dict[str, dict[str, Any]]:
        """Every stored row of a type: id → fields (refs as ids), read through the engine."""
        out: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        while True:
            page = await self.engine.load_page(entity, Projection.all(), PageRequest(cursor, 1000))
            for item in page.items:
                assert not isinstance(item, Ref)
                out[item.ref.id] = {
                    k: (v.id if isinstance(v, Ref) else v) for k, v in item.values.items()
                }
            if not page.has_more:
                return out
            cursor = page.cursor

    async def snapshot(self, schema: Schema) -> dict[str, dict[str, dict[str, Any]]]:
        """Every row of every type of ``schema``."""
        return {e.name: await self.rows(e) for e in schema.entities}

    async def tasks(self, sync_id: str) -> Sequence[Task]:
        return await self.task_store.tasks(sync_id)

    async def states(self, sync_id: str) -> dict[TaskState, int]:
        return dict(await self.task_store.count_by_state(sync_id))


def open_stores(schema: Schema, kind: str, path: Path | None = None) -> Stores:
    """In-memory stores, or the apsw stores of one ``data.db`` at ``path``."""
    if kind == "memory":
        engine = InMemoryEngine(schema)
        meta = InMemorySyncMeta()
        syncs = InMemorySyncStore()
        tasks = InMemoryTaskStore(engine, meta, sync_store=syncs)
        return Stores(kind, engine, tasks, syncs, meta)
    assert path is not None
    opened = open_installation_store(path, schema)
    return Stores(
        kind, opened.engine, opened.task_store, opened.sync_store, opened.sync_meta, [opened]
    )


def open_pg_stores(schema: Schema, dsn: str, schema_name: str) -> Stores:
    """The PostgreSQL stores of one installation schema."""
    opened = open_pg_installation_store(dsn, schema_name, schema)
    return Stores(
        "postgresql",
        opened.engine,
        opened.task_store,
        opened.sync_store,
        opened.sync_meta,
        [opened],
        schema_name,
    )


def setup_for(
    stores: Stores,
    resolvers: Sequence[Resolver],
    ctx: Any,
    *,
    limits: FlowControllerProvider | None = None,
    task_concurrency: int = 50,
    tuning: RunnerTuning | None = None,
    retry: RetryPolicy = FAST_RETRY,
    event_buffer: int = 1024,
) -> SyncSetup:
    return SyncSetup(
        engine=stores.engine,
        resolvers=resolvers,
        ctx=ctx,
        task_store=stores.task_store,
        sync_store=stores.sync_store,
        limits=limits or FlowControllerProvider(),
        retry=retry,
        task_concurrency=task_concurrency,
        tuning=tuning or RunnerTuning(),
        event_buffer=event_buffer,
    )


@attrs.define
class Harness:
    """The test connector over ``api`` on one set of stores."""

    api: FakeApi
    connector: FakeConnector
    stores: Stores
    limits: FlowControllerProvider = attrs.field(factory=FlowControllerProvider)

    @property
    def engine(self) -> Engine:
        return self.stores.engine

    @property
    def task_store(self) -> TaskStore:
        return self.stores.task_store

    @property
    def sync_store(self) -> SyncStore:
        return self.stores.sync_store

    def setup(self, **kw: Any) -> SyncSetup:
        return setup_for(
            self.stores, self.connector.resolvers, Ctx(self.api), limits=self.limits, **kw
        )

    def executor(self, **kw: Any) -> SyncExecutor:
        return self.setup(**kw).executor()

    async def seed(self) -> SyncPlan:
        return await self.connector.seeder.seed(SeederEnv(Ctx(self.api), self.engine))

    async def run(self, **kw: Any) -> SyncResult:
        plan = await self.seed()
        async with self.executor(**kw).running(plan) as handle:
            return await handle.completion()

    async def rows(self, entity: EntityDef) -> dict[str, dict[str, Any]]:
        return await self.stores.rows(entity)

    async def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        return await self.stores.snapshot(SCHEMA)

    async def tasks(self, sync_id: str) -> Sequence[Task]:
        return await self.stores.tasks(sync_id)

    async def states(self, sync_id: str) -> dict[TaskState, int]:
        return await self.stores.states(sync_id)


def harness_on(stores: Stores, api: FakeApi, limit: Limit | None = API_LIMIT) -> Harness:
    return Harness(api, make_connector(limit), stores)
