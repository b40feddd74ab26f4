"""Changelog retention (MAXTRIO extension) and the batch get, over real loopback HTTP.

``POST /api/changes/compact {"before": B}`` drops the events below B and records the horizon in
``tenant_meta``; ``GET /api/changes?since=N`` with N below it answers 410. ``GET
/api/<collection>?ids=…`` returns the live entities asked for, combined with ``limit``/``cursor``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio

from maxtrio.acme import (
    MAX_IDS,
    AcmeHttpClient,
    AcmeInProcessClient,
    AcmeServer,
    ErrCursorExpired,
    TaskPatch,
    Tenant,
    WorkspaceInput,
    create_tenant,
    http_status_of,
    open_tenant,
    serve_acme,
)
from maxtrio.core import MaxError

SEEDED_EVENTS = 55  # 1 workspace + 6 users + 3 projects + 30 tasks + 15 files


def expired_body(cursor: int, oldest: int) -> str:
    message = f"Cursor {cursor} is older than the retained changelog (oldest available: {oldest})"
    return json.dumps({"error": message}, separators=(",", ":"))


async def test_compaction_drops_old_events_and_older_cursors_get_410(
    http_client: AcmeHttpClient,
) -> None:
    result = await http_client.compact_changes(20)
    assert result == {"dropped": 19, "oldestAvailable": 20}
    assert (await http_client.stats())["changelogSize"] == SEEDED_EVENTS - 19
    for since in (0, 1, 18):
        with pytest.raises(MaxError) as caught:
            await http_client.get_changes(since=since)
        assert http_status_of(caught.value) == 410
        assert caught.value.data["body"] == expired_body(since, 20)
    page = await http_client.get_changes(since=19, limit=3)
    assert [e["sequence"] for e in page["events"]] == [20, 21, 22]
    assert (await http_client.get_recent_changes(1))[0]["sequence"] == SEEDED_EVENTS


async def test_compaction_past_the_end_empties_the_log_but_keeps_the_horizon(
    http_client: AcmeHttpClient,
) -> None:
    result = await http_client.compact_changes(1_000_000)
    assert result == {"dropped": SEEDED_EVENTS, "oldestAvailable": SEEDED_EVENTS + 1}
    assert await http_client.get_recent_changes() == []
    empty = await http_client.get_changes(since=SEEDED_EVENTS)
    assert empty == {"events": [], "nextCursor": SEEDED_EVENTS}
    with pytest.raises(MaxError) as caught:
        await http_client.get_changes(since=SEEDED_EVENTS - 1)
    assert caught.value.data["body"] == expired_body(SEEDED_EVENTS - 1, SEEDED_EVENTS + 1)
    created = await http_client.create_workspace(WorkspaceInput(name="After"))
    (event,) = (await http_client.get_changes(since=SEEDED_EVENTS))["events"]
    assert (event["sequence"], event["entityId"]) == (SEEDED_EVENTS + 1, created["id"])


async def test_the_horizon_never_moves_back(http_client: AcmeHttpClient) -> None:
    assert (await http_client.compact_changes(30))["oldestAvailable"] == 30
    assert await http_client.compact_changes(10) == {"dropped": 0, "oldestAvailable": 30}
    assert await http_client.compact_changes(0) == {"dropped": 0, "oldestAvailable": 30}
    assert len((await http_client.get_changes(since=29, limit=1000))["events"]) == 26


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body must be a JSON object"),
        (b"{nope", "body is not valid JSON"),
        (b"[20]", "body must be a JSON object"),
        (b"{}", "before is required"),
        (b'{"before": "20"}', "before must be an integer"),
        (b'{"before": true}', "before must be an integer"),
        (b'{"before": 2.5}', "before must be an integer"),
        (b'{"before": -1}', "before must be between 0 and 4611686018427387904"),
    ],
)
async def test_bad_compaction_bodies_are_400(
    http_client: AcmeHttpClient, body: bytes, message: str
) -> None:
    with pytest.raises(MaxError) as caught:
        await http_client.request("POST", "/api/changes/compact", content=body)
    assert caught.value.data["status"] == 400
    assert caught.value.data["body"] == json.dumps({"error": message}, separators=(",", ":"))
    assert (await http_client.stats())["changelogSize"] == SEEDED_EVENTS


async def test_the_in_process_client_compacts_too(acme_client: AcmeInProcessClient) -> None:
    assert await acme_client.compact_changes(11) == {"dropped": 10, "oldestAvailable": 11}
    with pytest.raises(MaxError) as caught:
        await acme_client.get_changes(since=9)
    assert ErrCursorExpired.matches(caught.value)
    assert http_status_of(caught.value) == 410
    assert caught.value.message == (
        "Cursor 9 is older than the retained changelog (oldest available: 11)"
    )
    assert (await acme_client.get_changes(since=10, limit=1))["events"][0]["sequence"] == 11


async def test_webhook_cursors_do_not_restart_after_an_emptying_compaction(
    tenant: Tenant,
) -> None:
    tenant.seed()
    tenant.compact_changes(SEEDED_EVENTS + 1)
    assert tenant.last_sequence() == SEEDED_EVENTS
    cursors: list[int] = []
    tenant.on_webhook(lambda payload: cursors.append(payload["cursor"]))
    tenant.create(WorkspaceInput(name="W"))
    assert cursors == [SEEDED_EVENTS + 1]


def test_the_horizon_survives_reopening_a_tenant_file(tmp_path: Path) -> None:
    with create_tenant("kept", tmp_path) as tenant:
        tenant.seed()
        tenant.compact_changes(SEEDED_EVENTS + 1)
    with open_tenant("kept", tmp_path) as tenant:
        assert tenant.changelog_horizon() == SEEDED_EVENTS
        assert tenant.changes_wire(SEEDED_EVENTS) == (
            f'{{"events":[],"nextCursor":{SEEDED_EVENTS}}}'
        )
        with pytest.raises(MaxError) as caught:
            tenant.changes_wire(3)
        assert ErrCursorExpired.matches(caught.value)


# -- batch get ---------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", ["workspaces", "users", "projects", "tasks", "files"])
async def test_batch_get_covers_every_collection_and_only_live_entities(
    http_client: AcmeHttpClient, collection: Any
) -> None:
    everything = (await http_client.list_page(collection, limit=100)).items
    wanted = [*[e["id"] for e in everything][::-1][:4], f"{collection}_unknown"]
    got = await http_client.request_json(
        "GET", f"/api/{collection}", params={"ids": ",".join(wanted)}
    )
    assert got == [e for e in everything if e["id"] in wanted]
    await http_client.request("DELETE", f"/api/{collection}/{got[0]['id']}")
    after = await http_client.request_json(
        "GET", f"/api/{collection}", params={"ids": ",".join(wanted)}
    )
    assert after == got[1:]


async def test_batch_get_pages_with_limit_and_cursor(http_client: AcmeHttpClient) -> None:
    tasks = await http_client.list_tasks()
    wanted = [t["id"] for t in tasks[::3]]  # 10 of 30
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"ids": ",".join(wanted), "limit": 4, **({"cursor": cursor} if cursor else {})}
        response = await http_client.request("GET", "/api/tasks", params=params)
        seen += json.loads(response.content)
        pages += 1
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            break
    assert pages == 3
    assert [t["id"] for t in seen] == wanted


async def test_batch_get_sees_updates_and_refuses_too_many_ids(
    http_client: AcmeHttpClient,
) -> None:
    task = (await http_client.list_tasks())[0]
    await http_client.update_task(
        task["id"], TaskPatch(last_modified_by_id=task["createdById"], description=None)
    )
    (got,) = await http_client.get_many("tasks", [task["id"]])
    assert got["description"] is None and got["updatedAt"] >= task["updatedAt"]
    assert MAX_IDS == 1000
    at_most = ",".join(f"tsk_{i}" for i in range(MAX_IDS))
    assert await http_client.request_json("GET", "/api/tasks", params={"ids": at_most}) == []
    with pytest.raises(MaxError) as caught:
        await http_client.request("GET", "/api/tasks", params={"ids": at_most + ",tsk_x"})
    assert caught.value.data["status"] == 400


async def test_compaction_over_a_file_tenant_served_over_http(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    served = create_tenant("served", tmp_path)
    served.seed()
    server: AcmeServer = await nursery.start(serve_acme, served)
    async with AcmeHttpClient(server.url, server.api_key) as client:
        await client.compact_changes(40)
    with open_tenant("served", tmp_path) as other:
        assert other.changelog_horizon() == 39
        assert other.stats()["changelogSize"] == SEEDED_EVENTS - 39
