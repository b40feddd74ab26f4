"""Targeting: cwd context, ``-t`` conversion and resolution (reference
``max-url-resolver.test.ts``) against real directories and registries."""

from __future__ import annotations

from pathlib import Path

import pytest

from maxtrio.acme import AcmeServer
from maxtrio.core import ErrInvalidMaxUrl, MaxError, MaxLevel, MaxUrl
from maxtrio.federation import (
    ErrInstallationNotResolved,
    ErrRemoteUrlNotSupported,
    ErrWorkspaceNotResolved,
    GlobalMax,
    WorkspaceMax,
    cwd_context,
    find_project_root,
    provision_workspace,
    target_url,
)

from .conftest import connect_acme

GLOBAL = MaxUrl.global_()
WORKSPACE = MaxUrl.for_workspace("my-team")
INSTALLATION = MaxUrl.for_installation("my-team", "hubspot-prod")


# -- cwd context -------------------------------------------------------------------------------


def test_outside_any_project_is_global(tmp_path: Path) -> None:
    assert find_project_root(tmp_path) is None
    assert cwd_context(tmp_path) == GLOBAL


def test_a_project_root_and_below_is_its_workspace(tmp_path: Path) -> None:
    root = tmp_path / "my-team"
    provision_workspace(root)
    (root / "src" / "deep").mkdir(parents=True)
    assert find_project_root(root / "src" / "deep") == root
    assert cwd_context(root) == WORKSPACE
    assert cwd_context(root / "src" / "deep") == WORKSPACE
    assert cwd_context(root / ".max") == WORKSPACE


def test_inside_an_installation_dir_is_that_installation(tmp_path: Path) -> None:
    root = tmp_path / "my-team"
    provision_workspace(root)
    inst = root / ".max" / "installations" / "hubspot-prod" / "sub"
    inst.mkdir(parents=True)
    assert cwd_context(inst) == INSTALLATION
    assert cwd_context(inst.parent) == INSTALLATION


def test_both_entries_are_needed(tmp_path: Path) -> None:
    (tmp_path / "only-json").mkdir()
    (tmp_path / "only-json" / "max.json").write_text("{}")
    (tmp_path / "only-dir" / ".max").mkdir(parents=True)
    assert cwd_context(tmp_path / "only-json") == GLOBAL
    assert cwd_context(tmp_path / "only-dir") == GLOBAL


def test_symlinked_cwd_is_resolved(tmp_path: Path) -> None:
    root = tmp_path / "real-name"
    provision_workspace(root)
    (tmp_path / "alias").symlink_to(root)
    assert cwd_context(tmp_path / "alias") == MaxUrl.for_workspace("real-name")


# -- -t values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cwd", "expected"),
    [
        ("max://@/other/inst", INSTALLATION, "max://@/other/inst"),
        ("max+http://box:7433/ws", GLOBAL, "max+http://box:7433/ws"),
        ("@", INSTALLATION, "max://@"),
        ("my-project", GLOBAL, "max://@/my-project"),
        ("my-project/linear-1", GLOBAL, "max://@/my-project/linear-1"),
        ("my-project/linear-1/", GLOBAL, "max://@/my-project/linear-1"),
        ("linear-1", WORKSPACE, "max://@/my-team/linear-1"),
    ],
)
def test_target_values(value: str, cwd: MaxUrl, expected: str) -> None:
    assert str(target_url(value, cwd)) == expected


@pytest.mark.parametrize(
    ("value", "cwd", "reason"),
    [
        ("other/inst", WORKSPACE, "Cannot add child below installation"),
        ("anything", INSTALLATION, "Cannot add child below installation"),
        ("a/b/c", GLOBAL, "Cannot add child below installation"),
        ("", GLOBAL, "A target is required"),
        ("//", WORKSPACE, "A target is required"),
        ("max://", GLOBAL, "Host segment required"),
    ],
)
def test_target_failures(value: str, cwd: MaxUrl, reason: str) -> None:
    with pytest.raises(MaxError) as info:
        target_url(value, cwd)
    assert ErrInvalidMaxUrl.matches(info.value)
    assert str(info.value).endswith(f" — {reason}")


# -- resolution --------------------------------------------------------------------------------


@pytest.fixture
async def team(gmax: GlobalMax, tmp_path: Path, acme: AcmeServer) -> WorkspaceMax:
    info = await gmax.create_workspace(tmp_path / "my-team")
    workspace = await gmax.workspace(info.id)
    await connect_acme(workspace, acme, "hubspot-prod")
    return workspace


async def test_global(gmax: GlobalMax) -> None:
    target = await gmax.resolve(GLOBAL)
    assert target.level is MaxLevel.GLOBAL
    assert target.workspace is None and target.installation is None


async def test_workspace_by_name_and_by_id(gmax: GlobalMax, team: WorkspaceMax) -> None:
    by_name = await gmax.resolve(WORKSPACE)
    assert by_name.level is MaxLevel.WORKSPACE
    assert by_name.workspace is team and by_name.workspace.id == team.id
    by_id = await gmax.resolve(MaxUrl.for_workspace(team.id))
    assert by_id.workspace is team


async def test_installation_by_name_and_by_id(gmax: GlobalMax, team: WorkspaceMax) -> None:
    (info,) = await team.list_installations()
    target = await gmax.resolve(INSTALLATION)
    assert target.level is MaxLevel.INSTALLATION
    assert target.workspace is team
    assert target.installation is not None and target.installation.id == info.id
    assert (await gmax.resolve(MaxUrl.for_installation("my-team", info.id))).installation is (
        target.installation
    )


async def test_names_win_over_ids(gmax: GlobalMax, team: WorkspaceMax, acme: AcmeServer) -> None:
    (first,) = await team.list_installations()
    await connect_acme(team, acme, name=first.id)  # a name equal to another's id
    target = await gmax.resolve(MaxUrl.for_installation("my-team", first.id))
    assert target.installation is not None and target.installation.name == first.id


async def test_unknown_workspace(gmax: GlobalMax) -> None:
    url = MaxUrl.for_workspace("nope")
    with pytest.raises(MaxError) as info:
        await gmax.resolve(url)
    assert ErrWorkspaceNotResolved.matches(info.value)
    assert info.value.has("NotFound")
    assert str(info.value) == 'Workspace "nope" not found — max://@/nope'
    assert "hint" not in info.value.data


async def test_unknown_installation(gmax: GlobalMax, team: WorkspaceMax) -> None:
    with pytest.raises(MaxError) as info:
        await gmax.resolve(MaxUrl.for_installation("my-team", "nope"))
    assert ErrInstallationNotResolved.matches(info.value)
    assert str(info.value) == (
        'Installation "nope" not found in workspace "my-team" — max://@/my-team/nope'
    )


async def test_remote_urls_are_not_supported(gmax: GlobalMax) -> None:
    with pytest.raises(MaxError) as info:
        await gmax.resolve(MaxUrl.parse("max://remote.host/ws"))
    assert ErrRemoteUrlNotSupported.matches(info.value)
    assert str(info.value) == "Remote Max URLs are not yet supported: max://remote.host/ws"


async def test_an_unregistered_project_gets_a_hint(gmax: GlobalMax, tmp_path: Path) -> None:
    root = tmp_path / "cloned"
    provision_workspace(root)  # a project directory nobody registered (cloned, moved…)
    url = cwd_context(root)
    with pytest.raises(MaxError) as info:
        await gmax.resolve(url, cwd=root)
    assert str(info.value) == 'Workspace "cloned" not found — max://@/cloned'
    assert info.value.data["hint"] == (
        "this directory is a Max project but is not registered; run 'max init --force .'"
    )
    await gmax.create_workspace(root, force=True)
    assert (await gmax.resolve(url, cwd=root)).workspace is not None
