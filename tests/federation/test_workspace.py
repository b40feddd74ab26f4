"""The global and workspace tiers on real directories: ``create_workspace`` (init),
``create_installation`` (connect) with validation before any write, dedup, names, modes,
health from the connector, two workspaces with the same installation names."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from unittest import mock

import attrs
import pytest
import trio

from maxtrio.acme import AcmeServer, Tenant
from maxtrio.connector import ErrOnboardingInputMissing, HealthState, OnboardingAnswers
from maxtrio.connectors.acme import AcmeUser
from maxtrio.core import EntityQuery, MaxError, MaxUrl, PageRequest
from maxtrio.federation import (
    ErrCannotInitialiseProject,
    ErrInstallationAlreadyExists,
    ErrInstallationNotFound,
    ErrInstallationValidationFailed,
    ErrInvalidInstallationName,
    ErrWorkspaceDirectoryMissing,
    ErrWorkspaceHandleNotFound,
    ErrWorkspaceNotResolved,
    GlobalMax,
    InstallationReader,
    MaxHome,
    WorkspaceMax,
)

from .conftest import connect_acme


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file under ``root`` with its bytes (directories as None)."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
        if not p.name.endswith(".lock")
    }


# -- init --------------------------------------------------------------------------------------


async def test_create_workspace_provisions_and_registers(
    gmax: GlobalMax, home: MaxHome, tmp_path: Path
) -> None:
    info = await gmax.create_workspace(tmp_path / "my-project")
    root = tmp_path / "my-project"
    assert (info.name, info.root, info.data_dir) == ("my-project", root, root / ".max")
    assert info.connected_at.endswith("Z") and len(info.connected_at) == 24
    assert (root / "max.json").read_bytes() == b"{}"
    assert (root / ".gitignore").read_text() == ".max\n"
    assert mode(root / ".max") == 0o700 and mode(home.root) == 0o700
    assert await gmax.list_workspaces() == [info]
    entry = json.loads(home.workspaces_file.read_text())["workspaces"][0]
    assert entry["config"] == {"strategy": "in-process", "dataDir": str(root / ".max")}
    assert entry["spec"] == {"name": "my-project"}


async def test_init_inside_a_project_needs_force(gmax: GlobalMax, tmp_path: Path) -> None:
    root = tmp_path / "outer"
    first = await gmax.create_workspace(root)
    for directory in (root, root / "nested"):
        with pytest.raises(MaxError) as info:
            await gmax.create_workspace(directory)
        assert ErrCannotInitialiseProject.matches(info.value)
        assert str(info.value) == (
            "Cannot initialise Max project — you are already in a max project! "
            "Use `force=true` to create one here anyway."
        )
        assert info.value.data == {"maxProjectRoot": str(root)}
    again = await gmax.create_workspace(root, force=True)
    assert again.id == first.id  # the same directory keeps its id
    nested = await gmax.create_workspace(root / "nested", force=True)
    assert nested.name == "nested"
    assert [w.name for w in await gmax.list_workspaces()] == ["nested", "outer"]


async def test_two_directories_with_the_same_name_coexist(gmax: GlobalMax, tmp_path: Path) -> None:
    first = await gmax.create_workspace(tmp_path / "a" / "proj")
    second = await gmax.create_workspace(tmp_path / "b" / "proj")
    third = await gmax.create_workspace(tmp_path / "c" / "proj")
    assert (first.name, second.name, third.name) == ("proj", "proj-2", "proj-3")
    assert len({first.id, second.id, third.id}) == 3
    assert (await gmax.workspace("proj-2")).root == tmp_path / "b" / "proj"
    # each directory's URL is its own registration's
    assert str(gmax.cwd_context(tmp_path / "b" / "proj")) == "max://@/proj-2"
    assert str(gmax.cwd_context(tmp_path / "a" / "proj")) == "max://@/proj"
    # re-initialising keeps id and name; a registration whose directory is gone gives its
    # name up to the next directory of that name
    assert await gmax.create_workspace(tmp_path / "b" / "proj", force=True) == attrs.evolve(
        second, connected_at=mock.ANY
    )
    shutil.rmtree(tmp_path / "a")
    fourth = await gmax.create_workspace(tmp_path / "d" / "proj")
    assert fourth.name == "proj" and fourth.id not in (first.id, second.id, third.id)
    assert sorted(w.name for w in await gmax.list_workspaces()) == ["proj", "proj-2", "proj-3"]


async def test_a_moved_workspace_is_re_keyed_and_a_copy_is_not_the_original(
    gmax: GlobalMax, home: MaxHome, tmp_path: Path
) -> None:
    original = await gmax.create_workspace(tmp_path / "old" / "proj")
    kept = json.loads((tmp_path / "old" / "proj" / ".max" / "workspace.json").read_text())
    assert kept == {"id": original.id}
    (tmp_path / "new").mkdir()
    (tmp_path / "old" / "proj").rename(tmp_path / "new" / "proj")
    assert str(gmax.cwd_context(tmp_path / "new" / "proj")) == "max://@/proj"
    (moved,) = await gmax.list_workspaces()
    assert (moved.id, moved.name, moved.root) == (original.id, "proj", tmp_path / "new" / "proj")
    entry = json.loads(home.workspaces_file.read_text())["workspaces"][0]
    assert entry["config"]["dataDir"] == str(tmp_path / "new" / "proj" / ".max")
    # renamed while moving: the name follows the directory when it is free
    (tmp_path / "new" / "proj").rename(tmp_path / "new" / "renamed")
    assert str(gmax.cwd_context(tmp_path / "new" / "renamed")) == "max://@/renamed"
    # a copy keeps the id file, but the original is still there: not registered
    shutil.copytree(tmp_path / "new" / "renamed", tmp_path / "copy" / "renamed")
    copy = tmp_path / "copy" / "renamed"
    with pytest.raises(MaxError) as info:
        await gmax.resolve(gmax.cwd_context(copy), cwd=copy)
    assert ErrWorkspaceNotResolved.matches(info.value)
    assert "max init --force" in info.value.data["hint"]
    registered = await gmax.create_workspace(copy, force=True)  # now a workspace of its own
    assert registered.id != original.id and registered.name == "renamed-2"
    assert str(gmax.cwd_context(copy)) == "max://@/renamed-2"
    assert (await gmax.resolve(MaxUrl.parse("max://@/renamed"))).workspace.root == (  # type: ignore[union-attr]
        tmp_path / "new" / "renamed"
    )


async def test_a_workspace_from_before_the_id_file_is_migrated(
    gmax: GlobalMax, home: MaxHome, tmp_path: Path
) -> None:
    """A registry written by an older version (no ``.max/workspace.json``): found by path, the
    id file written on first sight; moved before that, found by its base name."""
    first = await gmax.create_workspace(tmp_path / "one" / "proj")
    second = await gmax.create_workspace(tmp_path / "two")
    for root in (tmp_path / "one" / "proj", tmp_path / "two"):
        (root / ".max" / "workspace.json").unlink()
    assert str(gmax.cwd_context(tmp_path / "two")) == "max://@/two"
    assert json.loads((tmp_path / "two" / ".max" / "workspace.json").read_text()) == {
        "id": second.id
    }
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "one" / "proj").rename(tmp_path / "elsewhere" / "proj")
    assert str(gmax.cwd_context(tmp_path / "elsewhere" / "proj")) == "max://@/proj"
    moved = await gmax.find_workspace("proj")
    assert moved is not None and moved.id == first.id
    assert moved.root == tmp_path / "elsewhere" / "proj"


async def test_init_where_no_directory_can_be(gmax: GlobalMax, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(MaxError) as info:
        await gmax.create_workspace(tmp_path / "file" / "proj")
    assert ErrCannotInitialiseProject.matches(info.value)
    assert str(info.value) == (
        f"Cannot initialise Max project — Not a directory: {tmp_path / 'file' / 'proj'}"
    )
    assert await gmax.list_workspaces() == []


async def test_unknown_and_missing_workspaces(gmax: GlobalMax, tmp_path: Path) -> None:
    with pytest.raises(MaxError) as info:
        await gmax.workspace("ghost")
    assert ErrWorkspaceHandleNotFound.matches(info.value)
    assert str(info.value) == 'Unknown workspace "ghost"'
    await gmax.create_workspace(tmp_path / "gone")
    await gmax.create_workspace(tmp_path / "here")
    (tmp_path / "gone" / "max.json").unlink()
    with pytest.raises(MaxError) as info:
        await gmax.workspace("gone")
    assert ErrWorkspaceDirectoryMissing.matches(info.value)
    health = {h.name: h.health for h in await gmax.workspace_health()}
    assert health["gone"].state is HealthState.UNHEALTHY
    assert health["gone"].reason == "directory missing"
    assert health["here"].is_healthy
    overall = await gmax.health()
    assert (overall.state, overall.reason) == (HealthState.DEGRADED, "2 workspace(s) checked")
    assert not (tmp_path / "gone" / "max.json").exists()  # not re-provisioned


async def test_a_global_without_workspaces_is_healthy(gmax: GlobalMax) -> None:
    assert await gmax.list_workspaces() == []
    assert (await gmax.health()).is_healthy


# -- connect -----------------------------------------------------------------------------------


async def test_create_installation_writes_the_files(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    info = await connect_acme(workspace, acme)
    assert (info.name, info.connector) == ("acme-1", "acme")
    data_dir = workspace.root / ".max" / "installations" / "acme-1"
    assert info.data_dir == data_dir
    credentials = data_dir / "credentials.json"
    assert credentials.read_text() == '{\n  "api_token": "' + acme.api_key + '"\n}'
    assert mode(credentials) == 0o600
    assert mode(data_dir) == 0o700 and mode(data_dir.parent) == 0o700
    entry = json.loads((workspace.root / "max.json").read_text())["installations"]["acme-1"]
    assert entry["spec"] == {
        "connector": "acme",
        "name": "acme-1",
        "connectorConfig": {"baseUrl": acme.url, "workspaceId": "ws-any"},
    }
    assert acme.api_key not in (workspace.root / "max.json").read_text()  # no secrets
    assert await workspace.list_installations() == [info]


async def test_names_are_derived_and_deduplicated(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    assert (await connect_acme(workspace, acme)).name == "acme-1"
    assert (await connect_acme(workspace, acme)).name == "acme-2"
    assert await workspace.derive_installation_name("@max/connector-acme") == "acme-3"
    await connect_acme(workspace, acme, "prod")
    before = snapshot(workspace.root)
    with pytest.raises(MaxError) as info:
        await connect_acme(workspace, acme, "prod")
    assert ErrInstallationAlreadyExists.matches(info.value)
    assert info.value.has("HasConnector")
    assert str(info.value) == 'Installation "acme:prod" already exists'
    assert snapshot(workspace.root) == before
    with pytest.raises(MaxError, match='Installation "acme:acme-2" already exists'):
        await workspace.check_installation_name("acme", "acme-2")
    await workspace.check_installation_name("acme", "free-name")


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "", "x" * 65, "sp ace"])
async def test_bad_installation_names(workspace: WorkspaceMax, acme: AcmeServer, name: str) -> None:
    with pytest.raises(MaxError) as info:
        await connect_acme(workspace, acme, name)
    assert ErrInvalidInstallationName.matches(info.value)
    assert not (workspace.root / ".max" / "installations").exists()


async def test_unknown_connector(workspace: WorkspaceMax) -> None:
    with pytest.raises(MaxError) as info:
        await workspace.create_installation("nope", config={}, credentials={})
    assert info.value.code == "connector.connector_not_found"
    assert str(info.value) == 'Connector "nope" not found in registry'


async def test_a_failed_validation_writes_nothing(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    before = snapshot(workspace.root)
    with pytest.raises(MaxError) as info:
        await workspace.create_installation(
            "acme",
            config={"baseUrl": acme.url, "workspaceId": "w"},
            credentials={"api_token": "wrong"},
        )
    assert ErrInstallationValidationFailed.matches(info.value)
    assert str(info.value) == (
        'Cannot connect acme as "acme-1" — '
        "Acme rejected the API token for GET /api/workspaces: 403 Invalid API key"
    )
    assert "wrong" not in str(info.value)
    assert snapshot(workspace.root) == before
    with pytest.raises(MaxError, match="baseUrl must be an http"):
        await workspace.create_installation(
            "acme", config={"baseUrl": "nope", "workspaceId": "w"}, credentials={}
        )
    assert snapshot(workspace.root) == before


async def test_onboarding_collects_config_and_credentials_without_writing(
    workspace: WorkspaceMax, acme: AcmeServer, tenant: Tenant
) -> None:
    before = snapshot(workspace.root)
    answers = OnboardingAnswers(
        config={"baseUrl": acme.url}, credentials={"api_token": acme.api_key}
    )
    result = await workspace.onboard("acme", answers=answers)
    (workspace_id,) = [w["id"] for w in json.loads(tenant.list_wire("workspaces").json)]
    assert result.config == {"baseUrl": acme.url, "workspaceId": workspace_id}
    assert result.credentials == {"api_token": acme.api_key}
    assert acme.api_key not in repr(result)
    assert snapshot(workspace.root) == before
    with pytest.raises(MaxError) as info:
        await workspace.onboard("acme", answers=OnboardingAnswers(config={"baseUrl": acme.url}))
    assert ErrOnboardingInputMissing.matches(info.value)
    assert "api_token" in str(info.value)
    info_ = await workspace.create_installation(
        "acme", config=result.config, credentials=result.credentials
    )
    assert info_.config == result.config


# -- live installations and health ---------------------------------------------------------------


async def test_one_open_per_installation_under_concurrency(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    info = await connect_acme(workspace, acme)
    opened = []

    async def get() -> None:
        opened.append(await workspace.installation(info.name))

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(get)
    assert len({id(node) for node in opened}) == 1
    assert workspace.live_installations() == [opened[0]]
    assert await workspace.installation(info.id) is opened[0]
    with pytest.raises(MaxError) as error:
        await workspace.installation("nope")
    assert ErrInstallationNotFound.matches(error.value)
    assert str(error.value) == "Installation not found: nope"


async def test_health_asks_the_connector(
    workspace: WorkspaceMax, acme: AcmeServer, tenant: Tenant
) -> None:
    await connect_acme(workspace, acme, "good")
    bad = await connect_acme(workspace, acme, "bad")
    node = await workspace.installation("good")
    assert (await node.health()).is_healthy
    # the token of "bad" is revoked upstream: its connector's own health check says so
    (bad.data_dir / "credentials.json").write_text('{\n  "api_token": "revoked"\n}')
    (broken, good) = await workspace.installation_health()  # sorted by name
    assert (good.name, good.health.is_healthy, str(good.url)) == (
        "good",
        True,
        "max://@/my-project/good",
    )
    assert broken.name == "bad" and broken.health.state is HealthState.UNHEALTHY
    assert "revoked" not in (broken.health.reason or "")
    assert (await workspace.health(deep=True)).state is HealthState.DEGRADED
    assert broken.to_json()["url"] == "max://@/my-project/bad"


async def test_an_installation_without_credentials_is_unhealthy_with_the_reason(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    info = await connect_acme(workspace, acme)
    (info.data_dir / "credentials.json").unlink()
    (status,) = await workspace.installation_health()
    assert status.health.state is HealthState.UNHEALTHY
    assert status.health.reason == 'Credential "api_token" not found'
    with pytest.raises(MaxError) as error:
        await workspace.installation(info.name)
    assert error.value.code == "app.installation_unavailable"
    assert str(error.value) == (
        'Installation "acme-1" could not be started — Credential "api_token" not found'
    )


async def test_reading_opens_the_engine_alone_and_keeps_nothing_open(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    info = await connect_acme(workspace, acme)
    async with workspace.reading(info.name) as reader:
        assert type(reader) is InstallationReader  # not a live node: no executor, no sync
        assert (reader.name, reader.id, str(reader.url)) == (
            info.name,
            info.id,
            "max://@/my-project/acme-1",
        )
        assert reader.schema is workspace.connector_schema("acme") and reader.store_label is None
        rows = await reader.engine.query(EntityQuery(AcmeUser), PageRequest(None, 5))
        assert rows.items == [] and (info.data_dir / "data.db").is_file()
        assert workspace.live_installations() == []
    assert workspace.live_installations() == []
    node = await workspace.installation(info.name)
    async with workspace.reading(info.id) as live:
        assert live is node  # an installation open already is read as it is
    with pytest.raises(MaxError) as error:
        async with workspace.reading("nope"):
            pass
    assert ErrInstallationNotFound.matches(error.value)


async def test_reading_fails_as_opening_does(workspace: WorkspaceMax, acme: AcmeServer) -> None:
    info = await connect_acme(workspace, acme)
    (info.data_dir / "credentials.json").unlink()
    with pytest.raises(MaxError) as error:
        async with workspace.reading(info.name):
            pass
    assert str(error.value) == (
        'Installation "acme-1" could not be started — Credential "api_token" not found'
    )


async def test_remove_installation(workspace: WorkspaceMax, acme: AcmeServer) -> None:
    keep = await connect_acme(workspace, acme)
    gone = await connect_acme(workspace, acme)
    node = await workspace.installation(gone.name)
    removed = await workspace.remove_installation(gone.name, purge=True)
    assert removed.id == gone.id
    assert workspace.live_installations() == []
    assert not gone.data_dir.exists()
    assert [i.name for i in await workspace.list_installations()] == [keep.name]
    assert node.name == "acme-2"
    with pytest.raises(MaxError, match="Installation not found: acme-2"):
        await workspace.remove_installation("acme-2")


async def test_two_workspaces_keep_same_named_installations_apart(
    gmax: GlobalMax, tmp_path: Path, acme: AcmeServer, nursery: trio.Nursery
) -> None:
    from maxtrio.acme import SeedOptions, serve_acme

    with Tenant.in_memory() as other_tenant:
        other_tenant.seed(SeedOptions(tasks_per_project=4, global_seed=7))
        other: AcmeServer = await nursery.start(serve_acme, other_tenant)
        one = await gmax.workspace((await gmax.create_workspace(tmp_path / "one")).name)
        two = await gmax.workspace((await gmax.create_workspace(tmp_path / "two")).name)
        first = await connect_acme(one, acme, "acme-1")
        second = await connect_acme(two, other, "acme-1")
        assert first.data_dir != second.data_dir
        assert first.id != second.id
        from maxtrio.connectors.acme import AcmeTask
        from maxtrio.core import MaxUrl

        counts = {}
        for url in ("max://@/one/acme-1", "max://@/two/acme-1"):
            target = await gmax.resolve(MaxUrl.parse(url))
            assert target.installation is not None
            result = await target.installation.sync()
            assert result.status.value == "completed"
            counts[url] = await target.installation.engine.count(AcmeTask)
        assert counts == {"max://@/one/acme-1": 30, "max://@/two/acme-1": 12}
        assert os.path.getsize(first.data_dir / "data.db") > 0
        assert json.loads(first.data_dir.joinpath("credentials.json").read_text()) != json.loads(
            second.data_dir.joinpath("credentials.json").read_text()
        )
