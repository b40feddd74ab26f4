"""``max sql`` — read-only SQL over the local data (one installation, or a whole workspace).

Installation level: the installation's ``data.db``, entity views named ``AcmeTask`` (on a
PostgreSQL store, the server runs the statement in a READ ONLY transaction with the same
views). Workspace level: every installation attached read-only under its name (one on PostgreSQL as
virtual tables over its server, read in one snapshot); the views are written
``"acme-1".AcmeTask`` and the raw tables ``"acme-1"._acme_task``. SQLite refuses every write
(``maxtrio.sql``); a statement running past ``--timeout`` is interrupted.

Output: ``text`` aligned columns, ``json`` ``{"columns", "rows": [{…}], "truncated"}``,
``ndjson`` one object per row, ``csv``, ``table``. NULLs are empty cells and are left out of
objects, as everywhere in ``max``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import asyncclick as click

from ._output import Style
from ._session import Session, debug_option, output_option, session

DEFAULT_ROW_LIMIT = 1000


class SqlReport:
    """A result as the five output formats show it."""

    ndjson_records = True

    def __init__(self, result: Any) -> None:
        self.result = result

    def text(self, style: Style) -> str:
        from ._printers import aligned_rows, cell_text

        result = self.result
        if not result.columns:
            return "  No rows."
        rows = [[cell_text(v) for v in row] for row in result.rows]
        lines = aligned_rows(list(result.columns), rows, style)
        if not rows:
            lines.append("  No rows.")
        return "\n".join(lines)

    def document(self) -> dict[str, Any]:
        return {
            "columns": list(self.result.columns),
            "rows": self.result.records(),
            "truncated": self.result.truncated,
        }

    def records(self) -> tuple[Sequence[str], Sequence[Mapping[str, Any]]] | None:
        return list(self.result.columns), self.result.records()


async def sql_sources(
    resolved: Any, *, time_limit: float | None = None, files_only: bool = False
) -> tuple[list[Any], bool]:
    """The :class:`~maxtrio.sql.SqlSource` list of a resolved target and whether it is
    qualified (workspace level). Installations are not opened: only their files are read; at
    the workspace level one without a ``data.db`` yet is left out (its names are unknown), and
    one on PostgreSQL is read from its server (``time_limit`` bounds its statements there) —
    or left out with ``files_only`` (``max browse`` serves files)."""
    from maxtrio.federation import DATA_FILE_NAME, open_table_rows
    from maxtrio.sql import SqlSource

    if resolved.installation is not None:
        node = resolved.installation
        return [SqlSource(node.name, node.info.data_dir / DATA_FILE_NAME, node.schema)], False
    workspace = resolved.require_workspace()
    sources = []
    for info in await workspace.list_installations():
        schema = workspace.connector_schema(info.connector)
        if info.deployment.store is not None:
            if not files_only:
                opener = partial(open_table_rows, info, time_limit=time_limit)
                sources.append(SqlSource(info.name, None, schema, rows=opener))
            continue
        path = info.data_dir / DATA_FILE_NAME
        if path.is_file():  # connected but never opened: nothing to attach yet
            sources.append(SqlSource(info.name, path, schema))
    return sources, True


async def query_sql(resolved: Any, query: str, *, time_limit: float, limit: int) -> Any:
    """Run ``query`` read-only at the resolved target's level → ``SqlResult`` (``limit`` 0:
    every row). ``max sql`` and the MCP ``sql`` tool both come here."""
    import trio

    from maxtrio.sql import ReadOnlySql

    node = resolved.installation
    if (
        node is not None and getattr(node, "store_label", None) is not None
    ):  # PostgreSQL: the server runs it
        return await node.sql_query(query, time_limit=time_limit, limit=limit or None)
    sources, qualified = await sql_sources(resolved, time_limit=time_limit)
    database = await trio.to_thread.run_sync(lambda: ReadOnlySql(sources, qualified=qualified))
    try:
        return await database.execute(query, time_limit=time_limit, limit=limit or None)
    finally:
        database.close()


async def run_sql(
    run: Session, resolved: Any, query: str, *, time_limit: float, limit: int, output: str
) -> None:
    result = await query_sql(resolved, query, time_limit=time_limit, limit=limit)
    run.emit(SqlReport(result), output)
    if result.truncated:
        run.note(f"First {limit} rows shown; --limit 0 for all (or add LIMIT/OFFSET to the query)")


def _check_timeout(_ctx: Any, _param: Any, value: float) -> float:
    if not value > 0:
        raise click.BadParameter("timeout must be > 0 seconds")
    return value


def _check_limit(_ctx: Any, _param: Any, value: int) -> int:
    if value < 0:
        raise click.BadParameter("limit must be ≥ 0 (0: every row)")
    return value


def sql_options(command: Any) -> Any:
    for decorator in reversed(
        [
            click.argument("query", metavar="SQL"),
            click.option(
                "--timeout",
                "time_limit",
                type=float,
                default=30.0,
                show_default=True,
                callback=_check_timeout,
                metavar="SECONDS",
                help="Interrupt the statement after this many seconds.",
            ),
            click.option(
                "--limit",
                type=int,
                default=DEFAULT_ROW_LIMIT,
                show_default=True,
                callback=_check_limit,
                metavar="N",
                help="Print at most N rows (0: every row).",
            ),
            output_option(),
            debug_option,
        ]
    ):
        command = decorator(command)
    return command


async def _run(query: str, **options: Any) -> None:
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as resolved:
        await run_sql(run, resolved, query, **options)


@click.command(name="sql")
@sql_options
async def sql_workspace(query: str, **options: Any) -> None:
    """Run read-only SQL over every installation of this workspace.

    Each installation is attached under its name: entity views are "<installation>".<Entity>
    (columns: _id and the fields as max schema names them, refs as ids, no sync state); raw
    tables are "<installation>"._acme_task. An installation kept on PostgreSQL takes part too:
    its tables are read from the server in one snapshot. Writes, ATTACH and PRAGMA changes
    are refused.

    \b
    Examples:
      max sql 'select title, status from "acme-1".AcmeTask limit 5'
      max sql 'select u.displayName, count(*) from "acme-1".AcmeTask t
               join "acme-1".AcmeUser u on u._id = t.assignee group by 1' -o json
      max sql 'select name from "acme-1".sqlite_master' -o csv
    """
    await _run(query, **options)


@click.command(name="sql")
@sql_options
async def sql_installation(query: str, **options: Any) -> None:
    """Run read-only SQL over this installation's data.

    Entity views are named after the entity types (AcmeTask, AcmeUser …); their columns are
    _id and the fields as max schema names them, refs as the target's id, no sync state. The
    raw tables (_acme_task …) are there too. Writes, ATTACH and PRAGMA changes are refused.

    \b
    Examples:
      max sql "select status, count(*) from AcmeTask group by 1"
      max sql "select title from AcmeTask where assignee = 'usr_1' order by dueDate" -o ndjson
      max sql "pragma table_info(AcmeTask)" -o table
      max sql "select * from AcmeUser" --limit 0 -o csv > users.csv
    """
    await _run(query, **options)
