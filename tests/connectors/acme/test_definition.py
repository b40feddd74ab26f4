"""The acme connector's shape: every name the engine tests and benchmarks depend on."""

from __future__ import annotations

from typing import Any

import pytest

from maxtrio.connector import (
    ConnectorRegistry,
    InputStep,
    SelectStep,
    ValidationStep,
    credential_names,
)
from maxtrio.connectors.acme import (
    ACME_API_LIMIT,
    ACME_LOADERS,
    ACME_SYNC_PLAN,
    WORKSPACE,
    AcmeChangeFeed,
    AcmeConfig,
    AcmeConnectorDef,
    AcmeFile,
    AcmeProject,
    AcmeRoot,
    AcmeSchema,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
    Column,
    ErrClientNotStarted,
    ErrInvalidConfig,
    Kind,
    RecordSpec,
    connector,
)
from maxtrio.core import (
    ConcurrentGroup,
    FieldKind,
    ForRoot,
    LoadCollection,
    LoaderStrategy,
    LoadFields,
    MaxError,
    SeederEnv,
    SyncStep,
)
from maxtrio.storage import InMemoryEngine

from .conftest import platform_with_token


def test_identity() -> None:
    definition = connector.definition
    assert definition is AcmeConnectorDef
    assert repr(definition) == "ConnectorDef(acme v0.1.0)"
    assert (definition.name, definition.display_name, definition.version) == (
        "acme",
        "Acme",
        "0.1.0",
    )
    assert definition.description == "Project management connector powered by Acme"
    assert (definition.icon, definition.scopes) == ("", ())
    assert credential_names(definition.credentials) == ["api_token"]


def test_registered_as_the_acme_entry_point() -> None:
    registry = ConnectorRegistry()
    registry.add_entry_points()
    assert registry.resolve("acme") is connector


def test_schema() -> None:
    assert AcmeSchema.namespace == "acme"
    assert AcmeSchema.entity_types == (
        "AcmeUser",
        "AcmeWorkspace",
        "AcmeRoot",
        "AcmeProject",
        "AcmeTask",
        "AcmeFile",
    )
    assert AcmeSchema.roots == (AcmeRoot,)
    kinds = {e.name: {f: field.kind for f, field in e.fields.items()} for e in AcmeSchema.entities}
    s, b, r, c = FieldKind.STRING, FieldKind.BOOLEAN, FieldKind.REF, FieldKind.COLLECTION
    d, n = FieldKind.DATE, FieldKind.NUMBER
    times = {"createdAt": d, "updatedAt": d}
    assert kinds == {
        "AcmeUser": {"displayName": s, "email": s, "role": s, "active": b, "workspace": r, **times},
        "AcmeTask": {
            "title": s,
            "description": s,
            "status": s,
            "priority": s,
            "assignee": r,
            "project": r,
            "createdBy": r,
            "lastModifiedBy": r,
            "dueDate": d,
            "completedAt": d,
            **times,
            "tags": s,
        },
        "AcmeProject": {
            "name": s,
            "description": s,
            "status": s,
            "owner": r,
            "tasks": c,
            "workspace": r,
            **times,
            "files": c,
        },
        "AcmeWorkspace": {"name": s, "users": c, "projects": c, **times},
        "AcmeRoot": {"workspaces": c},
        "AcmeFile": {
            "name": s,
            "mimeType": s,
            "sizeBytes": n,
            "project": r,
            "createdBy": r,
            "lastModifiedBy": r,
            **times,
        },
    }
    # dict equality ignores order: the reference's fields come first, in the reference's order
    # (an existing data.db gains the new columns by migration)
    assert list(AcmeTask.fields)[:5] == ["title", "description", "status", "priority", "assignee"]
    assert list(AcmeUser.fields)[:4] == ["displayName", "email", "role", "active"]
    assert list(AcmeProject.fields)[:5] == ["name", "description", "status", "owner", "tasks"]
    assert list(AcmeWorkspace.fields)[:3] == ["name", "users", "projects"]
    assert {(x.from_, x.field, x.to, x.cardinality) for x in AcmeSchema.relationships} == {
        ("AcmeUser", "workspace", "AcmeWorkspace", "one"),
        ("AcmeTask", "assignee", "AcmeUser", "one"),
        ("AcmeTask", "project", "AcmeProject", "one"),
        ("AcmeTask", "createdBy", "AcmeUser", "one"),
        ("AcmeTask", "lastModifiedBy", "AcmeUser", "one"),
        ("AcmeFile", "project", "AcmeProject", "one"),
        ("AcmeFile", "createdBy", "AcmeUser", "one"),
        ("AcmeFile", "lastModifiedBy", "AcmeUser", "one"),
        ("AcmeProject", "owner", "AcmeUser", "one"),
        ("AcmeProject", "workspace", "AcmeWorkspace", "one"),
        ("AcmeProject", "tasks", "AcmeTask", "many"),
        ("AcmeProject", "files", "AcmeFile", "many"),
        ("AcmeWorkspace", "users", "AcmeUser", "many"),
        ("AcmeWorkspace", "projects", "AcmeProject", "many"),
        ("AcmeRoot", "workspaces", "AcmeWorkspace", "many"),
    }


def test_collections_point_back_at_their_parent_through_via() -> None:
    vias = {
        (e.name, name): field.via
        for e in AcmeSchema.entities
        for name, field in e.fields.items()
        if field.kind is FieldKind.COLLECTION
    }
    assert vias == {
        ("AcmeWorkspace", "users"): "workspace",
        ("AcmeWorkspace", "projects"): "workspace",
        ("AcmeProject", "tasks"): "project",
        ("AcmeProject", "files"): "project",
        ("AcmeRoot", "workspaces"): None,  # a workspace has no ref to the root
    }
    for entity in AcmeSchema.entities:
        for field in entity.fields.values():
            if field.via is not None:
                child = field.target(AcmeSchema.get_definition)
                back = child.fields[field.via]
                assert back.kind is FieldKind.REF
                assert back.target(AcmeSchema.get_definition) is entity


def test_operations_share_one_limit_of_50() -> None:
    operations = connector.definition.operations
    assert [op.name for op in operations] == [
        "acme:workspace:list",
        "acme:workspace:get",
        "acme:user:list",
        "acme:user:get",
        "acme:project:list",
        "acme:project:get",
        "acme:task:list",
        "acme:task:get",
        "acme:file:list",
        "acme:file:get",
        "acme:workspace:batch",
        "acme:user:batch",
        "acme:project:batch",
        "acme:task:batch",
        "acme:file:batch",
        "acme:change:head",
        "acme:change:list",
    ]
    assert all(op.limit is ACME_API_LIMIT for op in operations)
    assert (ACME_API_LIMIT.name, ACME_API_LIMIT.max_concurrent) == ("acme:api", 50)
    assert ACME_API_LIMIT.per_second is None


def test_loaders() -> None:
    described = [
        (
            loader.name,
            loader.kind,
            loader.entity.name,
            getattr(loader, "target", loader.entity).name,
            getattr(loader, "complete", None),
        )
        for loader in ACME_LOADERS
    ]
    assert described == [
        ("acme:root:workspaces", "collection", "AcmeRoot", "AcmeWorkspace", True),
        ("acme:workspace:basic", "entity", "AcmeWorkspace", "AcmeWorkspace", None),
        ("acme:workspace:users", "collection", "AcmeWorkspace", "AcmeUser", True),
        ("acme:workspace:projects", "collection", "AcmeWorkspace", "AcmeProject", True),
        ("acme:user:basic", "entity", "AcmeUser", "AcmeUser", None),
        ("acme:project:basic", "entity", "AcmeProject", "AcmeProject", None),
        ("acme:project:tasks", "collection", "AcmeProject", "AcmeTask", True),
        ("acme:project:files", "collection", "AcmeProject", "AcmeFile", True),
        ("acme:task:basic", "entity", "AcmeTask", "AcmeTask", None),
        ("acme:file:basic", "entity", "AcmeFile", "AcmeFile", None),
    ]
    assert {loader.strategy for loader in ACME_LOADERS} == {LoaderStrategy.AUTOLOAD}


def test_resolvers_map_every_stored_field_and_every_collection() -> None:
    mapping = {
        r.entity.name: {f: a.loader.name for f, a in r.field_mappings.items()}
        for r in connector.definition.resolvers
    }
    assert mapping == {
        "AcmeRoot": {"workspaces": "acme:root:workspaces"},
        "AcmeWorkspace": {
            "name": "acme:workspace:basic",
            "createdAt": "acme:workspace:basic",
            "updatedAt": "acme:workspace:basic",
            "users": "acme:workspace:users",
            "projects": "acme:workspace:projects",
        },
        "AcmeUser": dict.fromkeys(
            ["displayName", "email", "role", "active", "workspace", "createdAt", "updatedAt"],
            "acme:user:basic",
        ),
        "AcmeProject": {
            **dict.fromkeys(
                ["name", "description", "status", "owner", "workspace", "createdAt", "updatedAt"],
                "acme:project:basic",
            ),
            "tasks": "acme:project:tasks",
            "files": "acme:project:files",
        },
        "AcmeTask": dict.fromkeys(
            [name for name, f in AcmeTask.fields.items() if f.is_stored], "acme:task:basic"
        ),
        "AcmeFile": dict.fromkeys(
            [name for name, f in AcmeFile.fields.items() if f.is_stored], "acme:file:basic"
        ),
    }
    for entity in AcmeSchema.entities:  # no field is declared and never loaded
        resolver = connector.definition.resolver_for(entity)
        assert resolver is not None
        assert set(resolver.field_mappings) == set(entity.fields), entity.name


def test_a_record_table_must_fill_exactly_the_stored_fields() -> None:
    with pytest.raises(ValueError, match="must fill exactly AcmeWorkspace's"):
        RecordSpec.create("workspace", AcmeWorkspace, [Column("name", "name", Kind.STRING)])
    with pytest.raises(ValueError, match="must fill exactly AcmeWorkspace's"):
        RecordSpec.create(
            "workspace", AcmeWorkspace, [*WORKSPACE.columns, Column("x", "x", Kind.STRING)]
        )


def describe(step: Any) -> tuple[str, str, str, tuple[str, ...]]:
    assert isinstance(step, SyncStep)
    target, operation = step.target, step.operation
    kind = "forRoot" if isinstance(target, ForRoot) else "forAll"
    if isinstance(operation, LoadFields):
        return (kind, target.entity.name, "loadFields", operation.fields)
    assert isinstance(operation, LoadCollection)
    return (kind, target.entity.name, "loadCollection", (operation.field,))


async def test_seeder_stores_the_root_and_lists_everything_in_three_waves() -> None:
    engine = InMemoryEngine(AcmeSchema)
    installed = connector.initialise(
        {"baseUrl": "http://127.0.0.1:9", "workspaceId": "w"}, platform_with_token("t")
    )
    plan = await connector.definition.seeder.seed(SeederEnv(installed.context, engine))
    assert plan is ACME_SYNC_PLAN
    assert await engine.count(AcmeRoot) == 1
    assert (await engine.load(AcmeRoot.ref("root"))).ref.id == "root"
    assert (plan.step_count, len(plan.entries)) == (5, 3)
    first, users_and_projects, tasks_and_files = plan.entries
    assert isinstance(first, SyncStep) and isinstance(first.target, ForRoot)
    assert first.target.ref == AcmeRoot.ref("root")
    assert describe(first) == ("forRoot", "AcmeRoot", "loadCollection", ("workspaces",))
    assert isinstance(users_and_projects, ConcurrentGroup)
    assert [describe(step) for step in users_and_projects.steps] == [
        ("forAll", "AcmeWorkspace", "loadCollection", ("users",)),
        ("forAll", "AcmeWorkspace", "loadCollection", ("projects",)),
    ]
    assert isinstance(tasks_and_files, ConcurrentGroup)
    assert [describe(step) for step in tasks_and_files.steps] == [
        ("forAll", "AcmeProject", "loadCollection", ("tasks",)),
        ("forAll", "AcmeProject", "loadCollection", ("files",)),
    ]


def test_the_change_feed_is_registered() -> None:
    feed = connector.definition.change_feed
    assert feed is AcmeChangeFeed
    assert repr(feed) == "ChangeFeed(acme:changes)"


def test_onboarding_has_the_four_steps() -> None:
    steps = connector.definition.onboarding.steps
    assert [(type(s).__name__, s.label) for s in steps] == [
        ("InputStep", "Acme tenant"),
        ("InputStep", "API credentials"),
        ("ValidationStep", "Verify credentials"),
        ("SelectStep", "Choose workspace"),
    ]
    tenant, credentials, verify, choose = steps
    assert isinstance(tenant, InputStep) and isinstance(credentials, InputStep)
    assert list(tenant.fields) == ["baseUrl"]
    assert tenant.fields["baseUrl"].label == "Tenant URL"
    assert tenant.fields["baseUrl"].required
    assert [c.name for c in credentials.credentials.values()] == ["api_token"]
    assert credentials.describe({"baseUrl": "http://acme.test//"}) == (
        "Create an API token at http://acme.test/settings/api-keys and paste it below."
    )
    assert isinstance(verify, ValidationStep)
    assert isinstance(choose, SelectStep) and choose.field == "workspaceId"


def test_config_round_trip_and_validation() -> None:
    config = AcmeConfig.from_mapping({"baseUrl": " http://a:1/ ", "workspaceId": "ws_1", "x": 1})
    assert config.to_json() == {"baseUrl": "http://a:1/", "workspaceId": "ws_1"}


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"workspaceId": "w"}, "baseUrl must be a URL"),
        ({"baseUrl": "", "workspaceId": "w"}, "baseUrl must be a URL"),
        ({"baseUrl": "acme.test", "workspaceId": "w"}, "baseUrl must be an http:// or https://"),
        ({"baseUrl": "ftp://acme.test", "workspaceId": "w"}, "must be an http:// or https://"),
        ({"baseUrl": "http://a:99999", "workspaceId": "w"}, "baseUrl is not a valid URL"),
        ({"baseUrl": "http://a/?k=1", "workspaceId": "w"}, "must not have a query"),
        ({"baseUrl": "http://a"}, "workspaceId must be a non-empty string"),
        ({"baseUrl": "http://a", "workspaceId": 5}, "workspaceId must be a non-empty string"),
    ],
)
def test_bad_config_fails_at_initialise_with_one_line(config: dict[str, Any], reason: str) -> None:
    with pytest.raises(MaxError) as caught:
        connector.initialise(config, platform_with_token("t"))
    assert ErrInvalidConfig.matches(caught.value)
    assert caught.value.message.startswith("Invalid Acme config: ")
    assert reason in caught.value.message


def test_initialise_is_inert() -> None:
    installed = connector.initialise(
        {"baseUrl": "http://127.0.0.1:9", "workspaceId": "w"}, platform_with_token("t")
    )
    assert installed.context.workspace_id == "w"
    with pytest.raises(MaxError) as caught:
        installed.context.api.client  # noqa: B018
    assert ErrClientNotStarted.matches(caught.value)
    assert caught.value.message == "AcmeConnection not started - call start() first"
    assert caught.value.has("NotAvailable")
