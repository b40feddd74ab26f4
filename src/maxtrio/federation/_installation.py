"""``InstallationMax``: one connector, one data store — the installation tier.

An installation node owns, for as long as it is open: its ``data.db`` or PostgreSQL schema
(:class:`~maxtrio.storage.InstallationStore`: entity engine, task store, sync store, sync meta
on one database; ``_store_choice`` says which), its credential store (``credentials.json``,
0600), the connector's
:class:`~maxtrio.connector.Installation` (started, background tasks running), one
:class:`~maxtrio.execution.FlowControllerProvider` (every sync of the installation shares the
connector's declared limits) and a :class:`~maxtrio.execution.SyncExecutor` for background
syncs (the RPC ``sync`` method).

It is opened by :meth:`InstallationMax.open` (an async context manager); the workspace tier
hosts it in the in-process deployer's nursery and opens it lazily, once per id.

``sync()`` runs in the caller's task: cancelling the caller (Ctrl-C) interrupts the sync,
which stays ``interrupted`` in the store and is resumed with ``sync(resume=<id>)``. It holds the
installation's lock (``sync.lock``, see ``_sync_lock``) while it runs: a second sync of the
same installation — from any process — fails at once with ``app.sync_already_running``. The
same lock tells the living from the dead: a sync recorded ``running`` while nobody holds it lost
its process and is shown and resumed as ``interrupted`` (``_sync_owner``).

``join_sync()`` helps a sync another process runs (``max worker --join``, the extra workers of
``max sync --workers``): it claims tasks under a lease and never takes the lock — the process
that started the sync holds it and completes the sync. A sync whose owner is gone is settled
first, so joining it is refused like any sync that is not running.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import trio

from maxtrio.connector import ConnectorModule, HealthStatus, Installation, Platform
from maxtrio.core import MaxError

from ._installation_reader import InstallationReader
from ._installation_start import CREDENTIALS_FILE_NAME as CREDENTIALS_FILE_NAME
from ._installation_start import checked_credentials, started, unavailable
from ._records import InstallationInfo
from ._status import SyncSummary
from ._store_choice import DATA_FILE_NAME as DATA_FILE_NAME
from ._store_choice import open_store, pg_sql_query, pg_sync_report, probe_installation_store
from ._sync_lock import installation_lock
from ._sync_owner import settle_orphaned_syncs, sync_observer

if TYPE_CHECKING:
    from maxtrio.core import SyncPlan
    from maxtrio.execution import (
        EventCallback,
        FlowControllerProvider,
        RetryPolicy,
        SyncEvent,
        SyncExecutor,
        SyncHandle,
        SyncRecord,
        SyncResult,
        SyncSetup,
        SyncStore,
        TaskStore,
    )
    from maxtrio.sql import SyncReport
    from maxtrio.storage import InstallationStore


class InstallationMax(InstallationReader):
    """A live installation. Get one from :meth:`WorkspaceMax.installation`. What it reads
    (identity, schema, engine) is an :class:`InstallationReader`'s."""

    def __init__(
        self,
        info: InstallationInfo,
        connector: ConnectorModule,
        *,
        workspace_name: str,
        store: InstallationStore,
        installation: Installation[Any],
        setup: SyncSetup,
        executor: SyncExecutor,
    ) -> None:
        super().__init__(info, connector, workspace_name=workspace_name, engine=store.engine)
        self._store = store
        self._installation = installation
        self._setup = setup
        self._executor = executor
        self._closer: Callable[[], Awaitable[None]] | None = None
        #: Tasks holding the lock of a background sync (:meth:`start_sync`) until it ends.
        self._lock_holders: trio.Nursery | None = None

    def __repr__(self) -> str:
        return f"<InstallationMax {self.url} ({self.info.connector})>"

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        info: InstallationInfo,
        connector: ConnectorModule,
        *,
        workspace_name: str,
        retry: RetryPolicy | None = None,
        limits: FlowControllerProvider | None = None,
    ) -> AsyncIterator[InstallationMax]:
        """Open the store, initialise and start the connector with the installation's
        credentials; close everything on exit (also on cancellation).

        A connector that rejects its config or cannot start (e.g. its credentials are gone)
        raises ``app.installation_unavailable`` with the connector's error as cause.
        """
        from maxtrio.execution import FlowControllerProvider, RetryPolicy, SyncSetup

        definition = connector.definition
        async with started(info, connector, open_store) as (store, installation):
            setup = SyncSetup(
                engine=store.engine,
                resolvers=definition.resolvers,
                ctx=installation.context,
                task_store=store.task_store,
                sync_store=store.sync_store,
                limits=limits if limits is not None else FlowControllerProvider(),
                retry=retry if retry is not None else RetryPolicy(),
                change_feed=definition.change_feed,
                freshness=store.sync_meta,
            )
            async with setup.executor() as executor, trio.open_nursery() as locks:
                try:
                    node = cls(
                        info,
                        connector,
                        workspace_name=workspace_name,
                        store=store,
                        installation=installation,
                        setup=setup,
                        executor=executor,
                    )
                    node._lock_holders = locks
                    yield node
                finally:
                    executor.shutdown()  # background syncs stop as ``interrupted``
                    locks.cancel_scope.cancel()  # … and their locks are released

    @staticmethod
    async def probe_health(info: InstallationInfo, connector: ConnectorModule) -> HealthStatus:
        """The health of an installation that is not open, without opening it: its
        credentials read, its connector initialised and started just to ask its ``health()``,
        and an installation on PostgreSQL its server reached — no store opened, no executor,
        and no connector definition built (a deferred one stays unbuilt: ``max ls`` and
        ``max status`` in a process that opens nothing else). Failing to start raises as
        :meth:`open` does."""
        credentials = await checked_credentials(info)
        with unavailable(info):
            installation = connector.initialise(
                info.config, Platform.for_connector(connector, credentials)
            )
        if info.deployment.store is not None:
            await trio.to_thread.run_sync(probe_installation_store, info)
        with unavailable(info):
            await installation.start()
        async with installation.running():
            return await installation.health()

    # -- stores ------------------------------------------------------------------------------

    @property
    def task_store(self) -> TaskStore:
        return self._store.task_store

    @property
    def sync_store(self) -> SyncStore:
        return self._store.sync_store

    async def sync_report(self, sync_id: str | None) -> SyncReport | None:
        """Sync ``sync_id`` (None: the latest) as the store records it: entities synced, work
        units (``maxtrio.sql.read_sync_report`` for a ``data.db``). A sync left ``running`` by
        a process that died is recorded ``interrupted`` first."""
        from maxtrio.sql import read_sync_report

        with self._resumable(sync_id):
            await self.settle_orphans()
            if self.store_label is None:
                path = self.info.data_dir / DATA_FILE_NAME
                return await trio.to_thread.run_sync(read_sync_report, path, self.schema, sync_id)
            return await trio.to_thread.run_sync(pg_sync_report, self._store, self.schema, sync_id)

    async def sql_query(self, query: str, *, time_limit: float, limit: int | None) -> Any:
        """``max sql`` on a PostgreSQL store (a ``maxtrio.sql.SqlResult``; see
        ``_store_choice.pg_sql_query``). A ``data.db`` is read by ``maxtrio.sql`` itself."""
        return await pg_sql_query(
            self._store, self.schema, query, time_limit=time_limit, limit=limit
        )

    @contextmanager
    def _resumable(self, sync_id: str | None) -> Iterator[None]:
        """A store that went away while sync ``sync_id`` ran or was read back (a restart, a
        dropped connection): its committed tasks stay, the rest was rolled back — the error
        says how to resume it."""
        try:
            yield
        except (MaxError, BaseExceptionGroup) as exc:
            lost = _store_unreachable_in(exc)
            if lost is not None and sync_id is not None:
                target = f"max -t {self.workspace_name}/{self.name}"
                lost.data["hint"] = (
                    f"the sync stopped; once the store is reachable again, "
                    f"{target} sync --resume {sync_id} continues it"
                )
            raise

    @property
    def limits(self) -> FlowControllerProvider:
        """The flow controllers every sync of this installation shares."""
        return self._setup.limits

    def describe(self) -> dict[str, Any]:
        """``{"connector", "name", "id"}``."""
        return {"connector": self.info.connector, "name": self.info.name, "id": self.info.id}

    # -- syncing -----------------------------------------------------------------------------

    async def sync(
        self,
        *,
        on_event: EventCallback | None = None,
        resume: str | None = None,
        full: bool = False,
        max_age: timedelta | None = None,
        plan: SyncPlan | None = None,
    ) -> SyncResult:
        """Run a sync to its end (or resume sync ``resume``, without seeding).

        Incremental when the connector has a change feed and a sync completed before, unless
        ``full``; ``plan`` (a partial sync, e.g. from ``max sync --plan``) replaces the
        seeder's plan — the seeder still runs first, so the roots are stored; ``max_age``
        skips what was synced more recently than that (see ``maxtrio.execution.run_sync``).
        ``on_event`` receives every :class:`~maxtrio.execution.SyncEvent` in order. Runs in
        the caller's task: cancellation leaves the sync ``interrupted`` and resumable. An
        unknown ``resume`` id raises ``execution.sync_not_found``; a finished one
        ``execution.sync_not_resumable``; a sync of this installation already running (in any
        process) ``app.sync_already_running`` — before anything is touched.
        """
        if resume is not None and plan is not None:
            raise ValueError("a resumed sync keeps its own plan")
        async with installation_lock(
            self.info.data_dir, self.name, "sync", hint=self._running_hint
        ) as lock:
            await self.settle_orphans(held=True)
            sync_id = resume if resume is not None else await self.sync_store.next_id()
            lock.record(sync_id)
            on_event = self._observed(on_event)
            with self._resumable(sync_id):
                return await self._sync_locked(sync_id, resume, on_event, full, max_age, plan)

    def _running_hint(self, sync_id: str) -> str:
        """What to do about a sync of this installation that is already running."""
        target = f"max -t {self.workspace_name}/{self.name}"
        return (
            f"no command attaches to a running sync: follow it with {target} status; "
            f"if it stops before the end, {target} sync --resume {sync_id} continues it"
        )

    async def _sync_locked(
        self,
        sync_id: str,
        resume: str | None,
        on_event: EventCallback | None,
        full: bool,
        max_age: timedelta | None,
        plan: SyncPlan | None,
    ) -> SyncResult:
        from maxtrio.execution import resume_sync, run_sync

        try:
            if resume is not None:
                return await resume_sync(self._setup, resume, on_event=on_event, max_age=max_age)
            return await run_sync(
                self._setup,
                seeder=self.connector.definition.seeder,
                on_event=on_event,
                sync_id=sync_id,
                full=full,
                max_age=max_age,
                plan=plan,
            )
        finally:
            # However it ended, data.db alone holds every committed row (a portable file).
            # Best effort: the rows are committed either way.
            with trio.CancelScope(shield=True), contextlib.suppress(Exception):
                await self._store.database.checkpoint()

    def _observed(self, on_event: EventCallback | None) -> EventCallback | None:
        """``on_event``, telling the context's :data:`sync_observer` the id as a sync starts."""
        from maxtrio.execution import SyncStarted

        observer = sync_observer.get()
        if observer is None:
            return on_event

        def deliver(event: SyncEvent) -> None:
            if isinstance(event, SyncStarted):
                observer(self, event.sync_id)
            if on_event is not None:
                on_event(event)

        return deliver

    async def join_sync(
        self,
        sync_id: str,
        *,
        on_event: EventCallback | None = None,
        lease_ms: int | None = None,
        worker: str | None = None,
    ) -> SyncResult:
        """Help drain sync ``sync_id`` that another process started and still runs, until
        nothing is left to claim (see ``maxtrio.execution.join_sync``). Takes no lock. An
        unknown id raises ``execution.sync_not_found``; a sync that is not running (finished,
        interrupted, or its process died) ``execution.sync_not_running``. ``lease_ms``: the
        task leases' length (None: ``maxtrio.execution.DEFAULT_LEASE_MS``)."""
        from maxtrio.execution import DEFAULT_LEASE_MS, join_sync, worker_name

        await self.settle_orphans()
        name = worker if worker is not None else worker_name()
        lease = DEFAULT_LEASE_MS if lease_ms is None else lease_ms
        return await join_sync(self._setup, sync_id, worker=name, lease_ms=lease, on_event=on_event)

    async def settle_orphans(self, *, held: bool = False) -> None:
        """``running`` syncs whose process died → ``interrupted`` (see ``_sync_owner``);
        ``held``: this process holds the installation's lock, so no other process syncs it."""
        from maxtrio.execution import wall_clock_ms

        def live(sync_id: str) -> bool:
            handle = self._executor.syncs.get(sync_id)
            return handle is not None and not handle.done

        await settle_orphaned_syncs(
            self.info.data_dir, self.sync_store, live=live, now_ms=wall_clock_ms(), held=held
        )

    async def start_sync(self, *, resume: str | None = None) -> SyncHandle:
        """Start (or resume) a sync in the node's own nursery and return its handle at once
        (what the RPC ``sync`` method and the MCP ``sync`` tool use). Closing the node
        interrupts it. It holds the installation lock until it ends, as :meth:`sync` does
        (a sync already running → ``app.sync_already_running``)."""
        assert self._lock_holders is not None, "start_sync on a node that is not open"
        held = contextlib.AsyncExitStack()
        try:
            lock = await held.enter_async_context(
                installation_lock(self.info.data_dir, self.name, "sync", hint=self._running_hint)
            )
            await self.settle_orphans(held=True)
            sync_id = resume if resume is not None else await self.sync_store.next_id()
            lock.record(sync_id)
            handle = await self._start_locked(sync_id, resume)
        except BaseException:
            with trio.CancelScope(shield=True):
                await held.aclose()
            raise
        self._lock_holders.start_soon(_hold_until_done, handle, held)
        return handle

    async def _start_locked(self, sync_id: str, resume: str | None) -> SyncHandle:
        from maxtrio.core import SeederEnv
        from maxtrio.execution import SyncOptions

        if resume is not None:
            return await self._executor.resume(resume)
        env = SeederEnv(self._setup.ctx, self._setup.engine)
        plan = await self.connector.definition.seeder.seed(env)
        options = SyncOptions()
        feed = self._setup.change_feed
        if feed is not None:  # a full sync: record where the feed stands before listing
            loader_env, counting = self._setup.runner_factory().operation_env()
            head = await feed.head(loader_env)
            options = SyncOptions(feed_cursor=head, requests_before=counting.counts().total)
        return await self._executor.execute(plan, sync_id=sync_id, options=options)

    def sync_handle(self, sync_id: str) -> SyncHandle | None:
        """A sync started by :meth:`start_sync` on this node, by id."""
        return self._executor.syncs.get(sync_id)

    async def sync_history(self, limit: int = 10) -> list[SyncRecord]:
        """Past syncs, most recent first (a sync whose process died shows ``interrupted``)."""
        await self.settle_orphans()
        return list(await self.sync_store.list(limit))

    async def last_sync(self) -> SyncSummary | None:
        """The most recent sync with its task counts, or None when never synced (a sync whose
        process died shows ``interrupted``)."""
        from maxtrio.execution import TaskState

        await self.settle_orphans()
        records = await self.sync_store.list(1)
        if not records:
            return None
        record = records[0]
        counts = await self.task_store.count_by_state(record.id)
        return SyncSummary(
            id=record.id,
            status=record.status,
            started_at=record.started_at,
            completed_at=record.completed_at,
            tasks_completed=counts.get(TaskState.COMPLETED, 0),
            tasks_failed=counts.get(TaskState.FAILED, 0),
            tasks_total=sum(counts.values()),
        )

    # -- health and lifecycle ------------------------------------------------------------------

    async def check_credentials(self) -> None:
        """Read ``credentials.json`` again (a node stays open in the daemon between commands):
        one others may read, or a corrupt one, raises its own error, as on opening."""
        await checked_credentials(self.info)

    async def health(self) -> HealthStatus:
        """The connector's own ``health()`` (bounded by its timeout, 10 s by default)."""
        return await self._installation.health()

    async def aclose(self) -> None:
        """Stop this node (its workspace opens a fresh one on next use)."""
        if self._closer is not None:
            await self._closer()


def _store_unreachable_in(exc: BaseException) -> MaxError | None:
    """The ``storage.store_unreachable`` error in ``exc`` (trio nurseries wrap what their
    tasks raise in exception groups), if there is one."""
    from maxtrio.storage import ErrStoreUnreachable

    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _store_unreachable_in(inner)
            if found is not None:
                return found
        return None
    return exc if isinstance(exc, MaxError) and ErrStoreUnreachable.matches(exc) else None


async def _hold_until_done(handle: SyncHandle, lock: contextlib.AsyncExitStack) -> None:
    """Keep a background sync's lock until the sync ends (or the node closes)."""
    try:
        await handle.completion()
    finally:
        with trio.CancelScope(shield=True):
            await lock.aclose()
