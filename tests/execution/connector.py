"""A small test connector over an in-process fake upstream API.

Shaped like Acme but ours: a root with workspaces; each workspace has users and
projects; projects have tasks. The :class:`FakeApi` holds the upstream data, answers in pages
with string-offset cursors, counts calls, tracks how many calls run at once, and can be told
to fail (``api.fail("users:list", ...)``), to raise ``Retryable`` errors a number of times, or
to take time (``latency``, on the trio clock so tests use ``MockClock``).

Operations share ``Limit.concurrent("test:api", 50)`` unless a test passes another limit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import trio

from maxtrio.core import (
    Batch,
    Boundary,
    EntityDef,
    EntityInput,
    Field,
    Limit,
    Loader,
    LoaderEnv,
    Operation,
    OperationEnv,
    Page,
    PageRequest,
    Ref,
    Resolver,
    Retryable,
    Schema,
    Seeder,
    SeederEnv,
    Step,
    SyncPlan,
)

Root = EntityDef.create("TRoot", {"workspaces": Field.collection("TWorkspace")})
Workspace = EntityDef.create(
    "TWorkspace",
    {
        "name": Field.string(),
        "users": Field.collection("TUser"),
        "projects": Field.collection("TProject"),
    },
)
User = EntityDef.create("TUser", {"displayName": Field.string(), "email": Field.string()})
Project = EntityDef.create(
    "TProject",
    {
        "name": Field.string(),
        "status": Field.string(),
        "owner": Field.ref("TUser"),
        "tasks": Field.collection("TTask"),
    },
)
TaskItem = EntityDef.create(
    "TTask",
    {"title": Field.string(), "status": Field.string(), "project": Field.ref("TProject")},
)
SCHEMA = Schema.create("test", [Root, Workspace, User, Project, TaskItem], roots=[Root])
ROOT = Root.ref("root")
API_LIMIT = Limit.concurrent("test:api", 50)

Upstream = Boundary("fakeapi")
ErrUpstream = Upstream.define("failed", message="Upstream {op} failed for {key}")
ErrTransient = Upstream.define(
    "transient", facets=[Retryable], message="Upstream {op} is busy ({key})"
)


@attrs.define
class FakeApi:
    """The upstream system: dictionaries of records, paged lists, call accounting."""

    workspaces: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    users: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    projects: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    tasks: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    page_size: int = 1000
    latency: float = 0.0
    calls: Counter[str] = attrs.field(factory=Counter)
    active: int = 0
    peak_active: int = 0
    failures: dict[str, Callable[[str], bool]] = attrs.field(factory=dict)
    transient: dict[str, int] = attrs.field(factory=dict)  # op → retryable failures left
    retry_after: float | None = None
    gates: dict[str, trio.Event] = attrs.field(factory=dict)  # op → calls wait until set
    _changed: trio.Event | None = None

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait (no polling) until ``condition()`` holds; re-checked after every call event."""
        while not condition():
            if self._changed is None:
                self._changed = trio.Event()
            await self._changed.wait()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def fail(self, op: str, when: Callable[[str], bool] = lambda key: True) -> None:
        self.failures[op] = when

    def heal(self) -> None:
        self.failures.clear()

    async def call(self, op: str, key: str, answer: Callable[[], Any]) -> Any:
        self.calls[op] += 1
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        self._notify()
        try:
            gate = self.gates.get(op)
            if gate is not None:
                await gate.wait()
            if self.latency:
                await trio.sleep(self.latency)
            else:
                await trio.lowlevel.checkpoint()
            if self.transient.get(op, 0) > 0:
                self.transient[op] -= 1
                data = {"op": op, "key": key}
                if self.retry_after is not None:
                    data["retryAfter"] = self.retry_after
                raise ErrTransient(**data)
            when = self.failures.get(op)
            if when is not None and when(key):
                raise ErrUpstream(op=op, key=key)
            return answer()
        finally:
            self.active -= 1
            self._notify()

    def page_of(self, ids: Sequence[str], cursor: str | None) -> tuple[list[str], str | None]:
        start = int(cursor) if cursor else 0
        chunk = list(ids[start : start + self.page_size])
        end = start + len(chunk)
        return chunk, (str(end) if end < len(ids) else None)


def seeded_api(
    *,
    workspaces: int = 1,
    users: int = 3,
    projects: int = 2,
    tasks: int = 5,
    page_size: int = 1000,
) -> FakeApi:
    """Deterministic data: ``users``/``projects`` per workspace, ``tasks`` per project."""
    api = FakeApi(page_size=page_size)
    for w in range(1, workspaces + 1):
        ws = f"w{w}"
        api.workspaces[ws] = {"name": f"Workspace {w}"}
        for u in range(1, users + 1):
            uid = f"{ws}u{u}"
            api.users[uid] = {
                "workspace": ws,
                "displayName": f"User {w}.{u}",
                "email": f"user{w}.{u}@example.com",
            }
        for p in range(1, projects + 1):
            pid = f"{ws}p{p}"
            owner = f"{ws}u{(p - 1) % users + 1}" if users else None
            api.projects[pid] = {
                "workspace": ws,
                "name": f"Project {w}.{p}",
                "status": "active" if p % 2 else "archived",
                "owner": owner,
            }
            for t in range(1, tasks + 1):
                tid = f"{pid}t{t:04d}"
                api.tasks[tid] = {
                    "project": pid,
                    "title": f"Task {tid}",
                    "status": ("todo", "doing", "done")[t % 3],
                }
    return api


@attrs.frozen
class Ctx:
    api: FakeApi


@attrs.frozen
class ListRequest:
    parent: str
    cursor: str | None


def _ids(records: dict[str, dict[str, Any]], key: str, parent: str) -> list[str]:
    return sorted(i for i, r in records.items() if r.get(key) == parent)


def make_operations(limit: Limit | None) -> dict[str, Operation[Ctx, Any, Any]]:
    async def list_workspaces(req: ListRequest, env: OperationEnv[Ctx]) -> Any:
        api = env.ctx.api
        return await api.call(
            "workspaces:list", req.parent, lambda: api.page_of(sorted(api.workspaces), req.cursor)
        )

    async def get_workspace(ws: str, env: OperationEnv[Ctx]) -> Any:
        api = env.ctx.api
        return await api.call("workspace:get", ws, lambda: dict(api.workspaces[ws]))

    async def list_users(req: ListRequest, env: OperationEnv[Ctx]) -> Any:
        api = env.ctx.api
        ids = _ids(api.users, "workspace", req.parent)
        return await api.call("users:list", req.parent, lambda: api.page_of(ids, req.cursor))

    async def get_users(ids: Sequence[str], env: OperationEnv[Ctx]) -> Any:
        api = env.ctx.api
        return await api.call(
            "users:get",
            ",".join(ids),
            lambda: {i: dict(api.users[i]) for i in ids if i in api.users},
        )

    async def list_projects(req: ListRequest, env: OperationEnv[Ctx]) -> Any:
        api = env.ctx.api
        ids = _ids(api.projects, "workspace", req.parent)
        return await api.call("projects:list", req.parent, lambda: api.page_of(ids, req.cursor))

    async def get_project(pid: str, env: OperationEnv[Ctx]) -> Any:
        api = env.ctx.api
        return await api.call("project:get", pid, lambda: dict(api.projects[pid]))

    async def list_tasks(req: ListRequest, env: OperationEnv[Ctx]) -> Any:
        api = env.ctx.api

        def answer() -> Any:
            ids = _ids(api.tasks, "project", req.parent)
            chunk, cursor = api.page_of(ids, req.cursor)
            return [(i, dict(api.tasks[i])) for i in chunk], cursor

        return await api.call("tasks:list", req.parent, answer)

    handlers = {
        "test:workspaces:list": list_workspaces,
        "test:workspace:get": get_workspace,
        "test:users:list": list_users,
        "test:users:get": get_users,
        "test:projects:list": list_projects,
        "test:project:get": get_project,
        "test:tasks:list": list_tasks,
    }
    return {name: Operation.define(name, fn, limit=limit) for name, fn in handlers.items()}


@attrs.frozen(eq=False)
class FakeConnector:
    """Resolvers, seeder and operations of the test connector."""

    resolvers: tuple[Resolver, ...]
    seeder: Seeder[Ctx]
    ops: dict[str, Operation[Ctx, Any, Any]]

    def plan(self) -> SyncPlan:
        return PLAN


PLAN = SyncPlan.create(
    Step.for_root(ROOT).load_collection("workspaces"),
    Step.for_all(Workspace).load_fields("name"),
    Step.for_all(Workspace).load_collection("users"),
    Step.for_all(Workspace).load_collection("projects"),
    Step.for_all(User).load_fields("displayName", "email"),
    Step.for_all(Project).load_fields("name", "status", "owner"),
    Step.for_all(Project).load_collection("tasks"),
)


def make_connector(limit: Limit | None = API_LIMIT) -> FakeConnector:
    ops = make_operations(limit)

    async def load_workspaces(parent: Ref, page: PageRequest, env: LoaderEnv[Ctx]) -> Page[Any]:
        ids, cursor = await env.ops.execute(
            ops["test:workspaces:list"], ListRequest(parent.id, page.cursor)
        )
        return Page.from_next([Workspace.input(i) for i in ids], cursor)

    async def load_workspace(ref: Ref, env: LoaderEnv[Ctx]) -> EntityInput:
        data = await env.ops.execute(ops["test:workspace:get"], ref.id)
        return Workspace.input(ref.id, name=data["name"])

    async def load_users(parent: Ref, page: PageRequest, env: LoaderEnv[Ctx]) -> Page[Any]:
        ids, cursor = await env.ops.execute(
            ops["test:users:list"], ListRequest(parent.id, page.cursor)
        )
        return Page.from_next([User.input(i) for i in ids], cursor)

    async def load_user_batch(refs: Sequence[Ref], env: LoaderEnv[Ctx]) -> Batch[EntityInput]:
        found = await env.ops.execute(ops["test:users:get"], [r.id for r in refs])
        inputs = [
            User.input(i, displayName=d["displayName"], email=d["email"]) for i, d in found.items()
        ]
        return Batch.build(inputs, lambda e: e.ref, refs)

    async def load_projects(parent: Ref, page: PageRequest, env: LoaderEnv[Ctx]) -> Page[Any]:
        ids, cursor = await env.ops.execute(
            ops["test:projects:list"], ListRequest(parent.id, page.cursor)
        )
        return Page.from_next([Project.input(i) for i in ids], cursor)

    async def load_project(ref: Ref, env: LoaderEnv[Ctx]) -> EntityInput:
        data = await env.ops.execute(ops["test:project:get"], ref.id)
        owner = User.ref(data["owner"]) if data["owner"] else None
        return Project.input(ref.id, name=data["name"], status=data["status"], owner=owner)

    async def load_tasks(parent: Ref, page: PageRequest, env: LoaderEnv[Ctx]) -> Page[Any]:
        rows, cursor = await env.ops.execute(
            ops["test:tasks:list"], ListRequest(parent.id, page.cursor)
        )
        items = [
            TaskItem.input(
                i, title=r["title"], status=r["status"], project=Project.ref(r["project"])
            )
            for i, r in rows
        ]
        return Page.from_next(items, cursor)

    workspaces = Loader.collection("test:workspaces", Root, Workspace, load_workspaces)
    workspace = Loader.entity("test:workspace", Workspace, load_workspace)
    users = Loader.collection("test:users", Workspace, User, load_users)
    user = Loader.batched("test:user", User, load_user_batch)
    projects = Loader.collection("test:projects", Workspace, Project, load_projects)
    project = Loader.entity("test:project", Project, load_project)
    tasks = Loader.collection("test:tasks", Project, TaskItem, load_tasks)

    resolvers = (
        Resolver.for_(Root, {"workspaces": workspaces}),
        Resolver.for_(Workspace, {"name": workspace, "users": users, "projects": projects}),
        Resolver.for_(User, {"displayName": user, "email": user}),
        Resolver.for_(
            Project, {"name": project, "status": project, "owner": project, "tasks": tasks}
        ),
    )

    async def seed(env: SeederEnv[Ctx]) -> SyncPlan:
        await env.engine.store(Root.input("root"))
        return PLAN

    return FakeConnector(resolvers, Seeder.create(seed), ops)
