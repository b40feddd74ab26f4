"""Entity engine write and query throughput on a file database.

Prints one JSON object per line:

* ``store_floor``   — plain apsw ``executemany`` INSERT of the same row tuples into a table of
  the same layout, in the same batches: what SQLite itself costs;
* ``store_many``    — ``SqliteEngine.store_many`` of task-shaped ``EntityInput``s (id, title,
  description, status, priority, assignee ref), validation and conversion included;
* ``merge_pass``    — ``store_many`` of one field of every row again (merge keeps the others);
* ``query_1m``      — filter + order-by + limit 100 on 1,000,000 rows, median of 20 runs, once
  ordered by an indexed column (the engine adds the index on first use; ``index_ms`` is that
  one-time cost) and once ordered by ``_id``.

Usage: ``python benchmarks/engine_write.py [--rows 200000] [--query-rows 1000000]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

from maxtrio.core import EntityDef, EntityInput, Field, PageRequest, Query, Schema
from maxtrio.storage import SqliteDatabase, SqliteEngine

STATUSES = ("todo", "in_progress", "done", "blocked")
BATCH = 1_000

User = EntityDef.create("BenchUser", {"name": Field.string()})
Task = EntityDef.create(
    "BenchTask",
    {
        "title": Field.string(),
        "description": Field.string(),
        "status": Field.string(),
        "priority": Field.number(),
        "assignee": Field.ref(User),
    },
)
SCHEMA = Schema.create("bench", [User, Task])


def make_rows(n: int) -> list[tuple[Any, ...]]:
    return [
        (
            f"task-{i:07d}",
            f"Task number {i}",
            "Write the quarterly report and send it to the team for review.",
            STATUSES[i % 4],
            float((i * 7) % 5),
            f"user-{i % 10}",
        )
        for i in range(n)
    ]


def make_inputs(rows: list[tuple[Any, ...]]) -> list[EntityInput]:
    return [
        EntityInput(
            Task.ref(r[0]),
            {
                "title": r[1],
                "description": r[2],
                "status": r[3],
                "priority": r[4],
                "assignee": User.ref(r[5]),
            },
        )
        for r in rows
    ]


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def floor(path: Path, rows: list[tuple[Any, ...]]) -> float:
    db = SqliteDatabase(path)
    db.writer.execute(
        'CREATE TABLE bare (_id TEXT PRIMARY KEY, "title" TEXT, "description" TEXT, '
        '"status" TEXT, "priority" REAL, "assignee" TEXT)'
    )
    sql = "INSERT INTO bare VALUES (?, ?, ?, ?, ?, ?)"
    start = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        chunk = rows[i : i + BATCH]
        db.write_sync(lambda conn, chunk=chunk: conn.executemany(sql, chunk))
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


async def store(engine: SqliteEngine, inputs: list[EntityInput]) -> float:
    start = time.perf_counter()
    for i in range(0, len(inputs), BATCH):
        await engine.store_many(inputs[i : i + BATCH])
    return time.perf_counter() - start


async def query_bench(engine: SqliteEngine, runs: int) -> None:
    ordered = (
        Query.from_(Task).where("status", "=", "todo").order_by("priority", "desc").select_all()
    )
    start = time.perf_counter()
    await engine.query(ordered, PageRequest(limit=100))  # first run builds the index
    first_ms = (time.perf_counter() - start) * 1000
    for label, q in (
        ("priority_desc", ordered),
        ("by_id", Query.from_(Task).where("status", "=", "done").select_all()),
    ):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            page = await engine.query(q, PageRequest(limit=100))
            times.append((time.perf_counter() - start) * 1000)
            assert len(page.items) == 100
        emit(
            name="query_1m",
            order=label,
            rows=await engine.count(Task),
            median_ms=round(statistics.median(times), 3),
            p90_ms=round(sorted(times)[int(0.9 * len(times)) - 1], 3),
            first_run_ms=round(first_ms, 1) if label == "priority_desc" else None,
        )


async def main(n_rows: int, n_query: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = make_rows(n_rows)
        inputs = make_inputs(rows)
        floor_s = floor(Path(tmp) / "floor.db", rows)
        emit(
            name="store_floor",
            rows=n_rows,
            seconds=round(floor_s, 3),
            rows_per_s=round(n_rows / floor_s),
        )
        engine = SqliteEngine.open(Path(tmp) / "data.db", SCHEMA)
        seconds = await store(engine, inputs)
        emit(
            name="store_many",
            rows=n_rows,
            seconds=round(seconds, 3),
            rows_per_s=round(n_rows / seconds),
            x_floor=round(seconds / floor_s, 2),
        )
        merge = [EntityInput(Task.ref(r[0]), {"status": "done"}) for r in rows]
        seconds = await store(engine, merge)
        emit(
            name="merge_pass",
            rows=n_rows,
            seconds=round(seconds, 3),
            rows_per_s=round(n_rows / seconds),
            x_floor=round(seconds / floor_s, 2),
        )
        await engine.aclose()

        big = SqliteEngine.open(Path(tmp) / "big.db", SCHEMA)
        bulk = make_inputs(make_rows(n_query))
        await store(big, bulk)
        del bulk
        await query_bench(big, 20)
        await big.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--query-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    trio.run(main, args.rows, args.query_rows)
