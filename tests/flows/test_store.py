"""The stores: the apsw store on a real ``maxq.db`` (schema, knex bookkeeping, D1), the clock,
and what both stores must do alike (on SQLite and on the session's PostgreSQL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import apsw
import pytest

from maxtrio.core import MaxError
from maxtrio.flows import (
    ErrStepIdTaken,
    MonotonicMsClock,
    PgFlowStore,
    SqlFlowStore,
    SqliteFlowStore,
    StepSpec,
)
from tests.pg.server import PgServer

from .conftest import schema_url

OpenStore = Callable[[], Awaitable[SqlFlowStore]]

EXPECTED_COLUMNS = {
    "run": [
        ("id", "text", 0),
        ("flow_name", "text", 1),
        ("status", "text", 1),
        ("input", "text", 0),
        ("output", "text", 0),
        ("error", "text", 0),
        ("metadata", "text", 0),
        ("created_at", "bigint", 1),
        ("started_at", "bigint", 0),
        ("completed_at", "bigint", 0),
        ("duration_ms", "bigint", 0),
        ("stdout", "text", 0),
        ("stderr", "text", 0),
        ("name", "text", 0),
        ("description", "text", 0),
        ("flow_title", "text", 0),
        ("termination_reason", "text", 0),
    ],
    "stage": [
        ("id", "text", 0),
        ("run_id", "text", 1),
        ("name", "text", 1),
        ("final", "integer", 1),
        ("status", "text", 1),
        ("created_at", "bigint", 1),
        ("started_at", "bigint", 0),
        ("completed_at", "bigint", 0),
        ("termination_reason", "text", 0),
    ],
    "step": [
        ("id", "text", 1),
        ("run_id", "text", 1),
        ("stage_id", "text", 1),
        ("name", "text", 1),
        ("status", "text", 1),
        ("depends_on", "text", 1),
        ("retry_count", "integer", 1),
        ("max_retries", "integer", 1),
        ("env", "text", 0),
        ("fields", "text", 0),
        ("error", "text", 0),
        ("created_at", "bigint", 1),
        ("started_at", "bigint", 0),
        ("completed_at", "bigint", 0),
        ("duration_ms", "bigint", 0),
        ("stdout", "text", 0),
        ("stderr", "text", 0),
        ("termination_reason", "text", 0),
        ("queued_at", "bigint", 0),
        ("claimed_at", "bigint", 0),
        ("heartbeat_at", "bigint", 0),
        ("worker_id", "text", 0),
    ],
    "run_log": [
        ("id", "text", 0),
        ("run_id", "text", 1),
        ("entity_type", "text", 1),
        ("entity_id", "text", 0),
        ("level", "text", 1),
        ("message", "text", 1),
        ("metadata", "text", 0),
        ("created_at", "bigint", 1),
    ],
}
EXPECTED_INDEXES = {
    "idx_run_flow_name",
    "idx_run_status",
    "idx_run_created_at",
    "idx_stage_run_id",
    "idx_stage_name",
    "idx_stage_run_name",
    "idx_step_run_id",
    "idx_step_stage_id",
    "idx_step_status",
    "idx_step_name",
    "idx_step_scheduler_queue",
    "idx_step_id",
    "idx_run_log_run_id_created_at",
    "idx_run_log_entity",
}

# The reference's step table: primary key ``id`` alone (Decision D1 keeps such files working).
REFERENCE_STEP_TABLE = """
CREATE TABLE `run` (`id` text, `flow_name` text not null, `status` text not null,
  `input` text, `output` text, `error` text, `metadata` text, `created_at` bigint not null,
  `started_at` bigint, `completed_at` bigint, `duration_ms` bigint, `stdout` text,
  `stderr` text, `name` text, `description` text, `flow_title` text,
  `termination_reason` text, primary key (`id`));
CREATE TABLE `stage` (`id` text, `run_id` text not null, `name` text not null,
  `final` integer not null, `status` text not null, `created_at` bigint not null,
  `started_at` bigint, `completed_at` bigint, `termination_reason` text,
  foreign key(`run_id`) references `run`(`id`) on delete CASCADE, primary key (`id`));
CREATE UNIQUE INDEX `idx_stage_run_name` on `stage` (`run_id`, `name`);
CREATE TABLE `step` (`id` text, `run_id` text not null, `stage_id` text not null,
  `name` text not null, `status` text not null, `depends_on` text not null,
  `retry_count` integer not null default '0', `max_retries` integer not null, `env` text,
  `fields` text, `error` text, `created_at` bigint not null, `started_at` bigint,
  `completed_at` bigint, `duration_ms` bigint, `stdout` text, `stderr` text,
  `termination_reason` text, `queued_at` bigint, `claimed_at` bigint, `heartbeat_at` bigint,
  `worker_id` text,
  foreign key(`run_id`) references `run`(`id`) on delete CASCADE,
  foreign key(`stage_id`) references `stage`(`id`) on delete CASCADE, primary key (`id`));
CREATE UNIQUE INDEX `idx_step_id` on `step` (`run_id`, `id`);
CREATE TABLE `run_log` (`id` text, `run_id` text not null, `entity_type` text not null,
  `entity_id` text, `level` text not null, `message` text not null, `metadata` text,
  `created_at` bigint not null,
  foreign key(`run_id`) references `run`(`id`) on delete CASCADE, primary key (`id`));
CREATE TABLE `knex_migrations` (`id` integer not null primary key autoincrement,
  `name` varchar(255), `batch` integer, `migration_time` datetime);
INSERT INTO knex_migrations (name, batch, migration_time)
  VALUES ('20251031000000_initial_schema.js', 1, 0);
"""


def columns(db: apsw.Connection, table: str) -> list[tuple[str, str, int]]:
    # Recent SQLite reports ``text`` as ``TEXT``; the declared affinity is what matters.
    return [(r[1], r[2].lower(), r[3]) for r in db.execute(f"PRAGMA table_info({table})")]


async def test_schema_has_the_contract_columns_types_and_indexes(tmp_path: Path) -> None:
    store = await SqliteFlowStore.open(tmp_path / "maxq.db", MonotonicMsClock())
    await store.close()
    db = apsw.Connection(str(tmp_path / "maxq.db"))
    for table, expected in EXPECTED_COLUMNS.items():
        assert columns(db, table) == expected
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert indexes >= EXPECTED_INDEXES
    step_pk = sorted((r[5], r[1]) for r in db.execute("PRAGMA table_info(step)") if r[5])
    assert [name for _, name in step_pk] == ["run_id", "id"]  # D1, in a file we create
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    migrations = db.execute("SELECT name, batch FROM knex_migrations").fetchall()
    assert migrations == [("20251031000000_initial_schema.js", 1)]


async def test_reopening_adds_no_second_migration_row(tmp_path: Path) -> None:
    for _ in range(2):
        store = await SqliteFlowStore.open(tmp_path / "maxq.db", MonotonicMsClock())
        await store.close()
    db = apsw.Connection(str(tmp_path / "maxq.db"))
    assert db.execute("SELECT count(*) FROM knex_migrations").fetchone() == (1,)


async def test_reference_file_keeps_its_schema_and_maps_reused_step_ids(tmp_path: Path) -> None:
    path = tmp_path / "maxq.db"
    reference = apsw.Connection(str(path))
    reference.execute(REFERENCE_STEP_TABLE)
    reference.close()
    store = await SqliteFlowStore.open(path, MonotonicMsClock())
    first = await store.create_run(flow_name="f", input=None, metadata=None, flow_title=None)
    second = await store.create_run(flow_name="f", input=0, metadata=False, flow_title=None)
    await store.schedule_stage(first.id, "s", True, [StepSpec(id="a", name="n")])
    with pytest.raises(MaxError) as caught:
        await store.schedule_stage(second.id, "s", True, [StepSpec(id="a", name="n")])
    assert ErrStepIdTaken.matches(caught.value)
    assert caught.value.message == 'Step ID "a" is already used by another run'
    # The failed transaction left nothing behind, and D12 kept the falsy JSON values.
    assert await store.query_fields(second.id, None, None) == []
    reloaded = await store.get_run(second.id)
    assert reloaded is not None and (reloaded.input, reloaded.metadata) == (0, False)
    await store.close()
    db = apsw.Connection(str(path))
    assert db.execute("SELECT count(*) FROM knex_migrations").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM stage WHERE run_id = ?", (second.id,)).fetchone() == (
        0,
    )


def test_clock_is_strictly_increasing_even_when_time_stands_still() -> None:
    clock = MonotonicMsClock(source=lambda: 1000.0)
    readings = [clock.now() for _ in range(5)]
    assert readings == [1_000_000, 1_000_001, 1_000_002, 1_000_003, 1_000_004]


def test_clock_never_goes_backwards() -> None:
    times = iter([10.0, 9.0, 11.0])
    clock = MonotonicMsClock(source=lambda: next(times))
    assert [clock.now(), clock.now(), clock.now()] == [10_000, 10_001, 11_000]


@pytest.fixture(params=["sqlite", "postgresql"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OpenStore]:
    """Opens a store of the parameter's kind; each call of one test opens the same database."""
    if request.param == "sqlite":

        async def open_sqlite() -> SqlFlowStore:
            return await SqliteFlowStore.open(tmp_path / "maxq.db", MonotonicMsClock())

        yield open_sqlite
        return
    pg_server: PgServer = request.getfixturevalue("pg_server")
    url = schema_url(pg_server, pg_server.new_schema_name("store"))

    async def open_pg() -> SqlFlowStore:
        return await PgFlowStore.open(url, MonotonicMsClock())

    yield open_pg


async def test_stage_transition_is_delivered_exactly_once(open_store: OpenStore) -> None:
    """D3: two settlements of the same stage (two steps ending together) → one transition."""
    store = await open_store()
    run = await store.create_run(flow_name="f", input=None, metadata=None, flow_title=None)
    scheduled = await store.schedule_stage(run.id, "empty", True, [])
    first = await store.settle_stage(scheduled.stage_id)
    second = await store.settle_stage(scheduled.stage_id)
    assert first is not None and first.status == "completed" and first.final
    assert second is None
    await store.close()


async def test_health_reports_a_broken_database(open_store: OpenStore, tmp_path: Path) -> None:
    import httpx

    from maxtrio.flows import FlowEngine, FlowsConfig, create_app

    store = await open_store()
    config = FlowsConfig(data_dir=tmp_path, flows_root=tmp_path)
    engine = FlowEngine(store, config, api_url="http://localhost/api/v1", base_environment={})
    app = create_app(engine, environment="test")
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://flows") as client:
        assert (await client.get("/health")).status_code == 200
        await store.close()
        response = await client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["services"] == {"database": "disconnected"}
