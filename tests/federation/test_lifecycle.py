"""The installation lock and the lifecycle operations on real directories and a real Acme:
one holder at a time (also inside one process), what a second comer is told, a sync refused
before it touches anything, ``update_installation`` (a real credential rotation, config
changes, keys checked first, nothing written on failure), ``disconnect_installation`` (and a
``dataDir`` outside ``.max`` that is not Max's to delete), and the registry's ``replace``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
import trio.testing

from maxtrio.acme import AcmeServer, Tenant
from maxtrio.connector import ErrOnboardingValidationFailed, OnboardingAnswers
from maxtrio.federation import (
    SYNC_LOCK_FILE_NAME,
    ErrInstallationBusy,
    ErrInstallationNotFound,
    ErrNothingToUpdate,
    ErrRegistryEntryNotFound,
    ErrSyncAlreadyRunning,
    ErrUnknownConfigKey,
    FileInstallationRegistry,
    InMemoryInstallationRegistry,
    InstallationInfo,
    WorkspaceMax,
    disconnect_installation,
    installation_lock,
    update_installation,
)

CREDENTIALS = "credentials.json"


async def _connect(
    workspace: WorkspaceMax, server: AcmeServer, name: str = "acme-1"
) -> InstallationInfo:
    """``max connect acme`` as the CLI does it: onboarding first (picks the one workspace)."""
    onboarded = await workspace.onboard(
        "acme",
        answers=OnboardingAnswers(
            config={"baseUrl": server.url}, credentials={"api_token": server.api_key}
        ),
    )
    return await workspace.create_installation(
        "acme", name=name, config=onboarded.config, credentials=onboarded.credentials
    )


# -- the lock ----------------------------------------------------------------------------------


async def test_one_holder_at_a_time_even_in_one_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "acme-1"
    async with installation_lock(data_dir, "acme-1", "sync") as lock:
        lock.record("sync-7")
        holder = json.loads((data_dir / SYNC_LOCK_FILE_NAME).read_text())
        assert holder["operation"] == "sync" and holder["syncId"] == "sync-7"
        with pytest.raises(Exception) as second:
            async with installation_lock(
                data_dir, "acme-1", "sync", hint=lambda sync_id: f"wait for {sync_id}"
            ):
                raise AssertionError("two holders")
        assert ErrSyncAlreadyRunning.matches(second.value)
        assert str(second.value.message) == "a sync of acme-1 is already running: sync-7"  # type: ignore[attr-defined]
        assert second.value.data["hint"] == "wait for sync-7"  # type: ignore[attr-defined]
        with pytest.raises(Exception) as busy:
            async with installation_lock(data_dir, "acme-1", "disconnect"):
                raise AssertionError("two holders")
        assert ErrInstallationBusy.matches(busy.value)
        assert busy.value.message == "Cannot disconnect acme-1 now — sync-7 is running"  # type: ignore[attr-defined]
    async with installation_lock(data_dir, "acme-1", "update"):  # released on exit
        pass
    assert (data_dir / SYNC_LOCK_FILE_NAME).stat().st_mode & 0o777 == 0o600


async def test_a_sync_behind_a_lifecycle_change_is_told_what_runs(tmp_path: Path) -> None:
    async with installation_lock(tmp_path, "acme-1", "update"):
        with pytest.raises(Exception) as blocked:
            async with installation_lock(tmp_path, "acme-1", "sync"):
                raise AssertionError("two holders")
    assert ErrInstallationBusy.matches(blocked.value)
    assert blocked.value.message == "Cannot sync acme-1 now — a update of it is running"  # type: ignore[attr-defined]


async def test_a_sync_is_refused_before_it_touches_anything(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    info = await _connect(workspace, acme)
    node = await workspace.installation(info.id)
    async with installation_lock(info.data_dir, info.name, "sync") as lock:
        lock.record("sync-9")
        with pytest.raises(Exception) as refused:
            await node.sync()
    assert ErrSyncAlreadyRunning.matches(refused.value)
    hint = refused.value.data["hint"]  # type: ignore[attr-defined]
    assert hint.endswith(f"max -t {workspace.name}/acme-1 sync --resume sync-9 continues it")
    assert await node.sync_history() == []  # nothing was started
    result = await node.sync()
    assert result.status.value == "completed" and result.sync_id == "sync-1"


async def test_a_background_sync_holds_the_lock_until_it_ends(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    info = await _connect(workspace, acme)
    node = await workspace.installation(info.id)
    handle = await node.start_sync()
    with pytest.raises(Exception) as refused:
        await node.sync()
    assert ErrSyncAlreadyRunning.matches(refused.value)
    assert refused.value.data["syncId"] == handle.id  # type: ignore[attr-defined]
    assert (await handle.completion()).status.value == "completed"
    await trio.testing.wait_all_tasks_blocked()  # the holder task lets go when the sync ends
    async with installation_lock(info.data_dir, info.name, "sync"):
        pass
    assert (await node.sync()).status.value == "completed"


# -- update -------------------------------------------------------------------------------------


async def test_update_rotates_a_credential(
    workspace: WorkspaceMax, acme: AcmeServer, tenant: Tenant
) -> None:
    info = await _connect(workspace, acme)
    old = acme.api_key
    node = await workspace.installation(info.id)
    new = tenant.rotate_api_key()
    with pytest.raises(Exception) as rejected:
        await update_installation(workspace, "acme-1", config={}, credentials={"api_token": old})
    assert ErrOnboardingValidationFailed.matches(rejected.value)
    credentials = info.data_dir / CREDENTIALS
    assert json.loads(credentials.read_text()) == {"api_token": old}
    done = await update_installation(workspace, "acme-1", config={}, credentials={"api_token": new})
    assert (done.config_keys, done.credential_names) == ((), ("api_token",))
    assert json.loads(credentials.read_text()) == {"api_token": new}
    assert credentials.stat().st_mode & 0o777 == 0o600
    assert node not in workspace.live_installations()  # reopened with the new token on next use
    reopened = await workspace.installation(info.id)
    assert (await reopened.sync()).status.value == "completed"


async def test_update_changes_config_in_place(workspace: WorkspaceMax, acme: AcmeServer) -> None:
    first = await _connect(workspace, acme, "acme-1")
    await _connect(workspace, acme, "acme-2")
    other = acme.url.replace("127.0.0.1", "localhost")
    done = await update_installation(workspace, first.id, config={"baseUrl": other}, credentials={})
    assert done.config_keys == ("baseUrl",) and done.credential_names == ()
    names = [i.name for i in await workspace.list_installations()]
    assert names == ["acme-1", "acme-2"]
    found = await workspace.find_installation("acme-1")
    assert found is not None and found.config["baseUrl"] == other
    assert found.id == first.id and found.connected_at == first.connected_at


@pytest.mark.parametrize(
    ("config", "credentials", "error"),
    [
        ({"bogus": "1"}, {}, ErrUnknownConfigKey),
        ({}, {"password": "x"}, ErrUnknownConfigKey),
        ({}, {}, ErrNothingToUpdate),
    ],
)
async def test_update_checks_before_writing(
    workspace: WorkspaceMax,
    acme: AcmeServer,
    config: dict[str, str],
    credentials: dict[str, str],
    error: object,
) -> None:
    await _connect(workspace, acme)
    before = (workspace.root / "max.json").read_bytes()
    with pytest.raises(Exception) as failed:
        await update_installation(workspace, "acme-1", config=config, credentials=credentials)
    assert error.matches(failed.value)  # type: ignore[attr-defined]
    assert (workspace.root / "max.json").read_bytes() == before
    with pytest.raises(Exception) as unknown:
        await update_installation(workspace, "nope", config={"baseUrl": "x"}, credentials={})
    assert ErrInstallationNotFound.matches(unknown.value)


# -- disconnect -----------------------------------------------------------------------------------


async def test_disconnect_removes_everything_or_keeps_the_data(
    workspace: WorkspaceMax, acme: AcmeServer
) -> None:
    first = await _connect(workspace, acme, "acme-1")
    await (await workspace.installation(first.id)).sync()
    done = await disconnect_installation(workspace, "acme-1")
    assert done.data_removed and not first.data_dir.exists()
    second = await _connect(workspace, acme, "acme-2")
    await (await workspace.installation(second.id)).sync()
    kept = await disconnect_installation(workspace, second.id, keep_data=True)
    assert not kept.data_removed
    assert sorted(p.name for p in second.data_dir.iterdir()) == ["data.db", SYNC_LOCK_FILE_NAME]
    assert await workspace.list_installations() == []


async def test_a_data_dir_outside_max_loses_only_maxs_files(
    workspace: WorkspaceMax, acme: AcmeServer, tmp_path: Path
) -> None:
    info = await _connect(workspace, acme)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("mine")
    (elsewhere / CREDENTIALS).write_text((info.data_dir / CREDENTIALS).read_text())
    document = json.loads((workspace.root / "max.json").read_text())
    document["installations"]["acme-1"]["deployment"]["dataDir"] = str(elsewhere)
    (workspace.root / "max.json").write_text(json.dumps(document))
    await disconnect_installation(workspace, "acme-1")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["notes.txt"]


# -- the registry's replace ----------------------------------------------------------------------


async def test_registries_replace_in_place(workspace: WorkspaceMax, acme: AcmeServer) -> None:
    first = await _connect(workspace, acme, "acme-1")
    second = await _connect(workspace, acme, "acme-2")
    for registry in (
        FileInstallationRegistry(workspace.root),
        InMemoryInstallationRegistry([first, second]),
    ):
        changed = registry.get(first.id)
        assert changed is not None
        registry.replace(changed)
        assert [i.name for i in registry.list()] == ["acme-1", "acme-2"]
        ghost = InstallationInfo(
            id="ghost",
            connector="acme",
            name="ghost",
            connected_at=first.connected_at,
            deployment=first.deployment,
            locator=first.locator,
            spec=first.spec,
        )
        with pytest.raises(Exception) as missing:
            registry.replace(ghost)
        assert ErrRegistryEntryNotFound.matches(missing.value)
