"""An installation after ``max connect``: disconnect it, change its config, rotate a credential.

Both operations hold the installation's lock (``_sync_lock``) from start to end, so they never
run while a sync of the installation runs — in any process — and no sync starts meanwhile; a
running sync makes them fail at once with ``app.installation_busy`` (``Cannot disconnect
acme-1 now — sync-3 is running``).

:func:`disconnect_installation` (``max disconnect``):

1. unless ``keep_data``, an installation on PostgreSQL has its schema dropped (a server that
   cannot be reached fails the disconnect before anything changed; ``--keep-data``
   disconnects without touching the data);
2. the installation is stopped (if open in this process) and its ``max.json`` entry removed;
3. ``credentials.json`` is deleted;
4. unless ``keep_data``, the data directory ``.max/installations/<name>/`` is deleted — only
   when it lies inside the workspace's ``.max/`` (a hand-edited ``dataDir`` pointing elsewhere
   loses just the files Max wrote there: ``credentials.json``, ``data.db`` and its journal
   files, ``sync.lock``). With ``keep_data`` ``data.db`` stays, and connecting again under the
   same name uses it.

:func:`update_installation` (``max connect <inst> --update``) checks every key before doing
anything: a config key must be one the connector's onboarding declares (a field or a choice)
or one the installation already has, a credential one the connector declares
(``app.unknown_config_key``). Then the connector's onboarding flow runs without prompts on the
current config and credentials overlaid with the new values — so values are typed, checked and
verified exactly as at ``connect`` (``Verify credentials``, a choice among the source's
options) — and the connector is started with the result in memory and asked its health. Only
then is anything written: ``credentials.json`` (0600, atomic, merged), the ``max.json`` entry
(under its lock, in place), and an open node is closed so the next use reopens it with the new
values. Credential values are never returned, printed or put in an error.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from maxtrio.connector import (
    ConnectorDef,
    FileCredentialStore,
    InputField,
    InputStep,
    OnboardingAnswers,
    SelectStep,
    credential_names,
)
from maxtrio.core import MaxError
from maxtrio.storage import ErrStoreUnreachable

from ._errors import (
    ErrFileWriteFailed,
    ErrInstallationNotFound,
    ErrNothingToUpdate,
    ErrUnknownConfigKey,
)
from ._installation import CREDENTIALS_FILE_NAME, DATA_FILE_NAME
from ._records import InstallationInfo, InstallationSpec
from ._store_choice import drop_store
from ._sync_lock import SYNC_LOCK_FILE_NAME, installation_lock

if TYPE_CHECKING:
    from ._workspace import WorkspaceMax

#: What Max writes in an installation's data directory (removed one by one when the directory
#: itself is not Max's to delete).
_DATA_FILES = (DATA_FILE_NAME, f"{DATA_FILE_NAME}-wal", f"{DATA_FILE_NAME}-shm")


@attrs.frozen
class DisconnectResult:
    """What :func:`disconnect_installation` did."""

    installation: InstallationInfo
    data_dir: Path
    data_removed: bool

    def to_json(self) -> dict[str, Any]:
        info = self.installation
        return {
            "name": info.name,
            "id": info.id,
            "connector": info.connector,
            "dataDir": str(self.data_dir),
            "credentialsRemoved": True,
            "dataRemoved": self.data_removed,
        }


@attrs.frozen
class UpdateResult:
    """What :func:`update_installation` changed: config keys and credential *names*."""

    installation: InstallationInfo
    config_keys: tuple[str, ...]
    credential_names: tuple[str, ...]


def declared_config(definition: ConnectorDef) -> dict[str, InputField | None]:
    """The config keys a connector's onboarding asks for: input fields (with their type) and
    the fields of its choices (``None``: any value of the source's options)."""
    keys: dict[str, InputField | None] = {}
    for step in definition.onboarding.steps:
        if isinstance(step, InputStep):
            keys.update(step.fields)
        elif isinstance(step, SelectStep):
            keys.setdefault(step.field, None)
    return keys


def declared_credentials(definition: ConnectorDef) -> list[str]:
    """The credential names a connector declares (its ``credentials`` and its onboarding's)."""
    names = credential_names(definition.credentials)
    for step in definition.onboarding.steps:
        if isinstance(step, InputStep):
            names += [c.name for c in step.credentials.values() if c.name not in names]
    return names


async def disconnect_installation(
    workspace: WorkspaceMax, name_or_id: str, *, keep_data: bool = False
) -> DisconnectResult:
    """Remove an installation from ``workspace`` (see the module docstring). Errors:
    ``app.installation_not_found``, ``app.installation_busy``, ``app.file_write_failed``."""
    info = await _find(workspace, name_or_id)
    data_dir = info.data_dir
    async with installation_lock(data_dir, info.name, "disconnect"):
        if not keep_data:  # first: a store that cannot be reached changes nothing
            try:
                await trio.to_thread.run_sync(functools.partial(drop_store, info))
            except MaxError as exc:
                if ErrStoreUnreachable.matches(exc):
                    exc.data["hint"] = (
                        f"nothing was changed; once the server is reachable, try again — or "
                        f"max disconnect {info.name} --keep-data leaves its data on the server"
                    )
                raise
        await workspace.remove_installation(info.id)
        inside = _is_inside(data_dir, workspace.data_dir)
        removable = () if keep_data else (*_DATA_FILES, SYNC_LOCK_FILE_NAME)
        await trio.to_thread.run_sync(
            functools.partial(
                _remove_files,
                data_dir,
                (CREDENTIALS_FILE_NAME, *removable),
                whole=inside and not keep_data,
            )
        )
    return DisconnectResult(info, data_dir, data_removed=not keep_data)


async def update_installation(
    workspace: WorkspaceMax,
    name_or_id: str,
    *,
    config: Mapping[str, Any],
    credentials: Mapping[str, str],
    cwd: Path | None = None,
    validate: bool = True,
) -> UpdateResult:
    """Change config values and/or rotate credentials of an installation (see the module
    docstring). Errors: ``app.installation_not_found``, ``app.nothing_to_update``,
    ``app.unknown_config_key``, the onboarding's own errors (a bad value, a failed
    verification), ``app.installation_validation_failed``, ``app.installation_busy``."""
    from ._workspace import _validate

    info = await _find(workspace, name_or_id)
    if not config and not credentials:
        raise ErrNothingToUpdate(
            installation=info.name,
            hint="pass --config KEY=VALUE and/or --credential NAME=VALUE",
        )
    module = workspace.connector_module(info.connector)
    definition = module.definition
    fields = declared_config(definition)
    _check_keys("config key", config, [*fields, *(k for k in info.config if k not in fields)], info)
    _check_keys("credential", credentials, declared_credentials(definition), info)
    store = FileCredentialStore(info.data_dir / CREDENTIALS_FILE_NAME)
    async with installation_lock(info.data_dir, info.name, "update"):
        current = {name: await store.get(name) for name in await store.keys()}
        onboarded = await workspace.onboard(
            info.connector,
            answers=OnboardingAnswers(
                config={**info.config, **config}, credentials={**current, **credentials}
            ),
            cwd=cwd,
        )
        new_config = {**info.config, **onboarded.config}
        new_credentials = {**current, **onboarded.credentials}
        if validate:
            await _validate(module, info.name, new_config, new_credentials)
        for node in workspace.live_installations():
            if node.id == info.id:
                await node.aclose()
        changed = {k: v for k, v in new_credentials.items() if current.get(k) != v}
        if changed:
            await store.update(changed)
        spec = InstallationSpec(info.spec.connector, info.spec.name, new_config)
        updated = attrs.evolve(info, spec=spec)
        if new_config != info.config:
            await trio.to_thread.run_sync(workspace.registry.replace, updated)
    return UpdateResult(
        updated,
        tuple(k for k in new_config if info.config.get(k) != new_config[k]),
        tuple(sorted(changed)),
    )


async def _find(workspace: WorkspaceMax, name_or_id: str) -> InstallationInfo:
    info = await workspace.find_installation(name_or_id)
    if info is None:
        raise ErrInstallationNotFound(
            installation=name_or_id, hint="max ls lists the installations of this workspace"
        )
    return info


def _check_keys(
    kind: str, given: Iterable[str], declared: list[str], info: InstallationInfo
) -> None:
    for key in given:
        if key not in declared:
            raise ErrUnknownConfigKey(
                kind=kind,
                key=key[:200],
                connector=info.connector,
                declared=", ".join(declared) or "none",
                hint=f"these are the names max connect {info.connector} asks for",
            )


def _is_inside(path: Path, parent: Path) -> bool:
    try:
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(parent))
    except OSError:
        return False


def _remove_files(data_dir: Path, names: tuple[str, ...], *, whole: bool) -> None:
    """Delete ``data_dir`` entirely (``whole``) or just ``names`` in it; errors name the file."""
    try:
        if whole:
            shutil.rmtree(data_dir)
            return
        for name in names:
            try:
                (data_dir / name).unlink()
            except FileNotFoundError:
                continue
    except FileNotFoundError:
        return
    except OSError as exc:
        where = exc.filename or str(data_dir)
        raise ErrFileWriteFailed(path=str(where), reason=exc.strerror or str(exc)) from exc
