"""Scale-out figures: syncs into PostgreSQL against SQLite, and flows servers sharing PostgreSQL.

The Acme fake runs in its own process, seeded before any timing (``sync_throughput``'s workload
and helpers: 50 projects x 1,000 tasks = 50,062 rows by default). PostgreSQL is the server of
``--pg-url`` or, without it, a throwaway server started for the run (``tests/pg/server.py``:
initdb + pg_ctl in a temporary directory; fsync off). Prints one JSON object per line:

* ``{"name": "pg_sync", "rows", "seconds", "x_sqlite", "sqlite_seconds"}`` — ``max sync acme-1``
  as a user runs it (a whole process, direct mode) of an installation connected with
  ``--store`` (``$MAX_STORE_URL``) against the same sync of an installation on its
  ``data.db``, best of ``--repeat`` runs each, taken alternately in one run; ``rows`` are the
  entities the sync reports.

* ``{"name": "pg_flows_fanout", "steps", "seconds", "servers", "started_twice",
  "one_sqlite_server_seconds"}`` — one run of a 200-step fan-out of trivial steps (each appends
  a line to a file) served by two ``python -m maxtrio.flows`` processes on one database
  (``MAXQ_DATABASE_URL``, ``MAXQ_MAX_CONCURRENT_STEPS=10`` each), after a warm-up run:
  ``seconds`` from the server's own timestamps (``completed_at − created_at``), ``servers``
  the number of servers that ran steps of the run, ``started_twice`` how many steps the file
  shows started more than once (must be 0); and the same run on one server on SQLite.

Each figure is one small function; :func:`main` prints them all (``--only NAME`` one of them).

Usage: ``python benchmarks/scale_out.py [--projects 50] [--tasks-per-project 1000]
[--users 10] [--repeat 3] [--pg-url postgresql://…] [--only pg_sync|pg_flows_fanout]``
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import httpx  # noqa: E402

from flows_throughput import (  # noqa: E402
    API_KEY,
    run_to_completion,
    server_seconds,
    start_server,
    write_flow,
)
from sync_throughput import (  # noqa: E402
    BIN,
    connected_workspace,
    emit,
    seeded_server,
    user_env,
    workload_parser,
)


@contextlib.contextmanager
def postgresql(url: str | None) -> Iterator[str]:
    """``url``, or the URL of a throwaway server for the run."""
    if url is not None:
        yield url
        return
    from tests.pg.server import running_server

    with running_server() as server:
        yield server.url()


def timed_sync(project: Path, env: dict[str, str]) -> tuple[float, int]:
    """``max sync acme-1 -o json`` in ``project``: wall seconds and rows synced."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "max"), "sync", "acme-1", "-o", "json"],
        cwd=project, env=env, text=True, capture_output=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    return seconds, int(json.loads(done.stdout)["entitiesSynced"])


def pg_sync(server: dict[str, Any], url: str, tmp: Path, repeat: int) -> dict[str, Any]:
    """The ``pg_sync`` line: the same sync into PostgreSQL and into SQLite, alternately."""
    env = user_env(tmp)
    pg_env = {**env, "MAX_STORE_URL": url}
    pg_seconds: list[float] = []
    sqlite_seconds: list[float] = []
    rows = 0
    for run in range(repeat + 1):  # run 0 warms the server's caches and the bytecode
        on_file, on_pg = tmp / f"file-{run}", tmp / f"pg-{run}"
        connected_workspace(server, on_file, env)
        connected_workspace(server, on_pg, pg_env)
        seconds, rows_file = timed_sync(on_file, env)
        pg, rows = timed_sync(on_pg, env)
        if rows != rows_file:
            sys.exit(f"pg_sync: {rows} rows on PostgreSQL, {rows_file} on SQLite")
        if run:
            sqlite_seconds.append(seconds)
            pg_seconds.append(pg)
    best_pg, best_sqlite = min(pg_seconds), min(sqlite_seconds)
    return {
        "name": "pg_sync",
        "rows": rows,
        "seconds": round(best_pg, 3),
        "x_sqlite": round(best_pg / best_sqlite, 2),
        "sqlite_seconds": round(best_sqlite, 3),
    }


@contextlib.contextmanager
def flows_servers(
    count: int, tmp: Path, flows: Path, env: dict[str, str]
) -> Iterator[list[tuple[subprocess.Popen[str], str]]]:
    """``count`` flows servers on one flows root (each its own data dir), stopped after."""
    started = [start_server(tmp / f"data-{i}", flows, env) for i in range(count)]
    try:
        yield started
    finally:
        for process, _ in started:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


def timed_fanout(api: str, log: Path) -> tuple[dict[str, Any], int]:
    """A warm-up run, then the timed run of ``fanout``: the run and its steps started twice."""
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=api, headers=auth, timeout=60) as client:
        run_to_completion(client, "warmup")
        run = run_to_completion(client, "fanout")
    starts = collections.Counter(
        line for line in log.read_text().splitlines() if line.startswith(run["id"])
    )
    return run, sum(1 for n in starts.values() if n > 1)


def pg_flows_fanout(url: str, tmp: Path, steps: int = 200) -> dict[str, Any]:
    """The ``pg_flows_fanout`` line: two servers on one database, and one on SQLite."""
    import psycopg

    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / "started.log"
    flows = tmp / "flows"
    body = f'echo "$MAXQ_RUN_ID $MAXQ_STEP_ID" >> {log}\n'
    write_flow(flows, "warmup", [{"id": f"w{i}", "name": "work"} for i in range(20)], body)
    write_flow(flows, "fanout", [{"id": f"s{i}", "name": "work"} for i in range(steps)], body)
    with flows_servers(2, tmp / "pg", flows, {"MAXQ_DATABASE_URL": url}) as servers:
        run, twice = timed_fanout(servers[0][1], log)
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT worker_id) FROM step WHERE run_id = %s", (run["id"],)
        ).fetchone()
    with flows_servers(1, tmp / "sqlite", flows, {}) as single:
        one, _ = timed_fanout(single[0][1], log)
    return {
        "name": "pg_flows_fanout",
        "steps": steps,
        "seconds": round(server_seconds(run), 3),
        "servers": int(row[0]) if row else 0,
        "started_twice": twice,
        "one_sqlite_server_seconds": round(server_seconds(one), 3),
    }


def main() -> None:
    args = parse()
    with (
        tempfile.TemporaryDirectory(prefix="scale-out-") as tmp,
        postgresql(args.pg_url) as url,
    ):
        if args.only in (None, "pg_sync"):
            with seeded_server(args, tmp) as server:
                emit(**pg_sync(server, url, Path(tmp), args.repeat))
        if args.only in (None, "pg_flows_fanout"):
            emit(**pg_flows_fanout(url, Path(tmp) / "flows-fanout"))


def parse() -> argparse.Namespace:
    p = workload_parser(__doc__)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--pg-url", help="a PostgreSQL server to use (default: a throwaway one)")
    p.add_argument("--only", choices=["pg_sync", "pg_flows_fanout"], help="one figure alone")
    return p.parse_args()


if __name__ == "__main__":
    main()
