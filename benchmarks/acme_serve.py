"""Acme fake: seeding speed and the HTTP "io floor" the sync chases. Prints JSON lines.

1. ``acme_seed``: seed 1 workspace, 10 users (+1 ghost), 50 projects × 1,000 tasks, 0 files (the
   reference benchmark's workload) into a tenant file and into memory.
2. ``acme_io_floor``: the tenant file served by ``max acme start`` in its own process; from this
   process, GET every project's task list at once, at most ``--concurrency`` in flight, and
   ``json.loads`` each body. One warm-up round, then ``--repeat`` timed rounds; best and median.
   Three clients, all httpx on trio:
   * ``connection_slots``: one single-connection ``httpx.AsyncClient`` per slot (what
     ``AcmeHttpClient`` does) — the io floor;
   * ``shared_pool``: one ``httpx.AsyncClient`` with a pool of 50 connections (httpx's pool
     bookkeeping is O(requests × connections) and shows);
   * ``acme_http_client``: ``AcmeHttpClient.list_tasks`` (slots plus error handling).
   ``server_cache``: ``warm`` rounds are served from the server's list cache; ``cold`` rounds
   follow a write, so every answer is rendered from SQLite again (what a sync's first pass
   sees).

    python benchmarks/acme_serve.py [--projects 50] [--tasks-per-project 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import trio

from maxtrio.acme import AcmeHttpClient, SeedOptions, Tenant, WorkspaceInput, create_tenant
from maxtrio.connector import ConnectionSlots


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def seed_options(args: argparse.Namespace) -> SeedOptions:
    return SeedOptions(
        workspaces=1,
        users_per_workspace=args.users,
        projects_per_workspace=args.projects,
        tasks_per_project=args.tasks_per_project,
        files_per_project=0,
    )


def bench_seed(args: argparse.Namespace, data_dir: Path) -> None:
    for store in ("disk", "memory"):
        started = time.perf_counter()
        tenant = create_tenant("bench", data_dir) if store == "disk" else Tenant.in_memory()
        with tenant:
            result = tenant.seed(seed_options(args))
            seconds = time.perf_counter() - started
        emit(
            {
                "name": "acme_seed",
                "store": store,
                "tasks": result.tasks,
                "entities": result.workspaces + result.users + result.projects + result.tasks,
                "seconds": round(seconds, 3),
                "tasks_per_s": round(result.tasks / seconds),
            }
        )


Fetch = Callable[[str], Awaitable[int]]


async def one_round(fetch: Fetch, projects: list[str]) -> tuple[float, int]:
    rows = 0

    async def one(project_id: str) -> None:
        nonlocal rows
        fetched = await fetch(project_id)
        rows += fetched

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for project_id in projects:
            nursery.start_soon(one, project_id)
    return time.perf_counter() - started, rows


async def start_server(data_dir: Path) -> tuple[trio.Process, str, str]:
    command = [
        sys.executable, "-c", "from maxtrio.cli import main; main()", "acme", "start",
        "--tenant", "bench", "--data-dir", str(data_dir), "--port", "0", "-o", "json",
    ]  # fmt: skip
    server = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE)
    assert server.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        chunk = await server.stdout.receive_some()
        if not chunk:
            raise SystemExit("the Acme server did not start")
        line += chunk
    started = json.loads(line)
    return server, started["url"], started["apiKey"]


async def bench_io_floor(args: argparse.Namespace, data_dir: Path) -> None:
    server, url, key = await start_server(data_dir)
    headers = {"authorization": f"Bearer {key}"}
    limiter = trio.CapacityLimiter(args.concurrency)
    try:
        async with AcmeHttpClient(url, key, max_connections=args.concurrency) as acme:
            projects = [p["id"] for p in await acme.list_projects()]
            slots = ConnectionSlots(args.concurrency, timeout=60)
            limits = httpx.Limits(
                max_connections=args.concurrency, max_keepalive_connections=args.concurrency
            )
            shared = httpx.AsyncClient(limits=limits, timeout=60)

            async def with_slots(project_id: str) -> int:
                response = await slots.request(
                    "GET", f"{url}/api/tasks", params={"projectId": project_id}, headers=headers
                )
                return len(json.loads(response.content))

            async def with_shared_pool(project_id: str) -> int:
                async with limiter:
                    response = await shared.get(
                        f"{url}/api/tasks", params={"projectId": project_id}, headers=headers
                    )
                return len(json.loads(response.content))

            async def with_acme_client(project_id: str) -> int:
                return len(await acme.list_tasks(project_id))

            clients: list[tuple[str, Fetch]] = [
                ("connection_slots", with_slots),
                ("shared_pool", with_shared_pool),
                ("acme_http_client", with_acme_client),
            ]

            async def cold_round(fetch: Fetch) -> tuple[float, int]:
                # any write moves the tenant's change token: the server's list cache is dropped
                await acme.create_workspace(WorkspaceInput(name="cache buster"))
                return await one_round(fetch, projects)

            runs = [(name, fetch, "warm") for name, fetch in clients]
            runs.append(("connection_slots", with_slots, "cold"))
            for name, fetch, cache in runs:
                await one_round(fetch, projects)  # warm-up: connections open, caches filled
                timed = cold_round if cache == "cold" else partial(one_round, projects=projects)
                rounds = [await timed(fetch) for _ in range(args.repeat)]
                seconds = [r[0] for r in rounds]
                emit(
                    {
                        "name": "acme_io_floor",
                        "client": name,
                        "server_cache": cache,
                        "requests": len(projects),
                        "concurrency": args.concurrency,
                        "rows": rounds[0][1],
                        "seconds": round(min(seconds), 3),
                        "median_seconds": round(statistics.median(seconds), 3),
                        "rows_per_s": round(rounds[0][1] / min(seconds)),
                    }
                )
            await slots.aclose()
            await shared.aclose()
    finally:
        server.terminate()
        await server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--tasks-per-project", type=int, default=1000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="acme-bench-") as tmp:
        data_dir = Path(tmp)
        bench_seed(args, data_dir)
        trio.run(bench_io_floor, args, data_dir)


if __name__ == "__main__":
    main()
