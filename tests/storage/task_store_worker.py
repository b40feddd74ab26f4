"""A second process on a test's ``data.db``: ``python -m tests.storage.task_store_worker``.

``claim DB SYNC`` — open the stores, print ``ready``, wait for a line on stdin, then claim and
finish tasks of SYNC until none is left, printing each claimed id, then ``done``.

``hang DB SYNC`` — enqueue the chain ``s1 → s2 → s3``, run ``s1`` (storing widget ``w1``),
claim ``s2``, print ``claimed <id>`` and wait to be killed with ``s2`` left ``running``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import trio

from maxtrio.core import EntityInput
from maxtrio.execution import TaskOutcome, TaskState, TaskTemplate
from maxtrio.storage import InstallationStore, open_installation_store

from .execution_stores import SCHEMA, Widget, step


def chain() -> list[TaskTemplate]:
    return [
        TaskTemplate("s1", TaskState.PENDING, step("S1")),
        TaskTemplate("s2", TaskState.NEW, step("S2"), blocked_by="s1"),
        TaskTemplate("s3", TaskState.NEW, step("S3"), blocked_by="s2"),
    ]


async def claim_all(opened: InstallationStore, sync_id: str) -> None:
    while (task := await opened.task_store.claim(sync_id, time.time_ns() // 1_000_000)) is not None:
        print(task.id, flush=True)
        await opened.task_store.finish(task, TaskOutcome())
    print("done", flush=True)


async def run_and_hang(opened: InstallationStore, sync_id: str) -> None:
    store = opened.task_store
    await store.enqueue_graph(sync_id, chain())
    first = await store.claim(sync_id, 0)
    assert first is not None
    widget = EntityInput.create(Widget, "w1", {"name": "first", "size": 1})
    await store.finish(first, TaskOutcome(entities=[widget]))
    second = await store.claim(sync_id, 0)
    assert second is not None
    print(f"claimed {second.id}", flush=True)
    await trio.sleep_forever()


def main(argv: list[str]) -> None:
    command, db, sync_id = argv
    opened = open_installation_store(Path(db), SCHEMA)
    if command == "claim":
        print("ready", flush=True)
        sys.stdin.readline()
        trio.run(claim_all, opened, sync_id)
    elif command == "hang":
        trio.run(run_and_hang, opened, sync_id)
    else:
        raise SystemExit(f"unknown command {command!r}")
    opened.close()


if __name__ == "__main__":
    main(sys.argv[1:])
