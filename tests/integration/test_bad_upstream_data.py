"""Bad upstream data fails the task that read it with a clear one-line error and never corrupts
``data.db`` (issue 4, "done when").

A :class:`TamperingProxy` in front of a real Acme server serves a valid Acme API except for one
endpoint answering bad data: a missing field, a wrong type, another entity than the one asked
for, malformed JSON, an HTML page instead of JSON, an HTML error page (502, retried first).
A sync through it ends ``failed`` with exactly that task's error; every row the other tasks
wrote is intact, the failing task wrote nothing, SQLite says the file is sound, and a later
sync against the good server completes with every row.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from maxtrio.acme import AcmeServer, SeedOptions
from maxtrio.execution import SyncResult, SyncStatus

from .conftest import StartAcme
from .data_db import (
    PROJECT_TABLE,
    ROOT_TABLE,
    TASK_TABLE,
    USER_TABLE,
    WORKSPACE_TABLE,
    Tables,
    Upstream,
    by_id,
    entity_tables,
    expected_tables,
    integrity_check,
    project_row,
    task_row,
    user_row,
    workspace_row,
)
from .syncing import FAST_RETRIES, sync_into
from .tampering_proxy import Spoil, TamperingProxy, edited_json, fixed

SEED = SeedOptions(
    workspaces=2, users_per_workspace=4, projects_per_workspace=3, tasks_per_project=6
)  # 2 workspaces, 10 users, 6 projects, 36 tasks
HTML_PAGE = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
BAD_GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body>502</body></html>"


def without(key: str, index: int) -> Callable[[Any], Any]:
    def edit(items: Any) -> Any:
        del items[index][key]
        return items

    return edit


def replaced(key: str, value: Any, index: int | None = None) -> Callable[[Any], Any]:
    def edit(body: Any) -> Any:
        (body if index is None else body[index])[key] = value
        return body

    return edit


@attrs.frozen
class BadData:
    """One kind of bad answer: where it is served, the error it must give, how far the
    (sequential, 7-step) plan got before the failing step."""

    spoil: Callable[[Upstream], Spoil]
    error: Callable[[Upstream], str]
    steps_done: int
    code: str = "connector-acme.bad_response"

    def task_list_project(self, upstream: Upstream) -> str | None:
        """The project whose task list is spoiled (step 7), if that is where."""
        spoil = self.spoil(upstream)
        return spoil.query.get("projectId") if spoil.path == "/api/tasks" else None


def p1(upstream: Upstream) -> str:
    return upstream.projects[1]["id"]


def tasks_of_p1(answer: Callable[..., Any]) -> Callable[[Upstream], Spoil]:
    return lambda up: Spoil("/api/tasks", answer, {"projectId": p1(up)})


def bad_task_list(reason: Callable[[Upstream], str]) -> Callable[[Upstream], str]:
    return lambda up: f"Acme sent a bad response to GET /api/tasks?projectId={p1(up)}: {reason(up)}"


CASES = {
    "missing-field": BadData(
        tasks_of_p1(edited_json(without("title", 2))),
        bad_task_list(lambda up: f"item 2 ({up.tasks_of(p1(up))[2]['id']}): 'title' is missing"),
        steps_done=6,
    ),
    "wrong-type": BadData(
        lambda up: Spoil(f"/api/users/{up.users[2]['id']}", edited_json(replaced("active", "yes"))),
        lambda up: (
            f"Acme sent a bad response to GET /api/users/{up.users[2]['id']}: "
            "'active' must be a boolean, got string"
        ),
        steps_done=4,
    ),
    "unknown-ref": BadData(
        lambda up: Spoil(
            f"/api/projects/{p1(up)}", edited_json(replaced("id", "prj_nobody_knows"))
        ),
        lambda up: (
            f"Acme sent a bad response to GET /api/projects/{p1(up)}: "
            f"asked for project '{p1(up)}', got 'prj_nobody_knows'"
        ),
        steps_done=5,
    ),
    "malformed-json": BadData(
        tasks_of_p1(fixed(b'[{"id": "tsk_1", "title": "cut off')),
        bad_task_list(lambda up: "malformed JSON"),
        steps_done=6,
    ),
    "html-instead-of-json": BadData(
        lambda up: Spoil(
            f"/api/workspaces/{up.workspaces[0]['id']}", fixed(HTML_PAGE, media_type="text/html")
        ),
        lambda up: (
            f"Acme sent a bad response to GET /api/workspaces/{up.workspaces[0]['id']}: "
            "an HTML page instead of JSON"
        ),
        steps_done=1,
    ),
    "html-error-page": BadData(
        tasks_of_p1(fixed(BAD_GATEWAY, 502, "text/html")),
        lambda up: f"Acme failed to answer GET /api/tasks?projectId={p1(up)}: 502 (an HTML page)",
        steps_done=6,
        code="connector-acme.upstream_error",
    ),
}


def tables_after(upstream: Upstream, bad: BadData) -> Tables:
    """The rows of the steps done before the failing one (plus, when a task list is the bad
    one, the other projects' tasks); nothing of the failing task."""
    done = bad.steps_done
    skipped = bad.task_list_project(upstream)
    tasks = [t for t in upstream.tasks if skipped is not None and t["projectId"] != skipped]
    return {
        ROOT_TABLE: {"root": ("root",)},
        WORKSPACE_TABLE: by_id(
            workspace_row(w, loaded=done >= 2) for w in upstream.workspaces if done >= 1
        ),
        USER_TABLE: by_id(user_row(u, loaded=done >= 5) for u in upstream.users if done >= 3),
        PROJECT_TABLE: by_id(
            project_row(p, loaded=done >= 6) for p in upstream.projects if done >= 4
        ),
        TASK_TABLE: by_id(map(task_row, tasks)),
    }


def assert_failed_with(result: SyncResult, bad: BadData, upstream: Upstream) -> None:
    assert result.status is SyncStatus.FAILED, result.to_json()
    (failure,) = result.failures
    assert (failure.code, failure.error) == (bad.code, bad.error(upstream))
    assert "\n" not in failure.error and "Traceback" not in failure.error


@pytest.fixture
async def served(start_acme: StartAcme) -> tuple[AcmeServer, Upstream]:
    server = await start_acme(SEED)
    return server, await Upstream.fetch(server.url, server.api_key)


async def through_proxy(
    nursery: trio.Nursery, server: AcmeServer, upstream: Upstream, bad: BadData
) -> TamperingProxy:
    proxy: TamperingProxy = await nursery.start(
        TamperingProxy(server.url, bad.spoil(upstream)).serve
    )
    return proxy


@pytest.mark.parametrize("bad", CASES.values(), ids=CASES.keys())
async def test_bad_data_fails_its_task_clearly_and_a_later_good_sync_completes(
    served: tuple[AcmeServer, Upstream], nursery: trio.Nursery, tmp_path: Path, bad: BadData
) -> None:
    server, upstream = served
    proxy = await through_proxy(nursery, server, upstream, bad)
    db = tmp_path / "data.db"

    result = await sync_into(db, proxy.url, server.api_key, retry=FAST_RETRIES)

    assert proxy.spoiled >= 1
    assert_failed_with(result, bad, upstream)
    assert integrity_check(db) == "ok"
    assert entity_tables(db) == tables_after(upstream, bad)

    healed = await sync_into(db, server.url, server.api_key)
    assert healed.status is SyncStatus.COMPLETED, healed.to_json()
    assert integrity_check(db) == "ok"
    assert entity_tables(db) == expected_tables(upstream)


@pytest.mark.parametrize("bad", CASES.values(), ids=CASES.keys())
async def test_bad_data_never_changes_what_a_good_sync_stored(
    served: tuple[AcmeServer, Upstream], nursery: trio.Nursery, tmp_path: Path, bad: BadData
) -> None:
    server, upstream = served
    proxy = await through_proxy(nursery, server, upstream, bad)
    db = tmp_path / "data.db"
    assert (await sync_into(db, server.url, server.api_key)).status is SyncStatus.COMPLETED

    result = await sync_into(db, proxy.url, server.api_key, retry=FAST_RETRIES)

    assert_failed_with(result, bad, upstream)
    assert integrity_check(db) == "ok"
    assert entity_tables(db) == expected_tables(upstream)  # not one value changed
