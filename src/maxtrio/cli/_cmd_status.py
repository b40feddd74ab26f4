"""``max status`` — health of the target and its children, and the last sync.

Bare ``max`` is ``max status``. Installation level::

    Node: max://@/my-project/acme-1  [installation]

      Connector:  acme
      Status:     ● healthy
      Schema:     5 entities, 18 fields
      Last sync:  2026-03-12T10:35:44Z (sync-3 interrupted, 63 entities synced)
                  Resume with: max -t my-project/acme-1 sync --resume sync-3

An installation on PostgreSQL also shows ``Store:  postgresql://host:port/db`` (``"store"`` in
``-o json``): the store URL without user or password.

Workspace level lists each installation with its health, connector and last sync (and the
resume command of a last sync that was interrupted or failed); global level each workspace
with its health. The last sync is read from the installation's ``data.db`` with the same
reader as ``max sync`` (``maxtrio.sql.read_sync_report``), so ``lastSync`` in ``-o json``
has the fields of ``max sync -o json`` for that sync: ``syncId``, ``status``, ``mode``,
``entitiesSynced`` (rows, each once), ``entities`` (by type), ``workUnits`` (internal tasks,
not rows), ``requests``, ``removed``, ``startedAt``, ``completedAt``. Health is the
connector's own ``health()`` (10 s timeout), aggregated upwards. ``-o json`` carries ``url``
on every object; ``ndjson``, ``csv`` and ``table`` give one row per child (the installation
itself at installation level).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncclick as click

from ._node_text import context_header, health_json, health_label, last_sync_text
from ._output import Style, pad
from ._session import Session, debug_option, output_option, session


class StatusReport:
    ndjson_records = True

    def __init__(self, url: Any, level: str, health: Any) -> None:
        self.url = url
        self.level = level
        self.health = health
        self.children: list[tuple[Any, Any]] = []  # (NodeHealth, SyncReport | None)
        self.installation: dict[str, Any] | None = None  # installation-level details
        self.resume: dict[str, str] = {}  # installation name → the command resuming its sync

    def text(self, style: Style) -> str:
        lines = [context_header(self.url, self.level, style), ""]
        label = health_label(self.health, style)
        if self.installation is not None:
            details = self.installation
            lines += [
                f"  {style.normal('Connector:')}  {details['connector']}",
                f"  {style.normal('Status:')}     {label}",
                f"  {style.normal('Schema:')}     {details['entities']} entities, "
                f"{details['fields']} fields",
                f"  {style.normal('Last sync:')}  {last_sync_text(details['lastSync'])}",
            ]
            if details.get("store"):  # a PostgreSQL store, by its password-free label
                lines.insert(-1, f"  {style.normal('Store:')}      {details['store']}")
            command = self.resume.get(details["name"])
            if command is not None:
                lines.append(f"              Resume with: {command}")
            return "\n".join(lines)
        if self.level == "global":
            lines += [
                f"  {style.normal('Status:')}      {label}",
                f"  {style.normal('Workspaces:')}  {len(self.children)}",
                "",
            ]
            for child, _ in self.children:
                lines.append(f"  {child.name:<20} {health_label(child.health, style)}")
        else:
            lines += [
                f"  {style.normal('Status:')}         {label}",
                f"  {style.normal('Installations:')}  {len(self.children)}",
                "",
            ]
            for child, last in self.children:
                health = pad(health_label(child.health, style), 20)
                synced = style.dim(f"last sync {last_sync_text(last)}")
                lines.append(
                    f"  {child.name:<20} {health} {style.dim(child.connector or '')}  {synced}"
                )
                command = self.resume.get(child.name)
                if command is not None:
                    lines.append(f"  {'':<20} Resume with: {command}")
        return "\n".join(lines).rstrip("\n")

    def _child_json(self, child: Any, last: Any) -> dict[str, Any]:
        out: dict[str, Any] = child.to_json()
        if self.level == "workspace":
            out["lastSync"] = last.to_json() if last is not None else None
        return out

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "url": str(self.url),
            "level": self.level,
            "health": health_json(self.health),
        }
        if self.installation is not None:
            details = dict(self.installation)
            last = details.pop("lastSync")
            document.update(details)
            document["lastSync"] = last.to_json() if last is not None else None
            return document
        key = "workspaces" if self.level == "global" else "installations"
        document[key] = [self._child_json(c, last) for c, last in self.children]
        return document

    def records(self) -> tuple[Sequence[str], Sequence[Mapping[str, Any]]]:
        if self.installation is not None:
            details = self.installation
            last = details["lastSync"]
            row = {
                "name": details["name"],
                "url": str(self.url),
                "connector": details["connector"],
                **health_json(self.health),
                "lastSync": last_sync_text(last) if last is not None else None,
            }
            return ["name", "url", "connector", "status", "reason", "lastSync"], [row]
        rows = []
        for child, last in self.children:
            row = child.to_json()
            if self.level == "workspace":
                row["lastSync"] = last_sync_text(last) if last is not None else None
            rows.append(row)
        columns = ["name", "url", "status", "reason"]
        if self.level == "workspace":
            columns += ["connector", "lastSync"]
        return columns, rows


def _field_count(schema: Any) -> int:
    return sum(len(entity.fields) for entity in schema.entities)


async def _installation_report(run: Session, url: Any, installation: Any) -> StatusReport:
    from ._cmd_sync import sync_report

    report = StatusReport(url, "installation", await installation.health())
    described = installation.describe()
    last = await sync_report(installation, None)
    report.installation = {
        "name": installation.name,
        "id": installation.id,
        "connector": described.get("connector", installation.info.connector),
        "entities": len(installation.schema.entities),
        "fields": _field_count(installation.schema),
        "lastSync": last,
    }
    if installation.store_label is not None:
        report.installation["store"] = installation.store_label
    _remember_resume(run, report, installation.name, last, installation_level=True)
    return report


async def _last_sync(workspace: Any, installation_id: str) -> Any:
    """The installation's last sync; None when it cannot be opened (its health says why)."""
    try:
        return await workspace.last_sync(installation_id)
    except Exception:
        return None


def _remember_resume(
    run: Session, report: StatusReport, name: str, last: Any, *, installation_level: bool
) -> None:
    """The ``--resume`` command of ``name``'s last sync, when it can be resumed."""
    from ._cmd_sync import resume_command

    if last is not None and last.resumable:
        level = True if installation_level else None
        report.resume[name] = resume_command(run, name, last.sync_id, level)


def _status_command(level: str, description: str, examples: str) -> click.Command:
    @click.command(name="status", help=f"{description}\n\n\b\nExamples:\n{examples}")
    @output_option()
    @debug_option
    async def status(output: str) -> None:
        from ._targeting import open_target

        run = session()
        async with open_target(run.targeting) as target:
            if target.installation is not None:
                report = await _installation_report(run, target.url, target.installation)
            elif target.workspace is not None:
                workspace = target.workspace
                report = StatusReport(target.url, "workspace", await workspace.health())
                for child in await workspace.installation_health():
                    last = await _last_sync(workspace, child.id)
                    report.children.append((child, last))
                    _remember_resume(run, report, child.name, last, installation_level=False)
            else:
                global_max = target.global_max
                report = StatusReport(target.url, "global", await global_max.health())
                report.children = [(c, None) for c in await global_max.workspace_health()]
        run.emit(report, output)

    return status


status_global = _status_command(
    "global",
    "Show status of current context (the machine and its workspaces).",
    "  max -g status\n  max -g status -o json",
)
status_workspace = _status_command(
    "workspace",
    "Show status of this workspace.",
    "  max status\n  max -t my-project status -o json",
)
status_installation = _status_command(
    "installation",
    "Show status of this installation (connector, health, schema, last sync).",
    "  max -t my-project/acme-1 status\n  max status -o json",
)
