"""Continuous generation over HTTP, under trio's MockClock (virtual time, no real waiting)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from maxtrio.acme import (
    AcmeHttpClient,
    AcmeServer,
    GenerationOptions,
    SeedOptions,
    Tenant,
    serve_acme,
)
from maxtrio.acme._generation import mutation_every, tick_seconds
from maxtrio.core import MaxError


def test_tick_interval_and_mutation_period() -> None:
    assert tick_seconds(GenerationOptions()) == 1.0
    assert tick_seconds(GenerationOptions(tasks_per_second=3)) == 0.333
    assert tick_seconds(GenerationOptions(tasks_per_second=1000)) == 0.05
    assert mutation_every(GenerationOptions()) is None
    assert mutation_every(GenerationOptions(tasks_per_second=2, mutations_per_second=1)) == 3


async def test_generation_creates_tasks_at_the_rate_until_stopped(
    autojump_clock: trio.testing.MockClock, tenant: Tenant, nursery: trio.Nursery
) -> None:
    tenant.seed(SeedOptions(projects_per_workspace=2, tasks_per_project=0, files_per_project=0))
    server: AcmeServer = await nursery.start(serve_acme, tenant)
    async with AcmeHttpClient(server.url, server.api_key) as client:
        await client.start_generation(GenerationOptions(tasks_per_second=10))
        await client.start_generation(GenerationOptions(tasks_per_second=10))  # no-op
        assert (await client.stats())["generating"] is True
        await trio.sleep(1.05)
        tasks = await client.list_tasks()
        assert [t["title"] for t in tasks] == [f"Generated task #{i}" for i in range(10)]
        projects = [p["id"] for p in await client.list_projects()]
        assert [t["projectId"] for t in tasks[:2]] == projects
        users = {u["id"] for u in await client.list_users()}
        assert all(t["createdById"] in users for t in tasks)
        await client.stop_generation()
        assert (await client.stats())["generating"] is False
        await trio.sleep(1)
        assert len(await client.list_tasks()) == 10


async def test_generation_mixes_status_changes(
    autojump_clock: trio.testing.MockClock, tenant: Tenant, nursery: trio.Nursery
) -> None:
    tenant.seed(SeedOptions(projects_per_workspace=1, tasks_per_project=3, files_per_project=0))
    server: AcmeServer = await nursery.start(serve_acme, tenant)
    async with AcmeHttpClient(server.url, server.api_key) as client:
        before = (await client.stats())["changelogSize"]
        options = GenerationOptions(tasks_per_second=1, mutations_per_second=1)
        await client.start_generation(options)
        await trio.sleep(2.1)  # ticks 0..3 at 0.5 s: update, create, update, create
        await client.stop_generation()
        recent = await client.get_recent_changes(4)
        actions = [(e["entityType"], e["action"]) for e in reversed(recent)]
        assert actions == [("task", "update"), ("task", "create")] * 2
        assert (await client.stats())["changelogSize"] == before + 4


async def test_generation_needs_data(http_client: AcmeHttpClient, tenant: Tenant) -> None:
    for collection in ("files", "tasks", "projects"):
        for entity_id in tenant.live_ids(collection):  # type: ignore[arg-type]
            tenant.delete(collection, entity_id)  # type: ignore[arg-type]
    with pytest.raises(MaxError) as caught:
        await http_client.start_generation()
    assert caught.value.data["status"] == 409
    assert "Seed data first" in caught.value.data["body"]
    assert (await http_client.stats())["generating"] is False
