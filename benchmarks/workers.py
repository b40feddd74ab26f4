"""Scale-out on many workers: JSON lines, one per figure (the PostgreSQL figures are in
``scale_out.py``).

* ``workers`` — many worker processes on one sync (``--store sqlite``: several processes on one
  ``data.db``; ``--store postgresql``: on one schema of a throwaway PostgreSQL server, or of
  ``--pg-url``): ``{"name": "workers", "workers": 4, "speedup", "store",
  "seconds_1", "seconds_n", "requests", "data_equal"}``. The Acme fake runs in its own process
  with 50 ms of latency per request (``max acme start --latency-ms 50``), seeded with
  ``--projects`` projects (5 tasks and 1 file each: about two list requests per project). Each
  worker process is one client held to ``--cap`` requests at a time (its executor runs at most
  that many tasks, each one request) — a per-client concurrency cap such that one process
  cannot saturate the server, as with a rate-limited SaaS. The same sync runs once with one
  process and once with ``--workers`` processes (the owner, which starts and completes the
  sync, plus joined workers: ``maxtrio.execution.join_sync``, as ``max worker --join``), each
  into a fresh ``data.db``; all processes are started at once, the time is wall time until the
  last one exits (start-up included). ``data_equal``: every entity table, row by row (sync-state
  columns left out), is the same after both.

Usage: ``python benchmarks/workers.py [--only workers] [--workers 4] [--projects 800]
[--cap 2] [--latency-ms 50] [--store sqlite|postgresql] [--pg-url URL]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
BIN = Path(sys.executable).parent
SYNC_ID = "sync-1"
SYNC_COLUMNS = {"_synced_at", "_synced_mask", "_seen"}


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


# -- one worker process ------------------------------------------------------------------------


async def _worker_process(args: argparse.Namespace) -> None:
    """``--role owner``: run the sync (full) to its end; ``--role joiner``: wait for its tasks,
    then help drain it. Prints ``{"requests": n}``."""
    import trio

    from maxtrio.connector import InMemoryCredentialStore, Platform
    from maxtrio.connectors.acme import AcmeSchema, connector, create_installation
    from maxtrio.execution import SyncSetup, SyncStatus, join_sync, run_sync, worker_name
    from maxtrio.storage import open_installation_store, open_pg_installation_store

    platform = Platform.for_connector(
        connector.definition, InMemoryCredentialStore({"api_token": args.api_key})
    )
    installation = create_installation({"baseUrl": args.url, "workspaceId": "any"}, platform)
    if args.db.startswith("postgresql://"):  # URL#schema
        url, _, schema_name = args.db.rpartition("#")
        store = open_pg_installation_store(url, schema_name, AcmeSchema)
    else:
        store = open_installation_store(Path(args.db), AcmeSchema)
    try:
        async with installation.running():
            setup = SyncSetup(
                engine=store.engine,
                resolvers=connector.definition.resolvers,
                ctx=installation.context,
                task_store=store.task_store,
                sync_store=store.sync_store,
                change_feed=connector.definition.change_feed,
                freshness=store.sync_meta,
                task_concurrency=args.cap,
            )
            if args.role == "owner":
                result = await run_sync(
                    setup, seeder=connector.definition.seeder, sync_id=SYNC_ID, full=True
                )
                assert result.status is SyncStatus.COMPLETED, result.to_json()
            else:
                with trio.fail_after(120):  # the owner stores the task graph first
                    while not await store.task_store.count_by_state(SYNC_ID):
                        await trio.sleep(0.02)
                result = await join_sync(setup, SYNC_ID, worker=worker_name())
            emit(requests=result.requests)
    finally:
        store.close()


# -- the parent --------------------------------------------------------------------------------


def _max(*argv: str, **kw: Any) -> None:
    subprocess.run([str(BIN / "max"), *argv], check=True, capture_output=True, **kw)


def _snapshot(db: str) -> dict[str, list[tuple[Any, ...]]]:
    if db.startswith("postgresql://"):
        return _pg_snapshot(*db.rsplit("#", 1))
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name.startswith("_acme_") and "_fts" not in name
        ]
        out = {}
        for table in sorted(tables):
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            kept = ", ".join(f'"{c}"' for c in columns if c not in SYNC_COLUMNS)
            out[table] = [
                tuple(r) for r in conn.execute(f'SELECT {kept} FROM "{table}" ORDER BY _id')
            ]
    return out


def _pg_snapshot(url: str, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
            if name.startswith("_acme_")
        ]
        out = {}
        for table in sorted(tables):
            columns = [
                name
                for (name,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                    "AND table_name = %s ORDER BY ordinal_position",
                    (schema, table),
                )
            ]
            kept = ", ".join(f'"{c}"' for c in columns if c not in SYNC_COLUMNS)
            rows = conn.execute(f'SELECT {kept} FROM "{schema}"."{table}" ORDER BY _id')
            out[table] = [tuple(r) for r in rows]
    return out


def _run_sync(server: dict[str, Any], args: argparse.Namespace, workers: int, db: str) -> Any:
    """One sync with ``workers`` processes: (wall seconds, requests, snapshot)."""
    base = [sys.executable, str(HERE), "--url", server["url"], "--api-key", server["apiKey"]]
    base += ["--db", str(db), "--cap", str(args.cap)]
    argvs = [[*base, "--role", "owner"]]
    argvs += [[*base, "--role", "joiner"] for _ in range(workers - 1)]
    start = time.perf_counter()
    procs = [subprocess.Popen(a, stdout=subprocess.PIPE, text=True) for a in argvs]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    seconds = time.perf_counter() - start
    if any(p.returncode for p in procs):
        sys.exit(f"a worker process failed: {[p.returncode for p in procs]}")
    requests = sum(json.loads(o.strip().splitlines()[-1])["requests"] for o in outs)
    return seconds, requests, _snapshot(db)


def workers(args: argparse.Namespace) -> None:
    """The ``workers`` figure (see the module docstring)."""
    tmp = Path(tempfile.mkdtemp(prefix="scale-out-"))
    common = ["--tenant", "bench", "--data-dir", str(tmp / "tenants")]
    try:
        _max("acme", "create", *common)
        _max(
            "acme", "seed", *common, "--workspaces", "1", "--users-per-workspace", "10",
            "--projects-per-workspace", str(args.projects), "--tasks-per-project", "5",
            "--files-per-project", "1",
        )  # fmt: skip
        serve = [str(BIN / "max"), "acme", "start", *common, "--port", "0", "-o", "json"]
        serve += ["--latency-ms", str(args.latency_ms)]
        server_proc = subprocess.Popen(serve, stdout=subprocess.PIPE, text=True)
        try:
            assert server_proc.stdout is not None
            server = json.loads(server_proc.stdout.readline())
            with _stores(args, tmp) as (one_db, many_db):
                one = _run_sync(server, args, 1, one_db)
                many = _run_sync(server, args, args.workers, many_db)
        finally:
            server_proc.send_signal(signal.SIGTERM)
            server_proc.wait(timeout=10)
        emit(
            name="workers",
            workers=args.workers,
            speedup=round(one[0] / many[0], 2),
            store=args.store,
            seconds_1=round(one[0], 2),
            seconds_n=round(many[0], 2),
            requests=many[1],
            cap=args.cap,
            latency_ms=args.latency_ms,
            data_equal=one[2] == many[2],
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _stores(args: argparse.Namespace, tmp: Path) -> Iterator[tuple[str, str]]:
    """Where the two syncs write: two ``data.db`` files, or two schemas of one server."""
    if args.store == "sqlite":
        yield str(tmp / "one.db"), str(tmp / "many.db")
        return
    from scale_out import postgresql  # --pg-url, or a throwaway server for the run

    with postgresql(args.pg_url) as url:
        yield f"{url}#workers_one", f"{url}#workers_many"


FIGURES = {"workers": workers}


def main() -> None:
    args = parse()
    if args.role:
        import trio

        trio.run(_worker_process, args)
        return
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for name, figure in FIGURES.items():
        if args.only in (None, name):
            figure(args)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--only", choices=sorted(FIGURES))
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--projects", type=int, default=800)
    p.add_argument("--cap", type=int, default=2, help="requests at a time per process")
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--pg-url", help="a PostgreSQL server to use (default: a throwaway one)")
    # a worker process
    p.add_argument("--role", choices=["owner", "joiner"], help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--api-key", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    return p.parse_args()


if __name__ == "__main__":
    main()
