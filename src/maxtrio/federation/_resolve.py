"""Targeting: cwd context detection, ``-t`` value conversion.

* :func:`find_project_root` — walk up from a directory to the first one holding both
  ``max.json`` and ``.max``.
* :func:`cwd_context` — the Max URL of a directory: ``max://@``, ``max://@/<ws>`` (ws = the
  name the registry has for the root's path — see ``_identity``; the base name when it is not
  registered) or ``max://@/<ws>/<inst>`` inside ``.max/installations/<inst>``.
* :func:`target_url` — a ``-t`` value as a URL: absolute ``max://``/``max+http://``; ``@`` =
  global; anything else is a path of children applied to the cwd URL.

Resolution of a URL to live nodes is :meth:`GlobalMax.resolve`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from maxtrio.core import LOCAL_HOST, ErrInvalidMaxUrl, MaxError, MaxUrl

from ._provision import CONFIG_FILE_NAME, DATA_DIR_NAME

if TYPE_CHECKING:
    from ._workspace_registry import WorkspaceRegistry

INSTALLATIONS_DIR_NAME = "installations"


def find_project_root(directory: str | os.PathLike[str]) -> Path | None:
    """The nearest directory at or above ``directory`` holding ``max.json`` and ``.max``."""
    current = Path(directory).resolve()
    for candidate in (current, *current.parents):
        if (candidate / CONFIG_FILE_NAME).exists() and (candidate / DATA_DIR_NAME).exists():
            return candidate
    return None


def cwd_context(
    directory: str | os.PathLike[str], registry: WorkspaceRegistry | None = None
) -> MaxUrl:
    """The Max URL a command run in ``directory`` targets by default. The workspace
    segment is the registered name of the project root's path (``registry``: by default
    ``workspaces.json`` of ``$MAX_HOME``); a moved workspace is re-keyed on the way."""
    current = Path(directory).resolve()
    root = find_project_root(current)
    if root is None:
        return MaxUrl.global_()
    workspace = registered_name(root, registry)
    installation = _installation_segment(current.parts)
    if installation is not None:
        return MaxUrl.for_installation(workspace, installation)
    return MaxUrl.for_workspace(workspace)


def registered_name(root: Path, registry: WorkspaceRegistry | None = None) -> str:
    """The name the registry has for the workspace at ``root``; its base name when it is not
    registered or the registry cannot be read (resolving the URL then reports why)."""
    from ._home import MaxHome
    from ._identity import identify
    from ._workspace_registry import FileWorkspaceRegistry

    try:
        info = identify(root, registry or FileWorkspaceRegistry(MaxHome.from_env()))
    except MaxError:
        return root.name
    return info.name if info is not None else root.name


def _installation_segment(parts: tuple[str, ...]) -> str | None:
    for index in range(len(parts) - 2):
        if parts[index] == DATA_DIR_NAME and parts[index + 1] == INSTALLATIONS_DIR_NAME:
            return parts[index + 2]
    return None


def target_url(value: str, cwd_url: MaxUrl) -> MaxUrl:
    """Convert a ``-t`` value to a URL; errors are ``core.invalid_max_url``.

    ``max://…``/``max+http://…`` are absolute; ``@`` is the local global node; anything else
    is a relative path whose parts are applied as children of ``cwd_url`` (so from a workspace
    cwd ``acme-1`` is that workspace's installation, and from an installation cwd every
    relative target fails with ``Cannot add child below installation``).
    """
    text = value.strip()
    if text.startswith(("max://", "max+http://")):
        return MaxUrl.parse(text)
    if text == LOCAL_HOST:
        return MaxUrl.global_()
    parts = [part for part in text.split("/") if part]
    if not parts:
        raise ErrInvalidMaxUrl(url=value, reason="A target is required")
    url = cwd_url
    for part in parts:
        url = url.child(part)
    return url
