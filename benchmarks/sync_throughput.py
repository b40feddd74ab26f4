"""Sync throughput: the acme connector syncing an Acme fake into ``data.db``.

The default workload is the reference's: 1 workspace, 10 users (+1 ghost), 50 projects x 1,000
tasks = 50,062 rows. The Acme server runs in its **own process** (``max acme start``), seeded
before any timing starts. Every measured configuration runs in a fresh worker process so its
peak RSS is its own.

Prints one JSON object per line:

* ``{"name": "io_floor", "rows", "seconds", "requests"}`` — the HTTP requests a sync makes
  (the plan's lists: workspaces; users and projects; tasks and files), issued with the same
  concurrency (50) through the connector's own client and JSON-decoded, nothing stored: the
  physical limit the sync chases;
* ``{"name": "store_floor", "rows", "seconds", "insert_seconds", "id_index_seconds",
  "text_index_seconds"}`` — SQLite alone writing the rows of a finished sync into a new file
  of the same layout (tuples in memory, 1,000-row transactions, then the ``_id`` indexes,
  then the full-text indexes): the storage half's limit. A sync that overlapped the two
  halves perfectly would take the larger of the two floors;
* ``{"name": "sync", "transport", "store", "rows", "seconds", "checkpoint_seconds",
  "rows_per_s", "peak_rss_mib", "requests", "x_io_floor", "x_store_floor"}`` per configuration
  (default: http+disk, http+memory, inprocess+disk). ``seconds`` is the sync; ``checkpoint_seconds``
  the WAL checkpoint ``max sync`` runs after it so that ``data.db`` alone holds every row
  (nothing to do for the memory store);
* with ``--latency-ms N``: ``{"name": "flow_control", "requests_per_s",
  "theoretical_requests_per_s"}`` — 2,000 ``GetUser`` calls through the dispatcher under the
  connector's ``Limit("acme:api", 50)``; theoretical = limit / latency.

Usage: ``python benchmarks/sync_throughput.py [--projects 50] [--tasks-per-project 1000]
[--users 10] [--latency-ms N] [--store disk|memory] [--transport http|inprocess] [--repeat 1]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
#: The reference CLI's ``max sync`` of the same 50,062-row tenant, whole process, median of 3,
#: measured on this machine kind (2 cores) when the comparison was made.
REFERENCE_CLI_SYNC_SECONDS = 3.7
BIN = Path(sys.executable).parent


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# -- the worker (one configuration, in its own process) -------------------------------------


async def _installation(args: argparse.Namespace, nursery: Any) -> Any:
    """The acme connector initialised for the server (or for an in-process app)."""
    import httpx

    from maxtrio.connector import InMemoryCredentialStore, Platform
    from maxtrio.connectors.acme import connector, create_installation

    url, key, transport = args.url, args.api_key, None
    if args.transport == "inprocess":
        from maxtrio.acme import AcmeServer, FaultInjection, build_app, open_tenant

        tenant = open_tenant(args.tenant, Path(args.tenant_dir))
        server = AcmeServer(tenant, nursery, FaultInjection())
        transport = httpx.ASGITransport(app=build_app(server))  # type: ignore[arg-type]
        url, key = "http://acme.inprocess", tenant.api_key()
    platform = Platform.for_connector(
        connector.definition, InMemoryCredentialStore({"api_token": key})
    )
    return create_installation(
        {"baseUrl": url, "workspaceId": "ws-any"}, platform, transport=transport
    )


async def _stores(args: argparse.Namespace, tmp: Path) -> Any:
    """The product's stores of one installation: in ``data.db`` (disk) or in a private
    in-memory SQLite database (memory: the same engine without the file, its WAL and syncs)."""
    from maxtrio.connectors.acme import AcmeSchema
    from maxtrio.storage import open_installation_store

    return open_installation_store(
        tmp / "data.db" if args.store == "disk" else ":memory:", AcmeSchema
    )


def _setup(store: Any, installation: Any) -> Any:
    """The product's sync wiring: the connector's change feed and the store's freshness."""
    from maxtrio.connectors.acme import connector
    from maxtrio.execution import SyncSetup

    return SyncSetup(
        engine=store.engine,
        resolvers=connector.definition.resolvers,
        ctx=installation.context,
        task_store=store.task_store,
        sync_store=store.sync_store,
        change_feed=connector.definition.change_feed,
        freshness=store.sync_meta,
    )


def _entity_tables(conn: Any) -> list[str]:
    """The tables of a ``data.db`` that hold entities: the entity tables and their full-text
    indexes (FTS5's shadow tables among them), not the product's ``_max_`` bookkeeping."""
    return [
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not name.startswith(("_max_", "sqlite_"))
    ]


def db_size(path: Path) -> dict[str, int]:
    """The file's bytes and those of the entity tables and their indexes (``dbstat``) — the
    full-text indexes among them, also given apart (``text_index_bytes``)."""
    import apsw

    from maxtrio.storage import is_text_index_table

    conn = apsw.Connection(str(path))
    try:
        tables = _entity_tables(conn)

        def bytes_of(names: list[str]) -> int:
            marks = ", ".join("?" * len(names))
            return int(
                conn.execute(
                    "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN "
                    f"(SELECT name FROM sqlite_master WHERE tbl_name IN ({marks}))",
                    names,
                ).fetchone()[0]
            )

        entity = bytes_of(tables)
        text = bytes_of([t for t in tables if is_text_index_table(t)])
    finally:
        conn.close()
    return {"total_bytes": path.stat().st_size, "entity_bytes": entity, "text_index_bytes": text}


#: Rows per transaction in :func:`store_floor`: a listing page, what the sync commits at least.
FLOOR_TRANSACTION_ROWS = 1_000
#: The page cache of :func:`store_floor`'s connection, in KiB: the product writer's smallest
#: (its largest, 64 MiB, gave the same figures at 50k and 500k rows).
FLOOR_CACHE_KIB = 8 * 1024


def store_floor(synced: Path, tmp: Path) -> dict[str, Any]:
    """What SQLite alone needs to write the rows of ``synced`` (a ``data.db`` a sync just
    wrote) into a new file of the same layout, as the sync's first load does: the entity rows,
    already tuples in memory, by ``executemany`` in transactions of
    :data:`FLOOR_TRANSACTION_ROWS`; then the ``_id`` indexes; then each full-text index in
    one statement (with the index's own options, read from the synced file, and no merging
    of segments, as the sync's large catch-ups). No Python per
    row beyond apsw's own binding: the storage half's physical limit, as ``io_floor`` is the
    network half's."""
    import apsw

    from maxtrio.storage import is_text_index_table

    source = apsw.Connection(str(synced))
    master = source.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
    ).fetchall()
    names = {name for name in _entity_tables(source) if not is_text_index_table(name)}
    entity = [(name, sql) for kind, name, _, sql in master if kind == "table" and name in names]
    # The entity tables' indexes: after a first sync, only their id indexes (``_max_id_…``).
    id_indexes = [sql for kind, _, table, sql in master if kind == "index" and table in names]
    texts = [  # (index, its content table, its DDL, its columns, its persistent options)
        (
            name,
            re.search(r'content="([^"]+)"', sql).group(1),  # type: ignore[union-attr]
            sql,
            ", ".join(f'"{c[1]}"' for c in source.execute(f'PRAGMA table_info("{name}")')),
            source.execute(f'SELECT k, v FROM "{name}_config"').fetchall(),
        )
        for kind, name, _, sql in master
        if kind == "table" and sql.startswith("CREATE VIRTUAL TABLE")
    ]
    rows = {name: source.execute(f'SELECT * FROM "{name}"').fetchall() for name, _ in entity}
    source.close()

    conn = apsw.Connection(str(tmp / "floor.db"))
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{FLOOR_CACHE_KIB}")
    for _, sql in entity:
        conn.execute(sql)
    for name, _, sql, _, options in texts:
        conn.execute(sql)
        for key, value in options:
            if key not in ("version", "automerge"):  # the catch-up writes without merging
                conn.execute(f'INSERT INTO "{name}"("{name}", rank) VALUES (?, ?)', (key, value))
        conn.execute(f'INSERT INTO "{name}"("{name}", rank) VALUES (\'automerge\', 0)')
    start = time.perf_counter()
    for name, _ in entity:
        table = rows[name]
        if not table:
            continue
        insert = f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(table[0]))})'
        for at in range(0, len(table), FLOOR_TRANSACTION_ROWS):
            with conn:
                conn.executemany(insert, table[at : at + FLOOR_TRANSACTION_ROWS])
    inserted = time.perf_counter()
    with conn:
        for sql in id_indexes:
            conn.execute(sql)
    indexed = time.perf_counter()
    with conn:
        for name, table, _, columns, _ in texts:
            conn.execute(
                f'INSERT INTO "{name}"(rowid, {columns}) SELECT rowid, {columns} FROM "{table}"'
            )
    end = time.perf_counter()
    conn.close()
    return {
        "name": "store_floor",
        "rows": sum(len(table) for table in rows.values()),
        "seconds": round(end - start, 3),
        "insert_seconds": round(inserted - start, 3),
        "id_index_seconds": round(indexed - inserted, 3),
        "text_index_seconds": round(end - indexed, 3),
    }


async def _change_upstream(url: str, api_key: str, changes: int) -> None:
    """``changes`` upstream changes over HTTP: a third creates, a third updates (half of them
    clearing a description), a third deletes — all on tasks of the first projects."""
    from maxtrio.acme import AcmeHttpClient, TaskInput, TaskPatch

    client = AcmeHttpClient(url, api_key)
    try:
        projects = await client.list_projects()
        tasks = await client.list_tasks(projects[0]["id"])
        creator = tasks[0]["createdById"]
        third = changes // 3
        for i in range(third):
            await client.create_task(
                TaskInput(project_id=projects[1]["id"], title=f"New {i}", created_by_id=creator)
            )
        for i, task in enumerate(tasks[:third]):
            patch = TaskPatch(last_modified_by_id=creator, status="done")
            if i % 2:
                patch = TaskPatch(last_modified_by_id=creator, description=None)
            await client.update_task(task["id"], patch)
        for task in tasks[third : third + changes - 2 * third]:
            await client.delete_task(task["id"])
    finally:
        await client.aclose()


async def worker_sync(args: argparse.Namespace) -> None:
    import trio

    if args.no_text_index:  # benchmarks/text_search.py: the same sync without full-text indexes
        import maxtrio.storage._table

        maxtrio.storage._table.text_index_for = lambda *_: None  # type: ignore[assignment]

    from maxtrio.connectors.acme import connector
    from maxtrio.execution import SyncStatus, run_sync

    tmp = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    try:
        async with trio.open_nursery() as nursery:
            installation = await _installation(args, nursery)
            async with await _stores(args, tmp) as store, installation.running():
                setup = _setup(store, installation)
                start = time.perf_counter()
                result = await run_sync(setup, seeder=connector.definition.seeder)
                seconds = time.perf_counter() - start
                # What `max sync` does next (the data is all in data.db), timed apart.
                await store.database.checkpoint()
                checkpoint_seconds = time.perf_counter() - start - seconds
                assert result.status is SyncStatus.COMPLETED, result.to_json()
                rows = 0
                for entity in connector.definition.schema.entities:
                    rows += await store.engine.count(entity)
                if args.incremental:
                    await _change_upstream(args.url, args.api_key, args.incremental)
                    again = time.perf_counter()
                    second = await run_sync(setup, seeder=connector.definition.seeder)
                    incremental_seconds = time.perf_counter() - again
                    assert second.status is SyncStatus.COMPLETED, second.to_json()
            nursery.cancel_scope.cancel()
        if args.store_floor:
            emit(**store_floor(tmp / "data.db", tmp))
            return
        if args.incremental:
            emit(
                name="incremental",
                changes=args.incremental,
                mode=second.mode.value,
                requests=second.requests,
                removed=second.removed,
                seconds=round(incremental_seconds, 3),
                full_seconds=round(seconds, 3),
                ratio=round(incremental_seconds / seconds, 3),
            )
            return
        sizes = db_size(tmp / "data.db") if args.store == "disk" else {}
        emit(
            name="sync",
            transport=args.transport,
            store=args.store,
            rows=rows,
            seconds=round(seconds, 3),
            checkpoint_seconds=round(checkpoint_seconds, 3),
            rows_per_s=round(rows / seconds),
            peak_rss_mib=peak_rss_mib(),
            requests=result.requests,
            **({"db": sizes} if sizes else {}),
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def worker_floor(args: argparse.Namespace) -> None:
    """The sync's requests (same client, same concurrency, the plan's three waves: workspaces;
    users and projects; tasks and files), decoded, nothing stored or kept."""
    import trio

    from maxtrio.connectors.acme import AcmeApiClient

    limiter = trio.CapacityLimiter(50)
    requests = 0

    async with AcmeApiClient(args.url, args.api_key) as client:

        async def listing(kind: str, keep: bool, **filters: str) -> tuple[int, list[Any]]:
            """How many items the listing had, and the items when ``keep`` (the parents of
            the next wave): the rows themselves are decoded and dropped, as a sync's are once
            written — kept, 500k decoded rows cost the collector more than decoding them."""
            nonlocal requests
            count, out = 0, []
            cursor = None
            while True:
                async with limiter:
                    requests += 1
                    page = await client.list(kind, filters=filters or None, cursor=cursor)
                count += len(page.data)
                if keep:
                    out.extend(page.data)
                cursor = page.next_cursor
                if not cursor:
                    return count, out

        async def wave(jobs: list[tuple[str, str, str]], keep: bool) -> tuple[int, list[Any]]:
            """Every ``(kind, parent key, parent id)`` listing at once: the items in all, and
            the projects when ``keep``."""
            found: list[Any] = []
            total = 0

            async def one(kind: str, key: str, parent: str) -> None:
                nonlocal total
                count, items = await listing(kind, keep and kind == "projects", **{key: parent})
                total += count
                found.extend(items)

            async with trio.open_nursery() as nursery:
                for job in jobs:
                    nursery.start_soon(one, *job)
            return total, found

        start = time.perf_counter()
        _, workspaces = await listing("workspaces", True)
        second, projects = await wave(
            [(k, "workspaceId", w["id"]) for w in workspaces for k in ("users", "projects")], True
        )
        third, _ = await wave(
            [(k, "projectId", p["id"]) for p in projects for k in ("tasks", "files")], False
        )
        seconds = time.perf_counter() - start
    rows = 1 + len(workspaces) + second + third
    emit(name="io_floor", rows=rows, seconds=round(seconds, 3), requests=requests)


FLOW_CALLS = 2_000
FLOW_WORKERS = 200  # callers, each making calls one after another (the limit queues them)


async def _drive_calls(call: Any, calls: int, *, edge: int = 0) -> tuple[float, float]:
    """``calls`` calls of ``call()`` by :data:`FLOW_WORKERS` looping workers: the seconds
    taken, and the calls per second in the steady state — between the ``edge``-th completion
    and the ``edge``-th before the last, leaving out the ramp at the start (the limit fills)
    and the tail at the end (the last calls of a finite run end one by one)."""
    import trio

    per_worker = calls // FLOW_WORKERS
    done: list[float] = []

    async def worker() -> None:
        for _ in range(per_worker):
            await call()
            done.append(time.perf_counter())

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(FLOW_WORKERS):
            nursery.start_soon(worker)
    seconds = time.perf_counter() - start
    if not edge:
        return seconds, len(done) / seconds
    steady = done[edge : len(done) - edge]
    return seconds, (len(steady) - 1) / (steady[-1] - steady[0])


async def worker_flow(args: argparse.Namespace) -> None:
    """Calls through the product dispatcher under the ``acme:api`` limit (50).

    ``--flow-transport http``: ``GetUser`` over HTTP to the server (with ``--latency-ms 0``:
    the client's CPU per request). ``inprocess``: the limiter itself — an operation under the
    same limit whose handler only waits the latency, drawn uniformly within ±10 % of
    ``--latency-ms`` (a constant latency makes all fifty calls end in the same instant and
    queue for the CPU together; ``--flow-jitter 0`` shows that case).
    """
    import random

    import trio

    from maxtrio.connectors.acme import ACME_API_LIMIT, ById, GetUser
    from maxtrio.core import Operation, OperationEnv
    from maxtrio.execution import (
        DispatchingOperationExecutor,
        FlowControllerProvider,
        default_dispatcher,
    )

    dispatcher = default_dispatcher(FlowControllerProvider())
    latency = args.latency_ms / 1000
    waited: list[float] = []  # how long each in-process wait really took (timers overshoot)
    if args.flow_transport == "inprocess":
        rng = random.Random(7)
        jitter = args.flow_jitter

        async def wait(_: None, env: OperationEnv[None]) -> None:
            began = trio.current_time()
            await trio.sleep(latency * rng.uniform(1 - jitter, 1 + jitter))
            waited.append(trio.current_time() - began)

        waiting = Operation.define("acme:bench:wait", wait, limit=ACME_API_LIMIT)
        ops = DispatchingOperationExecutor(dispatcher, OperationEnv(None))
        cpu = time.process_time()
        seconds, rate = await _drive_calls(
            lambda: ops.execute(waiting, None),
            FLOW_CALLS,
            edge=2 * (ACME_API_LIMIT.max_concurrent or 1),  # two rounds at each end
        )
        cpu = time.process_time() - cpu
    else:
        async with trio.open_nursery() as nursery:
            installation = await _installation(args, nursery)
            async with installation.running():
                ops = DispatchingOperationExecutor(dispatcher, OperationEnv(installation.context))
                users = await installation.context.api.client.list("users")
                ids = iter([u["id"] for u in users.data] * FLOW_CALLS)
                cpu = time.process_time()
                seconds, rate = await _drive_calls(
                    lambda: ops.execute(GetUser, ById(next(ids))), FLOW_CALLS
                )
                cpu = time.process_time() - cpu
            nursery.cancel_scope.cancel()
    if args.latency_ms:
        limit = ACME_API_LIMIT.max_concurrent or 1
        theoretical = limit / latency
        extra: dict[str, Any] = {}
        if args.flow_transport == "inprocess":
            # A timer wakes a task up to ~1 ms late (epoll rounds its timeout up to a whole
            # millisecond): the waits themselves last ~3% longer than asked, which no limiter
            # can win back. ``of_achievable`` compares with the waits as they really were.
            # The rate is the steady state's: a finite run of 2,000 calls loses ~3% to its
            # tail alone (the last round's calls end one by one over the jitter), which says
            # nothing about the limiter. ``whole_run_requests_per_s`` keeps the plain figure.
            real = statistics.fmean(waited)
            extra = {
                "jitter": args.flow_jitter,
                "measured_latency_ms": round(real * 1000, 3),
                "of_achievable": round(rate / (limit / real), 3),
                "whole_run_requests_per_s": round(FLOW_CALLS / seconds),
            }
        emit(
            name="flow_control",
            transport=args.flow_transport,
            calls=FLOW_CALLS,
            latency_ms=args.latency_ms,
            **extra,
            requests_per_s=round(rate),
            theoretical_requests_per_s=round(theoretical),
            of_theoretical=round(rate / theoretical, 3),
            cpu_ms_per_call=round(cpu * 1000 / FLOW_CALLS, 3),
        )
    else:
        emit(
            name="client_cpu",
            transport=args.flow_transport,
            calls=FLOW_CALLS,
            ms_per_request=round(cpu * 1000 / FLOW_CALLS, 3),
            requests_per_s=round(FLOW_CALLS / seconds),
        )


# -- the parent: seed, serve, run the workers -----------------------------------------------


def _max(*argv: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "max"), *argv], check=True, text=True, capture_output=True, **kw
    )


def _worker(
    mode: str, server: dict[str, Any], args: argparse.Namespace, **extra: str
) -> dict[str, Any]:
    argv = [sys.executable, str(HERE), "--worker", mode, "--url", server["url"]]
    argv += ["--api-key", server["apiKey"], "--tenant", "bench", "--tenant-dir", args.tenant_dir]
    argv += ["--latency-ms", str(args.latency_ms)]
    for k, v in extra.items():
        argv += [f"--{k}", v] if v else [f"--{k}"]  # "": a flag
    # As on users' machines: bytecode cached (else lazy imports inside the timed part, such
    # as httpcore's at the first request, would be compiled in every run).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(argv, text=True, capture_output=True, env=env)
    if done.returncode != 0:
        sys.exit(f"worker {mode} failed:\n{done.stderr[-3000:]}")
    out = done.stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def user_env(tmp: Path) -> dict[str, str]:
    """The environment of ``max`` as a user runs it: direct mode, bytecode cached."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(MAX_HOME=str(tmp / "home"), MAX_NO_DAEMON="1", NO_COLOR="1")
    return env


def connected_workspace(server: dict[str, Any], project: Path, env: dict[str, str]) -> None:
    """``max init`` a workspace at ``project`` and ``max connect`` it to the server (acme-1)."""
    token = project.parent / "token.txt"
    token.write_text(server["apiKey"])
    token.chmod(0o600)
    request = urllib.request.Request(
        f"{server['url']}/api/workspaces", headers={"authorization": f"Bearer {server['apiKey']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        workspace = json.load(answer)[0]["id"]
    _max("init", str(project), env=env)
    _max(
        "connect", "acme", "--config", f"baseUrl={server['url']}",
        "--config", f"workspaceId={workspace}", "--credential", f"api_token=@{token}",
        cwd=project, env=env,
    )  # fmt: skip


def _max_sync_process(server: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """``max sync acme-1`` as a user runs it (direct mode, bytecode cached), start-up
    included: wall time and peak RSS of the process."""
    env = user_env(tmp)
    timings = []
    for name in ("warm-up", "measured"):  # the first run compiles and caches the bytecode
        project = tmp / name
        connected_workspace(server, project, env)
        probe = (
            "import resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
            "print(time.perf_counter() - t, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe, str(BIN / "max"), "sync", "acme-1"],
            cwd=project, env=env, text=True, capture_output=True, check=True,
        )  # fmt: skip
        seconds, rss_kib = done.stdout.split()
        timings.append((float(seconds), int(rss_kib)))
    seconds, rss_kib = timings[-1]
    return {
        "name": "max_sync_process",
        "seconds": round(seconds, 3),
        "peak_rss_mib": round(rss_kib / 1024, 1),
        "reference_seconds": REFERENCE_CLI_SYNC_SECONDS,
        "x_reference": round(seconds / REFERENCE_CLI_SYNC_SECONDS, 2),
    }


@contextlib.contextmanager
def seeded_server(args: argparse.Namespace, tmp: str) -> Iterator[dict[str, Any]]:
    """The Acme fake in its own process (``max acme start``), seeded with ``args``'s workload
    in ``tmp`` before any timing starts: ``{"url", "apiKey", "tenant"}``."""
    args.tenant_dir = tmp
    common = ["--tenant", "bench", "--data-dir", tmp]
    _max("acme", "create", *common)
    _max(
        "acme", "seed", *common, "--workspaces", "1",
        "--users-per-workspace", str(args.users), "--projects-per-workspace",
        str(args.projects), "--tasks-per-project", str(args.tasks_per_project),
        "--files-per-project", "0",
    )  # fmt: skip
    serve = [str(BIN / "max"), "acme", "start", *common, "--port", "0", "-o", "json"]
    if args.latency_ms:
        serve += ["--latency-ms", str(args.latency_ms)]
    proc = subprocess.Popen(serve, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def main(args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp,
        seeded_server(args, tmp) as server,
    ):
        _worker("floor", server, args)  # warms the server's list cache, as for every sync
        floors = [_worker("floor", server, args) for _ in range(args.repeat)]
        floor = min(floors, key=lambda f: f["seconds"])
        emit(**floor)
        stores = [
            _worker("sync", server, args, transport="http", store="disk", **{"store-floor": ""})
            for _ in range(args.repeat)
        ]
        store_line = min(stores, key=lambda f: f["seconds"])
        emit(**store_line)
        configs = [(t, s) for t in ("http", "inprocess") for s in ("disk", "memory")]
        wanted = [
            (t, s)
            for t, s in configs
            if (args.transport in (None, t)) and (args.store in (None, s))
        ]
        if args.transport is None and args.store is None:
            wanted = [("http", "disk"), ("http", "memory"), ("inprocess", "disk")]
        best_of: dict[tuple[str, str], dict[str, Any]] = {}
        for transport, store in wanted:
            runs = [
                _worker("sync", server, args, transport=transport, store=store)
                for _ in range(args.repeat)
            ]
            best = min(runs, key=lambda r: r["seconds"])
            best["x_io_floor"] = round(best["seconds"] / floor["seconds"], 2)
            best["x_store_floor"] = round(best["seconds"] / store_line["seconds"], 2)
            if args.repeat > 1:
                best["median_seconds"] = statistics.median(r["seconds"] for r in runs)
            best_of[(transport, store)] = best
        disk, memory = best_of.get(("http", "disk")), best_of.get(("http", "memory"))
        if disk is not None and memory is not None:
            disk["x_memory"] = round(disk["seconds"] / memory["seconds"], 2)
        for best in best_of.values():
            sizes = best.pop("db", None)
            emit(**best)
            if sizes:
                emit(
                    name="db_size",
                    **sizes,
                    ratio=round(sizes["total_bytes"] / sizes["entity_bytes"], 3),
                )
        if args.latency_ms:
            emit(**_worker("flow", server, args, **{"flow-transport": "http"}))
        if args.extras:
            emit(**_worker("flow", server, args, **{"flow-transport": "http", "latency-ms": "0"}))
            emit(
                **_worker(
                    "flow", server, args, **{"flow-transport": "inprocess", "latency-ms": "20"}
                )
            )
            emit(**_max_sync_process(server, Path(tmp)))
            # Last: it changes the tenant.
            emit(**_worker("sync", server, args, transport="http", store="disk", incremental="100"))


def workload_parser(description: str | None) -> argparse.ArgumentParser:
    """A parser with the workload's options (what :func:`seeded_server` reads)."""
    p = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--projects", type=int, default=50)
    p.add_argument("--tasks-per-project", type=int, default=1000)
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--latency-ms", type=float, default=0.0)
    return p


def parse() -> argparse.Namespace:
    p = workload_parser(__doc__)
    p.add_argument("--store", choices=["disk", "memory"])
    p.add_argument("--transport", choices=["http", "inprocess"])
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument(
        "--no-extras",
        dest="extras",
        action="store_false",
        help="only the floor and the sync lines (skip client_cpu, the in-process flow control, "
        "the whole max sync process and the incremental sync)",
    )
    # worker-only
    p.add_argument("--worker", choices=["sync", "floor", "flow"], help=argparse.SUPPRESS)
    p.add_argument("--flow-transport", default="http", help=argparse.SUPPRESS)
    p.add_argument("--flow-jitter", type=float, default=0.1, help=argparse.SUPPRESS)
    p.add_argument("--incremental", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--no-text-index", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--store-floor", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--api-key", help=argparse.SUPPRESS)
    p.add_argument("--tenant", help=argparse.SUPPRESS)
    p.add_argument("--tenant-dir", help=argparse.SUPPRESS)
    return p.parse_args()


if __name__ == "__main__":
    ARGS = parse()
    if ARGS.worker:
        import trio

        worker = {"sync": worker_sync, "floor": worker_floor, "flow": worker_flow}[ARGS.worker]
        trio.run(worker, ARGS)
    else:
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        main(ARGS)
