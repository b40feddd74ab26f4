"""``max mcp`` as a real process, driven by the MCP SDK's own stdio client (and, for
malformed input, by raw JSON-RPC lines): every tool against a workspace connected to the Acme
fake, tool errors with the CLI's messages, protocol errors that leave the server serving.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from .conftest import MAX, SHARED_TASKS, AcmeService, Synced, connect_args, max_proc

TOOLS = {
    "list_installations",
    "describe_schema",
    "search",
    "text_search",
    "sql",
    "sync",
    "sync_status",
}


@asynccontextmanager
async def mcp_session(
    cwd: Path, home: Path, *args: str, errlog: Path
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=MAX,
        args=[*args, "mcp"],
        cwd=str(cwd),
        env={"MAX_HOME": str(home), "MAX_NO_DAEMON": "1"},
    )
    with errlog.open("w") as log, trio.fail_after(120):
        async with (
            stdio_client(params, errlog=log) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


async def call(session: ClientSession, name: str, **arguments: Any) -> Any:
    result = await session.call_tool(name, arguments)
    assert not result.is_error, result.content
    text = result.content[0].text  # type: ignore[union-attr]
    return json.loads(text)


async def call_error(session: ClientSession, name: str, **arguments: Any) -> str:
    result = await session.call_tool(name, arguments)
    assert result.is_error, result
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert text.startswith("Error: "), text
    return text


@pytest.fixture
async def fresh(tmp_path: Path, acme_service: AcmeService) -> tuple[Path, Path]:
    """A workspace connected to the Acme fake and never synced: (root, MAX_HOME)."""
    home, root = tmp_path / "home", tmp_path / "agents-ws"
    assert (await max_proc("init", str(root), cwd=tmp_path, home=home)).code == 0
    connected = await max_proc(*connect_args(acme_service, "--no-input"), cwd=root, home=home)
    assert connected.code == 0, connected
    return root, home


async def test_workspace_tools_end_to_end(fresh: tuple[Path, Path], tmp_path: Path) -> None:
    root, home = fresh
    async with mcp_session(root, home, errlog=tmp_path / "mcp.err") as session:
        listed = await session.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS
        installations = await call(session, "list_installations")
        assert installations["level"] == "workspace"
        assert [i["name"] for i in installations["installations"]] == ["acme-1"]
        schema = await call(session, "describe_schema")
        (entry,) = schema["installations"]
        task = next(e for e in entry["schema"]["entities"] if e["name"] == "AcmeTask")
        assert {"name": "assignee", "kind": "ref", "target": "AcmeUser"} in task["fields"]

        nothing = await call_error(session, "sql", query='select * from "acme-1".AcmeTask')
        assert "no such table" in nothing  # never synced: nothing attached yet
        never = await call(session, "sync_status", installation="acme-1")
        assert never["status"] == "never synced"
        started = await call(session, "sync", installation="acme-1")
        sync_id = started["syncId"]
        with trio.fail_after(60):
            while not (status := await call(
                session, "sync_status", installation="acme-1", sync_id=sync_id
            ))["done"]:  # fmt: skip
                await trio.sleep(0.2)
        assert status["status"] == "completed", status

        first = await call(
            session, "search", installation="acme-1", entity="AcmeTask",
            filter="status = todo", fields="title,status", order_by="title", limit=5,
        )  # fmt: skip
        assert first["type"] == "AcmeTask" and first["hasMore"] is True
        assert len(first["data"]) == 5
        assert all(row == {"title": row["title"], "status": "todo"} for row in first["data"])
        second = await call(
            session, "search", installation="acme-1", entity="AcmeTask",
            filter="status = todo", fields="title,status", order_by="title", limit=5,
            cursor=first["cursor"],
        )  # fmt: skip
        titles = [r["title"] for r in first["data"] + second["data"]]
        assert titles == sorted(titles) and len(set(titles)) == 10

        counted = await call(session, "sql", query='select count(*) as n from "acme-1".AcmeTask')
        assert counted["rows"] == [{"n": SHARED_TASKS}]
        todo = await call(
            session, "sql",
            query="select count(*) as n from \"acme-1\".AcmeTask where status = 'todo'",
        )  # fmt: skip
        everything = await call(
            session, "search", installation="acme-1", entity="AcmeTask",
            filter="status = todo", fields="_id", limit=1000,
        )  # fmt: skip
        assert todo["rows"] == [{"n": len(everything["data"])}]

        one = await call(
            session, "search", installation="acme-1", entity="AcmeTask", fields="title", limit=1
        )
        word = max((w for w in one["data"][0]["title"].lower().split() if w.isalpha()), key=len)
        found = await call(
            session, "text_search", installation="acme-1", entity="AcmeTask", text=word,
            fields="title,description,status,priority,tags", limit=20,
        )  # fmt: skip
        assert found["data"], word
        for row in found["data"]:
            assert word in " ".join(str(v) for v in row.values()).lower(), (word, row)
        narrowed = await call(
            session, "text_search", installation="acme-1", entity="AcmeTask", text=word,
            filter="status = todo", fields="status", limit=1000,
        )  # fmt: skip
        assert all(row == {"status": "todo"} for row in narrowed["data"])
        broken = await call_error(
            session, "text_search", installation="acme-1", entity="AcmeTask", text='"unclosed'
        )
        assert broken.startswith("Error: Invalid text query"), broken
        assert "unterminated string" in broken.splitlines()[0]

        refused = await call_error(session, "sql", query='delete from "acme-1"._acme_task')
        assert "read-only" in refused.splitlines()[0]
        unknown = await call_error(session, "search", installation="acme-1", entity="Nope")
        assert unknown.startswith('Error: Unknown entity type "Nope"')
        assert "\n  Hint: max schema" in unknown
        missing = await call_error(session, "search", entity="AcmeTask")
        assert "installation" in missing
        bad_filter = await call_error(
            session, "search", installation="acme-1", entity="AcmeTask", filter="status ="
        )
        assert len(bad_filter.splitlines()[0]) > len("Error: ")
        nowhere = await call_error(session, "sync_status", installation="nope")
        assert "nope" in nowhere
        # after every error the server still answers
        assert (await call(session, "list_installations"))["installations"]


async def test_installation_level(synced: Synced, tmp_path: Path) -> None:
    async with mcp_session(
        synced.root, synced.home, "-t", "acme-1", errlog=tmp_path / "mcp.err"
    ) as session:
        listed = await call(session, "list_installations")
        assert listed["level"] == "installation"
        page = await call(session, "search", entity="AcmeUser", fields="email", limit=3)
        assert len(page["data"]) == 3 and set(page["data"][0]) == {"email"}
        rows = await call(session, "sql", query="select count(*) as n from AcmeTask", limit=0)
        assert rows == {"columns": ["n"], "rows": [{"n": SHARED_TASKS}], "truncated": False}
        other = await call_error(session, "search", installation="acme-9", entity="AcmeUser")
        assert other.startswith("Error: Installation not found: acme-9")


async def test_malformed_requests_get_protocol_errors(synced: Synced, tmp_path: Path) -> None:
    lines = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "this is not JSON",
        {"jsonrpc": "2.0", "id": 2, "method": "bogus/method"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call"},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "sql"}},
        {"jsonrpc": "2.0", "id": 5, "method": "tools/list"},
    ]
    payload = "".join(
        (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines
    ).encode()
    env = {"MAX_HOME": str(synced.home), "MAX_NO_DAEMON": "1", "PATH": "/usr/bin:/bin"}
    responses: dict[int, Any] = {}
    with trio.fail_after(60):
        process = await trio.lowlevel.open_process(
            [MAX, "mcp"], cwd=str(synced.root), env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        await process.stdin.send_all(payload)
        buffer = b""
        while not {2, 3, 4, 5} <= set(responses):  # stdin stays open until every answer came
            chunk = await process.stdout.receive_some()
            assert chunk, f"the server stopped; answers so far: {responses}"
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                message = json.loads(line)
                responses[message["id"]] = message
        await process.stdin.aclose()
        assert await process.wait() == 0
    assert responses[2]["error"]["code"] == -32601
    assert responses[3]["error"]["code"] == -32602
    assert responses[4]["result"]["isError"] is True
    assert {t["name"] for t in responses[5]["result"]["tools"]} == TOOLS


async def test_llm_bootstrap_teaches_sql_text_search_and_the_mcp_configuration(
    synced: Synced,
) -> None:
    result = await max_proc("llm-bootstrap", cwd=synced.root, home=synced.home)
    assert result.code == 0, result
    assert '"mcpServers": {"max": {"command": "max", "args": ["-t", "my-project", "mcp"]}}' in (
        result.out
    )
    assert "max -t acme-1 sql" in result.out
    assert "`max mcp [OPTIONS]`" in result.out  # the generated command reference
    assert "`max sql [OPTIONS] SQL`" in result.out
    assert "--text WORDS" in result.out and "`text_search`" in result.out  # full-text search
