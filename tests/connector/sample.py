"""A small but complete connector used by the SDK tests (no network: its data is in memory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from maxtrio.connector import (
    ConnectorDef,
    ConnectorModule,
    Credential,
    HealthStatus,
    InputField,
    InputStep,
    Installation,
    OnboardingFlow,
    Platform,
)
from maxtrio.core import (
    EntityDef,
    EntityInput,
    Field,
    Loader,
    LoaderEnv,
    Operation,
    OperationEnv,
    Page,
    PageRequest,
    Ref,
    Resolver,
    Schema,
    Seeder,
    SeederEnv,
    Step,
    SyncPlan,
)

Note = EntityDef.create("Note", {"title": Field.string()})
Notebook = EntityDef.create("Notebook", {"notes": Field.collection(Note)})
NOTES_SCHEMA = Schema.create("notes", [Note, Notebook], roots=[Notebook])
Token = Credential.string("token")


@attrs.define
class NotesContext:
    token: Any
    notes: dict[str, str]
    started: bool = False


async def list_notes(_: None, env: OperationEnv[NotesContext]) -> dict[str, str]:
    return env.ctx.notes


ListNotes: Operation[NotesContext, None, dict[str, str]] = Operation.define(
    "notes:note:list", list_notes
)


async def load_notes(
    ref: Ref, page: PageRequest, env: LoaderEnv[NotesContext]
) -> Page[EntityInput]:
    notes = await env.ops.execute(ListNotes, None)
    return Page([Note.input(k, title=v) for k, v in notes.items()])


NotesLoader = Loader.collection("notes:notebook:notes", Notebook, Note, load_notes)


async def seed_notes(env: SeederEnv[NotesContext]) -> SyncPlan:
    await env.engine.store(Notebook.input("main"))
    return SyncPlan.create(Step.for_root(Notebook.ref("main")).load_collection("notes"))


def make_definition(name: str = "notes") -> ConnectorDef:
    return ConnectorDef.create(
        name=name,
        display_name="Notes",
        description="Notes kept in memory",
        version="1.2.3",
        schema=NOTES_SCHEMA,
        seeder=Seeder(seed_notes),
        resolvers=[Resolver.for_(Notebook, {"notes": NotesLoader})],
        operations=[
            Operation.define(f"{name}:note:list", list_notes),
        ],
        onboarding=OnboardingFlow.create(
            InputStep(label="Token", credentials={"token": Token}),
            InputStep(label="Folder", fields={"folder": InputField("Folder", default="~/notes")}),
        ),
        credentials=[Token],
    )


def make_module(name: str = "notes") -> ConnectorModule:
    definition = make_definition(name)

    def initialise(config: Mapping[str, Any], platform: Platform) -> Installation[NotesContext]:
        context = NotesContext(platform.credentials.get(Token), {"n1": "first"})

        async def start() -> None:
            await context.token.get()
            context.started = True

        async def health() -> HealthStatus:
            return HealthStatus.healthy() if context.started else HealthStatus.degraded("idle")

        return Installation.create(context, start=start, health=health)

    return ConnectorModule(definition, initialise)


notes_connector = make_module()
"""An exported module object, as an entry point would name it."""
