"""Reading a ``data.db`` as plain rows, and what it should hold for a given Acme upstream.

Everything here opens the file with its own apsw connection (as another process would), so a
check sees exactly what is committed — after a SIGKILL too (SQLite recovers the WAL on open).

Rows are compared in their SQL form: ``{table: {id: (column, …)}}`` for every entity table
(every table not named ``_max_…``), with the connector's mapping (spec acme-and-connectors
§2.2): a user's ``active`` is ``0``/``1``, a project's ``owner`` is the user id, an empty or
null ``description`` is NULL, a task's ``assignee`` is never loaded (NULL).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import apsw
import attrs

from maxtrio.acme import AcmeHttpClient, Project, Task, User, Workspace

Row = tuple[Any, ...]
Tables = dict[str, dict[str, Row]]

WORKSPACE_TABLE = "_acme_workspace"
USER_TABLE = "_acme_user"
PROJECT_TABLE = "_acme_project"
TASK_TABLE = "_acme_task"
ROOT_TABLE = "_acme_root"
ENTITY_TABLES = (ROOT_TABLE, WORKSPACE_TABLE, USER_TABLE, PROJECT_TABLE, TASK_TABLE)


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
            if not name.startswith("_max_") and not name.startswith("sqlite_")
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

    @classmethod
    async def fetch(cls, url: str, api_key: str) -> Upstream:
        """List every workspace, user, project and task over HTTP (the fake's own client)."""
        async with AcmeHttpClient(url, api_key) as client:
            return cls(
                await client.list_workspaces(),
                await client.list_users(),
                await client.list_projects(),
                await client.list_tasks(),
            )

    def tasks_of(self, project_id: str) -> list[Task]:
        return [t for t in self.tasks if t["projectId"] == project_id]


def _text(value: str | None) -> str | None:
    return value or None  # null or empty: not written


def workspace_row(w: Workspace, *, loaded: bool = True) -> Row:
    return (w["id"], w["name"]) if loaded else stub(w["id"], 1)


def user_row(u: User, *, loaded: bool = True) -> Row:
    if not loaded:
        return stub(u["id"], 4)
    return (u["id"], u["displayName"], u["email"], u["role"], int(u["active"]))


def project_row(p: Project, *, loaded: bool = True) -> Row:
    if not loaded:
        return stub(p["id"], 4)
    return (p["id"], p["name"], _text(p["description"]), p["status"], p["ownerId"] or None)


def task_row(t: Task) -> Row:
    return (t["id"], t["title"], _text(t["description"]), t["status"], t["priority"], None)


def stub(entity_id: str, columns: int) -> Row:
    """A row discovered by a collection whose fields were never loaded."""
    return (entity_id, *([None] * columns))


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
    }


def sizes(tables: Tables) -> dict[str, int]:
    return {name: len(rows) for name, rows in tables.items()}
