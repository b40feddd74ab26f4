"""ConnectorDef checks, ConnectorModule assembly, Installation lifecycle and health."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from maxtrio.connector import (
    ConnectorDef,
    ConnectorModule,
    ErrCredentialNotFound,
    ErrInvalidConnectorDef,
    HealthState,
    HealthStatus,
    InMemoryCredentialStore,
    Installation,
    Platform,
)
from maxtrio.core import EntityDef, Field, MaxError, Operation, Resolver, Schema, Seeder

from .sample import (
    NOTES_SCHEMA,
    Note,
    Notebook,
    NotesLoader,
    Token,
    list_notes,
    make_definition,
    make_module,
    seed_notes,
)


def is_started(installation: Installation[Any]) -> bool:
    return installation.started


def test_definition_describes_itself_and_freezes_its_lists() -> None:
    definition = make_definition()
    assert repr(definition) == "ConnectorDef(notes v1.2.3)"
    assert isinstance(definition.resolvers, tuple)
    assert isinstance(definition.operations, tuple)
    assert definition.resolver_for("Notebook") is definition.resolvers[0]
    assert definition.resolver_for(Notebook) is definition.resolvers[0]
    assert definition.resolver_for("Note") is None
    with pytest.raises(AttributeError):
        definition.name = "other"  # type: ignore[misc]


def _define(**overrides: Any) -> ConnectorDef:
    values: dict[str, Any] = {
        "name": "notes",
        "display_name": "Notes",
        "description": "d",
        "version": "1.0",
        "schema": NOTES_SCHEMA,
        "seeder": Seeder(seed_notes),
        "resolvers": [Resolver.for_(Notebook, {"notes": NotesLoader})],
    }
    values.update(overrides)
    return ConnectorDef.create(**values)


Stray = EntityDef.create("Stray", {"x": Field.string()})


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"name": "Notes App"}, "lowercase letters"),
        ({"version": ""}, "a version is required"),
        ({"resolvers": [Resolver.for_(Stray, {"x": NotesLoader})]}, "outside the schema"),
        (
            {"resolvers": [Resolver.for_(Notebook, {"notes": NotesLoader})] * 2},
            "Notebook has two resolvers",
        ),
        (
            {"operations": [Operation.define("other:note:list", list_notes)]},
            "must be named 'notes:",
        ),
        (
            {"operations": [Operation.define("notes:a:b", list_notes)] * 2},
            "'notes:a:b' is declared twice",
        ),
    ],
)
def test_definition_checks(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(MaxError) as caught:
        _define(**overrides)
    assert ErrInvalidConnectorDef.matches(caught.value)
    assert reason in caught.value.message


async def test_initialise_is_inert_and_start_resolves_credentials() -> None:
    module = make_module()
    store = InMemoryCredentialStore()
    installation = module.initialise({}, Platform.for_connector(module.definition, store))
    assert not installation.started
    assert await installation.health() == HealthStatus.degraded("idle")
    with pytest.raises(MaxError) as caught:
        await installation.start()  # the token is only read now
    assert ErrCredentialNotFound.matches(caught.value)
    assert not installation.started
    await store.set("token", "t")
    await installation.start()
    assert is_started(installation)
    assert installation.context.started
    assert (await installation.health()).is_healthy


def test_a_deferred_module_builds_its_definition_on_first_use_once() -> None:
    eager = make_module()
    built: list[ConnectorDef] = []

    def define() -> ConnectorDef:
        built.append(eager.definition)
        return eager.definition

    module = ConnectorModule.deferred(
        "notes", define, eager.initialise, schema=NOTES_SCHEMA, credentials=[Token]
    )
    assert (module.name, module.schema, module.credentials) == ("notes", NOTES_SCHEMA, (Token,))
    assert repr(module) == "ConnectorModule(notes, definition deferred)" and built == []
    platform = Platform.for_connector(module, InMemoryCredentialStore())
    assert not module.initialise({}, platform).started and built == []  # no definition needed
    assert module.definition is eager.definition is module.definition and len(built) == 1
    assert repr(module) == "ConnectorModule(notes v1.2.3)"
    assert (eager.name, eager.schema, eager.credentials) == ("notes", NOTES_SCHEMA, (Token,))


@pytest.mark.parametrize(
    ("declared", "reason"),
    [
        ({"name": "other"}, 'its deferred definition is the connector "notes"'),
        ({"schema": Schema.create("notes", [Note, Notebook], roots=[Notebook])}, "another schema"),
        ({"credentials": []}, "other credentials than its module"),
        ({"define": lambda: "not a definition"}, "is not a ConnectorDef"),
    ],
)
def test_a_deferred_definition_must_match_its_module(declared: dict[str, Any], reason: str) -> None:
    eager = make_module()
    arguments: dict[str, Any] = {
        "name": "notes",
        "define": lambda: eager.definition,
        "schema": NOTES_SCHEMA,
        "credentials": [Token],
        **declared,
    }
    name, define = arguments.pop("name"), arguments.pop("define")
    module = ConnectorModule.deferred(name, define, eager.initialise, **arguments)
    with pytest.raises(MaxError) as caught:
        module.definition  # noqa: B018 - building it is the check
    assert ErrInvalidConnectorDef.matches(caught.value)
    assert reason in caught.value.message


@pytest.mark.parametrize(
    "place",
    ["tests.connector.no_such_module:Def", "maxtrio.connector:NoSuchDefinition", "not a place"],
)
def test_a_deferred_definition_named_by_a_place_that_does_not_load_is_invalid(
    place: str,
) -> None:
    eager = make_module()
    module = ConnectorModule.deferred(
        "notes", place, eager.initialise, schema=NOTES_SCHEMA, credentials=[Token]
    )
    with pytest.raises(MaxError) as caught:
        module.definition  # noqa: B018 - building it is the check
    assert ErrInvalidConnectorDef.matches(caught.value)
    assert f"its deferred definition {place!r} cannot be loaded" in caught.value.message
    assert "\n" not in caught.value.message


async def test_start_runs_once_and_stop_is_idempotent() -> None:
    calls: list[str] = []

    async def start() -> None:
        calls.append("start")

    async def stop() -> None:
        calls.append("stop")

    installation = Installation.create(object(), start=start, stop=stop)
    await installation.stop()  # nothing started: nothing to stop
    await installation.start()
    await installation.start()
    await installation.stop()
    await installation.stop()
    assert calls == ["start", "stop"]


async def test_default_health_is_healthy_and_errors_read_as_unhealthy(
    autojump_clock: trio.abc.Clock,
) -> None:
    assert (await Installation.create(None).health()).to_json() == {"status": "healthy"}

    async def broken() -> HealthStatus:
        raise ConnectionError("connection refused")

    async def slow() -> HealthStatus:
        await trio.sleep(60)
        return HealthStatus.healthy()

    status = await Installation.create(None, health=broken).health()
    assert status == HealthStatus.unhealthy("connection refused")
    assert status.to_json() == {"status": "unhealthy", "reason": "connection refused"}
    status = await Installation(None, health=slow, health_timeout=10).health()
    assert status.state is HealthState.UNHEALTHY
    assert status.reason == "health check timed out after 10 s"


async def test_running_owns_background_tasks_and_always_stops(
    autojump_clock: trio.abc.Clock,
) -> None:
    events: list[str] = []

    async def ticker(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        try:
            while True:
                await trio.sleep(1)
                events.append("tick")
        finally:
            events.append("ticker cancelled")

    async def start() -> None:
        events.append("start")

    async def stop() -> None:
        await trio.sleep(0.5)  # runs shielded even when the block was cancelled
        events.append("stop")

    installation = Installation.create(None, start=start, stop=stop, background=[ticker])
    with trio.move_on_after(2.5):
        async with installation.running() as running:
            assert running is installation
            await trio.sleep_forever()
    assert events == ["start", "tick", "tick", "ticker cancelled", "stop"]
    assert not installation.started

    events.clear()
    async with installation.running():
        await trio.sleep(1.5)
    assert events == ["start", "tick", "ticker cancelled", "stop"]
