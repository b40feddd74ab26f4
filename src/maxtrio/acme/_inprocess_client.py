"""``AcmeInProcessClient``: the Acme API on a :class:`Tenant` in this process, no HTTP.

The reference's ``AcmeTestClient``. Every call holds the tenant's guard; seeding runs in a worker
thread. A get of a missing entity raises ``<Type> "<id>" not found`` (facet ``NotFound``, HTTP
status 404 by :func:`~._errors.http_status_of`). Ergonomic helpers build small fixtures:
:meth:`~AcmeInProcessClient.add_workspace`, :meth:`~AcmeInProcessClient.add_user`,
:meth:`~AcmeInProcessClient.add_project` and :meth:`AcmeInProcessClient.with_data`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar, cast

import attrs
import trio

from . import _model as m
from ._client import EntityMethods, ListPage, keep_asked_for
from ._errors import ErrEntityNotFound
from ._schema import KINDS
from ._tenant import Tenant

T = TypeVar("T")
_WHITESPACE = re.compile(r"\s+")


@attrs.frozen
class UserFixture:
    display_name: str
    email: str | None = None
    role: m.UserRole = "member"


@attrs.frozen
class ProjectFixture:
    name: str
    description: str | None = None


@attrs.frozen
class WorkspaceFixture:
    """A workspace to build with :meth:`AcmeInProcessClient.with_data` (users come first)."""

    name: str
    users: Sequence[UserFixture] = ()
    projects: Sequence[ProjectFixture] = ()


def default_email(display_name: str) -> str:
    """``"Ada Lovelace"`` → ``ada.lovelace@test.local``."""
    return _WHITESPACE.sub(".", display_name.strip().lower()) + "@test.local"


def _add_workspace(tenant: Tenant, name: str) -> m.Workspace:
    return cast(m.Workspace, json.loads(tenant.create(m.WorkspaceInput(name=name))))


def _add_user(
    tenant: Tenant,
    workspace_id: str,
    display_name: str,
    email: str | None = None,
    role: m.UserRole = "member",
) -> m.User:
    entity = m.UserInput(
        workspace_id=workspace_id,
        email=email or default_email(display_name),
        display_name=display_name,
        role=role,
    )
    return cast(m.User, json.loads(tenant.create(entity)))


def _add_project(
    tenant: Tenant,
    workspace_id: str,
    name: str,
    description: str | None = None,
    owner_id: str | None = None,
) -> m.Project:
    if owner_id is None:
        users = tenant.live_ids("users", parent_id=workspace_id)
        owner_id = users[0] if users else _add_user(tenant, workspace_id, "Default User")["id"]
    entity = m.ProjectInput(
        workspace_id=workspace_id, name=name, owner_id=owner_id, description=description
    )
    return cast(m.Project, json.loads(tenant.create(entity)))


class AcmeInProcessClient(EntityMethods):
    """The :class:`~._client.AcmeClient` on a tenant in this process."""

    def __init__(self, tenant: Tenant | None = None, *, tenant_name: str = "test") -> None:
        self.tenant = tenant if tenant is not None else Tenant.in_memory(tenant_name)
        self._owns_tenant = tenant is None

    @classmethod
    def with_data(
        cls, workspaces: Sequence[WorkspaceFixture], *, tenant_name: str = "test"
    ) -> AcmeInProcessClient:
        """A client on a fresh in-memory tenant holding exactly ``workspaces``."""
        client = cls(tenant_name=tenant_name)
        for fixture in workspaces:
            workspace = _add_workspace(client.tenant, fixture.name)
            for user in fixture.users:
                _add_user(client.tenant, workspace["id"], user.display_name, user.email, user.role)
            for project in fixture.projects:
                _add_project(client.tenant, workspace["id"], project.name, project.description)
        return client

    async def __aenter__(self) -> AcmeInProcessClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the tenant when this client created it."""
        if self._owns_tenant:
            self.tenant.close()

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async with self.tenant.guard:
            return fn(*args, **kwargs)

    # -- the five primitives ----------------------------------------------------------------------

    async def _list(self, collection: m.Collection, parent_id: str | None) -> list[Any]:
        page = await self._call(self.tenant.list_wire, collection, parent_id=parent_id)
        return cast(list[Any], json.loads(page.json))

    async def _get(self, collection: m.Collection, entity_id: str) -> Any:
        found = await self._call(self.tenant.get_wire, collection, entity_id)
        if found is None:
            raise ErrEntityNotFound(label=KINDS[collection].label, id=entity_id)
        return json.loads(found)

    async def _create(self, collection: m.Collection, entity: m.EntityInput) -> Any:
        if not isinstance(entity, KINDS[collection].input_cls):
            raise TypeError(f"{type(entity).__name__} does not create {collection}")
        return json.loads(await self._call(self.tenant.create, entity))

    async def _update(self, collection: m.Collection, entity_id: str, patch: m.EntityPatch) -> Any:
        return json.loads(await self._call(self.tenant.update, collection, entity_id, patch))

    async def _delete(self, collection: m.Collection, entity_id: str) -> None:
        await self._call(self.tenant.delete, collection, entity_id)

    # -- extensions -------------------------------------------------------------------------------

    async def list_page(
        self,
        collection: m.Collection,
        *,
        parent_id: str | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> ListPage:
        after = int(cursor) if cursor else None
        page = await self._call(
            self.tenant.list_wire, collection, parent_id=parent_id, limit=limit, after=after
        )
        return ListPage(json.loads(page.json), page.next_cursor)

    async def get_many(self, collection: m.Collection, ids: Sequence[str]) -> list[Any]:
        page = await self._call(self.tenant.list_wire, collection, ids=list(ids))
        return keep_asked_for(json.loads(page.json), ids)

    # -- changelog, history, webhooks -------------------------------------------------------------

    async def get_task_history(
        self, task_id: str, *, before: int | None = None, limit: int | None = None
    ) -> m.HistoryPage:
        text = await self._call(self.tenant.history_wire, task_id, before=before, limit=limit or 50)
        return cast(m.HistoryPage, json.loads(text))

    async def get_changes(self, *, since: int = 0, limit: int | None = None) -> m.ChangesPage:
        text = await self._call(self.tenant.changes_wire, since, limit or 100)
        return cast(m.ChangesPage, json.loads(text))

    async def get_recent_changes(self, limit: int | None = None) -> list[m.ChangeEvent]:
        text = await self._call(self.tenant.recent_changes_wire, limit or 50)
        return cast(list[m.ChangeEvent], json.loads(text))

    async def list_webhooks(self) -> list[m.WebhookRegistration]:
        text = await self._call(self.tenant.list_webhooks_wire)
        return cast(list[m.WebhookRegistration], json.loads(text))

    async def register_webhook(self, url: str) -> m.WebhookRegistration:
        hook = m.WebhookInput(url=url)
        text = await self._call(self.tenant.register_webhook, hook.url)
        return cast(m.WebhookRegistration, json.loads(text))

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._call(self.tenant.delete_webhook, webhook_id)

    # -- seeding, stats and fixture helpers -------------------------------------------------------

    async def seed(self, options: m.SeedOptions | None = None) -> m.SeedResult:
        """Seed in a worker thread (50,000 tasks take a second or two)."""
        async with self.tenant.guard:
            return await trio.to_thread.run_sync(self.tenant.seed, options)

    async def stats(self) -> m.TenantStats:
        return await self._call(self.tenant.stats)

    async def compact_changes(self, before: int) -> m.CompactionResult:
        """Drop changelog events below ``before``; older cursors then fail with
        ``acme.cursor_expired`` (HTTP 410 over the wire)."""
        compaction = m.ChangelogCompaction(before=before)
        return await self._call(self.tenant.compact_changes, compaction.before)

    async def add_workspace(self, name: str) -> m.Workspace:
        return await self._call(_add_workspace, self.tenant, name)

    async def add_user(
        self,
        workspace_id: str,
        display_name: str,
        *,
        email: str | None = None,
        role: m.UserRole = "member",
    ) -> m.User:
        """A user; email defaults to the display name lowercased, dots for spaces, @test.local."""
        return await self._call(_add_user, self.tenant, workspace_id, display_name, email, role)

    async def add_project(
        self,
        workspace_id: str,
        name: str,
        *,
        description: str | None = None,
        owner_id: str | None = None,
    ) -> m.Project:
        """A project; the owner defaults to the workspace's first user (made when there is none)."""
        return await self._call(
            _add_project, self.tenant, workspace_id, name, description, owner_id
        )
