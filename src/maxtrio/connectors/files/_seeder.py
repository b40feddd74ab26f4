"""The files seeder: store the root, remember the stored files' (size, time), then the plan.

    1 for_root(root).load_fields(path, name)
    2 for_root(root).load_collection(directories)
    3 for_root(root).load_collection(files)       pages of 5,000 files

The snapshot (``FilesState``) is read with the engine the seeder is given: one projection of
``size`` and ``modified`` over the stored files (those whose content was read).
"""

from __future__ import annotations

from datetime import datetime

from maxtrio.core import (
    Engine,
    EntityInput,
    EntityResult,
    PageRequest,
    Projection,
    Seeder,
    SeederEnv,
    Step,
    SyncPlan,
)

from ._context import FilesContext, Snapshot
from ._entities import ROOT_REF, FilesFile

SNAPSHOT_PAGE = 5000

FILES_SYNC_PLAN = SyncPlan.create(
    Step.for_root(ROOT_REF).load_fields("path", "name"),
    Step.for_root(ROOT_REF).load_collection("directories"),
    Step.for_root(ROOT_REF).load_collection("files"),
)


async def read_snapshot(engine: Engine) -> Snapshot:
    """``{file id: (size, mtime ms)}`` of every stored file with a hash."""
    snapshot: Snapshot = {}
    projection = Projection.select("size", "modified", "sha256")
    cursor: str | None = None
    while True:
        page = await engine.load_page(FilesFile, projection, PageRequest(cursor, SNAPSHOT_PAGE))
        for item in page.items:
            if not isinstance(item, EntityResult):
                continue
            values = item.values
            size, modified = values.get("size"), values.get("modified")
            if values.get("sha256") is None or size is None or not isinstance(modified, datetime):
                continue
            snapshot[item.ref.id] = (int(size), round(modified.timestamp() * 1000))
        if not page.has_more or not page.cursor:
            return snapshot
        cursor = page.cursor


async def _seed(env: SeederEnv[FilesContext]) -> SyncPlan:
    await env.engine.store(EntityInput(ROOT_REF, {}))
    env.ctx.state.snapshot = await read_snapshot(env.engine)
    return FILES_SYNC_PLAN


FilesSeeder: Seeder[FilesContext] = Seeder(_seed)
