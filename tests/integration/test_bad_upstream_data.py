"""Bad upstream data fails the task that read it with a clear one-line error and never corrupts
``data.db`` (issue 4, "done when").

A :class:`TamperingProxy` in front of a real Acme server serves a valid Acme API except for one
list answering bad data: a missing field, a wrong type, a child of another parent than the one
listed, malformed JSON, an HTML page instead of JSON, an HTML error page (502, retried first).
A sync through it ends ``failed`` with exactly that task's error; every row the other tasks
wrote is intact, the failing task wrote nothing, SQLite says the file is sound, and a later
sync against the good server completes with every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from maxtrio.acme import AcmeServer, SeedOptions
from maxtrio.execution import SyncResult, SyncStatus

from .conftest import StartAcme
from .data_db import (
    FILE_TABLE,
    PROJECT_TABLE,
    ROOT_TABLE,
    TASK_TABLE,
    USER_TABLE,
    WORKSPACE_TABLE,
    Row,
    Tables,
    Upstream,
    by_id,
    entity_tables,
    expected_tables,
    file_row,
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


WAVES = {"workspaces": 1, "users": 2, "projects": 2, "tasks": 3, "files": 3}
"""The plan's wave of each listing: workspaces, then users + projects, then tasks + files."""


@attrs.frozen
class BadData:
    """One kind of bad answer: where it is served, the error it must give, and the listing
    (collection, parent id) whose task it fails."""

    spoil: Callable[[Upstream], Spoil]
    error: Callable[[Upstream], str]
    failed: Callable[[Upstream], tuple[str, str | None]]
    code: str = "connector-acme.bad_response"


def ws(upstream: Upstream, n: int) -> str:
    return upstream.workspaces[n]["id"]


def p1(upstream: Upstream) -> str:
    return upstream.projects[1]["id"]


def tasks_of_p1(answer: Callable[..., Any]) -> Callable[[Upstream], Spoil]:
    return lambda up: Spoil("/api/tasks", answer, {"projectId": p1(up)})


def bad_task_list(reason: Callable[[Upstream], str]) -> Callable[[Upstream], str]:
    return lambda up: f"Acme sent a bad response to GET /api/tasks?projectId={p1(up)}: {reason(up)}"


def bad_list(collection: str, parent: str, parent_id: Callable[[Upstream], str]) -> Any:
    def error(reason: Callable[[Upstream], str]) -> Callable[[Upstream], str]:
        return lambda up: (
            f"Acme sent a bad response to GET /api/{collection}?{parent}={parent_id(up)}: "
            f"{reason(up)}"
        )

    return error


def tasks_of_p1_failed(upstream: Upstream) -> tuple[str, str | None]:
    return ("tasks", p1(upstream))


CASES = {
    "missing-field": BadData(
        tasks_of_p1(edited_json(without("title", 2))),
        bad_task_list(lambda up: f"item 2 ({up.tasks_of(p1(up))[2]['id']}): 'title' is missing"),
        tasks_of_p1_failed,
    ),
    "wrong-type": BadData(
        lambda up: Spoil(
            "/api/users", edited_json(replaced("active", "yes", 2)), {"workspaceId": ws(up, 0)}
        ),
        bad_list("users", "workspaceId", lambda up: ws(up, 0))(
            lambda up: f"item 2 ({up.users[2]['id']}): 'active' must be a boolean, got string"
        ),
        lambda up: ("users", ws(up, 0)),
    ),
    "wrong-parent": BadData(
        lambda up: Spoil(
            "/api/projects",
            edited_json(replaced("workspaceId", ws(up, 0), 1)),
            {"workspaceId": ws(up, 1)},
        ),
        bad_list("projects", "workspaceId", lambda up: ws(up, 1))(
            lambda up: (
                f"item 1 ({up.projects[4]['id']}): 'workspaceId' is '{ws(up, 0)}', "
                f"not the listed workspace '{ws(up, 1)}'"
            )
        ),
        lambda up: ("projects", ws(up, 1)),
    ),
    "wrong-file-size": BadData(
        lambda up: Spoil(
            "/api/files", edited_json(replaced("sizeBytes", "12 kB", 0)), {"projectId": p1(up)}
        ),
        bad_list("files", "projectId", p1)(
            lambda up: (
                f"item 0 ({up.files_of(p1(up))[0]['id']}): 'sizeBytes' must be a number, got string"
            )
        ),
        lambda up: ("files", p1(up)),
    ),
    "malformed-json": BadData(
        tasks_of_p1(fixed(b'[{"id": "tsk_1", "title": "cut off')),
        bad_task_list(lambda up: "malformed JSON"),
        tasks_of_p1_failed,
    ),
    "html-instead-of-json": BadData(
        lambda up: Spoil("/api/workspaces", fixed(HTML_PAGE, media_type="text/html")),
        lambda up: "Acme sent a bad response to GET /api/workspaces: an HTML page instead of JSON",
        lambda up: ("workspaces", None),
    ),
    "html-error-page": BadData(
        tasks_of_p1(fixed(BAD_GATEWAY, 502, "text/html")),
        lambda up: f"Acme failed to answer GET /api/tasks?projectId={p1(up)}: 502 (an HTML page)",
        tasks_of_p1_failed,
        code="connector-acme.upstream_error",
    ),
}


def tables_after(upstream: Upstream, bad: BadData) -> Tables:
    """The rows of the waves before the failing listing's, and of its own wave except that
    listing; nothing of the failing task, nothing of later waves."""
    failed, parent = bad.failed(upstream)
    wave = WAVES[failed]

    def listed(collection: str, rows: Iterable[Row], parents: list[str | None]) -> dict[str, Row]:
        if WAVES[collection] > wave:
            return {}
        skip = collection == failed
        return by_id(
            row for row, of in zip(rows, parents, strict=True) if not (skip and of == parent)
        )

    return {
        ROOT_TABLE: {"root": ("root",)},
        WORKSPACE_TABLE: listed(
            "workspaces", map(workspace_row, upstream.workspaces), [None] * len(upstream.workspaces)
        ),
        USER_TABLE: listed(
            "users", map(user_row, upstream.users), [u["workspaceId"] for u in upstream.users]
        ),
        PROJECT_TABLE: listed(
            "projects",
            map(project_row, upstream.projects),
            [p["workspaceId"] for p in upstream.projects],
        ),
        TASK_TABLE: listed(
            "tasks", map(task_row, upstream.tasks), [t["projectId"] for t in upstream.tasks]
        ),
        FILE_TABLE: listed(
            "files", map(file_row, upstream.files), [f["projectId"] for f in upstream.files]
        ),
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
