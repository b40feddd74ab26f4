"""Reading a ``data.db`` as plain rows, and what it should hold for a given Acme upstream.

Everything here opens the file with its own apsw connection (as another process would), so a
check sees exactly what is committed — after a SIGKILL too (SQLite recovers the WAL on open).

Rows are compared in their SQL form: ``{table: {id: (column, …)}}`` for every entity table
(every table not named ``_max_…``), with the connector's mapping: every field the API returns,
a boolean as ``0``/``1``, a ref as the id it names (``assigneeId`` → ``assignee``), ``null`` as
NULL and ``""`` as ``""``, a date as the storage's canonical text (``2026-03-10T00:00:00.000Z``),
a task's ``tags`` as its compact JSON array, a file's ``sizeBytes`` as a REAL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import apsw
import attrs

from maxtrio.acme import AcmeHttpClient, File, Project, Task, User, Workspace
from maxtrio.storage import format_date, is_text_index_table, parse_date

Row = tuple[Any, ...]
Tables = dict[str, dict[str, Row]]

WORKSPACE_TABLE = "_acme_workspace"
USER_TABLE = "_acme_user"
PROJECT_TABLE = "_acme_project"
TASK_TABLE = "_acme_task"
FILE_TABLE = "_acme_file"
ROOT_TABLE = "_acme_root"
ENTITY_TABLES = (ROOT_TABLE, WORKSPACE_TABLE, USER_TABLE, PROJECT_TABLE, TASK_TABLE, FILE_TABLE)


def _connect(path: Path) -> apsw.Connection:
    return apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READWRITE)


#: The sync-state columns every entity table ends with (when and which sync wrote the row).
SYNC_STATE_COLUMNS = ("_synced_at", "_synced_mask", "_seen")


def entity_columns(conn: apsw.Connection, table: str) -> list[str]:
    """The entity columns of ``table`` (``_id`` first), without the sync-state columns."""
    return [
        row[1]
        for row in conn.execute(f'PRAGMA table_info("{table}")')
        if row[1] not in SYNC_STATE_COLUMNS
    ]


def entity_tables(path: Path) -> Tables:
    """Every row of every entity table of ``path``, by table and id, entity columns only
    (``_max_*`` tables and the rows' sync-state columns left out)."""
    conn = _connect(path)
    try:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if not name.startswith("_max_")
            and not name.startswith("sqlite_")
            and not is_text_index_table(name)
        ]
        out: Tables = {}
        for name in names:
            columns = ", ".join(f'"{c}"' for c in entity_columns(conn, name))
            rows = conn.execute(f'SELECT {columns} FROM "{name}"')
            out[name] = {row[0]: tuple(row) for row in rows}
        return out
    finally:
        conn.close()


def integrity_check(path: Path) -> str:
    """``PRAGMA integrity_check`` of ``path``: ``"ok"`` for a sound file."""
    conn = _connect(path)
    try:
        return "\n".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def sync_records(path: Path) -> list[tuple[str, str]]:
    """``(id, status)`` of every sync in ``_max_sync``, oldest first (none before it exists)."""
    conn = _connect(path)
    try:
        if not list(conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_max_sync'")):
            return []
        return [(i, s) for i, s in conn.execute("SELECT id, status FROM _max_sync ORDER BY rowid")]
    finally:
        conn.close()


# -- the upstream side ----------------------------------------------------------------------------


@attrs.frozen
class Upstream:
    """Every entity the Acme API serves, as its wire JSON."""

    workspaces: list[Workspace]
    users: list[User]
    projects: list[Project]
    tasks: list[Task]
    files: list[File]

    @classmethod
    async def fetch(cls, url: str, api_key: str) -> Upstream:
        """List every workspace, user, project, task and file over HTTP (the fake's own
        client)."""
        async with AcmeHttpClient(url, api_key) as client:
            return cls(
                await client.list_workspaces(),
                await client.list_users(),
                await client.list_projects(),
                await client.list_tasks(),
                await client.list_files(),
            )

    def tasks_of(self, project_id: str) -> list[Task]:
        return [t for t in self.tasks if t["projectId"] == project_id]

    def files_of(self, project_id: str) -> list[File]:
        return [f for f in self.files if f["projectId"] == project_id]


def date_text(value: str | None) -> str | None:
    """A date as stored: the canonical ISO text, or NULL."""
    return None if value is None else format_date(parse_date(value))


def workspace_row(w: Workspace) -> Row:
    return (w["id"], w["name"], date_text(w["createdAt"]), date_text(w["updatedAt"]))


def user_row(u: User) -> Row:
    return (
        u["id"],
        u["displayName"],
        u["email"],
        u["role"],
        int(u["active"]),
        u["workspaceId"],
        date_text(u["createdAt"]),
        date_text(u["updatedAt"]),
    )


def project_row(p: Project) -> Row:
    return (
        p["id"],
        p["name"],
        p["description"],
        p["status"],
        p["ownerId"],
        p["workspaceId"],
        date_text(p["createdAt"]),
        date_text(p["updatedAt"]),
    )


def task_row(t: Task) -> Row:
    return (
        t["id"],
        t["title"],
        t["description"],
        t["status"],
        t["priority"],
        t["assigneeId"],
        t["projectId"],
        t["createdById"],
        t["lastModifiedById"],
        date_text(t["dueDate"]),
        date_text(t["completedAt"]),
        date_text(t["createdAt"]),
        date_text(t["updatedAt"]),
        json.dumps(t["tags"], separators=(",", ":"), ensure_ascii=False),
    )


def file_row(f: File) -> Row:
    return (
        f["id"],
        f["name"],
        f["mimeType"],
        float(f["sizeBytes"]),
        f["projectId"],
        f["createdById"],
        f["lastModifiedById"],
        date_text(f["createdAt"]),
        date_text(f["updatedAt"]),
    )


def by_id(rows: Iterable[Row]) -> dict[str, Row]:
    return {row[0]: row for row in rows}


def expected_tables(upstream: Upstream) -> Tables:
    """What a completed sync of ``upstream`` leaves in the entity tables: that, nothing else."""
    return {
        ROOT_TABLE: {"root": ("root",)},
        WORKSPACE_TABLE: by_id(map(workspace_row, upstream.workspaces)),
        USER_TABLE: by_id(map(user_row, upstream.users)),
        PROJECT_TABLE: by_id(map(project_row, upstream.projects)),
        TASK_TABLE: by_id(map(task_row, upstream.tasks)),
        FILE_TABLE: by_id(map(file_row, upstream.files)),
    }


def sizes(tables: Tables) -> dict[str, int]:
    return {name: len(rows) for name, rows in tables.items()}
