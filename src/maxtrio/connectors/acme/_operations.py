"""The seven acme operations (spec acme-and-connectors §2.5), all under ``acme:api`` (50).

Handlers make exactly one HTTP call each and return the decoded :class:`AcmeResponse`; loaders
turn it into entity inputs. Loaders call them through ``env.ops.execute`` so the execution
layer's middleware (counting, the shared limit, retries of ``Retryable`` errors) applies.
"""

from __future__ import annotations

import attrs

from maxtrio.core import Limit, Operation, OperationEnv

from ._client import AcmeResponse
from ._connection import AcmeAppContext

ACME_API_LIMIT = Limit.concurrent("acme:api", 50)


@attrs.frozen
class ById:
    id: str


@attrs.frozen
class ListPage:
    """A page of a list: ``parent_id`` filters (workspace or project), ``cursor`` continues."""

    parent_id: str | None = None
    cursor: str | None = None


Env = OperationEnv[AcmeAppContext]


async def _list_workspaces(page: ListPage, env: Env) -> AcmeResponse:
    return await env.ctx.api.client.list("workspaces", cursor=page.cursor)


async def _get_workspace(query: ById, env: Env) -> AcmeResponse:
    return await env.ctx.api.client.get("workspaces", query.id)


async def _list_users(page: ListPage, env: Env) -> AcmeResponse:
    filters = {"workspaceId": page.parent_id or ""}
    return await env.ctx.api.client.list("users", filters=filters, cursor=page.cursor)


async def _get_user(query: ById, env: Env) -> AcmeResponse:
    return await env.ctx.api.client.get("users", query.id)


async def _list_projects(page: ListPage, env: Env) -> AcmeResponse:
    filters = {"workspaceId": page.parent_id or ""}
    return await env.ctx.api.client.list("projects", filters=filters, cursor=page.cursor)


async def _get_project(query: ById, env: Env) -> AcmeResponse:
    return await env.ctx.api.client.get("projects", query.id)


async def _list_tasks(page: ListPage, env: Env) -> AcmeResponse:
    filters = {"projectId": page.parent_id or ""}
    return await env.ctx.api.client.list("tasks", filters=filters, cursor=page.cursor)


ListWorkspaces: Operation[AcmeAppContext, ListPage, AcmeResponse] = Operation.define(
    "acme:workspace:list", _list_workspaces, limit=ACME_API_LIMIT
)
GetWorkspace: Operation[AcmeAppContext, ById, AcmeResponse] = Operation.define(
    "acme:workspace:get", _get_workspace, limit=ACME_API_LIMIT
)
ListUsers: Operation[AcmeAppContext, ListPage, AcmeResponse] = Operation.define(
    "acme:user:list", _list_users, limit=ACME_API_LIMIT
)
GetUser: Operation[AcmeAppContext, ById, AcmeResponse] = Operation.define(
    "acme:user:get", _get_user, limit=ACME_API_LIMIT
)
ListProjects: Operation[AcmeAppContext, ListPage, AcmeResponse] = Operation.define(
    "acme:project:list", _list_projects, limit=ACME_API_LIMIT
)
GetProject: Operation[AcmeAppContext, ById, AcmeResponse] = Operation.define(
    "acme:project:get", _get_project, limit=ACME_API_LIMIT
)
ListTasks: Operation[AcmeAppContext, ListPage, AcmeResponse] = Operation.define(
    "acme:task:list", _list_tasks, limit=ACME_API_LIMIT
)

ACME_OPERATIONS = (
    ListWorkspaces,
    GetWorkspace,
    ListUsers,
    GetUser,
    ListProjects,
    GetProject,
    ListTasks,
)
