"""A sync stores exactly what the Acme API serves, field for field — also through 429s and 500s.

The upstream side is read over HTTP with the fake's own client (``AcmeHttpClient``); the stored
side both as raw SQL rows of ``data.db`` (every entity table, nothing else) and through the
product's read path (``SqliteEngine.load_page``, typed values).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from maxtrio.acme import (
    AcmeHttpClient,
    FaultInjection,
    FilePatch,
    ProjectPatch,
    SeedOptions,
    TaskPatch,
    UserPatch,
)
from maxtrio.connectors.acme import (
    AcmeFile,
    AcmeProject,
    AcmeSchema,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
)
from maxtrio.core import Engine, EntityDef, PageRequest, Projection
from maxtrio.execution import SyncStatus
from maxtrio.storage import open_installation_store, parse_date

from .conftest import StartAcme
from .data_db import Upstream, entity_tables, expected_tables, integrity_check, sizes
from .syncing import FAST_RETRIES, sync_into

SEVERAL = SeedOptions(
    workspaces=2, users_per_workspace=7, projects_per_workspace=6, tasks_per_project=25
)


async def stored(engine: Engine, entity: EntityDef) -> dict[str, dict[str, Any]]:
    """Every stored entity of one type, typed, through the engine (all pages)."""
    out: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        page = await engine.load_page(entity, Projection.all(), PageRequest(cursor, 7))
        for item in page.items:
            out[item.ref.id] = item.to_dict()  # type: ignore[union-attr]
        if not page.has_more:
            return out
        cursor = page.cursor


def _date(text: str | None) -> Any:
    return None if text is None else parse_date(text)


def _user(user_id: str | None) -> Any:
    return None if user_id is None else AcmeUser.ref(user_id)


def typed_expectations(upstream: Upstream) -> dict[EntityDef, dict[str, dict[str, Any]]]:
    """The same mapping as ``expected_tables``, in the engine's typed form."""

    def times(record: Any) -> dict[str, Any]:
        return {"createdAt": _date(record["createdAt"]), "updatedAt": _date(record["updatedAt"])}

    return {
        AcmeWorkspace: {
            w["id"]: {"_id": w["id"], "name": w["name"], **times(w)} for w in upstream.workspaces
        },
        AcmeUser: {
            u["id"]: {
                "_id": u["id"],
                "displayName": u["displayName"],
                "email": u["email"],
                "role": u["role"],
                "active": u["active"],
                "workspace": AcmeWorkspace.ref(u["workspaceId"]),
                **times(u),
            }
            for u in upstream.users
        },
        AcmeProject: {
            p["id"]: {
                "_id": p["id"],
                "name": p["name"],
                "description": p["description"],
                "status": p["status"],
                "owner": _user(p["ownerId"]),
                "workspace": AcmeWorkspace.ref(p["workspaceId"]),
                **times(p),
            }
            for p in upstream.projects
        },
        AcmeTask: {
            t["id"]: {
                "_id": t["id"],
                "title": t["title"],
                "description": t["description"],
                "status": t["status"],
                "priority": t["priority"],
                "assignee": _user(t["assigneeId"]),
                "project": AcmeProject.ref(t["projectId"]),
                "createdBy": AcmeUser.ref(t["createdById"]),
                "lastModifiedBy": AcmeUser.ref(t["lastModifiedById"]),
                "dueDate": _date(t["dueDate"]),
                "completedAt": _date(t["completedAt"]),
                **times(t),
                "tags": json.dumps(t["tags"], separators=(",", ":"), ensure_ascii=False),
            }
            for t in upstream.tasks
        },
        AcmeFile: {
            f["id"]: {
                "_id": f["id"],
                "name": f["name"],
                "mimeType": f["mimeType"],
                "sizeBytes": f["sizeBytes"],
                "project": AcmeProject.ref(f["projectId"]),
                "createdBy": AcmeUser.ref(f["createdById"]),
                "lastModifiedBy": AcmeUser.ref(f["lastModifiedById"]),
                **times(f),
            }
            for f in upstream.files
        },
    }


async def with_edge_values(url: str, api_key: str) -> Upstream:
    """Give upstream the values the mapping treats specially, then read everything back."""
    before = await Upstream.fetch(url, api_key)
    project, task, other = before.projects[0], before.tasks[0], before.tasks[1]
    async with AcmeHttpClient(url, api_key) as client:
        await client.update_user(before.users[1]["id"], UserPatch(active=False))
        await client.update_project(project["id"], ProjectPatch(description=""))
        await client.update_project(before.projects[1]["id"], ProjectPatch(description=None))
        await client.update_task(task["id"], TaskPatch(task["createdById"], description=""))
        await client.update_task(
            other["id"],
            TaskPatch(other["createdById"], description=None, assignee_id=None, due_date=None),
        )
        await client.update_task(
            before.tasks[2]["id"],
            TaskPatch(task["createdById"], status="done", tags=('say "hi"', "naïve")),
        )
        await client.update_file(
            before.files[0]["id"], FilePatch(before.files[0]["createdById"], name="")
        )
    return await Upstream.fetch(url, api_key)


@pytest.mark.parametrize(
    ("seed", "counts"),
    [(SeedOptions(), (1, 6, 3, 30, 15)), (SEVERAL, (2, 16, 12, 300, 60))],
    ids=["default-seed", "several-projects"],
)
async def test_a_sync_stores_exactly_the_upstream_entities_with_equal_fields(
    start_acme: StartAcme, tmp_path: Path, seed: SeedOptions, counts: tuple[int, ...]
) -> None:
    server = await start_acme(seed)
    upstream = await with_edge_values(server.url, server.api_key)
    assert (
        len(upstream.workspaces),
        len(upstream.users),
        len(upstream.projects),
        len(upstream.tasks),
        len(upstream.files),
    ) == counts
    assert not any(u["active"] for u in upstream.users[1:2])
    assert None in {t["description"] for t in upstream.tasks}
    assert None in {t["assigneeId"] for t in upstream.tasks}
    assert any(t["completedAt"] for t in upstream.tasks)

    db = tmp_path / "data.db"
    result = await sync_into(db, server.url, server.api_key)

    assert result.status is SyncStatus.COMPLETED, result.to_json()
    assert entity_tables(db) == expected_tables(upstream)  # every table, every row, nothing else
    assert integrity_check(db) == "ok"
    async with open_installation_store(db, AcmeSchema) as store:
        for entity, expected in typed_expectations(upstream).items():
            assert await stored(store.engine, entity) == expected, entity.name


async def test_a_flaky_upstream_with_a_bigger_seed_still_yields_every_row(
    start_acme: StartAcme, tmp_path: Path
) -> None:
    faults = FaultInjection(rate_limit_ratio=0.25, error_ratio=0.15, retry_after_seconds=0, seed=11)
    server = await start_acme(SEVERAL, faults=faults)
    server.faults = FaultInjection()  # read the truth without faults…
    upstream = await Upstream.fetch(server.url, server.api_key)
    server.faults = faults  # …then sync through them
    server.reset_statistics()

    db = tmp_path / "data.db"
    result = await sync_into(db, server.url, server.api_key, retry=FAST_RETRIES)

    assert result.status is SyncStatus.COMPLETED, result.to_json()
    assert entity_tables(db) == expected_tables(upstream)
    assert sizes(entity_tables(db)) == {
        "_acme_file": 60,
        "_acme_project": 12,
        "_acme_root": 1,
        "_acme_task": 300,
        "_acme_user": 16,
        "_acme_workspace": 2,
    }
    stats = server.statistics()
    assert stats.rate_limited > 5 and stats.injected_errors > 2  # of 29 calls (complete lists)
    # every operation call got through once; the rest of the requests were the faults retried
    assert stats.requests == result.operations.total + stats.rate_limited + stats.injected_errors
