"""The Acme client interface and the typed methods both clients share.

:class:`AcmeClient` is the protocol connectors program against: one async method per route.
Entities come back as the wire ``TypedDict``s of :mod:`._model` (plain dicts from
``json.loads``); inputs and patches are the ``attrs`` classes. :class:`EntityMethods` writes the
25 per-entity methods once on top of five primitives, so the HTTP client
(:mod:`._http_client`) and the in-process client (:mod:`._inprocess_client`) only say how to
list, get, create, update and delete.

Extensions (not in the reference): :meth:`AcmeClient.list_page` pages through a list with
``limit``/``cursor``, and :meth:`AcmeClient.get_many` fetches a batch by ids (always only the
asked-for ids, even from a server that ignores ``?ids=``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol, cast

import attrs

from . import _model as m


@attrs.frozen
class ListPage:
    """One page of a list: the entities and the cursor of the next page (None: the last)."""

    items: list[Any]
    next_cursor: str | None = None


class AcmeClient(Protocol):
    """What a connector needs from Acme, whether over HTTP or in process."""

    async def list_workspaces(self) -> list[m.Workspace]: ...
    async def get_workspace(self, workspace_id: str) -> m.Workspace: ...
    async def create_workspace(self, entity: m.WorkspaceInput) -> m.Workspace: ...
    async def update_workspace(self, workspace_id: str, patch: m.WorkspacePatch) -> m.Workspace: ...
    async def delete_workspace(self, workspace_id: str) -> None: ...

    async def list_users(self, workspace_id: str | None = None) -> list[m.User]: ...
    async def get_user(self, user_id: str) -> m.User: ...
    async def create_user(self, entity: m.UserInput) -> m.User: ...
    async def update_user(self, user_id: str, patch: m.UserPatch) -> m.User: ...
    async def delete_user(self, user_id: str) -> None: ...

    async def list_projects(self, workspace_id: str | None = None) -> list[m.Project]: ...
    async def get_project(self, project_id: str) -> m.Project: ...
    async def create_project(self, entity: m.ProjectInput) -> m.Project: ...
    async def update_project(self, project_id: str, patch: m.ProjectPatch) -> m.Project: ...
    async def delete_project(self, project_id: str) -> None: ...

    async def list_tasks(self, project_id: str | None = None) -> list[m.Task]: ...
    async def get_task(self, task_id: str) -> m.Task: ...
    async def create_task(self, entity: m.TaskInput) -> m.Task: ...
    async def update_task(self, task_id: str, patch: m.TaskPatch) -> m.Task: ...
    async def delete_task(self, task_id: str) -> None: ...

    async def list_files(self, project_id: str | None = None) -> list[m.File]: ...
    async def get_file(self, file_id: str) -> m.File: ...
    async def create_file(self, entity: m.FileInput) -> m.File: ...
    async def update_file(self, file_id: str, patch: m.FilePatch) -> m.File: ...
    async def delete_file(self, file_id: str) -> None: ...

    async def get_task_history(
        self, task_id: str, *, before: int | None = None, limit: int | None = None
    ) -> m.HistoryPage: ...
    async def get_changes(self, *, since: int = 0, limit: int | None = None) -> m.ChangesPage: ...
    async def get_recent_changes(self, limit: int | None = None) -> list[m.ChangeEvent]: ...
    async def list_webhooks(self) -> list[m.WebhookRegistration]: ...
    async def register_webhook(self, url: str) -> m.WebhookRegistration: ...
    async def delete_webhook(self, webhook_id: str) -> None: ...

    async def list_page(
        self,
        collection: m.Collection,
        *,
        parent_id: str | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> ListPage: ...
    async def get_many(self, collection: m.Collection, ids: Sequence[str]) -> list[Any]: ...


class EntityMethods(ABC):
    """The per-entity methods of :class:`AcmeClient`, written once over five primitives."""

    @abstractmethod
    async def _list(self, collection: m.Collection, parent_id: str | None) -> list[Any]: ...

    @abstractmethod
    async def _get(self, collection: m.Collection, entity_id: str) -> Any: ...

    @abstractmethod
    async def _create(self, collection: m.Collection, entity: m.EntityInput) -> Any: ...

    @abstractmethod
    async def _update(
        self, collection: m.Collection, entity_id: str, patch: m.EntityPatch
    ) -> Any: ...

    @abstractmethod
    async def _delete(self, collection: m.Collection, entity_id: str) -> None: ...

    # workspaces

    async def list_workspaces(self) -> list[m.Workspace]:
        return cast(list[m.Workspace], await self._list("workspaces", None))

    async def get_workspace(self, workspace_id: str) -> m.Workspace:
        return cast(m.Workspace, await self._get("workspaces", workspace_id))

    async def create_workspace(self, entity: m.WorkspaceInput) -> m.Workspace:
        return cast(m.Workspace, await self._create("workspaces", entity))

    async def update_workspace(self, workspace_id: str, patch: m.WorkspacePatch) -> m.Workspace:
        return cast(m.Workspace, await self._update("workspaces", workspace_id, patch))

    async def delete_workspace(self, workspace_id: str) -> None:
        await self._delete("workspaces", workspace_id)

    # users

    async def list_users(self, workspace_id: str | None = None) -> list[m.User]:
        return cast(list[m.User], await self._list("users", workspace_id))

    async def get_user(self, user_id: str) -> m.User:
        return cast(m.User, await self._get("users", user_id))

    async def create_user(self, entity: m.UserInput) -> m.User:
        return cast(m.User, await self._create("users", entity))

    async def update_user(self, user_id: str, patch: m.UserPatch) -> m.User:
        return cast(m.User, await self._update("users", user_id, patch))

    async def delete_user(self, user_id: str) -> None:
        await self._delete("users", user_id)

    # projects

    async def list_projects(self, workspace_id: str | None = None) -> list[m.Project]:
        return cast(list[m.Project], await self._list("projects", workspace_id))

    async def get_project(self, project_id: str) -> m.Project:
        return cast(m.Project, await self._get("projects", project_id))

    async def create_project(self, entity: m.ProjectInput) -> m.Project:
        return cast(m.Project, await self._create("projects", entity))

    async def update_project(self, project_id: str, patch: m.ProjectPatch) -> m.Project:
        return cast(m.Project, await self._update("projects", project_id, patch))

    async def delete_project(self, project_id: str) -> None:
        await self._delete("projects", project_id)

    # tasks

    async def list_tasks(self, project_id: str | None = None) -> list[m.Task]:
        return cast(list[m.Task], await self._list("tasks", project_id))

    async def get_task(self, task_id: str) -> m.Task:
        return cast(m.Task, await self._get("tasks", task_id))

    async def create_task(self, entity: m.TaskInput) -> m.Task:
        return cast(m.Task, await self._create("tasks", entity))

    async def update_task(self, task_id: str, patch: m.TaskPatch) -> m.Task:
        return cast(m.Task, await self._update("tasks", task_id, patch))

    async def delete_task(self, task_id: str) -> None:
        await self._delete("tasks", task_id)

    # files

    async def list_files(self, project_id: str | None = None) -> list[m.File]:
        return cast(list[m.File], await self._list("files", project_id))

    async def get_file(self, file_id: str) -> m.File:
        return cast(m.File, await self._get("files", file_id))

    async def create_file(self, entity: m.FileInput) -> m.File:
        return cast(m.File, await self._create("files", entity))

    async def update_file(self, file_id: str, patch: m.FilePatch) -> m.File:
        return cast(m.File, await self._update("files", file_id, patch))

    async def delete_file(self, file_id: str) -> None:
        await self._delete("files", file_id)


def keep_asked_for(items: list[Any], ids: Sequence[str]) -> list[Any]:
    """Only the entities whose id was asked for (a server may answer with more)."""
    wanted = set(ids)
    return [item for item in items if item.get("id") in wanted]
