"""Scale-out figures: syncs into PostgreSQL against the same syncs into SQLite.

The Acme fake runs in its own process, seeded before any timing (``sync_throughput``'s workload
and helpers: 50 projects x 1,000 tasks = 50,062 rows by default). PostgreSQL is the server of
``--pg-url`` or, without it, a throwaway server started for the run (``tests/pg/server.py``:
initdb + pg_ctl in a temporary directory; fsync off). Prints one JSON object per line:

* ``{"name": "pg_sync", "rows", "seconds", "x_sqlite", "sqlite_seconds"}`` — ``max sync acme-1``
  as a user runs it (a whole process, direct mode) of an installation connected with
  ``--store`` (``$MAX_STORE_URL``) against the same sync of an installation on its
  ``data.db``, best of ``--repeat`` runs each, taken alternately in one run; ``rows`` are the
  entities the sync reports.

Each figure is one small function; :func:`main` prints them all.

Usage: ``python benchmarks/scale_out.py [--projects 50] [--tasks-per-project 1000]
[--users 10] [--repeat 3] [--pg-url postgresql://…]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
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


def main() -> None:
    args = parse()
    with (
        tempfile.TemporaryDirectory(prefix="scale-out-") as tmp,
        seeded_server(args, tmp) as server,
        postgresql(args.pg_url) as url,
    ):
        emit(**pg_sync(server, url, Path(tmp), args.repeat))


def parse() -> argparse.Namespace:
    p = workload_parser(__doc__)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--pg-url", help="a PostgreSQL server to use (default: a throwaway one)")
    return p.parse_args()


if __name__ == "__main__":
    main()
