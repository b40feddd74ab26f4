"""The acme loaders: one complete collection loader per list, one entity loader per get.

Acme's list endpoints return full records, so every collection loader returns **complete**
inputs (every stored field of the child) and is declared ``complete=True``: its pages, read to
the end, list every member, so a sync that read them all may remove the local members it did
not see. Pages follow ``X-Next-Cursor`` when the server pages (MAXTRIO extension); against a
server that does not, every collection is one page. A listed child must point back at the
parent listed (its ``via`` ref): a list filtered by ``projectId=A`` answering a task of B is a
``connector-acme.bad_response``.

===========================  ===========================  =======================
loader                       parent → members             operation
===========================  ===========================  =======================
``acme:root:workspaces``     AcmeRoot → AcmeWorkspace     ``acme:workspace:list``
``acme:workspace:users``     AcmeWorkspace → AcmeUser     ``acme:user:list``
``acme:workspace:projects``  AcmeWorkspace → AcmeProject  ``acme:project:list``
``acme:project:tasks``       AcmeProject → AcmeTask       ``acme:task:list``
``acme:project:files``       AcmeProject → AcmeFile       ``acme:file:list``
===========================  ===========================  =======================

The entity loaders ``acme:<noun>:basic`` (workspace, user, project, task, file) read one entity
with ``acme:<noun>:get`` into the same complete input, for plans that load fields of entities
already known (``AcmeUser(*).fields{*}``).
"""

from __future__ import annotations

from maxtrio.core import (
    CollectionLoader,
    EntityColumns,
    EntityDef,
    EntityInput,
    EntityLoader,
    Loader,
    LoaderEnv,
    MaxError,
    Operation,
    Page,
    PageRequest,
    Ref,
)

from ._client import AcmeResponse
from ._connection import AcmeAppContext
from ._entities import AcmeProject, AcmeRoot, AcmeWorkspace
from ._errors import bad_response
from ._operations import (
    ById,
    GetFile,
    GetProject,
    GetTask,
    GetUser,
    GetWorkspace,
    ListFiles,
    ListPage,
    ListProjects,
    ListTasks,
    ListUsers,
    ListWorkspaces,
)
from ._records import FILE, PROJECT, TASK, USER, WORKSPACE, RecordSpec

Env = LoaderEnv[AcmeAppContext]


def _complete_collection(
    name: str,
    parent: EntityDef,
    field: str,
    operation: Operation[AcmeAppContext, ListPage, AcmeResponse],
    spec: RecordSpec,
) -> CollectionLoader[AcmeAppContext]:
    """The loader of ``parent.field``: pages of ``operation`` read by ``spec``. When the
    collection has a ``via`` ref, every listed child must point back at the parent listed
    (a list filtered by ``workspaceId=A`` answering a user of B is a bad response)."""
    via = parent.fields[field].via
    key = next((c.key for c in spec.columns if c.field == via), None)

    async def load(ref: Ref, page: PageRequest, env: Env) -> Page[EntityColumns]:
        query = ListPage(ref.id if via is not None else None, page.cursor)
        response = await env.ops.execute(operation, query)
        batch = spec.read_columns(response)
        if via is not None:
            parents = batch.columns[via]
            if parents.count(ref.id) != len(parents):
                raise _not_a_child(response, batch, via, key, ref)
        cursor = response.next_cursor
        return Page([batch], cursor is not None, cursor)

    return Loader.collection(name, parent, spec.entity, load, complete=True)


def _not_a_child(
    response: AcmeResponse, batch: EntityColumns, via: str, key: str | None, parent: Ref
) -> MaxError:
    parents = batch.columns[via]
    index = next(i for i, other in enumerate(parents) if other != parent.id)
    return bad_response(
        response.request,
        f"item {index} ({batch.ids[index]}): {key!r} is {parents[index]!r}, "
        f"not the listed {via} {parent.id!r}",
    )


def _entity(
    operation: Operation[AcmeAppContext, ById, AcmeResponse], spec: RecordSpec
) -> EntityLoader[AcmeAppContext]:
    async def load(ref: Ref, env: Env) -> EntityInput:
        return spec.read_one(await env.ops.execute(operation, ById(ref.id)), ref.id)

    return Loader.entity(f"acme:{spec.noun}:basic", spec.entity, load)


RootWorkspacesLoader = _complete_collection(
    "acme:root:workspaces", AcmeRoot, "workspaces", ListWorkspaces, WORKSPACE
)
WorkspaceUsersLoader = _complete_collection(
    "acme:workspace:users", AcmeWorkspace, "users", ListUsers, USER
)
WorkspaceProjectsLoader = _complete_collection(
    "acme:workspace:projects", AcmeWorkspace, "projects", ListProjects, PROJECT
)
ProjectTasksLoader = _complete_collection(
    "acme:project:tasks", AcmeProject, "tasks", ListTasks, TASK
)
ProjectFilesLoader = _complete_collection(
    "acme:project:files", AcmeProject, "files", ListFiles, FILE
)

WorkspaceBasicLoader = _entity(GetWorkspace, WORKSPACE)
UserBasicLoader = _entity(GetUser, USER)
ProjectBasicLoader = _entity(GetProject, PROJECT)
TaskBasicLoader = _entity(GetTask, TASK)
FileBasicLoader = _entity(GetFile, FILE)

ACME_LOADERS = (
    RootWorkspacesLoader,
    WorkspaceBasicLoader,
    WorkspaceUsersLoader,
    WorkspaceProjectsLoader,
    UserBasicLoader,
    ProjectBasicLoader,
    ProjectTasksLoader,
    ProjectFilesLoader,
    TaskBasicLoader,
    FileBasicLoader,
)
