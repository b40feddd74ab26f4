"""The acme connector's shape: every name the engine tests and benchmarks depend on (§2)."""

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
    AcmeConfig,
    AcmeConnectorDef,
    AcmeProject,
    AcmeRoot,
    AcmeSchema,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
    ErrClientNotStarted,
    ErrInvalidConfig,
    connector,
)
from maxtrio.core import (
    FieldKind,
    ForAll,
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
    )
    assert AcmeSchema.roots == (AcmeRoot,)
    kinds = {e.name: {f: field.kind for f, field in e.fields.items()} for e in AcmeSchema.entities}
    s, b, r, c = FieldKind.STRING, FieldKind.BOOLEAN, FieldKind.REF, FieldKind.COLLECTION
    assert kinds == {
        "AcmeUser": {"displayName": s, "email": s, "role": s, "active": b},
        "AcmeTask": {"title": s, "description": s, "status": s, "priority": s, "assignee": r},
        "AcmeProject": {"name": s, "description": s, "status": s, "owner": r, "tasks": c},
        "AcmeWorkspace": {"name": s, "users": c, "projects": c},
        "AcmeRoot": {"workspaces": c},
    }
    assert {(x.from_, x.field, x.to, x.cardinality) for x in AcmeSchema.relationships} == {
        ("AcmeTask", "assignee", "AcmeUser", "one"),
        ("AcmeProject", "owner", "AcmeUser", "one"),
        ("AcmeProject", "tasks", "AcmeTask", "many"),
        ("AcmeWorkspace", "users", "AcmeUser", "many"),
        ("AcmeWorkspace", "projects", "AcmeProject", "many"),
        ("AcmeRoot", "workspaces", "AcmeWorkspace", "many"),
    }


def test_seven_operations_share_one_limit_of_50() -> None:
    operations = connector.definition.operations
    assert [op.name for op in operations] == [
        "acme:workspace:list",
        "acme:workspace:get",
        "acme:user:list",
        "acme:user:get",
        "acme:project:list",
        "acme:project:get",
        "acme:task:list",
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
            loader.strategy,
        )
        for loader in ACME_LOADERS
    ]
    assert described == [
        (
            "acme:root:workspaces",
            "collection",
            "AcmeRoot",
            "AcmeWorkspace",
            LoaderStrategy.AUTOLOAD,
        ),
        (
            "acme:workspace:basic",
            "entity",
            "AcmeWorkspace",
            "AcmeWorkspace",
            LoaderStrategy.AUTOLOAD,
        ),
        (
            "acme:workspace:users",
            "collection",
            "AcmeWorkspace",
            "AcmeUser",
            LoaderStrategy.AUTOLOAD,
        ),
        (
            "acme:workspace:projects",
            "collection",
            "AcmeWorkspace",
            "AcmeProject",
            LoaderStrategy.AUTOLOAD,
        ),
        ("acme:user:basic", "entity", "AcmeUser", "AcmeUser", LoaderStrategy.AUTOLOAD),
        ("acme:project:basic", "entity", "AcmeProject", "AcmeProject", LoaderStrategy.AUTOLOAD),
        ("acme:project:tasks", "collection", "AcmeProject", "AcmeTask", LoaderStrategy.AUTOLOAD),
    ]


def test_resolvers_map_fields_to_loaders_and_there_is_no_task_resolver() -> None:
    mapping = {
        r.entity.name: {f: a.loader.name for f, a in r.field_mappings.items()}
        for r in connector.definition.resolvers
    }
    assert mapping == {
        "AcmeRoot": {"workspaces": "acme:root:workspaces"},
        "AcmeWorkspace": {
            "name": "acme:workspace:basic",
            "users": "acme:workspace:users",
            "projects": "acme:workspace:projects",
        },
        "AcmeUser": dict.fromkeys(["displayName", "email", "role", "active"], "acme:user:basic"),
        "AcmeProject": {
            "name": "acme:project:basic",
            "description": "acme:project:basic",
            "status": "acme:project:basic",
            "owner": "acme:project:basic",
            "tasks": "acme:project:tasks",
        },
    }
    assert connector.definition.resolver_for(AcmeTask) is None


def describe(step: Any) -> tuple[str, str, str, tuple[str, ...]]:
    assert isinstance(step, SyncStep)
    target, operation = step.target, step.operation
    kind = "forRoot" if isinstance(target, ForRoot) else "forAll"
    if isinstance(operation, LoadFields):
        return (kind, target.entity.name, "loadFields", operation.fields)
    assert isinstance(operation, LoadCollection)
    return (kind, target.entity.name, "loadCollection", (operation.field,))


async def test_seeder_stores_the_root_and_returns_the_sequential_seven_step_plan() -> None:
    engine = InMemoryEngine(AcmeSchema)
    installed = connector.initialise(
        {"baseUrl": "http://127.0.0.1:9", "workspaceId": "w"}, platform_with_token("t")
    )
    plan = await connector.definition.seeder.seed(SeederEnv(installed.context, engine))
    assert plan is ACME_SYNC_PLAN
    assert await engine.count(AcmeRoot) == 1
    assert (await engine.load(AcmeRoot.ref("root"))).ref.id == "root"
    assert plan.step_count == len(plan.entries) == 7  # no concurrent groups
    assert [describe(step) for step in plan.entries] == [
        ("forRoot", "AcmeRoot", "loadCollection", ("workspaces",)),
        ("forAll", "AcmeWorkspace", "loadFields", ("name",)),
        ("forAll", "AcmeWorkspace", "loadCollection", ("users",)),
        ("forAll", "AcmeWorkspace", "loadCollection", ("projects",)),
        ("forAll", "AcmeUser", "loadFields", ("displayName", "email", "role", "active")),
        ("forAll", "AcmeProject", "loadFields", ("name", "description", "status", "owner")),
        ("forAll", "AcmeProject", "loadCollection", ("tasks",)),
    ]
    first = plan.entries[0]
    assert isinstance(first, SyncStep) and isinstance(first.target, ForRoot)
    assert first.target.ref == AcmeRoot.ref("root")
    assert {type(s.target) for s in plan.entries[1:] if isinstance(s, SyncStep)} == {ForAll}
    assert {s.target.entity for s in plan.entries[1:] if isinstance(s, SyncStep)} == {
        AcmeWorkspace,
        AcmeUser,
        AcmeProject,
    }


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
