"""The acme operations, all under ``acme:api`` (50 at a time), named ``acme:<noun>:<verb>``.

Per record type (workspace, user, project, task, file): ``list`` (one page of a collection,
filtered by its parent), ``get`` (one entity) and ``batch`` (the live entities of up to 1,000
ids, ``GET /api/<collection>?ids=…``). For the change feed: ``acme:change:head`` (the newest
event, ``GET /api/changes/recent?limit=1``) and ``acme:change:list`` (a page of events after a
sequence; a 410 — the cursor is older than the retained log — raises the core's
``feed_cursor_expired``).

Handlers make exactly one HTTP call each and return the decoded :class:`AcmeResponse`; loaders
and the change feed turn it into entity inputs. They are called through ``env.ops.execute`` so
the execution layer's middleware (counting, the shared limit, retries of ``Retryable`` errors)
applies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs

from maxtrio.core import ErrFeedCursorExpired, Limit, MaxError, Operation, OperationEnv

from ._client import AcmeResponse
from ._connection import AcmeAppContext
from ._errors import ErrRequestFailed

ACME_API_LIMIT = Limit.concurrent("acme:api", 50)


@attrs.frozen
class ById:
    id: str


@attrs.frozen
class ByIds:
    """A batch get: at most ``MAX_BATCH_IDS`` ids that fit one URL (see ``id_batches``)."""

    ids: tuple[str, ...]


@attrs.frozen
class ListPage:
    """A page of a list: ``parent_id`` filters (workspace or project), ``cursor`` continues."""

    parent_id: str | None = None
    cursor: str | None = None


@attrs.frozen
class ChangesPage:
    """Up to ``limit`` change events after sequence ``since``."""

    since: int
    limit: int


@attrs.frozen
class RecentChanges:
    limit: int = 1


Env = OperationEnv[AcmeAppContext]


def _lister(
    collection: str, parent_key: str | None
) -> Callable[[ListPage, Env], Awaitable[AcmeResponse]]:
    async def list_page(page: ListPage, env: Env) -> AcmeResponse:
        filters = {parent_key: page.parent_id or ""} if parent_key else None
        return await env.ctx.api.client.list(collection, filters=filters, cursor=page.cursor)

    return list_page


def _getter(collection: str) -> Callable[[ById, Env], Awaitable[AcmeResponse]]:
    async def get(query: ById, env: Env) -> AcmeResponse:
        return await env.ctx.api.client.get(collection, query.id)

    return get


def _batch_getter(collection: str) -> Callable[[ByIds, Env], Awaitable[AcmeResponse]]:
    async def get_many(query: ByIds, env: Env) -> AcmeResponse:
        return await env.ctx.api.client.get_many(collection, query.ids)

    return get_many


def _define_list(
    noun: str, collection: str, parent_key: str | None
) -> Operation[AcmeAppContext, ListPage, AcmeResponse]:
    return Operation.define(
        f"acme:{noun}:list", _lister(collection, parent_key), limit=ACME_API_LIMIT
    )


def _define_get(noun: str, collection: str) -> Operation[AcmeAppContext, ById, AcmeResponse]:
    return Operation.define(f"acme:{noun}:get", _getter(collection), limit=ACME_API_LIMIT)


def _define_batch(noun: str, collection: str) -> Operation[AcmeAppContext, ByIds, AcmeResponse]:
    return Operation.define(f"acme:{noun}:batch", _batch_getter(collection), limit=ACME_API_LIMIT)


ListWorkspaces = _define_list("workspace", "workspaces", None)
GetWorkspace = _define_get("workspace", "workspaces")
ListUsers = _define_list("user", "users", "workspaceId")
GetUser = _define_get("user", "users")
ListProjects = _define_list("project", "projects", "workspaceId")
GetProject = _define_get("project", "projects")
ListTasks = _define_list("task", "tasks", "projectId")
GetTask = _define_get("task", "tasks")
ListFiles = _define_list("file", "files", "projectId")
GetFile = _define_get("file", "files")

BatchWorkspaces = _define_batch("workspace", "workspaces")
BatchUsers = _define_batch("user", "users")
BatchProjects = _define_batch("project", "projects")
BatchTasks = _define_batch("task", "tasks")
BatchFiles = _define_batch("file", "files")


async def _changes_head(query: RecentChanges, env: Env) -> AcmeResponse:
    return await env.ctx.api.client.recent_changes(query.limit)


async def _list_changes(query: ChangesPage, env: Env) -> AcmeResponse:
    try:
        return await env.ctx.api.client.changes(query.since, query.limit)
    except MaxError as err:
        if ErrRequestFailed.matches(err) and err.data.get("status") == 410:
            raise ErrFeedCursorExpired(
                cursor=str(query.since), upstream=err.data.get("upstream"), connector="acme"
            ) from None
        raise


ChangesHead: Operation[AcmeAppContext, RecentChanges, AcmeResponse] = Operation.define(
    "acme:change:head", _changes_head, limit=ACME_API_LIMIT
)
ListChanges: Operation[AcmeAppContext, ChangesPage, AcmeResponse] = Operation.define(
    "acme:change:list", _list_changes, limit=ACME_API_LIMIT
)

ACME_OPERATIONS = (
    ListWorkspaces,
    GetWorkspace,
    ListUsers,
    GetUser,
    ListProjects,
    GetProject,
    ListTasks,
    GetTask,
    ListFiles,
    GetFile,
    BatchWorkspaces,
    BatchUsers,
    BatchProjects,
    BatchTasks,
    BatchFiles,
    ChangesHead,
    ListChanges,
)
