"""The task runner, payload by payload."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from trio.testing import MockClock

from maxtrio.core import (
    BasicOperationExecutor,
    Dependency,
    EntityInput,
    ErrInvalidPlanStep,
    ErrUnknownEntityType,
    Loader,
    LoaderEnv,
    MaxError,
    Page,
    PageRequest,
    Ref,
    Resolver,
    Step,
    SyncPlan,
)
from maxtrio.execution import (
    ErrDependencyFailed,
    ErrInvalidLoaderResult,
    ErrNoCollectionLoader,
    ErrPageWithoutCursor,
    ExecutionRegistry,
    FieldSyncBatch,
    LoadCollectionPayload,
    LoadFieldsPayload,
    Progress,
    RunnerTuning,
    SyncStepPayload,
    TaskOutcome,
    TaskRunner,
    step_payload,
)
from maxtrio.storage import InMemoryEngine

from .connector import (
    ROOT,
    SCHEMA,
    Ctx,
    FakeApi,
    Project,
    User,
    Workspace,
    make_connector,
    seeded_api,
)
from .sources import (
    G_RESOLVERS,
    GSCHEMA,
    GCtx,
    GitApi,
    GRoot,
    Issue,
    Person,
    Repo,
    issue_resolvers,
)

NOW = 1_700_000_000_000


def runner(
    resolvers: Any, ctx: Any, *, schema: Any = SCHEMA, tuning: RunnerTuning | None = None
) -> TaskRunner:
    return TaskRunner(
        engine=InMemoryEngine(schema),
        registry=ExecutionRegistry(resolvers),
        env=LoaderEnv(ctx, BasicOperationExecutor(ctx)),
        tuning=tuning,
        now_ms=lambda: NOW,
    )


def test_default_tuning() -> None:
    assert RunnerTuning() == RunnerTuning(500, 100, 25)
    with pytest.raises(ValueError):
        RunnerTuning(ref_page_size=0)


def keys(entity: Any, ids: Any) -> tuple[str, ...]:
    return tuple(entity.ref(i).to_key() for i in ids)


async def store_users(r: TaskRunner, count: int) -> list[str]:
    ids = [f"u{n:03d}" for n in range(1, count + 1)]
    await r.engine.store_many([User.input(i) for i in reversed(ids)])
    return ids


# -- forAll fan-out --------------------------------------------------------------


async def test_for_all_load_fields_batches_refs_in_id_order() -> None:
    """60 refs, batch 25 → 25, 25, 10; page 50 → continuation at the 50th id."""
    api = seeded_api()
    r = runner(make_connector().resolvers, Ctx(api))
    ids = await store_users(r, 60)
    step = step_payload(Step.for_all(User).load_fields("displayName", "email"))
    outcome = await r.run_payload(step)
    assert outcome.children == (
        LoadFieldsPayload("TUser", keys(User, ids[:25]), ("displayName", "email")),
        LoadFieldsPayload("TUser", keys(User, ids[25:50]), ("displayName", "email")),
        LoadFieldsPayload("TUser", keys(User, ids[50:]), ("displayName", "email")),
    )
    assert outcome.progress is None and not outcome.entities

    paged = TaskRunner(
        engine=r.engine,
        registry=r.registry,
        env=r.env,
        tuning=RunnerTuning(ref_page_size=50),
    )
    first = await paged.run_payload(step)
    *batches, continuation = first.children
    assert [len(b.ref_keys) for b in batches] == [25, 25]  # type: ignore[union-attr]
    assert isinstance(continuation, SyncStepPayload)
    assert continuation.target.cursor == f"ein:TUser:{ids[49]}"
    assert continuation.operation == step.operation
    second = await paged.run_payload(continuation)
    assert [c.ref_keys for c in second.children] == [keys(User, ids[50:])]  # type: ignore[union-attr]


async def test_for_all_load_collection_spawns_one_child_per_ref() -> None:
    api = seeded_api(workspaces=3)
    r = runner(make_connector().resolvers, Ctx(api), tuning=RunnerTuning(ref_page_size=2))
    await r.engine.store_many([Workspace.input(w) for w in ("w1", "w2", "w3")])
    step = step_payload(Step.for_all(Workspace).load_collection("projects"))
    outcome = await r.run_payload(step)
    *pages, continuation = outcome.children
    assert pages == [
        LoadCollectionPayload("TWorkspace", "ein:TWorkspace:w1", "projects", "TProject"),
        LoadCollectionPayload("TWorkspace", "ein:TWorkspace:w2", "projects", "TProject"),
    ]
    # The second ref page also fans out (the reference once dispatched it as a no-op).
    rest = await r.run_payload(continuation)
    assert rest.children == (
        LoadCollectionPayload("TWorkspace", "ein:TWorkspace:w3", "projects", "TProject"),
    )


async def test_for_all_over_an_empty_type_completes_without_children() -> None:
    """Decided: lazy like the reference — nothing to load, nothing checked."""
    unmapped = Resolver.for_(Workspace, {})  # no loader for any field
    r = runner([unmapped], Ctx(FakeApi()))
    for step in (
        Step.for_all(Workspace).load_fields("name"),
        Step.for_all(Workspace).load_collection("users"),
    ):
        assert await r.run_payload(step_payload(step)) == TaskOutcome()


async def test_for_all_load_collection_needs_a_collection_loader() -> None:
    r = runner([Resolver.for_(Workspace, {})], Ctx(FakeApi()))
    await r.engine.store(Workspace.input("w1"))
    with pytest.raises(MaxError) as caught:
        await r.run_payload(step_payload(Step.for_all(Workspace).load_collection("users")))
    assert ErrNoCollectionLoader.matches(caught.value)
    assert caught.value.message == "No collection loader for field 'users' on TWorkspace"


async def test_unknown_entity_types_fail() -> None:
    r = runner(make_connector().resolvers, Ctx(FakeApi()))
    with pytest.raises(MaxError) as caught:
        await r.run_payload(LoadFieldsPayload("TTask", ("ein:TTask:t1",), ("title",)))
    assert ErrUnknownEntityType.matches(caught.value)


# -- loading fields ---------------------------------------------------------------------


async def test_fields_on_one_loader_make_one_call_per_ref_and_unmapped_fields_are_skipped() -> None:
    """One call per ref; all fields the loader delivered are recorded; collections refused."""
    api = seeded_api(projects=3)
    connector = make_connector()
    project_loader = connector.resolvers[3].loader_for("name")
    assert project_loader is not None
    only_name = Resolver.for_(Project, {"name": project_loader})  # status has no loader here
    r = runner([only_name], Ctx(api))
    payload = LoadFieldsPayload("TProject", keys(Project, ["w1p1", "w1p2"]), ("name", "status"))
    outcome = await r.run_payload(payload)
    assert api.calls["project:get"] == 2  # one call per ref for both fields
    assert [e.ref.id for e in outcome.entities] == ["w1p1", "w1p2"]
    assert outcome.progress == Progress("TProject", "load-fields", 2)
    # Every stored field the loader delivered is recorded, not just the requested ones.
    assert list(outcome.sync_batches) == [
        FieldSyncBatch(["ein:TProject:w1p1", "ein:TProject:w1p2"], ("name", "status", "owner"), NOW)
    ]
    # Collection fields cannot be loaded as fields: refused when the plan is built.
    with pytest.raises(MaxError) as caught:
        Step.for_all(Workspace).load_fields("users")
    assert ErrInvalidPlanStep.matches(caught.value)


async def test_a_batched_loader_missing_refs_writes_only_what_came_back() -> None:
    """Refs a batched loader did not return are not written."""
    api = seeded_api(users=3)
    del api.users["w1u2"]
    r = runner(make_connector().resolvers, Ctx(api))
    payload = LoadFieldsPayload("TUser", keys(User, ["w1u1", "w1u2", "w1u3"]), ("displayName",))
    outcome = await r.run_payload(payload)
    assert api.calls["users:get"] == 1
    assert [e.ref.id for e in outcome.entities] == ["w1u1", "w1u3"]
    assert list(outcome.sync_batches) == [
        FieldSyncBatch(["ein:TUser:w1u1", "ein:TUser:w1u3"], ("displayName", "email"), NOW)
    ]
    assert outcome.progress == Progress("TUser", "load-fields", 2)


async def test_inputs_are_recorded_under_their_own_ref() -> None:
    """Reference bug B15: freshness is recorded for the entity actually stored."""

    async def renamed(ref: Ref, env: Any) -> EntityInput:
        await trio.lowlevel.checkpoint()
        return Workspace.input(f"{ref.id}-moved", name="moved")

    loader = Loader.entity("ws", Workspace, renamed)
    r = runner([Resolver.for_(Workspace, {"name": loader})], Ctx(FakeApi()))
    outcome = await r.run_payload(
        step_payload(Step.for_one(Workspace.ref("w1")).load_fields("name"))
    )
    assert [e.ref.id for e in outcome.entities] == ["w1-moved"]
    assert list(outcome.sync_batches) == [
        FieldSyncBatch(["ein:TWorkspace:w1-moved"], ("name",), NOW)
    ]


async def test_stub_inputs_record_no_freshness() -> None:
    api = seeded_api(workspaces=2)
    r = runner(make_connector().resolvers, Ctx(api))
    outcome = await r.run_payload(step_payload(Step.for_root(ROOT).load_collection("workspaces")))
    assert [e.ref.id for e in outcome.entities] == ["w1", "w2"]
    assert list(outcome.sync_batches) == []
    assert outcome.progress == Progress("TWorkspace", "load-collection", 2)


async def test_a_single_source_derivation_loads_fields_once_per_ref() -> None:
    """One fetch per ref; every co-derivation's entities are stored."""
    api = GitApi()
    r = runner(G_RESOLVERS, GCtx(api), schema=GSCHEMA)
    payload = LoadFieldsPayload("GRepo", keys(Repo, ["r-1", "r-2"]), ("name", "owner"))
    outcome = await r.run_payload(payload)
    assert api.fetches["repo:r-1"] == 1 and api.fetches["repo:r-2"] == 1
    stored = [(e.ref.entity_type, e.ref.id) for e in outcome.entities]
    assert stored == [("GRepo", "r-1"), ("GUser", "u-2"), ("GRepo", "r-2"), ("GUser", "u-3")]
    assert outcome.progress == Progress("GRepo", "load-fields", 2)


# -- collections ------------------------------------------------------------------------


async def test_a_collection_page_with_more_becomes_a_child_page() -> None:
    api = seeded_api(projects=1, tasks=250, page_size=100)
    r = runner(make_connector().resolvers, Ctx(api))
    page = LoadCollectionPayload("TProject", "ein:TProject:w1p1", "tasks", "TTask")
    first = await r.run_payload(page)
    assert first.progress == Progress("TTask", "load-collection", 100)
    assert first.children == (
        LoadCollectionPayload("TProject", "ein:TProject:w1p1", "tasks", "TTask", "100"),
    )
    batch = list(first.sync_batches)
    assert len(batch) == 1 and batch[0].fields == ("title", "status", "project")
    assert len(batch[0].ref_keys) == 100


async def test_has_more_without_a_cursor_is_an_invariant_error() -> None:
    """Reference bug B14: the collection was silently truncated."""

    async def truncated(parent: Ref, page: PageRequest, env: Any) -> Page[EntityInput]:
        await trio.lowlevel.checkpoint()
        return Page([User.input("u1")], has_more=True, cursor=page.cursor)

    loader = Loader.collection("users", Workspace, User, truncated)
    r = runner([Resolver.for_(Workspace, {"users": loader})], Ctx(FakeApi()))
    for cursor in (None, "7"):  # no cursor at all, then a cursor that does not move
        payload = LoadCollectionPayload("TWorkspace", "ein:TWorkspace:w1", "users", "TUser", cursor)
        with pytest.raises(MaxError) as caught:
            await r.run_payload(payload)
        assert ErrPageWithoutCursor.matches(caught.value)
        assert caught.value.has("InvariantViolated")


async def test_wrong_loader_results_fail_clearly() -> None:
    async def listing(parent: Ref, page: PageRequest, env: Any) -> Any:
        await trio.lowlevel.checkpoint()
        return [User.input("u1")]

    async def garbage(parent: Ref, page: PageRequest, env: Any) -> Any:
        await trio.lowlevel.checkpoint()
        return Page([{"id": "u1"}])

    for fn, expected in ((listing, "a Page"), (garbage, "an EntityInput or EntityColumns")):
        loader = Loader.collection("users", Workspace, User, fn)
        r = runner([Resolver.for_(Workspace, {"users": loader})], Ctx(FakeApi()))
        with pytest.raises(MaxError) as caught:
            await r.run_payload(
                LoadCollectionPayload("TWorkspace", "ein:TWorkspace:w1", "users", "TUser")
            )
        assert ErrInvalidLoaderResult.matches(caught.value)
        assert caught.value.message.endswith(f"expected {expected}")


async def test_a_paginated_source_feeds_every_co_derivation_once_per_page() -> None:
    """One fetch per page, both types stored, progress counts the trigger only."""
    api = GitApi(issues_per_page=2)
    r = runner(G_RESOLVERS, GCtx(api), schema=GSCHEMA)
    first = await r.run_payload(LoadCollectionPayload("GRepo", "ein:GRepo:r-1", "issues", "GIssue"))
    assert api.fetches["issues:r-1"] == 1
    assert [(e.ref.entity_type, e.ref.id) for e in first.entities] == [
        ("GIssue", "i-1"),
        ("GIssue", "i-2"),
        ("GUser", "u-1"),
        ("GUser", "u-2"),
    ]
    assert first.progress == Progress("GIssue", "load-collection", 2)
    (child,) = first.children
    assert child == LoadCollectionPayload("GRepo", "ein:GRepo:r-1", "issues", "GIssue", "2")
    second = await r.run_payload(child)
    assert api.fetches["issues:r-1"] == 2 and not second.children
    assert {e.ref.id for e in second.entities} == {"i-3", "i-4", "u-1", "u-3"}
    # Loading the authors field triggers the same source, progress counts authors.
    authors = await r.run_payload(
        LoadCollectionPayload("GRepo", "ein:GRepo:r-2", "issueAuthors", "GUser")
    )
    assert authors.progress == Progress("GUser", "load-collection", 2)


async def test_a_single_source_derivation_is_not_a_collection() -> None:
    r = runner(G_RESOLVERS, GCtx(GitApi()), schema=GSCHEMA)
    resolver = Resolver.for_(Repo, {"issues": r.registry.resolver("GRepo").loader_for("name")})  # type: ignore[dict-item]
    bad = runner([resolver], GCtx(GitApi()), schema=GSCHEMA)
    with pytest.raises(MaxError) as caught:
        await bad.run_payload(LoadCollectionPayload("GRepo", "ein:GRepo:r-1", "issues", "GIssue"))
    assert ErrNoCollectionLoader.matches(caught.value)


# -- depends_on -------------------------------------------------------------------------


async def test_a_dependency_is_computed_once_for_concurrent_requesters(
    autojump_clock: MockClock,
) -> None:
    api = GitApi(issues_per_page=None, config_latency=1.0)
    r = runner(G_RESOLVERS, GCtx(api), schema=GSCHEMA)
    outcomes: list[TaskOutcome] = []

    async def page(repo: str) -> None:
        outcomes.append(
            await r.run_payload(LoadCollectionPayload("GRepo", repo, "issues", "GIssue"))
        )

    async with trio.open_nursery() as nursery:
        for repo in ("ein:GRepo:r-1", "ein:GRepo:r-2", "ein:GRepo:r-1"):
            nursery.start_soon(page, repo)
    assert api.fetches["config"] == 1
    assert r.dependencies.computed == 1
    assert all(o.progress == Progress("GIssue", "load-collection", 4) for o in outcomes)
    # A new sync (a new runner) computes it again: results are in memory only.
    again = runner(G_RESOLVERS, GCtx(api), schema=GSCHEMA)
    await again.run_payload(LoadCollectionPayload("GRepo", "ein:GRepo:r-1", "issues", "GIssue"))
    assert api.fetches["config"] == 2


async def test_a_failing_dependency_fails_its_dependants_and_is_retried_later() -> None:
    broken = True
    fetches = 0

    async def config(ref: Ref, env: Any) -> Any:
        nonlocal fetches
        await trio.lowlevel.checkpoint()
        fetches += 1
        if broken:
            raise RuntimeError("config endpoint down")
        return {"issuesPerPage": None}

    source = Loader.single_source("api-config", GRoot, config)
    r = runner(issue_resolvers(source), GCtx(GitApi()), schema=GSCHEMA)
    payload = LoadCollectionPayload("GRepo", "ein:GRepo:r-1", "issues", "GIssue")
    with pytest.raises(MaxError) as caught:
        await r.run_payload(payload)
    error = caught.value
    assert ErrDependencyFailed.matches(error)
    assert error.message == "Dependency api-config of repo-issues failed for ein:GRoot:root"
    assert error.cause is not None and error.cause.message == "config endpoint down"
    broken = False
    outcome = await r.run_payload(payload)  # failures are not remembered
    assert outcome.progress == Progress("GIssue", "load-collection", 4)
    assert fetches == 2


async def test_a_ref_bound_dependency_is_computed_once_per_ref() -> None:
    api = seeded_api(workspaces=2)
    fetched: list[str] = []

    async def workspace_meta(ref: Ref, env: Any) -> Any:
        await trio.lowlevel.checkpoint()
        fetched.append(ref.id)
        return {"prefix": f"[{ref.id}]"}

    meta = Loader.single_source("ws-meta", Workspace, workspace_meta)

    async def load(ref: Ref, env: LoaderEnv[Any]) -> EntityInput:
        assert env.deps.has(meta) and not env.deps.has("other")
        prefix = env.deps.get_or_raise(meta)["prefix"]
        return Workspace.input(ref.id, name=f"{prefix} {api.workspaces[ref.id]['name']}")

    loader = Loader.entity("ws", Workspace, load, depends_on=[Dependency(meta)])
    r = runner([Resolver.for_(Workspace, {"name": loader})], Ctx(api))
    payload = LoadFieldsPayload("TWorkspace", keys(Workspace, ["w1", "w2"]), ("name",))
    outcome = await r.run_payload(payload)
    await r.run_payload(payload)
    assert fetched == ["w1", "w2"]
    assert [e.fields["name"] for e in outcome.entities] == ["[w1] Workspace 1", "[w2] Workspace 2"]


async def test_loaders_do_not_swallow_cancellation(autojump_clock: MockClock) -> None:
    async def forever(parent: Ref, page: PageRequest, env: Any) -> Page[EntityInput]:
        await trio.sleep_forever()
        raise AssertionError

    loader = Loader.collection("users", Workspace, User, forever)
    r = runner([Resolver.for_(Workspace, {"users": loader})], Ctx(FakeApi()))
    with trio.move_on_after(5) as scope:
        await r.run_payload(LoadCollectionPayload("TWorkspace", "ein:TWorkspace:w1", "users"))
    assert scope.cancelled_caught


def test_plans_name_steps_only() -> None:
    assert SyncPlan.create(Step.for_root(ROOT).load_collection("workspaces")).step_count == 1
    assert Issue.name == "GIssue" and Person.name == "GUser"
