"""The shape of every ``-o`` format of every command that prints data, in-process against the
synced workspace (read-only) and a fresh one for ``sync``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from .conftest import SHARED_TASKS, AcmeService, Synced, connect_args, invoke

INST = ["-t", "max://@/shared-ws/acme-1"]
WS = ["-t", "max://@/shared-ws"]


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _ndjson(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def _no_ansi(text: str) -> None:
    assert "\x1b[" not in text


# -- search -----------------------------------------------------------------------------------


async def test_search_text(shared_home: Synced) -> None:
    result = await invoke(*INST, "search", "AcmeUser", "--limit", "2", "--order-by", "email")
    lines = result.out.splitlines()
    assert lines[0] == "AcmeUser: 2 results, more available" and lines[1] == ""
    assert lines[2].split() == [
        "_id",
        "displayName",
        "email",
        "role",
        "active",
        "workspace",
        "createdAt",
        "updatedAt",
    ]
    assert lines[-2].startswith("Next page: --after ") and lines[-1] == "All results: --all"
    _no_ansi(result.out)


async def test_search_json(shared_home: Synced) -> None:
    result = await invoke(*WS, "search", "acme-1", "AcmeTask", "--limit", "5", "-o", "json")
    document = json.loads(result.out)
    assert list(document) == ["type", "data", "hasMore", "cursor"]
    assert document["type"] == "AcmeTask" and document["hasMore"] is True
    assert len(document["data"]) == 5 and all("_id" in row for row in document["data"])
    assert result.out.startswith('{\n  "type": "AcmeTask",\n  "data": [\n    {\n')
    # the cursor continues where the page ended; the pages never overlap
    follow = await invoke(
        *WS, "search", "acme-1", "AcmeTask", "--limit", "5", "--after", document["cursor"],
        "-o", "json",
    )  # fmt: skip
    ids = {row["_id"] for row in document["data"]}
    assert not ids & {row["_id"] for row in json.loads(follow.out)["data"]}


async def test_search_ndjson_single_page_and_stream(shared_home: Synced) -> None:
    single = _ndjson(
        (await invoke(*INST, "search", "AcmeTask", "--limit", "3", "-o", "ndjson")).out
    )
    assert len(single) == 4
    meta = single[-1]["_meta"]
    assert isinstance(meta, dict) and list(meta) == ["type", "hasMore", "cursor", "hint"]
    assert meta["hint"] == "Use --all to stream all results, or --after <cursor> for next page"
    stream = await invoke(*INST, "search", "AcmeTask", "--all", "--limit", "7", "-o", "ndjson")
    rows = _ndjson(stream.out)
    assert len(rows) == SHARED_TASKS and not any("_meta" in r for r in rows)
    assert len({r["_id"] for r in rows}) == SHARED_TASKS


async def test_search_csv_and_table(shared_home: Synced) -> None:
    result = await invoke(
        *INST, "search", "AcmeUser", "--fields", "_id,displayName,active", "-o", "csv"
    )
    rows = _csv(result.out)
    assert list(rows[0]) == ["_id", "displayName", "active"]
    assert {r["active"] for r in rows} <= {"true", "false"}
    paged = await invoke(*INST, "search", "AcmeUser", "--limit", "2", "-o", "csv")
    assert len(_csv(paged.out)) == 2
    assert paged.err.splitlines()[0].startswith("Next page: --after ")  # hints on stderr
    streamed = await invoke(*INST, "search", "AcmeTask", "--all", "--limit", "50", "-o", "csv")
    assert len(_csv(streamed.out)) == SHARED_TASKS  # one header, then every row
    table = await invoke(*INST, "search", "AcmeUser", "--fields", "_id,role", "-o", "table")
    lines = table.out.splitlines()
    assert lines[0].startswith("┌") and lines[1].split("│")[1].strip() == "_id"
    assert lines[-1].startswith("└")
    _no_ansi(table.out)


async def test_search_field_groups_and_filters(shared_home: Synced) -> None:
    meta = _ndjson(
        (await invoke(*INST, "search", "AcmeUser", "--fields", ".meta", "-o", "ndjson")).out
    )
    assert list(meta[0]) == ["_id", "_ref"] and str(meta[0]["_ref"]).startswith("ein:AcmeUser:")
    admins = _ndjson(
        (await invoke(*INST, "search", "AcmeUser", "-f", "role = admin", "-o", "ndjson")).out
    )
    assert admins[:-1] and all(row["role"] == "admin" for row in admins[:-1])
    mixed = await invoke(
        *INST, "search", "AcmeUser", "-f", "role = admin OR role = member AND active = true"
    )
    assert mixed.code == 0 and mixed.err.startswith("Warning: ")
    ordered = _ndjson(
        (
            await invoke(
                *INST, "search", "AcmeTask", "--order-by", "title:desc", "--limit", "20",
                "--fields", "title", "-o", "ndjson",
            )
        ).out
    )[:-1]  # fmt: skip
    titles = [str(r["title"]) for r in ordered]
    assert titles == sorted(titles, reverse=True)


# -- ls, status, schema -----------------------------------------------------------------------


async def test_ls_formats(shared_home: Synced) -> None:
    document = json.loads((await invoke(*WS, "ls", "-o", "json")).out)
    assert document["url"] == "max://@/shared-ws" and document["level"] == "workspace"
    (inst,) = document["installations"]
    assert inst["name"] == "acme-1" and inst["url"] == "max://@/shared-ws/acme-1"
    assert inst["status"] == "healthy" and inst["connector"] == "acme"
    assert _ndjson((await invoke(*WS, "ls", "-o", "ndjson")).out) == [inst]
    rows = _csv((await invoke(*WS, "ls", "-o", "csv")).out)
    assert rows[0]["name"] == "acme-1" and rows[0]["status"] == "healthy"
    table = (await invoke("-g", "ls", "-o", "table")).out
    assert "shared-ws" in table and "max://@/shared-ws" in table
    global_doc = json.loads((await invoke("-g", "ls", "-o", "json")).out)
    assert [w["name"] for w in global_doc["workspaces"]] == ["shared-ws"]


async def test_status_formats_at_every_level(shared_home: Synced) -> None:
    inst = json.loads((await invoke(*INST, "status", "-o", "json")).out)
    assert inst["url"] == "max://@/shared-ws/acme-1" and inst["level"] == "installation"
    assert inst["health"] == {"status": "healthy"} and inst["connector"] == "acme"
    assert (inst["entities"], inst["fields"]) == (6, 43)
    last = inst["lastSync"]
    assert last["status"] == "completed" and last["syncId"].startswith("sync-")
    assert last["entitiesSynced"] == sum(last["entities"].values()) > 0
    assert last["workUnits"]["total"] >= last["workUnits"]["completed"] > 0
    ws = json.loads((await invoke(*WS, "status", "-o", "json")).out)
    assert ws["installations"][0]["lastSync"]["status"] == "completed"
    global_ = json.loads((await invoke("-g", "status", "-o", "json")).out)
    assert global_["workspaces"][0]["url"] == "max://@/shared-ws"
    rows = _csv((await invoke(*WS, "status", "-o", "csv")).out)
    assert rows[0]["name"] == "acme-1" and " completed, " in rows[0]["lastSync"]
    one = _ndjson((await invoke(*INST, "status", "-o", "ndjson")).out)
    assert len(one) == 1 and one[0]["url"] == "max://@/shared-ws/acme-1"
    assert "│ acme-1" in (await invoke(*INST, "status", "-o", "table")).out


async def test_schema_formats(shared_home: Synced) -> None:
    text = (await invoke(*WS, "schema", "acme")).out.splitlines()
    assert text[0] == "Name: acme (6 entities, 1 root)"
    assert text[2] == "Entities:"
    assert (
        "  AcmeUser       (displayName, email, role, active, workspace → AcmeWorkspace, "
        "createdAt, updatedAt)"
    ) in text
    assert "  AcmeProject.files → AcmeFile (many)" in text
    assert "  AcmeTask.assignee → AcmeUser (one)" in text
    assert "  AcmeRoot" in text[text.index("Roots:") :]
    document = json.loads((await invoke(*WS, "schema", "acme", "-o", "json")).out)
    assert list(document) == ["namespace", "entities", "roots", "relationships"]
    user = next(e for e in document["entities"] if e["name"] == "AcmeUser")
    assert {"name": "active", "kind": "scalar", "type": "boolean"} in user["fields"]
    assert {"from": "AcmeTask", "field": "assignee", "to": "AcmeUser", "cardinality": "one"} in (
        document["relationships"]
    )
    line = (await invoke(*INST, "schema", "-o", "ndjson")).out
    assert json.loads(line) == document and len(line.splitlines()) == 1
    rows = _csv((await invoke(*INST, "schema", "-o", "csv")).out)
    assert {"entity": "AcmeTask", "field": "assignee", "kind": "ref", "type": "AcmeUser"} in rows


# -- sync, init, connect -----------------------------------------------------------------------


@pytest.fixture
async def fresh(tmp_path: Path, acme_service: AcmeService) -> Path:
    root = tmp_path / "fresh"
    assert (await invoke("init", str(root), cwd=tmp_path)).code == 0
    assert (await invoke(*connect_args(acme_service), cwd=root)).code == 0
    return root


async def test_sync_formats(fresh: Path) -> None:
    text = await invoke("sync", "acme-1", cwd=fresh)
    lines = text.out.splitlines()
    assert text.code == 0 and lines[0].startswith("Sync completed in ")
    assert lines[0].endswith("ms (sync-1)")
    assert lines[1].startswith("  Entities synced: ") and lines[2].startswith("  Work units:      ")
    assert lines[4] == "  Retries:         0"
    document = json.loads((await invoke("sync", "acme-1", "-o", "json", cwd=fresh)).out)
    assert list(document)[:3] == ["syncId", "status", "durationMs"]
    assert document["retries"] == 0 and document["backoffSeconds"] == 0
    assert document["syncId"] == "sync-2" and document["status"] == "completed"
    line = _ndjson((await invoke("sync", "--all", "-o", "ndjson", cwd=fresh)).out)
    assert line[0]["installation"] == "acme-1" and line[0]["syncId"] == "sync-3"
    many = json.loads((await invoke("sync", "--all", "-o", "json", cwd=fresh)).out)
    assert [r["installation"] for r in many] == ["acme-1"]
    at_installation = await invoke("-t", "acme-1", "sync", cwd=fresh)
    assert at_installation.out.startswith("Sync completed in ")
    every = await invoke("sync", "--all", cwd=fresh)
    assert every.out.startswith("acme-1: Sync completed in ")


async def test_init_and_connect_json(tmp_path: Path, acme_service: AcmeService) -> None:
    init = json.loads((await invoke("init", "j", "-o", "json", cwd=tmp_path)).out)
    assert list(init) == ["url", "id", "name", "root", "dataDir"]
    assert init["url"] == "max://@/j" and init["dataDir"].endswith("/j/.max")
    connect = await invoke(*connect_args(acme_service), "-o", "json", cwd=tmp_path / "j")
    document = json.loads(connect.out)
    assert list(document) == ["url", "id", "name", "connector", "config"]
    assert document["config"]["baseUrl"] == acme_service.url


async def test_a_failed_sync_exits_1_and_lists_its_failures(tmp_path: Path) -> None:
    import trio

    from maxtrio.acme import AcmeServer, Tenant, serve_acme

    root = tmp_path / "failing"
    assert (await invoke("init", str(root), cwd=tmp_path)).code == 0
    with Tenant.in_memory() as tenant:
        tenant.seed()
        async with trio.open_nursery() as upstream:
            server: AcmeServer = await upstream.start(serve_acme, tenant)
            connected = await invoke(
                "connect", "acme", "--config", f"baseUrl={server.url}",
                "--credential", f"api_token={server.api_key}", cwd=root,
            )  # fmt: skip
            assert connected.code == 0, connected
            upstream.cancel_scope.cancel()  # the source goes away before the sync
    result = await invoke("sync", "acme-1", "-o", "json", cwd=root)
    assert result.code == 1
    document = json.loads(result.out)
    assert document["status"] == "failed" and document["workUnits"]["failed"] >= 1
    assert document["failures"][0]["code"] == "connector-acme.connection_failed"
    assert result.err.splitlines()[0] == "Failures:"
    assert result.err.splitlines()[-1] == "Resume with: max sync acme-1 --resume sync-1"
    assert "Could not reach Acme" in result.err and "Traceback" not in result.err
    status = json.loads((await invoke("status", "-o", "json", cwd=root)).out)
    assert status["installations"][0]["lastSync"]["status"] == "failed"
    assert status["installations"][0]["status"] == "unhealthy"


async def test_colour_only_when_asked_and_never_with_no_color(
    shared_home: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = await invoke(*INST, "search", "AcmeUser", "--limit", "1")
    assert "\x1b[" not in plain.out  # stdout is not a terminal
    forced = await invoke(*INST, "search", "AcmeUser", "--limit", "1", "--color")
    assert forced.out.startswith("\x1b[4mAcmeUser\x1b[0m: 1 result, more available")
    as_json = await invoke(*INST, "search", "AcmeUser", "--limit", "1", "--color", "-o", "json")
    assert "\x1b[" not in as_json.out  # JSON never carries ANSI codes
    error = await invoke(*INST, "search", "Nope", "--color")
    assert error.err.startswith("\x1b[31mError\x1b[0m: Unknown entity type")
    monkeypatch.setenv("NO_COLOR", "1")
    refused = await invoke(*INST, "search", "AcmeUser", "--limit", "1", "--color")
    assert "\x1b[" not in refused.out + refused.err
