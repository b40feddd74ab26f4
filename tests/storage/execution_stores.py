"""Fixtures and helpers of the execution-store contract tests.

Test modules import ``stores_fixture`` / ``sqlite_stores_fixture`` (registered under the
names ``stores`` and ``sqlite_stores``). Every contract test takes ``stores`` and runs three times:
against the in-memory stores of ``maxtrio.execution``, the apsw stores of ``maxtrio.storage``
on a real ``data.db`` file and the PostgreSQL stores on the session's real server. Persisted
timestamps come from a :class:`ManualClock` so tests can pin them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import apsw
import attrs
import pytest
import trio

from maxtrio.core import EntityDef, Field, MaxError, Schema
from maxtrio.execution import (
    InMemorySyncMeta,
    InMemorySyncStore,
    InMemoryTaskStore,
    LoadCollectionPayload,
    StepOperationPayload,
    StepTarget,
    SyncGroupPayload,
    SyncMeta,
    SyncStepPayload,
    SyncStore,
    Task,
    TaskState,
    TaskStore,
    TaskTemplate,
)
from maxtrio.storage import (
    Engine,
    InMemoryEngine,
    InstallationStore,
    open_installation_store,
    open_pg_installation_store,
)

from ..pg.server import PgServer

Widget = EntityDef.create("Widget", {"name": Field.string(), "size": Field.number()})
Gadget = EntityDef.create("Gadget", {"label": Field.string(), "widget": Field.ref(Widget)})
SCHEMA = Schema.create("stores", [Widget, Gadget])

#: The repository root (subprocess workers run ``python -m tests.storage…`` from there).
REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

T0 = 1_700_000_000_000  # ms; the ManualClock's start


class ManualClock:
    """A persisted-timestamp source the test moves by hand."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@attrs.define
class Stores:
    """One implementation's task store, sync store, sync meta and engine, sharing a clock."""

    kind: str
    engine: Engine
    tasks: TaskStore
    syncs: SyncStore
    meta: SyncMeta
    clock: ManualClock
    installation: InstallationStore | None = None


def _stores(kind: str, opened: InstallationStore, clock: ManualClock) -> Stores:
    return Stores(
        kind, opened.engine, opened.task_store, opened.sync_store, opened.sync_meta, clock, opened
    )


def open_sqlite_stores(path: Path, clock: ManualClock | None = None) -> Stores:
    clock = clock or ManualClock()
    return _stores("sqlite", open_installation_store(path, SCHEMA, clock=clock), clock)


def open_pg_stores(server: PgServer, schema_name: str, clock: ManualClock | None = None) -> Stores:
    clock = clock or ManualClock()
    opened = open_pg_installation_store(server.dsn(), schema_name, SCHEMA, clock=clock)
    return _stores("postgresql", opened, clock)


def open_memory_stores() -> Stores:
    clock = ManualClock()
    engine = InMemoryEngine(SCHEMA)
    meta = InMemorySyncMeta()
    syncs = InMemorySyncStore()
    tasks = InMemoryTaskStore(engine, meta, sync_store=syncs, clock=clock)
    return Stores("memory", engine, tasks, syncs, meta, clock)


@pytest.fixture(name="stores", params=["memory", "sqlite", "postgresql"])
def stores_fixture(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Stores]:
    """The stores of this run's kind (SQLite on a real ``data.db``, PostgreSQL in a new schema
    of the session's server, dropped afterwards)."""
    if request.param == "postgresql":
        server: PgServer = request.getfixturevalue("pg_server")
        name = server.new_schema_name()
        opened = open_pg_stores(server, name)
        yield opened
        assert opened.installation is not None
        opened.installation.close()
        server.sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        return
    opened = open_memory_stores() if request.param == "memory" else open_sqlite_stores(db_path)
    yield opened
    if opened.installation is not None:
        opened.installation.close()


@pytest.fixture(name="sqlite_stores")
def sqlite_stores_fixture(db_path: Path) -> Iterator[Stores]:
    """The apsw stores on a real ``data.db``, for SQLite-only checks."""
    opened = open_sqlite_stores(db_path)
    yield opened
    assert opened.installation is not None
    opened.installation.close()


# -- payloads and graphs ----------------------------------------------------------------------


def step(entity_type: str, *fields: str) -> SyncStepPayload:
    """A ``forAll(entity_type).loadFields(fields)`` step payload."""
    return SyncStepPayload(
        StepTarget("forAll", entity_type),
        StepOperationPayload("loadFields", fields=fields or ("name",)),
    )


def page(ref_key: str, cursor: str | None = None) -> LoadCollectionPayload:
    """One page of ``ref_key``'s ``items`` collection."""
    return LoadCollectionPayload("Widget", ref_key, "items", "Widget", cursor)


def plan_graph() -> list[TaskTemplate]:
    """The expansion of ``[A, concurrent[B, C], D]``."""
    return [
        TaskTemplate("temp-1", TaskState.PENDING, step("A")),
        TaskTemplate("temp-2", TaskState.AWAITING_CHILDREN, SyncGroupPayload()),
        TaskTemplate("temp-3", TaskState.NEW, step("B"), parent="temp-2", blocked_by="temp-1"),
        TaskTemplate("temp-4", TaskState.NEW, step("C"), parent="temp-2", blocked_by="temp-1"),
        TaskTemplate("temp-5", TaskState.NEW, step("D"), blocked_by="temp-2"),
    ]


def pending_graph(count: int, prefix: str = "t") -> list[TaskTemplate]:
    """``count`` independent pending steps."""
    return [TaskTemplate(f"{prefix}{i}", TaskState.PENDING, step(f"E{i}")) for i in range(count)]


async def claim_one(store: TaskStore, sync_id: str, now_ms: int = T0) -> Task:
    task = await store.claim(sync_id, now_ms)
    assert task is not None, "expected a claimable task"
    assert task.state is TaskState.RUNNING
    return task


async def states(store: TaskStore, sync_id: str) -> dict[str, TaskState]:
    """Task id → state, for one sync."""
    return {t.id: t.state for t in await store.tasks(sync_id)}


async def get(store: TaskStore, task_id: str) -> Task:
    task = await store.get(task_id)
    assert task is not None, f"task {task_id} should exist"
    return task


def table_shape(conn: apsw.Connection, table: str) -> tuple[list[tuple[object, ...]], ...]:
    """Columns (name, type, notnull, default, pk) and indexes (name, unique, origin, columns)."""
    columns = [tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({table})")]
    indexes = []
    for _, name, unique, origin, partial in conn.execute(f"PRAGMA index_list({table})"):
        cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({name})"))
        indexes.append((name, unique, origin, partial, cols))
    return columns, sorted(indexes)


def sqlite_rows(
    stores: Stores, sql: str, params: Sequence[object] = ()
) -> list[tuple[object, ...]]:
    """Rows read straight from the SQLite file (through the writer, so always current)."""
    assert stores.installation is not None
    conn = stores.installation.database.writer
    return [tuple(row) for row in conn.execute(sql, params)]


@contextmanager
def raises_code(code: str) -> Iterator[pytest.ExceptionInfo[MaxError]]:
    """Expect a :class:`MaxError` with exactly ``code``."""
    with pytest.raises(MaxError) as caught:
        yield caught
    assert caught.value.code == code, caught.value


class LineReader:
    """Lines of a subprocess's stdout (a trio receive stream)."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buffer = b""

    async def readline(self) -> str | None:
        """The next line without its newline; ``None`` at end of stream."""
        while b"\n" not in self._buffer:
            chunk = await self._stream.receive_some()
            if not chunk:
                if not self._buffer:
                    return None
                line, self._buffer = self._buffer, b""
                return line.decode()
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()
