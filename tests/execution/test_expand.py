"""Plan expansion and the unblocking it sets up."""

from __future__ import annotations

import pytest

from maxtrio.core import (
    ConcurrentGroup,
    LoadFields,
    MaxError,
    Step,
    SyncPlan,
    SyncStep,
    concurrent,
)
from maxtrio.execution import (
    ErrInvalidTransition,
    ErrUnknownTargetKind,
    InMemorySyncMeta,
    InMemoryTaskStore,
    PlanExpander,
    SyncGroupPayload,
    TaskOutcome,
    TaskState,
    payload_to_json,
    step_payload,
)
from maxtrio.storage import InMemoryEngine

from .connector import ROOT, SCHEMA, Project, User, Workspace

A = Step.for_root(ROOT).load_collection("workspaces")
B = Step.for_all(Workspace).load_collection("users")
C = Step.for_all(Workspace).load_collection("projects")
D = Step.for_all(User).load_fields("displayName", "email")


def test_a_plan_expands_to_the_table_of_section_7() -> None:
    templates = PlanExpander().expand(SyncPlan.create(A, concurrent(B, C), D))
    rows = [(t.temp_id, t.state, t.parent, t.blocked_by) for t in templates]
    assert rows == [
        ("temp-1", TaskState.PENDING, None, None),
        ("temp-2", TaskState.AWAITING_CHILDREN, None, None),
        ("temp-3", TaskState.NEW, "temp-2", "temp-1"),
        ("temp-4", TaskState.NEW, "temp-2", "temp-1"),
        ("temp-5", TaskState.NEW, None, "temp-2"),
    ]
    payloads = [t.payload for t in templates]
    assert payloads[1] == SyncGroupPayload()
    assert payloads[0] == step_payload(A) and payloads[4] == step_payload(D)


def test_step_payloads_have_the_persisted_json_shapes() -> None:
    assert payload_to_json(step_payload(A)) == (
        '{"kind":"sync-step","target":{"kind":"forRoot","entityType":"TRoot",'
        '"refKey":"ein:TRoot:root"},"operation":{"kind":"loadCollection","field":"workspaces"}}'
    )
    assert payload_to_json(step_payload(D)) == (
        '{"kind":"sync-step","target":{"kind":"forAll","entityType":"TUser"},'
        '"operation":{"kind":"loadFields","fields":["displayName","email"]}}'
    )
    one = Step.for_one(Project.ref("p1")).load_fields("name")
    assert step_payload(one).target.kind == "forOne"
    assert step_payload(one).target.ref_key == "ein:TProject:p1"


def test_a_group_as_first_entry_has_pending_members_and_ids_keep_counting() -> None:
    expander = PlanExpander()
    expander.expand(SyncPlan.create(A))
    templates = expander.expand(SyncPlan.create(concurrent(B, C), D))
    assert [t.temp_id for t in templates] == ["temp-2", "temp-3", "temp-4", "temp-5"]
    assert [t.state for t in templates] == [
        TaskState.AWAITING_CHILDREN,
        TaskState.PENDING,
        TaskState.PENDING,
        TaskState.NEW,
    ]


def test_an_empty_group_is_skipped_not_stranding_the_plan() -> None:
    templates = PlanExpander().expand(SyncPlan((A, ConcurrentGroup(()), D)))
    assert [(t.temp_id, t.blocked_by) for t in templates] == [
        ("temp-1", None),
        ("temp-2", "temp-1"),
    ]


def test_an_unknown_target_kind_is_an_invariant_error() -> None:
    class Elsewhere:
        kind = "forSome"
        entity = User

    step = SyncStep(Elsewhere(), LoadFields(("email",)))  # type: ignore[arg-type]
    with pytest.raises(MaxError) as caught:
        PlanExpander().expand(SyncPlan.create(step))
    assert ErrUnknownTargetKind.matches(caught.value)
    assert caught.value.has("InvariantViolated")


async def test_unblocking_follows_the_plan_order() -> None:
    """A unblocks B and C (not D); B alone leaves the group open; C closes it."""
    store = InMemoryTaskStore(InMemoryEngine(SCHEMA), InMemorySyncMeta())
    templates = PlanExpander().expand(SyncPlan.create(A, concurrent(B, C), D))
    ids = await store.enqueue_graph("sync-1", templates)
    a, group, b, c, d = (ids[f"temp-{n}"] for n in range(1, 6))

    async def state(task_id: str) -> TaskState:
        task = await store.get(task_id)
        assert task is not None
        return task.state

    claimed = await store.claim("sync-1", 0)
    assert claimed is not None and claimed.id == a
    await store.finish(claimed, TaskOutcome())
    assert [await state(t) for t in (b, c, d)] == [
        TaskState.PENDING,
        TaskState.PENDING,
        TaskState.NEW,
    ]
    first = await store.claim("sync-1", 0)
    second = await store.claim("sync-1", 0)
    assert first is not None and second is not None
    assert (first.id, second.id) == (b, c)  # FIFO: creation order
    await store.finish(first, TaskOutcome())
    assert await state(group) is TaskState.AWAITING_CHILDREN
    assert await state(d) is TaskState.NEW
    report = await store.finish(second, TaskOutcome())
    assert report.propagated == (group,)
    assert await state(group) is TaskState.COMPLETED
    assert await state(d) is TaskState.PENDING

    # A transition from a state other than running is an invariant error.
    done = await store.get(b)
    assert done is not None
    with pytest.raises(MaxError) as caught:
        await store.finish(done, TaskOutcome())
    assert ErrInvalidTransition.matches(caught.value)
    assert caught.value.has("InvariantViolated")
