"""Upstream answers a real Acme should never give: clear, typed errors, never a traceback.

A raw loopback HTTP server (``canned_server``) answers each path with whatever the test says.
Retryable failures (429, 5xx, dropped connections, timeouts) carry the ``Retryable`` facet;
everything else does not. Messages name the request, never the token.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio

from maxtrio.connector import Installation
from maxtrio.connectors.acme import (
    AcmeApiClient,
    AcmeAppContext,
    AcmeFile,
    AcmeProject,
    AcmeUser,
    AcmeWorkspace,
    ErrBadResponse,
    ErrConnectionFailed,
    ErrForbidden,
    ErrNotFound,
    ErrRateLimited,
    ErrRequestFailed,
    ErrTimeout,
    ErrUnauthorized,
    ErrUpstreamError,
    FileBasicLoader,
    ProjectBasicLoader,
    ProjectTasksLoader,
    RootWorkspacesLoader,
    UserBasicLoader,
    WorkspaceBasicLoader,
    WorkspaceUsersLoader,
    connector,
    create_installation,
    parse_retry_after,
)
from maxtrio.core import (
    BasicOperationExecutor,
    ErrorDef,
    LoaderEnv,
    MaxError,
    PageRequest,
    Retryable,
    expand_entities,
)

from .canned_server import Canned, CannedServer
from .conftest import platform_with_token

TOKEN = "acme_s3cr3t_token_value"
PROJECT = "prj_1"


STAMP = "2026-03-08T14:03:27.512Z"


def good_task(n: int, **changes: Any) -> dict[str, Any]:
    task = {
        "id": f"tsk_{n}",
        "projectId": PROJECT,
        "title": f"Task {n}",
        "description": None,
        "status": "todo",
        "priority": "high",
        "assigneeId": None,
        "createdById": "usr_1",
        "lastModifiedById": "usr_2",
        "dueDate": None,
        "tags": [],
        "completedAt": None,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    task.update(changes)
    return task


def task_fields(n: int, **changes: Any) -> dict[str, Any]:
    """The input fields of ``good_task(n)``."""
    fields: dict[str, Any] = {
        "title": f"Task {n}",
        "description": None,
        "status": "todo",
        "priority": "high",
        "assignee": None,
        "project": AcmeProject.ref(PROJECT),
        "createdBy": AcmeUser.ref("usr_1"),
        "lastModifiedBy": AcmeUser.ref("usr_2"),
        "dueDate": None,
        "completedAt": None,
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "tags": "[]",
    }
    fields.update(changes)
    return fields


@pytest.fixture
async def canned(nursery: trio.Nursery) -> CannedServer:
    server: CannedServer = await nursery.start(CannedServer().serve)
    return server


@pytest.fixture
async def canned_env(canned: CannedServer) -> AsyncIterator[LoaderEnv[AcmeAppContext]]:
    installed: Installation[AcmeAppContext] = connector.initialise(
        {"baseUrl": canned.url, "workspaceId": "w"}, platform_with_token(TOKEN)
    )
    async with installed.running():
        yield LoaderEnv(installed.context, BasicOperationExecutor(installed.context))


async def load_tasks(env: LoaderEnv[AcmeAppContext]) -> Any:
    return await ProjectTasksLoader.load(AcmeProject.ref(PROJECT), PageRequest(), env)


async def failure(env: LoaderEnv[AcmeAppContext], expected: ErrorDef) -> MaxError:
    with pytest.raises(MaxError) as caught:
        await load_tasks(env)
    assert expected.matches(caught.value), caught.value.code
    assert TOKEN not in caught.value.message
    assert TOKEN not in repr(caught.value.to_wire())
    return caught.value


async def test_a_good_answer_through_the_canned_server(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    canned.routes["/api/tasks"] = Canned.json(
        [
            good_task(1),
            good_task(2, description="d", assigneeId="usr_3", dueDate="2026-04-01"),
            good_task(3, description="", tags=["bug", "ux"], completedAt=STAMP),
            good_task(4, tags=['say "hi"', "naïve", "tab\there"]),
        ]
    )
    page = await load_tasks(canned_env)
    assert [(i.ref.id, dict(i.fields)) for i in expand_entities(page.items)] == [
        ("tsk_1", task_fields(1)),
        (
            "tsk_2",
            task_fields(2, description="d", assignee=AcmeUser.ref("usr_3"), dueDate="2026-04-01"),
        ),
        ("tsk_3", task_fields(3, description="", tags='["bug","ux"]', completedAt=STAMP)),
        ("tsk_4", task_fields(4, tags='["say \\"hi\\"","naïve","tab\\there"]')),
    ]
    assert [json.loads(i.fields["tags"]) for i in expand_entities(page.items)][3] == [
        'say "hi"',
        "naïve",
        "tab\there",
    ]
    first = expand_entities(page.items)[0].fields
    assert first["createdBy"].entity_def is AcmeUser and first["project"].entity_def is AcmeProject
    (request,) = canned.requests
    assert request.target == f"/api/tasks?projectId={PROJECT}&limit=1000"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


# -- bodies that are not what they should be -------------------------------------------------


@pytest.mark.parametrize(
    ("canned_answer", "reason"),
    [
        (Canned(200, b'[{"id": "tsk_1",'), "malformed JSON"),
        (Canned(200, b"", content_type="application/json"), "malformed JSON"),
        (
            Canned.text("<!doctype html><h1>Welcome to nginx</h1>", content_type="text/html"),
            "an HTML page instead of JSON",
        ),
        (Canned(200, b"\xff\xfe\x00garbage"), "malformed JSON"),
        (Canned.json({"tasks": []}), "expected a JSON array, got object"),
        (Canned.json([good_task(1), "tsk_2"]), "item 1: the task is string, not an object"),
        (
            Canned.json([good_task(1), good_task(2, title=42)]),
            "item 1 (tsk_2): 'title' must be a string, got number",
        ),
        (Canned.json([good_task(1, status=None)]), "item 0 (tsk_1): 'status' is null"),
        (
            Canned.json([{k: v for k, v in good_task(1).items() if k != "priority"}]),
            "item 0 (tsk_1): 'priority' is missing",
        ),
        (
            Canned.json([good_task(1, description=["x"])]),
            "item 0 (tsk_1): 'description' must be a string, got array",
        ),
        (Canned.json([good_task(1, id="")]), "item 0: 'id' is empty"),
        (Canned.json([good_task(1, id=7)]), "item 0: 'id' must be a string, got number"),
    ],
)
async def test_bad_bodies_are_bad_responses(
    canned: CannedServer,
    canned_env: LoaderEnv[AcmeAppContext],
    canned_answer: Canned,
    reason: str,
) -> None:
    canned.routes["/api/tasks"] = canned_answer
    err = await failure(canned_env, ErrBadResponse)
    assert err.message == (
        f"Acme sent a bad response to GET /api/tasks?projectId={PROJECT}: {reason}"
    )
    assert not err.has(Retryable)
    assert err.data["connector"] == "acme"


def good_record(kind: str, entity_id: str, **changes: Any) -> dict[str, Any]:
    """A well-formed Acme record of ``kind`` (workspace, user, project, file)."""
    records: dict[str, dict[str, Any]] = {
        "workspace": {"name": "W"},
        "user": {
            "workspaceId": "ws_1",
            "email": "a@x",
            "displayName": "A",
            "role": "admin",
            "active": True,
        },
        "project": {
            "workspaceId": "ws_1",
            "name": "P",
            "description": None,
            "status": "active",
            "ownerId": "usr_1",
        },
        "file": {
            "projectId": PROJECT,
            "name": "f.txt",
            "mimeType": "text/plain",
            "sizeBytes": 12,
            "createdById": "usr_1",
            "lastModifiedById": "usr_1",
        },
    }
    record = {"id": entity_id, **records[kind], "createdAt": STAMP, "updatedAt": STAMP}
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("task", "reason"),
    [
        (good_task(1, assigneeId=7), "item 0 (tsk_1): 'assigneeId' must be a string, got number"),
        (good_task(1, assigneeId=""), "item 0 (tsk_1): 'assigneeId' is empty"),
        (good_task(1, createdById=None), "item 0 (tsk_1): 'createdById' is null"),
        (good_task(1, dueDate=20260401), "item 0 (tsk_1): 'dueDate' must be a string, got number"),
        (good_task(1, tags="bug"), "item 0 (tsk_1): 'tags' must be an array, got string"),
        (good_task(1, tags=["a", 1]), "item 0 (tsk_1): 'tags' item 1 must be a string, got number"),
        (good_task(1, tags=None), "item 0 (tsk_1): 'tags' is null"),
        (
            {k: v for k, v in good_task(1).items() if k != "updatedAt"},
            "item 0 (tsk_1): 'updatedAt' is missing",
        ),
    ],
)
async def test_every_task_field_is_checked(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext], task: Any, reason: str
) -> None:
    canned.routes["/api/tasks"] = Canned.json([good_task(0), task])
    err = await failure(canned_env, ErrBadResponse)
    assert err.message == (
        f"Acme sent a bad response to GET /api/tasks?projectId={PROJECT}: "
        + reason.replace("item 0", "item 1")
    )


async def test_bad_records_of_entity_loaders(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    canned.routes["/api/users/usr_1"] = Canned.json(good_record("user", "usr_1", active="yes"))
    with pytest.raises(MaxError) as caught:
        await UserBasicLoader.load(AcmeUser.ref("usr_1"), canned_env)
    assert caught.value.message == (
        "Acme sent a bad response to GET /api/users/usr_1: 'active' must be a boolean, got string"
    )
    canned.routes["/api/workspaces/ws_1"] = Canned.json(good_record("workspace", "ws_2"))
    with pytest.raises(MaxError) as caught:
        await WorkspaceBasicLoader.load(AcmeWorkspace.ref("ws_1"), canned_env)
    assert caught.value.message.endswith("asked for workspace 'ws_1', got 'ws_2'")
    canned.routes["/api/projects/prj_1"] = Canned.json([good_record("project", "prj_1")])
    with pytest.raises(MaxError) as caught:
        await ProjectBasicLoader.load(AcmeProject.ref("prj_1"), canned_env)
    assert caught.value.message.endswith("expected a JSON object, got array")
    canned.routes["/api/files/fil_1"] = Canned.json(good_record("file", "fil_1", sizeBytes="12"))
    with pytest.raises(MaxError) as caught:
        await FileBasicLoader.load(AcmeFile.ref("fil_1"), canned_env)
    assert caught.value.message.endswith("'sizeBytes' must be a number, got string")
    canned.routes["/api/files/fil_1"] = Canned.json(good_record("file", "fil_1", sizeBytes=True))
    with pytest.raises(MaxError) as caught:
        await FileBasicLoader.load(AcmeFile.ref("fil_1"), canned_env)
    assert caught.value.message.endswith("'sizeBytes' must be a number, got boolean")
    canned.routes["/api/workspaces"] = Canned.json([{"name": "no id"}])
    with pytest.raises(MaxError) as caught:
        await RootWorkspacesLoader.load(AcmeWorkspace.ref("root"), PageRequest(), canned_env)
    assert caught.value.message.endswith("item 0: 'id' is missing")
    canned.routes["/api/users"] = Canned.json(
        [good_record("user", "usr_1"), good_record("user", "usr_2", workspaceId=None)]
    )
    with pytest.raises(MaxError) as caught:
        await WorkspaceUsersLoader.load(AcmeWorkspace.ref("ws_1"), PageRequest(), canned_env)
    assert caught.value.message.endswith("item 1 (usr_2): 'workspaceId' is null")


async def test_a_project_without_owner_or_description_is_fine(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    project = good_record("project", "prj_1", description="", ownerId=None)
    canned.routes["/api/projects/prj_1"] = Canned.json(project)
    loaded = await ProjectBasicLoader.load(AcmeProject.ref("prj_1"), canned_env)
    assert dict(loaded.fields) == {
        "name": "P",
        "description": "",
        "status": "active",
        "owner": None,
        "workspace": AcmeWorkspace.ref("ws_1"),
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    canned.routes["/api/projects/prj_1"] = Canned.json({**project, "description": None})
    loaded = await ProjectBasicLoader.load(AcmeProject.ref("prj_1"), canned_env)
    assert loaded.fields["description"] is None  # present: the upsert clears it


# -- statuses --------------------------------------------------------------------------------


async def test_429_is_retryable_and_carries_retry_after(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    canned.routes["/api/tasks"] = Canned.json(
        {"error": "Too many requests"}, 429, headers={"Retry-After": "7"}
    )
    err = await failure(canned_env, ErrRateLimited)
    assert err.has(Retryable) and err.has("Retryable")
    assert err.data["retryAfter"] == 7.0
    assert err.data["status"] == 429
    assert err.message == (
        f"Acme rate-limited GET /api/tasks?projectId={PROJECT} (429, retry after 7 s)"
    )
    canned.routes["/api/tasks"] = Canned.json({"error": "slow down"}, 429)
    err = await failure(canned_env, ErrRateLimited)
    assert err.data["retryAfter"] is None
    assert err.message.endswith("(429)")


def test_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert parse_retry_after(later) == pytest.approx(30, abs=2)
    earlier = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert parse_retry_after(earlier) == 0.0


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected", "retryable", "text"),
    [
        (
            500,
            b'{"error":"database is locked"}',
            "application/json",
            ErrUpstreamError,
            True,
            "Acme failed to answer GET /api/tasks?projectId=prj_1: 500 database is locked",
        ),
        (
            502,
            b"<html><body>Bad Gateway</body></html>",
            "text/html",
            ErrUpstreamError,
            True,
            "Acme failed to answer GET /api/tasks?projectId=prj_1: 502 (an HTML page)",
        ),
        (
            503,
            b"",
            "text/plain",
            ErrUpstreamError,
            True,
            "Acme failed to answer GET /api/tasks?projectId=prj_1: 503 Status",
        ),
        (
            401,
            b'{"error":"Missing API key"}',
            "application/json",
            ErrUnauthorized,
            False,
            "Acme refused GET /api/tasks?projectId=prj_1: 401 Missing API key "
            "(check the api_token credential)",
        ),
        (
            403,
            b'{"error":"Invalid API key"}',
            "application/json",
            ErrForbidden,
            False,
            "Acme rejected the API token for GET /api/tasks?projectId=prj_1: 403 Invalid API key",
        ),
        (
            404,
            b'{"error":"Not found"}',
            "application/json",
            ErrNotFound,
            False,
            "Acme has no GET /api/tasks?projectId=prj_1: 404 Not found",
        ),
        (
            400,
            b'{"error":"limit must be an integer"}',
            "application/json",
            ErrRequestFailed,
            False,
            "Acme answered GET /api/tasks?projectId=prj_1 with 400 limit must be an integer",
        ),
        (
            302,
            b"",
            "text/plain",
            ErrRequestFailed,
            False,
            "Acme answered GET /api/tasks?projectId=prj_1 with 302 Status",
        ),
    ],
)
async def test_statuses(
    canned: CannedServer,
    canned_env: LoaderEnv[AcmeAppContext],
    status: int,
    body: bytes,
    content_type: str,
    expected: ErrorDef,
    retryable: bool,
    text: str,
) -> None:
    canned.routes["/api/tasks"] = Canned(status, body, content_type)
    err = await failure(canned_env, expected)
    assert err.has(Retryable) is retryable
    assert err.message == text
    assert err.data["status"] == status


async def test_the_token_is_redacted_from_echoed_bodies(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    canned.routes["/api/tasks"] = Canned.json({"error": f"key {TOKEN} is not allowed"}, 403)
    err = await failure(canned_env, ErrForbidden)
    assert err.message.endswith("403 key <redacted> is not allowed")


async def test_long_error_bodies_are_cut_to_one_short_line(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    canned.routes["/api/tasks"] = Canned.text("line one\nline two " + "x" * 1000, 500)
    err = await failure(canned_env, ErrUpstreamError)
    assert "\n" not in err.message
    assert len(err.data["upstream"]) == 160
    assert err.data["upstream"].startswith("line one line two xxx")


# -- connections -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["drop", "truncate"])
async def test_dropped_connections_are_retryable(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext], mode: Any
) -> None:
    canned.routes["/api/tasks"] = Canned(200, b"[]", mode=mode)
    err = await failure(canned_env, ErrConnectionFailed)
    assert err.has(Retryable)
    assert err.message.startswith(f"Could not reach Acme for GET /api/tasks?projectId={PROJECT}: ")


async def test_a_server_that_never_answers_times_out(
    canned: CannedServer, autojump_clock: trio.abc.Clock
) -> None:
    canned.routes["/api/tasks"] = Canned(mode="hang")
    client = AcmeApiClient(canned.url, TOKEN, timeout=httpx.Timeout(5.0))
    async with client:
        started = trio.current_time()
        with pytest.raises(MaxError) as caught:
            await client.list("tasks", filters={"projectId": PROJECT})
    assert ErrTimeout.matches(caught.value)
    assert caught.value.has(Retryable)
    assert trio.current_time() - started == pytest.approx(5.0, abs=0.1)
    assert caught.value.message.startswith(
        f"Acme did not answer GET /api/tasks?projectId={PROJECT} in time"
    )


async def test_pagination_that_does_not_advance_is_refused(
    canned: CannedServer, canned_env: LoaderEnv[AcmeAppContext]
) -> None:
    canned.routes["/api/tasks"] = Canned.json([good_task(1)], headers={"X-Next-Cursor": "17"})
    page = await load_tasks(canned_env)
    assert (page.has_more, page.cursor) == (True, "17")
    with pytest.raises(MaxError) as caught:
        await ProjectTasksLoader.load(AcmeProject.ref(PROJECT), PageRequest("17"), canned_env)
    assert ErrBadResponse.matches(caught.value)
    assert caught.value.message.endswith("pagination did not advance (cursor '17' again)")


# -- the transport seam ------------------------------------------------------------------------


async def test_the_transport_can_be_swapped() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/workspaces":
            return httpx.Response(200, json=[good_record("workspace", "ws_1", name="Mock")])
        raise httpx.ReadTimeout("read timed out", request=request)

    installed = create_installation(
        {"baseUrl": "http://acme.invalid/", "workspaceId": "w"},
        platform_with_token(TOKEN),
        transport=httpx.MockTransport(handler),
    )
    async with installed.running():
        env = LoaderEnv(installed.context, BasicOperationExecutor(installed.context))
        page = await RootWorkspacesLoader.load(AcmeWorkspace.ref("root"), PageRequest(), env)
        assert [i.ref.id for i in expand_entities(page.items)] == ["ws_1"]
        with pytest.raises(MaxError) as caught:
            await WorkspaceBasicLoader.load(AcmeWorkspace.ref("ws_1"), env)
    assert ErrTimeout.matches(caught.value)
    assert [str(r.url) for r in seen] == [
        "http://acme.invalid/api/workspaces?limit=1000",
        "http://acme.invalid/api/workspaces/ws_1",
    ]
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
