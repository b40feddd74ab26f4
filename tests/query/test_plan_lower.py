"""Lowering sync plans to ``SyncPlan`` for a connector: targets, operations, blocks, and the
schema/resolver checks with their one-line errors (docs/sync-plans.md)."""

from __future__ import annotations

from typing import Any

import pytest

from maxtrio.connectors.acme import (
    ACME_RESOLVERS,
    ACME_SYNC_PLAN,
    ROOT_REF,
    AcmeProject,
    AcmeRoot,
    AcmeSchema,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
)
from maxtrio.core import (
    EntityDef,
    Field,
    Loader,
    MaxError,
    Op,
    Resolver,
    Schema,
    Step,
    SyncPlan,
    Where,
    WhereGroup,
    WhereNot,
    concurrent,
)
from maxtrio.query import (
    ErrInvalidPlan,
    ErrPlanParseFailed,
    loads_collection,
    loads_fields,
    lower_plan,
    parse_plan,
    parse_sync_plan,
)


def acme(text: str) -> SyncPlan:
    return parse_sync_plan(text, AcmeSchema, ACME_RESOLVERS)


def acme_error(text: str) -> MaxError:
    with pytest.raises(MaxError) as info:
        acme(text)
    assert info.value.has("BadInput")
    return info.value


USER_FIELDS = ("displayName", "email", "role", "active", "workspace", "createdAt", "updatedAt")
PROJECT_FIELDS = (
    "name",
    "description",
    "status",
    "owner",
    "workspace",
    "createdAt",
    "updatedAt",
)


# -- targets ------------------------------------------------------------------------------------


def test_all_one_root_and_where_targets() -> None:
    assert acme("AcmeUser(*).fields{email}") == SyncPlan.create(
        Step.for_all(AcmeUser).load_fields("email")
    )
    assert acme("AcmeProject(#prj_1).collection{tasks}") == SyncPlan.create(
        Step.for_one(AcmeProject.ref("prj_1")).load_collection("tasks")
    )
    # AcmeRoot is the schema's root: #id gives a forRoot target.
    assert acme("AcmeRoot(#root).collection{workspaces}") == SyncPlan.create(
        Step.for_root(ROOT_REF).load_collection("workspaces")
    )
    assert acme("AcmeProject(status = active AND owner = u1).fields{name}") == SyncPlan.create(
        Step.for_where(
            AcmeProject,
            WhereGroup("and", (Where("status", Op.EQ, "active"), Where("owner", Op.EQ, "u1"))),
        ).load_fields("name")
    )


def test_an_id_may_be_written_as_a_ref_key_of_the_type() -> None:
    assert acme("AcmeUser(#ein:AcmeUser:u1).fields{email}") == acme("AcmeUser(#u1).fields{email}")
    err = acme_error("AcmeUser(#ein:AcmeTask:t1).fields{email}")
    assert ErrInvalidPlan.matches(err)
    assert err.message == (
        'Invalid sync plan — "ein:AcmeTask:t1" is a RefKey of AcmeTask, not of AcmeUser '
        "(at position 10)"
    )


def test_filter_values_are_lowered_like_search_filters() -> None:
    plan = acme('AcmeUser(active = TRUE OR _id ~= 007 OR email = "42").fields{email}')
    step = plan.entries[0]
    assert step.target.where == WhereGroup(  # type: ignore[union-attr]
        "or",
        (
            WhereGroup("or", (Where("active", Op.EQ, True), Where("_id", Op.CONTAINS, "007"))),
            Where("email", Op.EQ, "42"),
        ),
    )


def test_plan_filters_take_not_in_and_null_tests() -> None:
    plan = acme("AcmeUser(NOT role IN (admin, owner) AND email IS NOT NULL).fields{email}")
    assert plan.entries[0].target.where == WhereGroup(  # type: ignore[union-attr]
        "and",
        (
            WhereNot(Where("role", Op.IN, ("admin", "owner"))),
            Where("email", Op.IS_NOT_NULL, None),
        ),
    )


# -- operations ---------------------------------------------------------------------------------


def test_every_field_is_every_loadable_stored_field() -> None:
    assert acme("AcmeUser(*).fields{*}") == SyncPlan.create(
        Step.for_all(AcmeUser).load_fields(*USER_FIELDS)
    )
    assert acme("AcmeProject(*).fields{*}") == SyncPlan.create(
        Step.for_all(AcmeProject).load_fields(*PROJECT_FIELDS)
    )


def test_named_fields_make_one_step_without_repeats() -> None:
    assert acme("AcmeUser(*).fields{email, role, email}") == SyncPlan.create(
        Step.for_all(AcmeUser).load_fields("email", "role")
    )


def test_collections_make_one_step_each_in_declaration_order() -> None:
    assert acme("AcmeWorkspace(*).collection{*}") == SyncPlan.create(
        Step.for_all(AcmeWorkspace).load_collection("users"),
        Step.for_all(AcmeWorkspace).load_collection("projects"),
    )
    assert acme("AcmeWorkspace(*).collection{projects, users, projects}") == SyncPlan.create(
        Step.for_all(AcmeWorkspace).load_collection("projects"),
        Step.for_all(AcmeWorkspace).load_collection("users"),
    )


def test_chained_operations_become_consecutive_steps_on_one_target() -> None:
    assert acme("AcmeWorkspace(#w1)\n  .fields{*}\n  .collection{*}") == SyncPlan.create(
        Step.for_one(AcmeWorkspace.ref("w1")).load_fields("name", "createdAt", "updatedAt"),
        Step.for_one(AcmeWorkspace.ref("w1")).load_collection("users"),
        Step.for_one(AcmeWorkspace.ref("w1")).load_collection("projects"),
    )


def test_the_acme_seeders_plan_written_as_text() -> None:
    text = """
        AcmeRoot(#root).collection{workspaces}
        Concurrently {
          AcmeWorkspace(*).collection{users}
          AcmeWorkspace(*).collection{projects}
        }
        Concurrently {
          AcmeProject(*).collection{tasks}
          AcmeProject(*).collection{files}
        }
    """
    assert acme(text) == ACME_SYNC_PLAN


# -- concurrent blocks --------------------------------------------------------------------------


def test_a_block_of_single_operations_is_one_concurrent_group() -> None:
    text = """Concurrently {
        AcmeWorkspace(*).collection{users, projects}
        AcmeUser(*).fields{email}
    }"""
    assert acme(text) == SyncPlan.create(
        concurrent(
            Step.for_all(AcmeWorkspace).load_collection("users"),
            Step.for_all(AcmeWorkspace).load_collection("projects"),
            Step.for_all(AcmeUser).load_fields("email"),
        )
    )


def test_chained_operations_in_a_block_run_in_rounds() -> None:
    text = """
        AcmeRoot(#root).collection{workspaces}
        Concurrently {
          AcmeWorkspace(*).fields{name}.collection{projects}.collection{users}
          AcmeUser(*).fields{email}
          AcmeProject(*).fields{name}.collection{tasks}
        }
        AcmeUser(*).fields{role}
    """
    plan = acme(text)
    assert plan == SyncPlan.create(
        Step.for_root(ROOT_REF).load_collection("workspaces"),
        concurrent(
            Step.for_all(AcmeWorkspace).load_fields("name"),
            Step.for_all(AcmeUser).load_fields("email"),
            Step.for_all(AcmeProject).load_fields("name"),
        ),
        concurrent(
            Step.for_all(AcmeWorkspace).load_collection("projects"),
            Step.for_all(AcmeProject).load_collection("tasks"),
        ),
        concurrent(Step.for_all(AcmeWorkspace).load_collection("users")),
        Step.for_all(AcmeUser).load_fields("role"),
    )
    assert plan.step_count == 8


# -- checks against the schema and the resolvers ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason", "index", "data"),
    [
        (
            "AcmeFoo(*).fields{x}",
            'Unknown entity type "AcmeFoo"; entity types: AcmeUser, AcmeWorkspace, AcmeRoot, '
            "AcmeProject, AcmeTask",
            0,
            {"entityType": "AcmeFoo"},
        ),
        (
            "AcmeUser(*).fields{email}\nAcmeProject(*).fields{nope}",
            'AcmeProject has no field "nope"; fields: name, description, status, owner',
            48,
            {"entityType": "AcmeProject", "field": "nope"},
        ),
        (
            "AcmeProject(*).fields{name, tasks}",
            '"tasks" of AcmeProject is a collection: use .collection{tasks}',
            28,
            {"field": "tasks"},
        ),
        (
            "AcmeProject(*).collection{name}",
            '"name" of AcmeProject is not a collection: use .fields{name}',
            26,
            {"field": "name"},
        ),
        (
            "AcmeWorkspace(*).collection{teams}",
            'AcmeWorkspace has no collection "teams"; collections: users, projects',
            28,
            {"available": ["users", "projects"]},
        ),
        (
            "AcmeRoot(#root).fields{*}",
            "The connector cannot load any fields of AcmeRoot",
            16,
            {"entityType": "AcmeRoot", "available": []},
        ),
        (
            "AcmeUser(*).collection{*}",
            "The connector cannot load any collections of AcmeUser",
            12,
            {"entityType": "AcmeUser"},
        ),
        (
            "AcmeProject(status = open AND nme = x).collection{tasks}",
            'Unknown field "nme" in the filter of AcmeProject; filterable fields: _id, name, '
            "description, status, owner, workspace, createdAt, updatedAt",
            30,
            {"field": "nme", "hint": 'did you mean "name"?'},
        ),
        (
            "AcmeProject(NOT stauts IN (a, b)).collection{tasks}",
            'Unknown field "stauts" in the filter of AcmeProject',
            16,
            {"field": "stauts", "hint": 'did you mean "status"?'},
        ),
        (
            "AcmeProject(tasks = x).collection{tasks}",
            'Unknown field "tasks" in the filter of AcmeProject',
            12,
            {"field": "tasks"},
        ),
    ],
)
def test_names_are_checked_with_one_line_errors(
    text: str, reason: str, index: int, data: dict[str, Any]
) -> None:
    err = acme_error(text)
    assert ErrInvalidPlan.matches(err), err
    assert err.data["reason"].startswith(reason), err.data["reason"]
    assert err.data["index"] == index
    assert err.message == f"Invalid sync plan — {err.data['reason']} (at position {index})"
    assert "\n" not in err.message
    for key, value in data.items():
        assert err.data[key] == value


def test_syntax_errors_come_before_schema_checks() -> None:
    err = acme_error("AcmeFoo(*).fields{x}\nAcmeUser(*)")
    assert ErrPlanParseFailed.matches(err)


# -- loaders of every kind ----------------------------------------------------------------------


async def _never(*_: Any) -> Any:
    raise AssertionError("not called")


Parent = EntityDef.create(
    "XParent",
    {
        "a": Field.string(),
        "b": Field.string(),
        "c": Field.string(),
        "d": Field.string(),
        "kids": Field.collection("XKid"),
        "more": Field.collection("XKid"),
        "none": Field.collection("XKid"),
    },
)
Kid = EntityDef.create("XKid", {"name": Field.string()})
XSCHEMA = Schema.create("x", [Parent, Kid])
details = Loader.single_source("x:details", Parent, _never)
pages = Loader.paginated_source("x:pages", Parent, _never)
XRESOLVER = Resolver.for_(
    Parent,
    {
        "a": Loader.entity("x:a", Parent, _never),
        "b": Loader.batched("x:b", Parent, _never),
        "c": Loader.derive_entities(details, "x:c", Parent, lambda _: []),
        # d: a paginated derivation cannot load a field
        "d": Loader.derive_entities(pages, "x:d", Parent, lambda _: []),
        "kids": Loader.collection("x:kids", Parent, Kid, _never),
        "more": Loader.derive_entities(pages, "x:more", Kid, lambda _: []),
        # none: a single-source derivation cannot page a collection
        "none": Loader.derive_entities(details, "x:none", Kid, lambda _: []),
    },
)


def test_what_counts_as_loadable_follows_what_the_runner_runs() -> None:
    assert [loads_fields(XRESOLVER.loader_for(f)) for f in "abcd"] == [True, True, True, False]
    assert [loads_collection(XRESOLVER.loader_for(f)) for f in ("kids", "more", "none")] == [
        True,
        True,
        False,
    ]
    assert not loads_fields(None) and not loads_collection(None)
    plan = lower_plan(parse_plan("XParent(*).fields{*}.collection{*}"), XSCHEMA, [XRESOLVER])
    assert plan == SyncPlan.create(
        Step.for_all(Parent).load_fields("a", "b", "c"),
        Step.for_all(Parent).load_collection("kids"),
        Step.for_all(Parent).load_collection("more"),
    )
    with pytest.raises(MaxError) as info:
        lower_plan(parse_plan("XParent(#p).collection{kids, none}"), XSCHEMA, [XRESOLVER])
    assert info.value.data["reason"] == (
        "The connector has no loader for the collection XParent.none; loadable collections: "
        "kids, more"
    )
    # Without roots in the schema, #id is always a forOne target.
    assert lower_plan(parse_plan("XParent(#p).fields{a}"), XSCHEMA, [XRESOLVER]) == (
        SyncPlan.create(Step.for_one(Parent.ref("p")).load_fields("a"))
    )
    assert AcmeRoot in AcmeSchema.roots and AcmeTask not in AcmeSchema.roots
