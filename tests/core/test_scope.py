"""Scopes: shapes, structural equality and kind guards (scope.test.ts)."""

from __future__ import annotations

import pytest

from maxtrio.core import (
    INSTALLATION,
    GlobalScope,
    InstallationScope,
    WorkspaceScope,
    global_,
    installation,
    is_global,
    is_installation,
    is_workspace,
    workspace,
)


def test_global_shape() -> None:
    scope = global_("ws-1", "inst-1")
    assert scope.kind == "global"
    assert scope.workspace_id == "ws-1"
    assert scope.installation_id == "inst-1"
    assert scope == GlobalScope(workspace_id="ws-1", installation_id="inst-1")


def test_workspace_shape() -> None:
    scope = workspace("inst-1")
    assert scope.kind == "workspace"
    assert scope.installation_id == "inst-1"
    assert scope == WorkspaceScope("inst-1")


def test_installation_shape() -> None:
    assert installation() is INSTALLATION
    assert INSTALLATION.kind == "installation"
    assert InstallationScope() == INSTALLATION


def test_scopes_compare_structurally() -> None:
    assert workspace("i1") == workspace("i1")
    assert workspace("i1") != workspace("i2")
    assert global_("w", "i") != global_("w", "j")
    assert hash(global_("w", "i")) == hash(global_("w", "i"))
    assert len({workspace("a"), workspace("a"), INSTALLATION, InstallationScope()}) == 2


def test_scopes_of_different_kinds_differ() -> None:
    # A workspace scope and a global scope naming the same installation are not the same place.
    scopes: list[object] = [INSTALLATION, workspace("i1"), global_("w", "i1")]
    assert len(set(scopes)) == 3


def test_scopes_are_immutable() -> None:
    scope = workspace("i1")
    with pytest.raises(AttributeError):
        scope.installation_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (INSTALLATION, (True, False, False)),
        (workspace("i1"), (False, True, False)),
        (global_("w1", "i1"), (False, False, True)),
        ("global", (False, False, False)),
        (None, (False, False, False)),
        ({"kind": "global", "workspace_id": "w", "installation_id": "i"}, (False, False, False)),
    ],
)
def test_kind_guards(scope: object, expected: tuple[bool, bool, bool]) -> None:
    assert (is_installation(scope), is_workspace(scope), is_global(scope)) == expected
