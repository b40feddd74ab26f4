"""Scopes: where a ref is meaningful — one installation, a workspace, or the whole machine."""

from __future__ import annotations

from typing import Literal, TypeAlias

import attrs


@attrs.frozen
class InstallationScope:
    """Inside one installation (one engine). The default everywhere in storage and sync."""

    kind: Literal["installation"] = "installation"


@attrs.frozen
class WorkspaceScope:
    """Several installations: refs say which one."""

    installation_id: str
    kind: Literal["workspace"] = "workspace"


@attrs.frozen
class GlobalScope:
    """Several workspaces: refs say which workspace and installation."""

    workspace_id: str
    installation_id: str
    kind: Literal["global"] = "global"


Scope: TypeAlias = InstallationScope | WorkspaceScope | GlobalScope

INSTALLATION = InstallationScope()


def installation() -> InstallationScope:
    return INSTALLATION


def workspace(installation_id: str) -> WorkspaceScope:
    return WorkspaceScope(installation_id)


def global_(workspace_id: str, installation_id: str) -> GlobalScope:
    return GlobalScope(workspace_id, installation_id)


def is_installation(scope: object) -> bool:
    return isinstance(scope, InstallationScope)


def is_workspace(scope: object) -> bool:
    return isinstance(scope, WorkspaceScope)


def is_global(scope: object) -> bool:
    return isinstance(scope, GlobalScope)
