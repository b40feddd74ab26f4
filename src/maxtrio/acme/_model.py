"""The Acme data model: wire shapes of what the fake returns, and what it accepts.

Entities and everything the API *returns* are ``TypedDict``s with the exact camelCase keys of the
wire (``Task["projectId"]``): they are what ``json.loads`` gives, so a client pays nothing to
hand 50,000 tasks to a caller. Everything the API *accepts* (create inputs, patches, seed and
generation options, webhook registrations) is an ``attrs`` class with snake_case attributes,
structured from camelCase JSON by :mod:`._wire` (strict types, enum values checked, errors that
name the field).

A patch distinguishes "not supplied" from "set to null": its attributes default to
:data:`UNSET`, and only supplied attributes are applied.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Final, Literal, TypedDict

import attrs

EntityType = Literal["workspace", "user", "project", "task", "file"]
Collection = Literal["workspaces", "users", "projects", "tasks", "files"]
UserRole = Literal["admin", "member", "viewer"]
ProjectStatus = Literal["active", "paused", "completed", "archived"]
TaskStatus = Literal["todo", "in_progress", "in_review", "done", "cancelled"]
TaskPriority = Literal["critical", "high", "medium", "low", "none"]
ChangeAction = Literal["create", "update", "delete"]

ENTITY_TYPES: Final[tuple[EntityType, ...]] = ("workspace", "user", "project", "task", "file")


# -- what the API returns (wire shapes) -------------------------------------------------------


class Workspace(TypedDict):
    id: str
    name: str
    createdAt: str
    updatedAt: str


class User(TypedDict):
    id: str
    workspaceId: str
    email: str
    displayName: str
    role: UserRole
    active: bool
    createdAt: str
    updatedAt: str


class Project(TypedDict):
    id: str
    workspaceId: str
    name: str
    description: str | None
    status: ProjectStatus
    ownerId: str
    createdAt: str
    updatedAt: str


class Task(TypedDict):
    id: str
    projectId: str
    title: str
    description: str | None
    status: TaskStatus
    priority: TaskPriority
    assigneeId: str | None
    createdById: str
    lastModifiedById: str
    dueDate: str | None
    tags: list[str]
    completedAt: str | None
    createdAt: str
    updatedAt: str


class File(TypedDict):
    id: str
    projectId: str
    name: str
    mimeType: str
    sizeBytes: int
    createdById: str
    lastModifiedById: str
    createdAt: str
    updatedAt: str


class ChangeEvent(TypedDict):
    sequence: int
    entityType: EntityType
    entityId: str
    action: ChangeAction
    payload: dict[str, Any] | None
    timestamp: str


class ChangesPage(TypedDict):
    events: list[ChangeEvent]
    nextCursor: int


class CompactionResult(TypedDict):
    """What ``POST /api/changes/compact`` did (MAXTRIO extension)."""

    dropped: int
    """Events removed by this call."""
    oldestAvailable: int
    """The oldest sequence the changelog can still answer from: ``since`` must be at least
    ``oldestAvailable - 1``."""


class FieldChange(TypedDict):
    before: Any
    after: Any


class TaskHistoryEntry(TypedDict):
    id: int
    taskId: str
    changedById: str
    changedAt: str
    changes: dict[str, FieldChange]


class HistoryPage(TypedDict):
    entries: list[TaskHistoryEntry]
    nextCursor: int | None


class WebhookRegistration(TypedDict):
    id: str
    url: str
    createdAt: str
    active: bool


class WebhookPayload(TypedDict):
    entityType: EntityType
    entityId: str
    action: ChangeAction
    cursor: int
    timestamp: str


class WebhookDelivery(TypedDict):
    id: int
    webhookId: str
    payload: WebhookPayload
    statusCode: int | None
    deliveredAt: str
    success: bool


class TenantStats(TypedDict):
    workspaces: int
    users: int
    projects: int
    tasks: int
    files: int
    changelogSize: int
    webhooks: int
    generating: bool


# -- what the API accepts -----------------------------------------------------------------------


class Unset(enum.Enum):
    """The type of :data:`UNSET`: a patch attribute the caller did not supply."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


def _iso_date(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None or value is UNSET:
        return
    try:
        ok = isinstance(value, str) and dt.date.fromisoformat(value).isoformat() == value
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{attribute.name} must be a date YYYY-MM-DD")


def _not_negative(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, int) and value < 0:
        raise ValueError(f"{attribute.name} must not be negative")


def _bounded(maximum: int) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
        if not 0 <= value <= maximum:
            raise ValueError(f"{attribute.name} must be between 0 and {maximum}")

    return check


@attrs.frozen
class WorkspaceInput:
    name: str


@attrs.frozen
class UserInput:
    workspace_id: str
    email: str
    display_name: str
    role: UserRole = "member"
    active: bool = True


@attrs.frozen
class ProjectInput:
    workspace_id: str
    name: str
    owner_id: str
    description: str | None = None
    status: ProjectStatus = "active"


@attrs.frozen
class TaskInput:
    project_id: str
    title: str
    created_by_id: str
    description: str | None = None
    status: TaskStatus = "todo"
    priority: TaskPriority = "medium"
    assignee_id: str | None = None
    due_date: str | None = attrs.field(default=None, validator=_iso_date)
    tags: tuple[str, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen
class FileInput:
    project_id: str
    name: str
    mime_type: str
    size_bytes: int = attrs.field(validator=_not_negative)
    created_by_id: str


@attrs.frozen
class WorkspacePatch:
    name: str | Unset = UNSET


@attrs.frozen
class UserPatch:
    email: str | Unset = UNSET
    display_name: str | Unset = UNSET
    role: UserRole | Unset = UNSET
    active: bool | Unset = UNSET


@attrs.frozen
class ProjectPatch:
    name: str | Unset = UNSET
    description: str | Unset | None = UNSET
    status: ProjectStatus | Unset = UNSET
    owner_id: str | Unset = UNSET


@attrs.frozen
class TaskPatch:
    last_modified_by_id: str
    title: str | Unset = UNSET
    description: str | Unset | None = UNSET
    status: TaskStatus | Unset = UNSET
    priority: TaskPriority | Unset = UNSET
    assignee_id: str | Unset | None = UNSET
    due_date: str | Unset | None = attrs.field(default=UNSET, validator=_iso_date)
    tags: tuple[str, ...] | Unset = UNSET


@attrs.frozen
class FilePatch:
    last_modified_by_id: str
    name: str | Unset = UNSET


EntityInput = WorkspaceInput | UserInput | ProjectInput | TaskInput | FileInput
EntityPatch = WorkspacePatch | UserPatch | ProjectPatch | TaskPatch | FilePatch


def supplied(patch: EntityPatch) -> dict[str, Any]:
    """The attributes of ``patch`` the caller supplied, by attribute name, in declared order."""
    return {
        a.name: getattr(patch, a.name)
        for a in attrs.fields(type(patch))
        if getattr(patch, a.name) is not UNSET
    }


MAX_SEED_COUNT: Final = 1_000_000
"""Upper bound of every count in :class:`SeedOptions` (a typo must not fill the disk)."""


def _seed_count(_instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 0 <= value <= MAX_SEED_COUNT:
        raise ValueError(f"{attribute.name} must be between 0 and {MAX_SEED_COUNT}")


@attrs.frozen
class SeedOptions:
    """What one seed call creates; defaults give 1 workspace, 6 users, 3 projects…"""

    workspaces: int = attrs.field(default=1, validator=_seed_count)
    users_per_workspace: int = attrs.field(default=5, validator=_seed_count)
    projects_per_workspace: int = attrs.field(default=3, validator=_seed_count)
    tasks_per_project: int = attrs.field(default=10, validator=_seed_count)
    files_per_project: int = attrs.field(default=5, validator=_seed_count)
    global_seed: int = 42
    entity_seeds: dict[EntityType, int] = attrs.field(factory=dict)
    workspace_id: str | None = None
    existing_only: bool = False
    ghost_users: bool = True


@attrs.frozen
class SeedResult:
    workspaces: int = 0
    users: int = 0
    projects: int = 0
    tasks: int = 0
    files: int = 0


MAX_SEQUENCE: Final = 2**62
"""Upper bound of changelog sequences and cursors in query strings and bodies."""


@attrs.frozen
class ChangelogCompaction:
    """``POST /api/changes/compact``: drop every changelog event whose sequence is below
    ``before`` (MAXTRIO extension; changelog retention)."""

    before: int = attrs.field(validator=_bounded(MAX_SEQUENCE))


MAX_GENERATION_RATE: Final = 1000


def _rate(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0 <= value <= MAX_GENERATION_RATE:
        raise ValueError(f"{attribute.name} must be between 0 and {MAX_GENERATION_RATE}")


@attrs.frozen
class GenerationOptions:
    """Continuous generation rates: new tasks and status changes per second."""

    tasks_per_second: float = attrs.field(default=1.0, validator=_rate)
    mutations_per_second: float = attrs.field(default=0.0, validator=_rate)


def _http_url(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{attribute.name} must be an http(s) URL")


@attrs.frozen
class WebhookInput:
    url: str = attrs.field(validator=_http_url)


def _ratio(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1")


@attrs.frozen
class FaultInjection:
    """Latency and failures the server adds to every authenticated API request (not in REF).

    ``rate_limit_ratio`` of the requests are answered 429 with ``Retry-After:
    retry_after_seconds``, ``error_ratio`` of them 500; which ones is drawn from
    ``random.Random(seed)``, so a run is repeatable. ``latency_ms`` delays every answer.
    """

    latency_ms: float = attrs.field(default=0.0, validator=_bounded(60_000))
    rate_limit_ratio: float = attrs.field(default=0.0, validator=_ratio)
    error_ratio: float = attrs.field(default=0.0, validator=_ratio)
    retry_after_seconds: int = attrs.field(default=1, validator=_bounded(3600))
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        if self.rate_limit_ratio + self.error_ratio > 1.0:
            raise ValueError("rateLimitRatio + errorRatio must not exceed 1")


@attrs.frozen
class ServerStatistics:
    """What a running server has seen since it started (or since the last reset)."""

    requests: int = 0
    """Authenticated API requests, control routes (faults, traffic) excluded."""
    in_flight: int = 0
    peak_in_flight: int = 0
    rate_limited: int = 0
    """Requests answered 429 by fault injection."""
    injected_errors: int = 0
    """Requests answered 500 by fault injection."""
    webhooks_delivered: int = 0
    webhooks_failed: int = 0
    webhooks_dropped: int = 0
    """Payloads not queued because the delivery queue was full."""
