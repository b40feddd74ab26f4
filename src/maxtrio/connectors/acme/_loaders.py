"""The seven acme loaders (spec acme-and-connectors §2.6), named as in the reference.

Workspace, user and project collections return *stubs* (ids only) that later ``load_fields``
steps fill in with one GET each; the task collection returns complete task inputs from one
list call per project page. Collection pages follow ``X-Next-Cursor`` when the server pages
(MAXTRIO extension); against a server that does not, every collection is one page.
"""

from __future__ import annotations

from maxtrio.core import EntityInput, Loader, LoaderEnv, Page, PageRequest, Ref

from ._client import AcmeResponse
from ._connection import AcmeAppContext
from ._entities import AcmeProject, AcmeRoot, AcmeTask, AcmeUser, AcmeWorkspace
from ._operations import (
    ById,
    GetProject,
    GetUser,
    GetWorkspace,
    ListPage,
    ListProjects,
    ListTasks,
    ListUsers,
    ListWorkspaces,
)
from ._records import project_input, stub_inputs, task_inputs, user_input, workspace_input

Env = LoaderEnv[AcmeAppContext]


def _page(items: list[EntityInput], response: AcmeResponse) -> Page[EntityInput]:
    cursor = response.next_cursor
    return Page(items, cursor is not None, cursor)


async def _root_workspaces(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    response = await env.ops.execute(ListWorkspaces, ListPage(None, page.cursor))
    return _page(stub_inputs(AcmeWorkspace, response), response)


async def _workspace_basic(ref: Ref, env: Env) -> EntityInput:
    return workspace_input(ref, await env.ops.execute(GetWorkspace, ById(ref.id)))


async def _workspace_users(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    response = await env.ops.execute(ListUsers, ListPage(ref.id, page.cursor))
    return _page(stub_inputs(AcmeUser, response), response)


async def _workspace_projects(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    response = await env.ops.execute(ListProjects, ListPage(ref.id, page.cursor))
    return _page(stub_inputs(AcmeProject, response), response)


async def _user_basic(ref: Ref, env: Env) -> EntityInput:
    return user_input(ref, await env.ops.execute(GetUser, ById(ref.id)))


async def _project_basic(ref: Ref, env: Env) -> EntityInput:
    return project_input(ref, await env.ops.execute(GetProject, ById(ref.id)))


async def _project_tasks(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    response = await env.ops.execute(ListTasks, ListPage(ref.id, page.cursor))
    return _page(task_inputs(response), response)


RootWorkspacesLoader = Loader.collection(
    "acme:root:workspaces", AcmeRoot, AcmeWorkspace, _root_workspaces
)
WorkspaceBasicLoader = Loader.entity("acme:workspace:basic", AcmeWorkspace, _workspace_basic)
WorkspaceUsersLoader = Loader.collection(
    "acme:workspace:users", AcmeWorkspace, AcmeUser, _workspace_users
)
WorkspaceProjectsLoader = Loader.collection(
    "acme:workspace:projects", AcmeWorkspace, AcmeProject, _workspace_projects
)
UserBasicLoader = Loader.entity("acme:user:basic", AcmeUser, _user_basic)
ProjectBasicLoader = Loader.entity("acme:project:basic", AcmeProject, _project_basic)
ProjectTasksLoader = Loader.collection("acme:project:tasks", AcmeProject, AcmeTask, _project_tasks)

ACME_LOADERS = (
    RootWorkspacesLoader,
    WorkspaceBasicLoader,
    WorkspaceUsersLoader,
    WorkspaceProjectsLoader,
    UserBasicLoader,
    ProjectBasicLoader,
    ProjectTasksLoader,
)
