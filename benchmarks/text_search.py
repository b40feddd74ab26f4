"""Full-text search and SQL over a synced Acme workspace (50,062 rows by default).

The Acme fake runs in its own process, seeded before any timing (``sync_throughput``'s
workload and helpers). Prints one JSON object per line:

* ``{"name": "fts_sync_overhead", "ratio", "seconds", "seconds_without", "runs"}`` — the sync
  (loopback HTTP into a disk ``data.db``, in a fresh worker process each) with the full-text
  indexes against the same sync without them, medians of ``--repeat`` runs taken alternately;
* ``{"name": "fts_query", "median_ms", "rows", "text", "filter"}`` — a two-word ``--text``
  query with a filter, limit 20, best match first, through the engine as ``max search`` runs
  it (in process, the file opened once, median of 30);
* ``{"name": "sql_count", "median_ms", "rows"}`` — ``select status, count(*) from AcmeTask
  group by 1`` through ``max sql``'s read-only connection (in process, median of 30).

Usage: ``python benchmarks/text_search.py [--projects 50] [--tasks-per-project 1000]
[--users 10] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_throughput import (
    _max,
    _worker,
    connected_workspace,
    emit,
    seeded_server,
    user_env,
)

QUERY_RUNS = 30
FILTER = "status = todo"


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def overhead(server: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    with_index: list[float] = []
    without: list[float] = []
    for _ in range(args.repeat):  # alternately, so both see the same machine
        common = {"transport": "http", "store": "disk"}
        with_index.append(_worker("sync", server, args, **common)["seconds"])
        without.append(_worker("sync", server, args, **common, **{"no-text-index": ""})["seconds"])
    seconds, seconds_without = statistics.median(with_index), statistics.median(without)
    return {
        "name": "fts_sync_overhead",
        "ratio": round(seconds / seconds_without, 3),
        "seconds": seconds,
        "seconds_without": seconds_without,
        "runs": args.repeat,
    }


async def queries(data_db: Path) -> list[dict[str, Any]]:
    import trio

    from maxtrio.connectors.acme import connector
    from maxtrio.core import EntityQuery, PageRequest
    from maxtrio.query import parse_where
    from maxtrio.sql import ReadOnlySql, SqlSource
    from maxtrio.storage import SqliteEngine

    schema = connector.definition.schema
    task = schema.get_definition("AcmeTask")
    assert task is not None
    engine = SqliteEngine.open(data_db, schema)
    try:
        # Two words that occur together in some titles, taken from the data itself.
        first = await engine.query(EntityQuery(task), PageRequest(None, 50))
        titles = [item.values["title"] for item in first.items]  # type: ignore[union-attr]
        words = next(
            [w for w in title.lower().split() if w.isalpha() and len(w) > 3][:2]
            for title in titles
            if len([w for w in title.lower().split() if w.isalpha() and len(w) > 3]) >= 2
        )
        text = " ".join(words)
        query = EntityQuery(task, parse_where(FILTER, task).where, text=text)
        samples, rows = [], 0
        for _ in range(QUERY_RUNS):
            start = time.perf_counter()
            page = await engine.query(query, PageRequest(None, 20))
            samples.append(time.perf_counter() - start)
            rows = len(page.items)
    finally:
        engine.close()
    fts = {"name": "fts_query", "median_ms": _median_ms(samples), "rows": rows, "text": text}
    fts["filter"] = FILTER
    source = SqlSource("acme-1", data_db, schema)
    database = await trio.to_thread.run_sync(lambda: ReadOnlySql([source], qualified=False))
    try:
        samples = []
        for _ in range(QUERY_RUNS):
            start = time.perf_counter()
            result = await database.execute(
                "select status, count(*) from AcmeTask group by 1", limit=None
            )
            samples.append(time.perf_counter() - start)
    finally:
        database.close()
    sql = {"name": "sql_count", "median_ms": _median_ms(samples), "rows": len(result.rows)}
    return [fts, sql]


def main(args: argparse.Namespace) -> None:
    import trio

    with (
        tempfile.TemporaryDirectory(prefix="text-bench-") as tmp,
        seeded_server(args, tmp) as server,
    ):
        emit(**overhead(server, args))
        env = user_env(Path(tmp))
        project = Path(tmp) / "workspace"
        connected_workspace(server, project, env)
        _max("sync", "acme-1", cwd=project, env=env)
        data_db = project / ".max" / "installations" / "acme-1" / "data.db"
        for line in trio.run(queries, data_db):
            emit(**line)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--projects", type=int, default=50)
    p.add_argument("--tasks-per-project", type=int, default=1000)
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    args.latency_ms = 0.0
    return args


if __name__ == "__main__":
    main(parse())
