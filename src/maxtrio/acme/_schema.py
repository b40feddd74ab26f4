"""The tenant database: DDL, and one :class:`Kind` per entity type tying table, route and input.

Every entity table carries a stored generated column ``wire``: the row rendered by SQLite as
the exact JSON object the API returns (camelCase keys, booleans as ``true``/``false``, ``tags``
as an array). Lists, gets and the changelog's create payloads all read that one column, so the
wire shape is written down exactly once and a 1,000-task list is a single
``group_concat`` in C — no per-row Python on the hot path.
"""

from __future__ import annotations

from typing import Final

import attrs

from . import _model as m

SCHEMA_VERSION: Final = 1


def _wire(*pairs: tuple[str, str]) -> str:
    return "json_object(" + ", ".join(f"'{key}', {expr}" for key, expr in pairs) + ")"


def _bool(column: str) -> str:
    return f"json(iif({column}, 'true', 'false'))"


_TIMES = (("createdAt", "created_at"), ("updatedAt", "updated_at"))

WORKSPACE_WIRE: Final = _wire(("id", "id"), ("name", "name"), *_TIMES)
USER_WIRE: Final = _wire(
    ("id", "id"),
    ("workspaceId", "workspace_id"),
    ("email", "email"),
    ("displayName", "display_name"),
    ("role", "role"),
    ("active", _bool("active")),
    *_TIMES,
)
PROJECT_WIRE: Final = _wire(
    ("id", "id"),
    ("workspaceId", "workspace_id"),
    ("name", "name"),
    ("description", "description"),
    ("status", "status"),
    ("ownerId", "owner_id"),
    *_TIMES,
)
TASK_WIRE: Final = _wire(
    ("id", "id"),
    ("projectId", "project_id"),
    ("title", "title"),
    ("description", "description"),
    ("status", "status"),
    ("priority", "priority"),
    ("assigneeId", "assignee_id"),
    ("createdById", "created_by_id"),
    ("lastModifiedById", "last_modified_by_id"),
    ("dueDate", "due_date"),
    ("tags", "json(tags)"),
    ("completedAt", "completed_at"),
    *_TIMES,
)
FILE_WIRE: Final = _wire(
    ("id", "id"),
    ("projectId", "project_id"),
    ("name", "name"),
    ("mimeType", "mime_type"),
    ("sizeBytes", "size_bytes"),
    ("createdById", "created_by_id"),
    ("lastModifiedById", "last_modified_by_id"),
    *_TIMES,
)
CHANGE_EVENT_WIRE: Final = _wire(
    ("sequence", "sequence"),
    ("entityType", "entity_type"),
    ("entityId", "entity_id"),
    ("action", "action"),
    ("payload", "json(payload)"),
    ("timestamp", "timestamp"),
)
HISTORY_ENTRY_WIRE: Final = _wire(
    ("id", "id"),
    ("taskId", "task_id"),
    ("changedById", "changed_by_id"),
    ("changedAt", "changed_at"),
    ("changes", "json(changes)"),
)
WEBHOOK_WIRE: Final = _wire(
    ("id", "id"), ("url", "url"), ("createdAt", "created_at"), ("active", _bool("active"))
)
DELIVERY_WIRE: Final = _wire(
    ("id", "id"),
    ("webhookId", "webhook_id"),
    ("payload", "json(payload)"),
    ("statusCode", "status_code"),
    ("deliveredAt", "delivered_at"),
    ("success", _bool("success")),
)

_LIFE = "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, deleted_at TEXT"

DDL: Final = f"""
CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, {_LIFE},
    wire TEXT GENERATED ALWAYS AS ({WORKSPACE_WIRE}) STORED
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL, display_name TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'member', active INTEGER NOT NULL DEFAULT 1, {_LIFE},
    wire TEXT GENERATED ALWAYS AS ({USER_WIRE}) STORED
);
CREATE INDEX IF NOT EXISTS users_workspace ON users(workspace_id);
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL, description TEXT, status TEXT NOT NULL DEFAULT 'active',
    owner_id TEXT REFERENCES users(id), {_LIFE},
    wire TEXT GENERATED ALWAYS AS ({PROJECT_WIRE}) STORED
);
CREATE INDEX IF NOT EXISTS projects_workspace ON projects(workspace_id);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    title TEXT NOT NULL, description TEXT,
    status TEXT NOT NULL DEFAULT 'todo', priority TEXT NOT NULL DEFAULT 'medium',
    assignee_id TEXT REFERENCES users(id),
    created_by_id TEXT REFERENCES users(id),
    last_modified_by_id TEXT REFERENCES users(id),
    due_date TEXT, tags TEXT NOT NULL DEFAULT '[]', completed_at TEXT, {_LIFE},
    wire TEXT GENERATED ALWAYS AS ({TASK_WIRE}) STORED
);
CREATE INDEX IF NOT EXISTS tasks_project ON tasks(project_id);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL, mime_type TEXT NOT NULL, size_bytes INTEGER NOT NULL,
    created_by_id TEXT REFERENCES users(id),
    last_modified_by_id TEXT REFERENCES users(id), {_LIFE},
    wire TEXT GENERATED ALWAYS AS ({FILE_WIRE}) STORED
);
CREATE INDEX IF NOT EXISTS files_project ON files(project_id);
CREATE TABLE IF NOT EXISTS changelog (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL,
    payload TEXT, timestamp TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS task_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL REFERENCES tasks(id),
    changed_by_id TEXT REFERENCES users(id),
    changed_at TEXT NOT NULL, changes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS task_history_task ON task_history(task_id, id DESC);
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    payload TEXT NOT NULL, status_code INTEGER, delivered_at TEXT NOT NULL,
    success INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key TEXT PRIMARY KEY, created_at TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS tenant_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@attrs.frozen
class Kind:
    """One entity type: its table (= route collection), id prefix, list filter and inputs."""

    entity_type: m.EntityType
    label: str
    """Capitalised name used in messages: ``Task "tsk_…" not found``."""
    table: m.Collection
    prefix: str
    parent: str | None
    """The column a list may be filtered by (``project_id``); its query parameter is camelCase."""
    input_cls: type[m.EntityInput]
    patch_cls: type[m.EntityPatch]
    references: tuple[tuple[str, m.Collection], ...]
    """Columns that name another entity, and the collection they must name a live row of."""
    tracks_modifier: bool
    """True for tasks and files: ``lastModifiedById`` starts as ``createdById``."""


WORKSPACE: Final = Kind(
    "workspace", "Workspace", "workspaces", "ws", None, m.WorkspaceInput, m.WorkspacePatch, (),
    tracks_modifier=False,
)  # fmt: skip
USER: Final = Kind(
    "user", "User", "users", "usr", "workspace_id", m.UserInput, m.UserPatch,
    (("workspace_id", "workspaces"),),
    tracks_modifier=False,
)  # fmt: skip
PROJECT: Final = Kind(
    "project", "Project", "projects", "prj", "workspace_id", m.ProjectInput, m.ProjectPatch,
    (("workspace_id", "workspaces"), ("owner_id", "users")),
    tracks_modifier=False,
)  # fmt: skip
TASK: Final = Kind(
    "task", "Task", "tasks", "tsk", "project_id", m.TaskInput, m.TaskPatch,
    (("project_id", "projects"), ("assignee_id", "users"), ("created_by_id", "users"),
     ("last_modified_by_id", "users")),
    tracks_modifier=True,
)  # fmt: skip
FILE: Final = Kind(
    "file", "File", "files", "fil", "project_id", m.FileInput, m.FilePatch,
    (("project_id", "projects"), ("created_by_id", "users"), ("last_modified_by_id", "users")),
    tracks_modifier=True,
)  # fmt: skip

KINDS: Final[dict[m.Collection, Kind]] = {
    k.table: k for k in (WORKSPACE, USER, PROJECT, TASK, FILE)
}
KIND_OF_INPUT: Final[dict[type, Kind]] = {k.input_cls: k for k in KINDS.values()}
KIND_OF_TYPE: Final[dict[m.EntityType, Kind]] = {k.entity_type: k for k in KINDS.values()}

TASK_TRACKED_FIELDS: Final = (
    "title", "description", "status", "priority", "assignee_id", "due_date", "tags",
)  # fmt: skip
"""Task fields whose changes are recorded in the changelog payload and the task history."""
