"""The tools ``max mcp`` offers, built on the CLI's own machinery, for one resolved target.

:class:`MaxTools` answers at the level ``max mcp`` was started at: a workspace (tools take an
``installation`` name) or one installation (``installation`` may be left out). Every tool
returns a JSON-ready ``dict`` — the shapes of the matching ``max … -o json`` — and every
failure is a :class:`maxtrio.core.MaxError` whose one-line message (and hint) is what the CLI
prints; :func:`tool_error_text` renders it for the MCP tool error.

Nothing here imports the ``mcp`` SDK: ``_mcp_server`` registers these methods with it.
"""

from __future__ import annotations

from typing import Any

from maxtrio.core import MaxError

from ._cmd_schema import SchemaReport
from ._cmd_search import SINGLE_PAGE_LIMIT, prepare_search
from ._cmd_sql import DEFAULT_ROW_LIMIT, query_sql
from ._errors import ErrInvalidOption, error_lines
from ._output import PLAIN
from ._printers import json_value
from ._search_output import json_document

DEFAULT_SEARCH_LIMIT = 100


def tool_error_text(exc: MaxError) -> str:
    """``Error: <message>`` and, when the error has one, ``  Hint: <hint>`` — as the CLI."""
    return "\n".join(error_lines(exc, PLAIN, debug=False))


class MaxTools:
    """The tool bodies for one resolved target (``maxtrio.cli._targeting.Target``)."""

    def __init__(self, target: Any) -> None:
        self.target = target

    @property
    def level(self) -> str:
        return str(self.target.level)

    async def _node(self, installation: str | None) -> Any:
        """The live installation a tool is about."""
        from maxtrio.federation import ErrInstallationNotFound

        here = self.target.installation
        if here is not None:
            if installation and installation not in (here.name, here.id):
                raise ErrInstallationNotFound(
                    installation=installation,
                    hint=f"this server serves the installation {here.name} only",
                )
            return here
        if not installation:
            raise ErrInvalidOption(
                option="installation",
                reason="required at the workspace level (list_installations names them)",
            )
        return await self.target.require_workspace().installation(installation)

    async def list_installations(self) -> dict[str, Any]:
        here = self.target.installation
        if here is not None:
            infos = [here.info]
        else:
            infos = await self.target.require_workspace().list_installations()
        return {
            "level": self.level,
            "url": str(self.target.url),
            "installations": [
                {"name": i.name, "id": i.id, "connector": i.connector} for i in infos
            ],
        }

    async def describe_schema(self, installation: str | None = None) -> dict[str, Any]:
        if self.target.installation is not None or installation:
            node = await self._node(installation)
            pairs = [(node.name, node.schema)]
        else:
            workspace = self.target.require_workspace()
            pairs = [
                (i.name, workspace.connector_schema(i.connector))
                for i in await workspace.list_installations()
            ]
        return {
            "installations": [
                {"name": name, "schema": SchemaReport(schema).document()} for name, schema in pairs
            ]
        }

    async def search(
        self,
        entity: str,
        installation: str | None = None,
        filter: str | None = None,
        order_by: str | None = None,
        fields: str | None = None,
        limit: int = DEFAULT_SEARCH_LIMIT,
        cursor: str | None = None,
        text: str | None = None,
    ) -> dict[str, Any]:
        if not 0 <= limit <= SINGLE_PAGE_LIMIT:
            raise ErrInvalidOption(option="limit", reason=f"must be 0 to {SINGLE_PAGE_LIMIT}")
        node = await self._node(installation)
        search = prepare_search(
            node, entity, filter_text=filter, order_by=order_by, fields=fields, text=text
        )
        page = await search.page(node, cursor, limit)
        document: dict[str, Any] = json_value(json_document(page))
        if search.warning:
            document["warning"] = search.warning
        return document

    async def text_search(
        self,
        entity: str,
        text: str,
        installation: str | None = None,
        filter: str | None = None,
        fields: str | None = None,
        limit: int = DEFAULT_SEARCH_LIMIT,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """A full-text search: ``search`` with ``text``, best match first."""
        return await self.search(
            entity, installation, filter, None, fields, limit, cursor, text=text
        )

    async def sql(
        self,
        query: str,
        timeout: float = 30.0,  # noqa: ASYNC109 - the tool's argument: seconds for SQLite
        limit: int = DEFAULT_ROW_LIMIT,
    ) -> dict[str, Any]:
        if not timeout > 0:
            raise ErrInvalidOption(option="timeout", reason="must be > 0 seconds")
        if limit < 0:
            raise ErrInvalidOption(option="limit", reason="must be ≥ 0 (0: every row)")
        result = await query_sql(self.target, query, time_limit=timeout, limit=limit)
        document = {"columns": list(result.columns), "rows": result.records()}
        return {**json_value(document), "truncated": result.truncated}

    async def sync(self, installation: str | None = None) -> dict[str, Any]:
        node = await self._node(installation)
        handle = await node.start_sync()
        return {"installation": node.name, "syncId": handle.id, "status": handle.status().value}

    async def sync_status(
        self, installation: str | None = None, sync_id: str | None = None
    ) -> dict[str, Any]:
        from maxtrio.federation import ErrSyncHandleNotFound

        node = await self._node(installation)
        handle = node.sync_handle(sync_id) if sync_id else None
        if handle is not None:
            stats = handle.statistics()
            return {
                "installation": node.name,
                "syncId": handle.id,
                "status": stats.status.value,
                "done": handle.done,
                "tasksCompleted": stats.tasks_completed,
                "tasksFailed": stats.tasks_failed,
            }
        if sync_id is None:
            summary = await node.last_sync()
            if summary is None:
                return {"installation": node.name, "syncId": None, "status": "never synced"}
            return {"installation": node.name, **summary.to_json(), "done": handle_done(summary)}
        for record in await node.sync_history(100):
            if record.id == sync_id:
                return {
                    "installation": node.name,
                    "syncId": record.id,
                    "status": record.status.value,
                    "mode": record.mode.value,
                    "done": handle_done(record),
                }
        raise ErrSyncHandleNotFound(syncId=sync_id, hint="the sync tool returns the id to ask for")


def handle_done(record: Any) -> bool:
    """Whether a recorded sync has stopped (anything but running or paused)."""
    return str(record.status.value) not in ("running", "paused")
