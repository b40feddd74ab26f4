"""Ordered pagination with keyset cursors, and the adaptive order index (docs/storage.md,
reference bug B1).

250 tasks whose order columns are full of ties and NULLs are paged at 1, 7 and 50 rows a page,
ascending and descending, on every kind of column: each row must come exactly once, in the
order one big page gives, and that order must be "column (NULLs first ascending, last
descending), then ``_id`` ascending".
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest

from maxtrio.core import (
    EntityInput,
    EntityQuery,
    Ordering,
    PageRequest,
    Projection,
    Query,
    Ref,
    Where,
)
from maxtrio.storage import Engine, InMemoryEngine, SqliteEngine
from maxtrio.storage import _sqlite_engine as sqlite_engine_module
from maxtrio.storage._cursor import decode_keyset
from maxtrio.storage._sql import compile_query

from .entities import ACME, AcmeTask, ids_of, page_through, results_of

ROWS = 250
ORDER_FIELDS = ["priority", "title", "done", "due", "project", "_id"]
Direction = Literal["asc", "desc"]


def task_rows(count: int = ROWS, seed: int = 7) -> list[EntityInput]:
    """Tasks with few distinct values (many ties) and NULLs in every order column."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        rows.append(
            AcmeTask.input(
                f"t{rng.randrange(10**6):06d}-{i}",
                priority=None if i % 7 == 0 else float(i % 5) - 2,
                title=None if i % 11 == 0 else rng.choice(["alpha", "beta", "Beta", "42"]),
                done=None if i % 3 == 0 else bool(i % 2),
                due=None if i % 4 == 0 else start + timedelta(days=i % 6),
                project=None if i % 5 == 0 else f"p{i % 3}",
            )
        )
    rng.shuffle(rows)
    return rows


def expected_order(items: list[Any], field: str, direction: Direction) -> list[str]:
    """The documented order, computed independently from loaded values."""

    def value(item: Any) -> Any:
        v = item.id if field == "_id" else item.get(field)
        return v.id if isinstance(v, Ref) else v

    by_id = sorted(items, key=lambda item: item.id)
    ranked = sorted(
        by_id,
        key=lambda item: (0,) if value(item) is None else (1, value(item)),
        reverse=direction == "desc",
    )  # a stable sort keeps ``_id`` ascending among ties, in both directions
    return [item.id for item in ranked]


@pytest.fixture
async def tasks(engine: Engine) -> Engine:
    await engine.store_many(task_rows())
    return engine


@pytest.mark.parametrize("field", ORDER_FIELDS)
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("page_size", [1, 7, 50])
async def test_every_row_exactly_once_in_order(
    tasks: Engine, field: str, direction: Direction, page_size: int
) -> None:
    query = EntityQuery(AcmeTask, ordering=Ordering(field, direction))
    one_page = await tasks.query(query, PageRequest(limit=ROWS + 1))
    assert not one_page.has_more
    assert ids_of(one_page) == expected_order(results_of(one_page), field, direction)

    pages = await page_through(tasks, query, page_size)
    paged = [i for page in pages for i in ids_of(page)]
    assert paged == ids_of(one_page)
    assert len(set(paged)) == ROWS
    assert len(pages) == -(-ROWS // page_size)
    assert all(len(page.items) == page_size for page in pages[:-1])


@pytest.mark.parametrize("direction", ["asc", "desc"])
async def test_ordered_pages_with_a_filter(tasks: Engine, direction: Direction) -> None:
    query = EntityQuery(
        AcmeTask,
        Where("done", "=", True),
        Ordering("priority", direction),
        Projection.select("priority", "done"),
    )
    everything = results_of(await tasks.query(query, PageRequest(limit=ROWS)))
    assert everything and all(r.get("done") is True for r in everything)
    pages = await page_through(tasks, query, 4)
    assert [i for p in pages for i in ids_of(p)] == expected_order(
        everything, "priority", direction
    )


async def test_keyset_cursors_encode_the_ordering_and_the_last_row(tasks: Engine) -> None:
    query = Query.from_(AcmeTask).order_by("priority", "desc").select("priority")
    page = await tasks.query(query, PageRequest(limit=3))
    assert page.cursor is not None and page.cursor.startswith("ord1.")
    position = decode_keyset(page.cursor, Ordering("priority", "desc"), "AcmeTask")
    last = results_of(page)[-1]
    assert (position.field, position.direction) == ("priority", "desc")
    assert (position.value, position.id) == (last.get("priority"), last.id)


async def test_both_engines_give_the_same_pages_and_cursors(db_path: Any) -> None:
    memory = InMemoryEngine(ACME)
    async with SqliteEngine.open(db_path, ACME) as sqlite:
        for engine in (memory, sqlite):
            await engine.store_many(task_rows(seed=11))
        for field in ORDER_FIELDS:
            for direction in ("asc", "desc"):
                query = EntityQuery(AcmeTask, ordering=Ordering(field, direction))
                mine = await page_through(memory, query, 9)
                real = await page_through(sqlite, query, 9)
                assert [(ids_of(p), p.has_more, p.cursor) for p in mine] == [
                    (ids_of(p), p.has_more, p.cursor) for p in real
                ]
                assert [r.to_dict() for p in mine for r in results_of(p)] == [
                    r.to_dict() for p in real for r in results_of(p)
                ]


# -- the adaptive order index (SQLite) ----------------------------------------------------------


def query_plan(engine: SqliteEngine, query: EntityQuery, cursor: str | None = None) -> str:
    """SQLite's plan for the SQL the engine runs for ``query`` (one line per step)."""
    table = engine.table(AcmeTask)
    assert query.ordering is not None
    after = decode_keyset(cursor, query.ordering, "AcmeTask") if cursor else None
    compiled = compile_query(table, query, table.columns, 11, None, after)
    sql = "EXPLAIN QUERY PLAN " + compiled.sql
    # Not from apsw's statement cache: an EXPLAIN prepared before the index would be stale.
    rows = engine.database.read_sync(
        lambda conn: list(conn.execute(sql, compiled.params, can_cache=False))
    )
    return "\n".join(str(row[-1]) for row in rows)


def index_names(engine: SqliteEngine) -> list[str]:
    sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '_acme_task'"
    return sorted(
        str(row[0])
        for row in engine.database.read_sync(lambda conn: list(conn.execute(sql)))
        if not str(row[0]).startswith(("sqlite_autoindex", "_max_id_"))  # the id index
    )


async def test_an_ordered_query_on_a_large_table_creates_and_uses_an_index(
    sqlite_engine: SqliteEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_engine_module, "AUTO_INDEX_MIN_ROWS", 100)
    await sqlite_engine.store_many(task_rows())
    query = EntityQuery(AcmeTask, ordering=Ordering("priority", "desc"))
    assert "USE TEMP B-TREE FOR ORDER BY" in query_plan(sqlite_engine, query)

    first = await sqlite_engine.query(query, PageRequest(limit=10))
    assert index_names(sqlite_engine) == ["_acme_task__by_priority_desc"]
    for cursor in (None, first.cursor):
        plan = query_plan(sqlite_engine, query, cursor)
        assert "_acme_task__by_priority_desc" in plan, plan
        assert "TEMP B-TREE" not in plan, plan

    ascending = EntityQuery(AcmeTask, ordering=Ordering("title"))
    await sqlite_engine.query(ascending, PageRequest(limit=10))
    assert index_names(sqlite_engine) == [
        "_acme_task__by_priority_desc",
        "_acme_task__by_title_asc",
    ]
    assert "_acme_task__by_title_asc" in query_plan(sqlite_engine, ascending)


async def test_small_tables_and_id_orderings_get_no_index(sqlite_engine: SqliteEngine) -> None:
    await sqlite_engine.store_many(task_rows())
    for ordering in (Ordering("priority"), Ordering("_id", "desc"), Ordering("_id")):
        await sqlite_engine.query(EntityQuery(AcmeTask, ordering=ordering), PageRequest(limit=5))
    assert index_names(sqlite_engine) == []


@pytest.mark.parametrize("direction", ["asc", "desc"])
async def test_pages_through_the_index_match_pages_without_it(
    db_path: Any, monkeypatch: pytest.MonkeyPatch, direction: Direction
) -> None:
    memory = InMemoryEngine(ACME)
    await memory.store_many(task_rows())
    monkeypatch.setattr(sqlite_engine_module, "AUTO_INDEX_MIN_ROWS", 1)
    async with SqliteEngine.open(db_path, ACME) as sqlite:
        await sqlite.store_many(task_rows())
        for field in ("priority", "due", "done"):
            query = EntityQuery(AcmeTask, ordering=Ordering(field, direction))
            real = await page_through(sqlite, query, 7)
            model = await page_through(memory, query, 7)
            assert [ids_of(p) for p in real] == [ids_of(p) for p in model]
        assert len(index_names(sqlite)) == 3
