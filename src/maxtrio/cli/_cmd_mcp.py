"""``max mcp`` — a Model Context Protocol server over stdio for this workspace or installation.

Built on the official ``mcp`` SDK (``MCPServer``, its stdio transport). The SDK runs on anyio,
and anyio runs on whichever event loop calls it — here trio, the loop of every ``max``
command — so the server, the tools and the CLI machinery they reuse share one trio loop: no
second loop, no thread hops other than the SDK's stdin/stdout file wrappers. While serving,
the SDK points fd 1 at stderr, so nothing but protocol messages reaches stdout.

Tools (``_mcp_tools.MaxTools``): ``list_installations``, ``describe_schema``, ``search``,
``text_search``, ``sql``, ``sync``, ``sync_status``. A failing tool is an MCP tool error
(``isError``) carrying the CLI's one-line message and hint (``Error: …`` / `` Hint: …``);
malformed requests get JSON-RPC protocol errors and the server keeps serving. It stops when the
client closes stdin (or on Ctrl-C / SIGTERM); syncs it started stop as ``interrupted``
(resumable with ``max sync --resume``).

The launcher never forwards ``max mcp`` to a workspace daemon: it is a server of its own.
"""

from __future__ import annotations

from typing import Any

import asyncclick as click

from ._session import debug_option, session

SERVER_NAME = "max"

INSTRUCTIONS = """\
Max mirrors SaaS data into local SQLite; these tools query it locally (fast, no rate limits).
Start with list_installations and describe_schema. search takes the filter language of
`max search` (e.g. "status = todo AND priority = high"), order_by ("title:desc"), fields
("title,status") and a cursor from the previous page; text_search finds words in the text
fields, best match first. sql runs read-only SQLite: one view per
entity named after it (AcmeTask) with the fields as columns, refs as ids; at the workspace
level qualify by installation ("acme-1".AcmeTask). Never start a sync unless the user asked.
"""


def build_server(target: Any) -> Any:
    """An ``MCPServer`` whose tools answer for ``target`` (a resolved workspace/installation)."""
    from mcp.server.mcpserver import MCPServer
    from mcp_types import CallToolResult, TextContent, ToolAnnotations

    from maxtrio.core import MaxError

    from ._mcp_tools import MaxTools, tool_error_text

    tools = MaxTools(target)
    server: Any = MCPServer(
        SERVER_NAME, instructions=INSTRUCTIONS, log_level="WARNING", version=_version()
    )
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def register(name: str, body: Any, description: str, annotations: Any = read_only) -> None:
        async def call(**arguments: Any) -> Any:
            try:
                return await body(**arguments)
            except MaxError as exc:  # the CLI's lines, as they are (no SDK prefix)
                text = TextContent(type="text", text=tool_error_text(exc))
                return CallToolResult(content=[text], is_error=True)

        _copy_signature(call, body)
        server.add_tool(call, name=name, description=description, annotations=annotations)

    register(
        "list_installations",
        tools.list_installations,
        "The installations (connected sources) this server answers for: name, id, connector.",
    )
    register(
        "describe_schema",
        tools.describe_schema,
        "Entity types, their fields (kind scalar with a type, or ref/collection with a target) "
        "and relationships, per installation (all of them when installation is omitted).",
    )
    register(
        "search",
        tools.search,
        "One page of an entity type's rows, like `max search -o json`: filter "
        '("status = todo AND priority = high"; ops = != > >= < <= ~=), order_by ("title:desc"), '
        'fields ("title,status" or .all), limit (≤ 1000), cursor (from the previous page). '
        "Returns {type, data, hasMore, cursor}.",
    )
    register(
        "text_search",
        tools.text_search,
        "Full-text search of an entity type's text fields, best match first (bm25): text in "
        'FTS5 syntax (words, "a phrase", OR, NOT, prefix*), with search\'s filter, fields, '
        "limit and cursor. Returns {type, data, hasMore, cursor}.",
    )
    register(
        "sql",
        tools.sql,
        "Read-only SQLite over the local data, like `max sql -o json`. Views per entity named "
        'after it (AcmeTask; at the workspace level "acme-1".AcmeTask) with _id and the fields '
        "as columns, refs as ids. Returns {columns, rows, truncated}; timeout in seconds.",
    )
    register(
        "sync",
        tools.sync,
        "Start a sync of an installation from its upstream source in the background; returns "
        "its syncId at once (poll sync_status). Only when the user asked for fresh data.",
        ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True),
    )
    register(
        "sync_status",
        tools.sync_status,
        "The status of a sync (by syncId from the sync tool), or of the installation's last "
        "sync when sync_id is omitted.",
    )
    return server


def _copy_signature(wrapper: Any, body: Any) -> None:
    """Give ``wrapper`` the parameters of ``body`` (the SDK builds the input schema from them)."""
    import inspect
    import typing

    wrapper.__signature__ = inspect.signature(body)
    hints = typing.get_type_hints(body)
    wrapper.__annotations__ = {**hints, "return": dict[str, Any]}
    wrapper.__doc__ = body.__doc__


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("maxtrio")
    except PackageNotFoundError:
        return "0"


@click.command(name="mcp")
@debug_option
async def mcp_command() -> None:
    """Serve this workspace (or installation) to MCP clients over stdio.

    Tools: list_installations, describe_schema, search, text_search, sql (read-only), sync,
    sync_status.
    An MCP client starts it as a subprocess; configure it with the command max, the
    arguments mcp (add -t <workspace> to name the workspace) — see max llm-bootstrap.

    \b
    Examples:
      max mcp                               # in a workspace directory
      max -t my-project mcp                 # a workspace by name, from anywhere
      max -t my-project/acme-1 mcp          # one installation
      {"mcpServers": {"max": {"command": "max", "args": ["-t", "my-project", "mcp"]}}}
    """
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as resolved:
        server = build_server(resolved)
        await server.run_stdio_async()
