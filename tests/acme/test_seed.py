"""Seeding: determinism (golden with a fixed clock and ids), batches, overrides, the three modes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from maxtrio.acme import (
    SeedGenerators,
    SeedOptions,
    SeedResult,
    Tenant,
    WorkspaceInput,
    http_status_of,
)
from maxtrio.core import MaxError

from .conftest import counting_ids, fixed_clock


def _everything(tenant: Tenant) -> dict[str, Any]:
    lists = {c: json.loads(tenant.list_wire(c).json) for c in ("workspaces", "users", "projects")}
    lists["tasks"] = json.loads(tenant.list_wire("tasks").json)
    lists["files"] = json.loads(tenant.list_wire("files").json)
    lists["changes"] = json.loads(tenant.changes_wire(0, 1000))
    return lists


def _golden_tenant() -> Tenant:
    return Tenant.in_memory(clock=fixed_clock(), ids=counting_ids())


def test_same_options_same_clock_and_ids_give_identical_tenants() -> None:
    with _golden_tenant() as first, _golden_tenant() as second:
        first.seed()
        second.seed()
        assert _everything(first) == _everything(second)


def test_golden_default_seed() -> None:
    """Pins the generator's output: a change here changes every seeded dataset."""
    with _golden_tenant() as tenant:
        assert tenant.seed() == SeedResult(1, 6, 3, 30, 15)
        data = _everything(tenant)
    assert data["workspaces"][0]["name"] == "Nimbus Partners Workspace"
    assert [u["displayName"] for u in data["users"]] == [
        "Acme System",
        "David Weber",
        "Erin Nakamura",
        "Liam Ito",
        "Nils Lopez",
        "Milan Flores",
    ]
    assert data["users"][1]["email"] == "david.weber@mail.test"
    assert [p["name"] for p in data["projects"]] == [
        "digital capacitor",
        "bluetooth feed",
        "1080p feed",
    ]
    first_task = data["tasks"][0]
    assert first_task["id"] == "tsk_00000000000000000000000000000009"
    assert first_task["title"] == "We need to override the redundant AI bus"
    assert (first_task["status"], first_task["priority"]) == ("done", "medium")
    assert (first_task["dueDate"], first_task["tags"]) == ("2026-06-22", ["chore", "docs", "bug"])
    assert first_task["createdAt"] == "2026-03-08T20:00:00.008Z"
    assert data["files"][0]["name"] == "spec_report.png"
    assert data["changes"]["nextCursor"] == 55


def test_generated_values_follow_the_distributions() -> None:
    with Tenant.in_memory() as tenant:
        tenant.seed(SeedOptions(projects_per_workspace=4, tasks_per_project=250))
        tasks = json.loads(tenant.list_wire("tasks").json)
        files = json.loads(tenant.list_wire("files").json)
        users = json.loads(tenant.list_wire("users").json)
    assert len(tasks) == 1000
    assert {t["status"] for t in tasks} == {"todo", "in_progress", "in_review", "done"}
    assert {t["priority"] for t in tasks} == {"critical", "high", "medium", "low", "none"}
    medium = sum(t["priority"] == "medium" for t in tasks)
    assert 300 < medium < 500  # weight 4 of 10
    described = sum(t["description"] is not None for t in tasks)
    assert 600 < described < 800  # probability 0.7
    due = sum(t["dueDate"] is not None for t in tasks)
    assert 400 < due < 600  # probability 0.5
    assert all(len(t["tags"]) == len(set(t["tags"])) <= 3 for t in tasks)
    assert all(t["completedAt"] is None for t in tasks)
    user_ids = {u["id"] for u in users}
    assert all(t["assigneeId"] in user_ids and t["createdById"] in user_ids for t in tasks)
    assert all(1024 <= f["sizeBytes"] <= 10_485_760 for f in files)
    assert all(f["mimeType"] != "application/octet-stream" for f in files)


def test_each_seed_call_is_a_new_batch() -> None:
    with _golden_tenant() as tenant:
        tenant.seed()
        tenant.seed()
        names = [w["name"] for w in json.loads(tenant.list_wire("workspaces").json)]
        assert tenant.meta("seed_batch") == "2"
    with _golden_tenant() as other:
        other.seed(SeedOptions(global_seed=42 + 10_000))
        assert json.loads(other.list_wire("workspaces").json)[0]["name"] == names[1]


def test_entity_seed_override_skips_that_types_root_draw() -> None:
    plain = SeedGenerators(42)
    overridden = SeedGenerators(42, {"user": 7})
    assert (
        overridden.by_type["user"].random()
        == SeedGenerators(0, {"user": 7}).by_type["user"].random()
    )
    assert overridden.by_type["workspace"].random() == plain.by_type["workspace"].random()
    # the root draw that "user" would have used now seeds "project"
    assert overridden.by_type["project"].random() != plain.by_type["project"].random()


def test_seed_into_an_existing_workspace() -> None:
    with Tenant.in_memory() as tenant:
        tenant.seed()
        workspace = json.loads(tenant.list_wire("workspaces").json)[0]["id"]
        result = tenant.seed(SeedOptions(workspace_id=workspace, workspaces=5))
        assert result == SeedResult(0, 0, 3, 30, 15)
        assert tenant.stats()["projects"] == 6 and tenant.stats()["workspaces"] == 1


def test_seed_existing_projects_only() -> None:
    with Tenant.in_memory() as tenant:
        tenant.seed()
        result = tenant.seed(SeedOptions(existing_only=True, tasks_per_project=2))
        assert result == SeedResult(0, 0, 0, 6, 15)


def test_seed_without_ghost_users() -> None:
    with Tenant.in_memory() as tenant:
        assert tenant.seed(SeedOptions(ghost_users=False)).users == 5


def test_seed_mode_errors_leave_the_tenant_unchanged() -> None:
    with Tenant.in_memory() as tenant:
        with pytest.raises(MaxError, match="No existing projects to seed into") as caught:
            tenant.seed(SeedOptions(existing_only=True))
        assert http_status_of(caught.value) == 409
        with pytest.raises(MaxError, match='Workspace "ws_nope" not found') as caught:
            tenant.seed(SeedOptions(workspace_id="ws_nope"))
        assert http_status_of(caught.value) == 404
        empty = json.loads(tenant.create(WorkspaceInput(name="Empty")))
        with pytest.raises(MaxError, match="Workspace has no users"):
            tenant.seed(SeedOptions(workspace_id=empty["id"]))
        assert tenant.meta("seed_batch") is None
        assert tenant.stats()["changelogSize"] == 1


def test_seed_options_are_validated() -> None:
    with pytest.raises(ValueError, match="tasks_per_project must be between 0 and 1000000"):
        SeedOptions(tasks_per_project=-1)
