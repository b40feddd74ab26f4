"""``forWhere`` steps: the stored entities matching a where tree, expanded, persisted and run.

Runner and executor tests run on the in-memory engine and on the apsw engine over a real
``data.db`` (the ``make_stores`` / ``make_harness`` fixtures).
"""

from __future__ import annotations

import json

import pytest

from maxtrio.core import (
    BasicOperationExecutor,
    ErrInvalidPlanStep,
    ForWhere,
    LoaderEnv,
    MaxError,
    Op,
    Step,
    SyncPlan,
    Where,
    and_,
    or_,
)
from maxtrio.execution import (
    ErrInvalidPayload,
    ExecutionRegistry,
    LoadCollectionPayload,
    LoadFieldsPayload,
    PlanExpander,
    RunnerTuning,
    StepTarget,
    SyncStatus,
    SyncStepPayload,
    TaskRunner,
    payload_from_json,
    payload_to_json,
    step_payload,
)

from .conftest import MakeHarness, MakeStores
from .connector import (
    ROOT,
    SCHEMA,
    Ctx,
    Project,
    TaskItem,
    User,
    Workspace,
    make_connector,
    seeded_api,
)

ACTIVE = Where("status", Op.EQ, "active")


def test_for_where_builds_a_target_with_its_tree() -> None:
    step = Step.for_where(Project, ACTIVE).load_collection("tasks")
    assert step.target == ForWhere(Project, ACTIVE)
    assert step.target.kind == "forWhere"
    assert step.target.entity is Project


@pytest.mark.parametrize("field", ["nope", "tasks"])
def test_for_where_refuses_fields_a_filter_cannot_use(field: str) -> None:
    with pytest.raises(MaxError) as caught:
        Step.for_where(Project, or_(ACTIVE, Where(field, Op.EQ, "x")))
    assert ErrInvalidPlanStep.matches(caught.value)
    assert caught.value.has("BadInput")
    assert f"filters on '{field}'" in caught.value.message
    assert "filterable: _id, name, status, owner" in caught.value.message


def test_a_for_where_step_persists_its_tree_and_reads_back() -> None:
    tree = and_(ACTIVE, or_(Where("name", Op.CONTAINS, "x"), Where("_id", Op.GE, 3)))
    payload = step_payload(Step.for_where(Project, tree).load_fields("name"))
    text = payload_to_json(payload)
    assert text == (
        '{"kind":"sync-step","target":{"kind":"forWhere","entityType":"TProject","where":'
        '{"kind":"and","clauses":[{"field":"status","op":"=","value":"active"},{"kind":"or",'
        '"clauses":[{"field":"name","op":"contains","value":"x"},'
        '{"field":"_id","op":">=","value":3}]}]}},'
        '"operation":{"kind":"loadFields","fields":["name"]}}'
    )
    assert payload_from_json(text) == payload
    # A continuation keeps the tree and adds the cursor after it.
    continued = SyncStepPayload(
        StepTarget("forWhere", "TProject", cursor="c1", where=ACTIVE), payload.operation
    )
    assert json.loads(payload_to_json(continued))["target"] == {
        "kind": "forWhere",
        "entityType": "TProject",
        "where": {"field": "status", "op": "=", "value": "active"},
        "cursor": "c1",
    }
    assert payload_from_json(payload_to_json(continued)) == continued


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ({"kind": "forWhere", "entityType": "TProject"}, "missing key 'where'"),
        ({"kind": "forWhere", "entityType": "TProject", "where": []}, "must be an object"),
    ],
)
def test_a_for_where_payload_without_a_good_tree_is_invalid(target: object, reason: str) -> None:
    text = json.dumps(
        {"kind": "sync-step", "target": target, "operation": {"kind": "loadFields", "fields": []}}
    )
    with pytest.raises(MaxError) as caught:
        payload_from_json(text)
    assert ErrInvalidPayload.matches(caught.value)
    assert reason in caught.value.message


def test_for_where_expands_like_any_step() -> None:
    plan = SyncPlan.create(
        Step.for_root(ROOT).load_collection("workspaces"),
        Step.for_where(Project, ACTIVE).load_collection("tasks"),
    )
    templates = PlanExpander().expand(plan)
    assert [t.blocked_by for t in templates] == [None, "temp-1"]
    payload = templates[1].payload
    assert isinstance(payload, SyncStepPayload)
    assert payload.target == StepTarget("forWhere", "TProject", where=ACTIVE)


# -- running ----------------------------------------------------------------------------------


def _runner(make_stores: MakeStores, page_size: int) -> TaskRunner:
    api = seeded_api(workspaces=1, users=6, projects=5, tasks=2)
    ctx = Ctx(api)
    return TaskRunner(
        engine=make_stores(SCHEMA).engine,
        registry=ExecutionRegistry(make_connector().resolvers),
        env=LoaderEnv(ctx, BasicOperationExecutor(ctx)),
        tuning=RunnerTuning(ref_page_size=page_size, load_fields_batch_size=2),
    )


async def test_for_where_pages_only_the_matching_refs(make_stores: MakeStores) -> None:
    r = _runner(make_stores, page_size=2)
    statuses = {f"p{n}": ("active" if n % 2 else "archived") for n in range(1, 8)}
    await r.engine.store_many([Project.input(i, status=s) for i, s in statuses.items()])
    step = step_payload(Step.for_where(Project, ACTIVE).load_collection("tasks"))

    seen: list[str] = []
    pages = 0
    payload: SyncStepPayload | None = step
    while payload is not None:
        outcome = await r.run_payload(payload)
        pages += 1
        payload = None
        for child in outcome.children:
            if isinstance(child, SyncStepPayload):
                assert child.target.where == ACTIVE and child.target.cursor
                payload = child
            else:
                assert isinstance(child, LoadCollectionPayload)
                assert (child.field, child.target_entity_type) == ("tasks", "TTask")
                seen.append(child.ref_key.removeprefix("ein:TProject:"))
    assert seen == ["p1", "p3", "p5", "p7"]
    assert pages == 2


async def test_for_where_load_fields_batches_the_matching_refs(make_stores: MakeStores) -> None:
    r = _runner(make_stores, page_size=100)
    await r.engine.store_many(
        [User.input(f"u{n}", email=f"u{n}@{'a' if n < 4 else 'b'}.test") for n in range(1, 7)]
    )
    where = Where("email", Op.CONTAINS, "@A.")  # ~= is case-insensitive
    outcome = await r.run_payload(step_payload(Step.for_where(User, where).load_fields("email")))
    assert outcome.children == (
        LoadFieldsPayload("TUser", ("ein:TUser:u1", "ein:TUser:u2"), ("email",)),
        LoadFieldsPayload("TUser", ("ein:TUser:u3",), ("email",)),
    )
    nothing = Step.for_where(User, Where("email", Op.EQ, "nobody")).load_fields("email")
    assert (await r.run_payload(step_payload(nothing))).children == ()


async def test_a_plan_with_a_for_where_step_syncs_only_the_matching_parents(
    make_harness: MakeHarness,
) -> None:
    api = seeded_api(workspaces=2, users=1, projects=3, tasks=4, page_size=2)
    harness = make_harness(api)
    plan = SyncPlan.create(
        Step.for_root(ROOT).load_collection("workspaces"),
        Step.for_all(Workspace).load_collection("projects"),
        Step.for_all(Project).load_fields("status"),
        Step.for_where(Project, and_(ACTIVE, Where("_id", Op.NE, "w2p3"))).load_collection("tasks"),
    )
    await harness.seed()  # stores the root, as a partial sync does
    async with harness.executor(tuning=RunnerTuning(ref_page_size=1)).running(plan) as handle:
        result = await handle.completion()
    assert result.status is SyncStatus.COMPLETED, result.failures
    tasks = await harness.rows(TaskItem)
    parents = {row["project"] for row in tasks.values()}
    assert parents == {"w1p1", "w1p3", "w2p1"}  # active, and not w2p3
    assert len(tasks) == 3 * 4
    assert set(await harness.rows(User)) == set()  # users were not in the plan
