"""The task runner: executes one task payload and says what it produced.

``TaskRunner.run(task)`` calls loaders (through ``env.ops`` and the sync's middleware), reads
refs from the local engine for ``forAll`` steps, and returns a
:class:`~maxtrio.execution.TaskOutcome`: the entities to store, their field-sync entries, the
child payloads and a :class:`~maxtrio.execution.Progress`. It **never writes**: the executor
hands the outcome to ``TaskStore.finish``, which commits it in one transaction, so a failed or
cancelled task has written nothing.

=================================  ==========================================================
payload                            action
=================================  ==========================================================
``sync-group``                     nothing
``sync-step`` forRoot/forOne       load the fields of that ref, or one page of its collection
``sync-step`` forAll loadFields    one page of stored refs → ``load-fields`` children of
                                   ``load_fields_batch_size`` refs, + a continuation step
``sync-step`` forAll loadColl.     one page of stored refs → one ``load-collection`` child per
                                   ref, + a continuation step
``sync-step`` forWhere             as forAll, the page read with ``engine.query`` (the stored
                                   refs matching the step's where tree, in ``_id`` order)
``load-fields``                    load the fields of the listed refs
``load-collection``                one page of one parent's collection (+ the next page as a
                                   child)
=================================  ==========================================================

Sync-meta entries (MAXTRIO, deviating from the reference's "requested fields only"): every
stored field present in each stored input is recorded against that input's own ref — what the
loader actually delivered is what is fresh; the outcome carries the write's ``synced_at``. The
last page of a collection whose loader is declared ``complete`` reports a
:class:`~maxtrio.execution.CompleteListing`, so the sync can remove, when it completes, the
members it did not see. Progress ``count``: refs that produced an input
(loading fields) or items of the target type on the page (collections; for a derivation only
the triggering one's). Fan-out steps report no progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

import attrs

from maxtrio.core import (
    AnyLoader,
    Batch,
    BatchedLoader,
    CollectionLoader,
    Derivation,
    EntityColumns,
    EntityDef,
    EntityInput,
    EntityLoader,
    EntityQuery,
    LoaderEnv,
    OperationEnv,
    Page,
    PageRequest,
    PaginatedSource,
    Projection,
    Ref,
    SingleSource,
    SourcePage,
    count_entities,
)
from maxtrio.core import Engine as EntityEngine

from ._dependencies import DependencyMemo
from ._dispatch import (
    CountingMiddleware,
    DispatchingOperationExecutor,
    OperationCounts,
    OperationDispatcher,
)
from ._errors import ErrInvalidLoaderResult, ErrNoCollectionLoader, ErrPageWithoutCursor
from ._registry import ExecutionRegistry
from ._stores import CompleteListing, FieldSyncBatch, Progress, TaskOutcome
from ._task import (
    ErrInvalidPayload,
    LoadCollectionPayload,
    LoadFieldsPayload,
    StepTarget,
    SyncGroupPayload,
    SyncStepPayload,
    Task,
    TaskPayload,
)
from ._timestamps import Clock, wall_clock_ms


@attrs.frozen
class RunnerTuning:
    """Static knobs of the runner."""

    ref_page_size: int = 500  # refs per page when a forAll step reads the local store
    connector_page_size: int = 100  # ``limit`` hint handed to collection loaders and sources
    load_fields_batch_size: int = 25  # refs per load-fields child

    def __attrs_post_init__(self) -> None:
        for name in ("ref_page_size", "connector_page_size", "load_fields_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


class SyncRunner(Protocol):
    """Runs the tasks of one sync."""

    async def run(self, task: Task) -> TaskOutcome: ...

    def operation_counts(self) -> OperationCounts: ...


class Freshness(Protocol):
    """What ``--max-age`` asks of the sync state (one query per page of refs)."""

    async def fresh_ids(
        self, entity_type: str, ids: Sequence[str], fields: Sequence[str], since_ms: int
    ) -> set[str]:
        """The ids whose ``fields`` were all synced at or after ``since_ms``."""
        ...

    async def listed_ids(
        self, parent_type: str, field: str, ids: Sequence[str], since_ms: int
    ) -> set[str]:
        """The parent ids whose collection ``field`` was listed completely since then."""
        ...


class RunnerFactory(Protocol):
    """Makes the runner of each sync (its own operation counts and dependency memo)."""

    def for_sync(self, sync_id: str) -> SyncRunner: ...


class TaskRunnerFactory:
    """Builds a :class:`TaskRunner` per sync for one connector installation.

    Each sync gets a :class:`CountingMiddleware` wrapped around the installation's dispatcher
    (so its ``SyncResult`` reports its own operation counts) and a fresh dependency memo.
    """

    def __init__(
        self,
        *,
        engine: EntityEngine,
        registry: ExecutionRegistry,
        ctx: Any,
        dispatcher: OperationDispatcher | None = None,
        tuning: RunnerTuning | None = None,
        now_ms: Clock = wall_clock_ms,
        max_age: timedelta | None = None,
        freshness: Freshness | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.ctx = ctx
        self.dispatcher = dispatcher or OperationDispatcher()
        self.tuning = tuning or RunnerTuning()
        self.now_ms = now_ms
        self.max_age = max_age
        self.freshness = freshness

    def operation_env(self) -> tuple[LoaderEnv[Any], CountingMiddleware]:
        """A loader env whose operation calls go through the dispatcher and are counted."""
        counting = CountingMiddleware()
        ops = DispatchingOperationExecutor(
            self.dispatcher.with_outer(counting), OperationEnv(self.ctx)
        )
        return LoaderEnv(self.ctx, ops), counting

    def for_sync(self, sync_id: str) -> TaskRunner:
        env, counting = self.operation_env()
        return TaskRunner(
            engine=self.engine,
            registry=self.registry,
            env=env,
            tuning=self.tuning,
            counting=counting,
            now_ms=self.now_ms,
            max_age=self.max_age,
            freshness=self.freshness,
        )


class _Writes:
    """What a task will store: inputs and their field-sync records, at one timestamp.

    Freshness is recorded compactly: inputs with the same stored fields share one
    :class:`FieldSyncBatch` (a page of 1,000 tasks with 4 fields is one batch, not 4,000
    entries).
    """

    def __init__(self, synced_at: int) -> None:
        self.synced_at = synced_at
        self.entities: list[EntityInput | EntityColumns] = []
        self.listings: list[CompleteListing] = []
        self._by_fields: dict[tuple[str, ...], list[str]] = {}
        self._column_batches: list[FieldSyncBatch] = []
        self._stored_fields: dict[tuple[int, tuple[str, ...]], tuple[str, ...]] = {}

    def _stored(self, entity_def: EntityDef, given: tuple[str, ...]) -> tuple[str, ...]:
        cache_key = (id(entity_def), given)
        stored = self._stored_fields.get(cache_key)
        if stored is None:
            defined = entity_def.fields
            stored = tuple(n for n in given if n in defined and defined[n].is_stored)
            self._stored_fields[cache_key] = stored
        return stored

    def add(self, item: object, producer: str) -> None:
        if isinstance(item, EntityColumns):
            self.entities.append(item)
            stored = self._stored(item.entity_def, item.fields)
            if stored and len(item):
                batch = FieldSyncBatch(item.ref_keys(), stored, self.synced_at)
                self._column_batches.append(batch)
            return
        if not isinstance(item, EntityInput):
            raise ErrInvalidLoaderResult(
                loader=producer,
                got=type(item).__name__,
                expected="an EntityInput or EntityColumns",
            )
        self.entities.append(item)
        stored = self._stored(item.ref.entity_def, tuple(item.fields))
        if stored:
            self._by_fields.setdefault(stored, []).append(item.ref.to_key())

    def outcome(
        self, children: Sequence[TaskPayload] = (), progress: Progress | None = None
    ) -> TaskOutcome:
        batches = [
            FieldSyncBatch(ref_keys, fields, self.synced_at)
            for fields, ref_keys in self._by_fields.items()
        ] + self._column_batches
        return TaskOutcome(
            entities=self.entities,
            children=tuple(children),
            progress=progress,
            sync_batches=batches,
            synced_at=self.synced_at,
            listings=tuple(self.listings),
        )


class TaskRunner:
    """Executes task payloads of one sync; see the module docstring for the behaviour."""

    def __init__(
        self,
        *,
        engine: EntityEngine,
        registry: ExecutionRegistry,
        env: LoaderEnv[Any],
        tuning: RunnerTuning | None = None,
        counting: CountingMiddleware | None = None,
        now_ms: Clock = wall_clock_ms,
        max_age: timedelta | None = None,
        freshness: Freshness | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.env = env
        self.tuning = tuning or RunnerTuning()
        self.dependencies = DependencyMemo(env)
        self._counting = counting
        self._now_ms = now_ms
        self._max_age_ms = None if max_age is None else max_age // timedelta(milliseconds=1)
        self._freshness = freshness

    def _fresh_since(self) -> int | None:
        """The oldest sync time that ``--max-age`` still counts as fresh, or None."""
        if self._max_age_ms is None or self._freshness is None:
            return None
        return self._now_ms() - self._max_age_ms

    def operation_counts(self) -> OperationCounts:
        return self._counting.counts() if self._counting is not None else OperationCounts()

    async def run(self, task: Task) -> TaskOutcome:
        return await self.run_payload(task.payload)

    async def run_payload(self, payload: TaskPayload) -> TaskOutcome:
        writes = _Writes(self._now_ms())
        if isinstance(payload, SyncGroupPayload):
            return TaskOutcome()
        if isinstance(payload, LoadFieldsPayload):
            entity = self.registry.entity(payload.entity_type)
            refs = [Ref.from_key(entity, key) for key in payload.ref_keys]
            count = await self._load_fields(entity, payload.fields, refs, writes)
            progress = Progress(entity.name, "load-fields", count)
            return writes.outcome(progress=progress)
        if isinstance(payload, LoadCollectionPayload):
            entity = self.registry.entity(payload.entity_type)
            progress, child = await self._collection_page(
                entity, payload.ref_key, payload.field, payload.cursor, writes
            )
            children = (child,) if child is not None else ()
            return writes.outcome(children, progress)
        return await self._step(payload, writes)

    # -- plan steps --------------------------------------------------------------------------

    async def _step(self, step: SyncStepPayload, writes: _Writes) -> TaskOutcome:
        target, operation = step.target, step.operation
        entity = self.registry.entity(target.entity_type)
        if target.kind in ("forAll", "forWhere"):
            if operation.kind == "loadFields":
                return await self._fan_out_fields(step, entity)
            return await self._fan_out_collection(step, entity)
        if target.ref_key is None:
            raise ErrInvalidPayload(reason=f"a {target.kind} target needs a refKey")
        if operation.kind == "loadFields":
            ref = Ref.from_key(entity, target.ref_key)
            count = await self._load_fields(entity, operation.fields, [ref], writes)
            progress = Progress(entity.name, "load-fields", count)
            return writes.outcome(progress=progress)
        if operation.field is None:
            raise ErrInvalidPayload(reason="a loadCollection operation needs a field")
        page_progress, child = await self._collection_page(
            entity, target.ref_key, operation.field, None, writes
        )
        children = (child,) if child is not None else ()
        return writes.outcome(children, page_progress)

    async def _ref_page(self, target: StepTarget, entity: EntityDef) -> Page[Ref]:
        request = PageRequest(target.cursor, self.tuning.ref_page_size)
        if target.where is None:
            page = await self.engine.load_page(entity, Projection.refs(), request)
        else:
            query = EntityQuery(entity, target.where, projection=Projection.refs())
            page = await self.engine.query(query, request)
        refs = [item for item in page.items if isinstance(item, Ref)]
        if page.has_more and not page.cursor:
            raise ErrPageWithoutCursor(source=f"the {entity.name} table", refKey=target.kind)
        return Page(refs, page.has_more, page.cursor)

    def _continuation(self, step: SyncStepPayload, page: Page[Ref]) -> list[TaskPayload]:
        if not page.has_more:
            return []
        return [attrs.evolve(step, target=attrs.evolve(step.target, cursor=page.cursor))]

    async def _fan_out_fields(self, step: SyncStepPayload, entity: EntityDef) -> TaskOutcome:
        page = await self._ref_page(step.target, entity)
        if not page.items:
            return TaskOutcome()
        refs = page.items
        since = self._fresh_since()
        if since is not None and self._freshness is not None:
            fields = step.operation.fields
            fresh = await self._freshness.fresh_ids(
                entity.name, [r.id for r in refs], fields, since
            )
            refs = [r for r in refs if r.id not in fresh]
        size = self.tuning.load_fields_batch_size
        keys = [ref.to_key() for ref in refs]
        children: list[TaskPayload] = [
            LoadFieldsPayload(entity.name, tuple(keys[i : i + size]), step.operation.fields)
            for i in range(0, len(keys), size)
        ]
        children.extend(self._continuation(step, page))
        return TaskOutcome(children=tuple(children))

    async def _fan_out_collection(self, step: SyncStepPayload, entity: EntityDef) -> TaskOutcome:
        page = await self._ref_page(step.target, entity)
        if not page.items:
            return TaskOutcome()
        field = step.operation.field or ""
        loader = self._collection_loader(entity, field)
        refs = page.items
        since = self._fresh_since()
        if since is not None and self._freshness is not None:
            listed = await self._freshness.listed_ids(
                entity.name, field, [r.id for r in refs], since
            )
            refs = [r for r in refs if r.id not in listed]
        children: list[TaskPayload] = [
            LoadCollectionPayload(entity.name, ref.to_key(), field, loader.target.name)
            for ref in refs
        ]
        children.extend(self._continuation(step, page))
        return TaskOutcome(children=tuple(children))

    # -- loading fields ----------------------------------------------------------------------

    async def _load_fields(
        self, entity: EntityDef, fields: Sequence[str], refs: Sequence[Ref], writes: _Writes
    ) -> int:
        """Load ``fields`` of ``refs``, one call per loader; returns refs that produced data."""
        resolver = self.registry.resolver(entity.name)
        loaders: list[AnyLoader] = []
        for name in fields:
            loader = resolver.loader_for(name)
            if loader is not None and not any(loader is seen for seen in loaders):
                loaders.append(loader)
        produced: set[str] = set()
        fetched_sources: list[SingleSource[Any]] = []
        for loader in loaders:
            if isinstance(loader, BatchedLoader):
                env = await self.dependencies.env_for(loader, None)
                batch = await loader.load(list(refs), env)
                if not isinstance(batch, Batch):
                    raise ErrInvalidLoaderResult(
                        loader=loader.name, got=type(batch).__name__, expected="a Batch"
                    )
                for ref in refs:
                    item = batch.get(ref)
                    if item is not None:  # refs the upstream did not return are skipped
                        writes.add(item, loader.name)
                        produced.add(ref.to_key())
            elif isinstance(loader, EntityLoader):
                for ref in refs:
                    env = await self.dependencies.env_for(loader, ref)
                    writes.add(await loader.load(ref, env), loader.name)
                    produced.add(ref.to_key())
            elif isinstance(loader, Derivation) and isinstance(loader.source, SingleSource):
                source = loader.source
                if any(source is done for done in fetched_sources):
                    continue  # a co-derivation of an earlier field already ran on this data
                fetched_sources.append(source)
                for ref in refs:
                    env = await self.dependencies.env_for(source, ref)
                    data = await source.fetch(ref, env)
                    if self._derive(loader, data, writes)[1]:
                        produced.add(ref.to_key())
            # Collection loaders and paginated derivations cannot load fields: skipped.
        return len(produced)

    def _derive(self, trigger: Derivation, data: Any, writes: _Writes) -> tuple[int, int]:
        """Run every co-derivation of ``trigger`` on ``data``.

        Returns (items of the triggering derivation, items of all derivations).
        """
        triggered = total = 0
        for derivation in self.registry.co_derivations(trigger):
            items = derivation.extract(data)
            if isinstance(items, EntityInput | str | bytes) or not isinstance(items, Sequence):
                raise ErrInvalidLoaderResult(
                    loader=derivation.name,
                    got=type(items).__name__,
                    expected="a sequence of EntityInput",
                )
            for item in items:
                writes.add(item, derivation.name)
            total += len(items)
            if derivation is trigger:
                triggered = len(items)
        return triggered, total

    # -- collections -------------------------------------------------------------------------

    def _collection_loader(
        self, entity: EntityDef, field: str
    ) -> CollectionLoader[Any] | Derivation:
        loader = self.registry.resolver(entity.name).loader_for(field)
        if isinstance(loader, CollectionLoader):
            return loader
        if isinstance(loader, Derivation) and isinstance(loader.source, PaginatedSource):
            return loader
        raise ErrNoCollectionLoader(entityType=entity.name, field=field)

    async def _collection_page(
        self,
        entity: EntityDef,
        parent_key: str,
        field: str,
        cursor: str | None,
        writes: _Writes,
    ) -> tuple[Progress, LoadCollectionPayload | None]:
        """Load one page of ``parent_key``'s ``field``; the next page becomes a child."""
        loader = self._collection_loader(entity, field)
        parent = Ref.from_key(entity, parent_key)
        request = PageRequest(cursor, self.tuning.connector_page_size)
        if isinstance(loader, CollectionLoader):
            env = await self.dependencies.env_for(loader, parent)
            page = await loader.load(parent, request, env)
            if not isinstance(page, Page):
                raise ErrInvalidLoaderResult(
                    loader=loader.name, got=type(page).__name__, expected="a Page"
                )
            for item in page.items:
                writes.add(item, loader.name)
            count, has_more, next_cursor = count_entities(page.items), page.has_more, page.cursor
            skipped = page.skipped
            source_name = loader.name
        else:
            source = loader.source
            assert isinstance(source, PaginatedSource)
            env = await self.dependencies.env_for(source, parent)
            source_page = await source.fetch(parent, request, env)
            if not isinstance(source_page, SourcePage):
                raise ErrInvalidLoaderResult(
                    loader=source.name, got=type(source_page).__name__, expected="a SourcePage"
                )
            count = self._derive(loader, source_page.data, writes)[0]
            has_more, next_cursor = source_page.has_more, source_page.cursor
            skipped = 0
            source_name = source.name
        progress = Progress(loader.target.name, "load-collection", count, skipped)
        if not has_more:
            if isinstance(loader, CollectionLoader) and loader.complete:
                via = entity.fields[field].via
                writes.listings.append(
                    CompleteListing(entity.name, parent.id, field, loader.target.name, via)
                )
            return progress, None
        if not next_cursor or next_cursor == cursor:
            raise ErrPageWithoutCursor(source=source_name, refKey=parent_key)
        child = LoadCollectionPayload(
            entity.name, parent_key, field, loader.target.name, next_cursor
        )
        return progress, child
