"""``max sql`` in process: a read-only connection with its views, one aggregate query.

Writes a ``data.db`` of 50,000 Acme tasks (and 50 users) with the real engine, then opens it as
``max sql`` does (``maxtrio.sql.ReadOnlySql``: read-only open, TEMP views, authorizer) and runs
``select status, count(*) from AcmeTask group by 1`` through the view, in a worker thread with
the timeout watchdog — the whole ``execute`` path. Prints one JSON line per figure:

* ``sql_open``  — opening the connection and creating the views (median ms);
* ``sql_count`` — the query (median ms of ``--runs``).

Usage: ``python benchmarks/sql.py [--tasks 50000] [--runs 30]``
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

from maxtrio.connectors.acme import AcmeSchema, AcmeTask, AcmeUser
from maxtrio.core import EntityInput
from maxtrio.sql import ReadOnlySql, SqlSource
from maxtrio.storage import SqliteEngine

STATUSES = ("todo", "in_progress", "in_review", "done")
QUERY = "select status, count(*) from AcmeTask group by 1"


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def build(path: Path, tasks: int) -> None:
    engine = SqliteEngine.open(path, AcmeSchema)
    try:
        users = [
            EntityInput(AcmeUser.ref(f"usr_{i}"), {"displayName": f"U {i}"}) for i in range(50)
        ]
        await engine.store_many(users)
        batch: list[EntityInput] = []
        for i in range(tasks):
            fields = {
                "title": f"Task number {i}",
                "status": STATUSES[i % 4],
                "assignee": AcmeUser.ref(f"usr_{i % 50}"),
            }
            batch.append(EntityInput(AcmeTask.ref(f"tsk_{i:07d}"), fields))
            if len(batch) == 1000:
                await engine.store_many(batch)
                batch = []
        if batch:
            await engine.store_many(batch)
    finally:
        await engine.aclose()


async def main(tasks: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "data.db"
        await build(path, tasks)
        source = SqlSource("acme-1", path, AcmeSchema)
        opens: list[float] = []
        for _ in range(runs):
            start = time.perf_counter()
            ReadOnlySql([source], qualified=False).close()
            opens.append(time.perf_counter() - start)
        emit(name="sql_open", median_ms=round(statistics.median(opens) * 1000, 3), runs=runs)
        with ReadOnlySql([source], qualified=False) as database:
            result = await database.execute(QUERY)
            assert sum(row[1] for row in result.rows) == tasks, result
            times: list[float] = []
            for _ in range(runs):
                start = time.perf_counter()
                await database.execute(QUERY)
                times.append(time.perf_counter() - start)
        emit(
            name="sql_count",
            median_ms=round(statistics.median(times) * 1000, 3),
            tasks=tasks,
            runs=runs,
            query=QUERY,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    trio.run(main, args.tasks, args.runs)
