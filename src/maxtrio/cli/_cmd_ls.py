"""``max ls`` — the children of the target: workspaces (global) or installations (workspace)
(docs/cli.md)::

    Node: max://@/my-project  [workspace]

    Installations:

      NAME    URL                        STATUS
      acme-1  max://@/my-project/acme-1  ● healthy

``  No workspaces.`` / ``  No installations.`` when empty. ``-o json``:
``{"url", "level", "workspaces"|"installations": [{"id", "name", "url", "status", "reason"?,
"connector"?}]}``; ``ndjson``/``csv``/``table``: one row per child.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncclick as click

from ._node_text import context_header, health_label
from ._output import Style
from ._printers import aligned_rows
from ._session import debug_option, output_option, session

COLUMNS = ("name", "url", "status", "reason", "connector", "id")


class ChildrenReport:
    ndjson_records = True

    def __init__(self, url: Any, level: str, kind: str, children: Sequence[Any]) -> None:
        self.url = url
        self.level = level
        self.kind = kind  # "workspaces" or "installations"
        self.children = children

    def text(self, style: Style) -> str:
        lines = [context_header(self.url, self.level, style), ""]
        if not self.children:
            lines.append(f"  No {self.kind}.")
            return "\n".join(lines)
        lines += [style.underline(f"{self.kind.capitalize()}:"), ""]
        rows = [[c.name, str(c.url), health_label(c.health, style)] for c in self.children]
        lines += aligned_rows(["NAME", "URL", "STATUS"], rows, style)
        return "\n".join(lines)

    def document(self) -> dict[str, Any]:
        return {
            "url": str(self.url),
            "level": self.level,
            self.kind: [c.to_json() for c in self.children],
        }

    def records(self) -> tuple[Sequence[str], Sequence[Mapping[str, Any]]]:
        rows = [c.to_json() for c in self.children]
        columns = [c for c in COLUMNS if any(c in row for row in rows)] or list(COLUMNS[:3])
        return columns, rows


@click.command(name="ls")
@output_option()
@debug_option
async def ls_global(output: str) -> None:
    """List children of current context (the registered workspaces).

    \b
    Examples:
      max -g ls
      max -g ls -o json
    """
    from ._targeting import open_global

    run = session()
    async with open_global() as global_max:
        children = await global_max.workspace_health()
        url = global_max.url
    run.emit(ChildrenReport(url, "global", "workspaces", children), output)


@click.command(name="ls")
@output_option()
@debug_option
async def ls_workspace(output: str) -> None:
    """List installations in this workspace.

    \b
    Examples:
      max ls
      max -t my-project ls -o csv
    """
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as target:
        workspace = target.require_workspace()
        children = await workspace.installation_health()
    run.emit(ChildrenReport(workspace.url, "workspace", "installations", children), output)
