"""Task store throughput on a file database: the write path of a sync.

The sync benchmark's shape: 50 collection pages of 1,000 task entities, each page recording 4
synced fields per entity (200,000 ``_max_sync_meta`` rows). Prints one JSON object per line:

* ``finish_floor``  — the same entity upserts and sync-meta rows written with plain apsw
  (``SqliteEngine.apply_writes`` of prepared runs + ``executemany``), one transaction a page:
  what SQLite itself costs;
* ``finish``        — ``SqliteTaskStore.finish`` of 50 claimed tasks carrying those outcomes
  (guarded transition, entities, sync meta, propagation — one transaction each), once with
  freshness as ``FieldSyncBatch`` values and once as ``FieldSyncEntry`` objects;
* ``claim_finish``  — claim + finish of empty tasks: the per-task overhead (thread hop +
  ``BEGIN IMMEDIATE`` … ``COMMIT``).

Usage: ``python benchmarks/task_store_finish.py [--pages 50] [--page-size 1000] [--tasks 2000]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import apsw
import trio

from maxtrio.core import EntityDef, EntityInput, Field, Schema
from maxtrio.execution import (
    FieldSyncBatch,
    FieldSyncEntry,
    StepOperationPayload,
    StepTarget,
    SyncStepPayload,
    TaskOutcome,
    TaskState,
    TaskTemplate,
    field_sync_rows,
)
from maxtrio.storage import SqliteEngine, open_installation_store

User = EntityDef.create("BenchUser", {"name": Field.string()})
Task = EntityDef.create(
    "BenchTask",
    {
        "title": Field.string(),
        "status": Field.string(),
        "priority": Field.number(),
        "assignee": Field.ref(User),
    },
)
SCHEMA = Schema.create("bench", [User, Task])
FIELDS = ("title", "status", "priority", "assignee")
STATUSES = ("todo", "in_progress", "done", "blocked")
SYNC = "sync-1"
UPSERT_SYNC_META = "INSERT OR REPLACE INTO _max_sync_meta VALUES (?, ?, ?)"
Runs = list[tuple[str, list[tuple[Any, ...]]]]
Rows = list[tuple[str, str, int]]
STEP = SyncStepPayload(
    StepTarget("forAll", "BenchTask"), StepOperationPayload("loadFields", fields=FIELDS)
)


def page_inputs(page: int, size: int) -> list[EntityInput]:
    return [
        EntityInput.create(
            Task,
            f"t{page:03d}-{i:05d}",
            {
                "title": f"Task {i} of page {page}",
                "status": STATUSES[i % 4],
                "priority": float(i % 5),
                "assignee": EntityInput.create(User, f"u{i % 10}").ref,
            },
        )
        for i in range(size)
    ]


def outcome(inputs: list[EntityInput], *, batches: bool, now: int) -> TaskOutcome:
    keys = [e.ref.to_key() for e in inputs]
    if batches:
        return TaskOutcome(entities=inputs, sync_batches=[FieldSyncBatch(keys, FIELDS, now)])
    entries = [FieldSyncEntry(k, f, now) for k in keys for f in FIELDS]
    return TaskOutcome(entities=inputs, sync_entries=entries)


async def run_floor(path: Path, pages: list[list[EntityInput]]) -> float:
    store = open_installation_store(path, SCHEMA)
    try:
        start = time.perf_counter()
        for inputs in pages:
            runs = store.engine.prepare_writes(inputs)
            rows = list(field_sync_rows([], outcome(inputs, batches=True, now=1).sync_batches))

            def write(conn: apsw.Connection, runs: Runs = runs, rows: Rows = rows) -> None:
                SqliteEngine.apply_writes(conn, runs)
                conn.executemany(UPSERT_SYNC_META, rows)

            await store.database.write(write)
        return time.perf_counter() - start
    finally:
        store.close()


async def run_finish(path: Path, pages: list[list[EntityInput]], *, batches: bool) -> float:
    store = open_installation_store(path, SCHEMA)
    try:
        templates = [TaskTemplate(f"p{i}", TaskState.PENDING, STEP) for i in range(len(pages))]
        await store.task_store.enqueue_graph(SYNC, templates)
        start = time.perf_counter()
        for inputs in pages:
            task = await store.task_store.claim(SYNC, 0)
            assert task is not None
            await store.task_store.finish(task, outcome(inputs, batches=batches, now=1))
        return time.perf_counter() - start
    finally:
        store.close()


async def run_claim_finish(path: Path, count: int) -> float:
    store = open_installation_store(path, SCHEMA)
    try:
        templates = [TaskTemplate(f"t{i}", TaskState.PENDING, STEP) for i in range(count)]
        await store.task_store.enqueue_graph(SYNC, templates)
        start = time.perf_counter()
        while (task := await store.task_store.claim(SYNC, 0)) is not None:
            await store.task_store.finish(task, TaskOutcome())
        return time.perf_counter() - start
    finally:
        store.close()


async def main(args: argparse.Namespace) -> None:
    pages = [page_inputs(p, args.page_size) for p in range(args.pages)]
    entities = args.pages * args.page_size
    sync_rows = entities * len(FIELDS)
    with tempfile.TemporaryDirectory() as tmp:
        seconds = await run_floor(Path(tmp) / "floor.db", pages)
        print(
            json.dumps(
                {
                    "name": "finish_floor",
                    "entities": entities,
                    "sync_rows": sync_rows,
                    "seconds": round(seconds, 3),
                }
            )
        )
        for batches in (True, False):
            db = Path(tmp) / f"finish-{batches}.db"
            seconds = await run_finish(db, pages, batches=batches)
            print(
                json.dumps(
                    {
                        "name": "finish",
                        "sync_form": "batches" if batches else "entries",
                        "tasks": args.pages,
                        "entities": entities,
                        "sync_rows": sync_rows,
                        "seconds": round(seconds, 3),
                        "entities_per_s": round(entities / seconds),
                    }
                )
            )
        seconds = await run_claim_finish(Path(tmp) / "claims.db", args.tasks)
        print(
            json.dumps(
                {
                    "name": "claim_finish",
                    "tasks": args.tasks,
                    "seconds": round(seconds, 3),
                    "per_task_us": round(seconds / args.tasks * 1e6),
                }
            )
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=1_000)
    parser.add_argument("--tasks", type=int, default=2_000)
    trio.run(main, parser.parse_args())
