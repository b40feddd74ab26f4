"""``WorkspaceMax``: a project — its installations and connectors.

A workspace is a directory with ``max.json`` and ``.max/``. Its installations are recorded in
``max.json`` (re-read on every call) and opened lazily: :meth:`WorkspaceMax.installation`
opens each id once (under a lock) in the in-process deployer and reuses it afterwards;
:meth:`WorkspaceMax.reading` opens one just to read it, for a block (``_installation_reader``).

Creating an installation (:meth:`create_installation`) checks the name, initialises the
connector with the given config and credentials *in memory*, starts it and asks its
``health()`` — only when that passes does anything reach the disk (data dir, 0600
``credentials.json``, the ``max.json`` entry). A failed validation writes nothing.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from maxtrio.connector import HealthStatus
from maxtrio.core import MaxError, MaxUrl

from ._deployer import InProcessDeployer, close_deployer
from ._errors import (
    ErrDeployerNotAvailable,
    ErrFileWriteFailed,
    ErrInstallationAlreadyExists,
    ErrInstallationNotFound,
    ErrInstallationUnavailable,
    ErrInstallationValidationFailed,
    ErrRegistryEntryAlreadyExists,
)
from ._files import dumps, write_text_atomic
from ._health import DIRECTORY_MISSING, aggregate_health
from ._installation_registry import FileInstallationRegistry, InstallationRegistry
from ._names import check_installation_name, derive_installation_name
from ._provision import CONFIG_FILE_NAME, DATA_DIR_NAME, provision_installation
from ._records import (
    IN_PROCESS_LOCATOR,
    DeploymentConfig,
    InstallationInfo,
    InstallationSpec,
    WorkspaceInfo,
    WorkspaceSpec,
    is_remote,
    now_iso,
)
from ._resolve import INSTALLATIONS_DIR_NAME
from ._store_choice import DATA_FILE_NAME

if TYPE_CHECKING:
    from maxtrio.connector import (
        ConnectorEntry,
        ConnectorModule,
        ConnectorRegistry,
        OnboardingAnswers,
        OnboardingFlow,
        Prompter,
    )
    from maxtrio.core import Schema
    from maxtrio.execution import RetryPolicy
    from maxtrio.sql import SyncReport

    from ._installation import InstallationMax
    from ._installation_reader import InstallationReader
    from ._status import NodeHealth


@attrs.frozen(repr=False)
class OnboardingResult:
    """What :meth:`WorkspaceMax.onboard` collected: the config and (secret) credentials."""

    connector: str
    config: dict[str, Any]
    credentials: dict[str, str]

    def __repr__(self) -> str:
        config = f"config={self.config!r}"
        return f"OnboardingResult({self.connector!r}, {config}, credentials=<redacted>)"


class WorkspaceMax:
    """A live workspace. Get one from :meth:`GlobalMax.workspace` (or ``resolve``), or open
    one on its own with :meth:`WorkspaceMax.open`."""

    def __init__(
        self,
        info: WorkspaceInfo,
        *,
        connectors: Callable[[], ConnectorRegistry],
        deployer: InProcessDeployer,
        registry: InstallationRegistry | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.info = info
        self.registry: InstallationRegistry = (
            registry if registry is not None else FileInstallationRegistry(info.root)
        )
        self._connectors = connectors
        self._deployer = deployer
        self._retry = retry
        self._live: dict[str, InstallationMax] = {}
        self._opening: dict[str, trio.Lock] = {}

    def __repr__(self) -> str:
        return f"<WorkspaceMax {self.url} at {self.root}>"

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        root: str | os.PathLike[str],
        *,
        connectors: ConnectorRegistry | None = None,
        registry: InstallationRegistry | None = None,
        retry: RetryPolicy | None = None,
    ) -> AsyncIterator[WorkspaceMax]:
        """A workspace on its own (no global registry): ``root`` must hold ``max.json``.

        The block owns the nursery its installations live in.
        """
        from maxtrio.connector import ConnectorRegistry

        path = Path(await trio.Path(root).absolute())
        info = WorkspaceInfo(
            id=path.name,
            name=path.name,
            connected_at=now_iso(),
            config=DeploymentConfig.in_process(path / DATA_DIR_NAME),
            spec=WorkspaceSpec(path.name),
        )
        registry_of_connectors = connectors

        def connector_registry() -> ConnectorRegistry:
            nonlocal registry_of_connectors
            if registry_of_connectors is None:
                registry_of_connectors = ConnectorRegistry.discover()
            return registry_of_connectors

        async with trio.open_nursery() as nursery:
            deployer = InProcessDeployer(nursery)
            try:
                yield cls(
                    info,
                    connectors=connector_registry,
                    deployer=deployer,
                    registry=registry,
                    retry=retry,
                )
            finally:
                await close_deployer(deployer, nursery)

    # -- identity ----------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def root(self) -> Path:
        """The project directory (holds ``max.json``)."""
        return self.info.root

    @property
    def data_dir(self) -> Path:
        """``<root>/.max``."""
        return self.info.data_dir

    @property
    def url(self) -> MaxUrl:
        return MaxUrl.for_workspace(self.info.name)

    # -- connectors --------------------------------------------------------------------------

    def connectors(self) -> ConnectorRegistry:
        """The connector registry this workspace uses (entry points + collections)."""
        return self._connectors()

    def connector_entry(self, connector: str) -> ConnectorEntry:
        """The registry entry (unknown → ``connector.connector_not_found``)."""
        return self._connectors().entry(connector)

    def connector_module(self, connector: str) -> ConnectorModule:
        """The loaded connector (``app.connector_not_installed`` when its import fails)."""
        return self._connectors().resolve(connector)

    def connector_schema(self, connector: str) -> Schema:
        """The connector's schema (loads it; ``app.connector_not_installed`` on import error)."""
        return self.connector_module(connector).schema

    def connector_onboarding(self, connector: str) -> OnboardingFlow:
        return self.connector_module(connector).definition.onboarding

    async def onboard(
        self,
        connector: str,
        *,
        prompter: Prompter | None = None,
        answers: OnboardingAnswers | None = None,
        cwd: Path | None = None,
    ) -> OnboardingResult:
        """Run the connector's onboarding flow with an in-memory credential store.

        ``prompter`` None means non-interactive: every missing answer is an error listing
        what is still needed. ``cwd``: the caller's directory (relative paths resolve there).
        Nothing is written.
        """
        from maxtrio.connector import InMemoryCredentialStore, run_onboarding

        module = self.connector_module(connector)
        store = InMemoryCredentialStore()
        config = await run_onboarding(
            module.definition.onboarding,
            credential_store=store,
            prompter=prompter,
            answers=answers,
            cwd=cwd,
        )
        return OnboardingResult(module.name, config, store.to_dict())

    # -- installations -----------------------------------------------------------------------

    async def list_installations(self) -> list[InstallationInfo]:
        """Every installation of ``max.json``, sorted by name."""
        return await trio.to_thread.run_sync(self.registry.list)

    async def find_installation(self, name_or_id: str) -> InstallationInfo | None:
        """Names first, then ids."""
        return await trio.to_thread.run_sync(self.registry.find, name_or_id)

    async def installation(self, name_or_id: str) -> InstallationMax:
        """The live installation (opened on first use, once per id). Unknown →
        ``app.installation_not_found``; one that cannot start →
        ``app.installation_unavailable``."""
        from ._installation import InstallationMax

        info = await self.find_installation(name_or_id)
        if info is None:
            raise ErrInstallationNotFound(installation=name_or_id)
        lock = self._opening.setdefault(info.id, trio.Lock())
        async with lock:
            live = self._live.get(info.id)
            if live is not None:
                await live.check_credentials()  # as opening would (it may have changed since)
                return live
            self._check_deployable(info)
            module = self.connector_module(info.connector)
            node = await self._deployer.deploy(
                lambda: InstallationMax.open(
                    info, module, workspace_name=self.name, retry=self._retry
                ),
                label=f"installation {self.name}/{info.name}",
            )
            node._closer = functools.partial(self._close_installation, info.id)
            self._live[info.id] = node
            return node

    @asynccontextmanager
    async def reading(self, name_or_id: str) -> AsyncIterator[InstallationReader]:
        """The installation, to read what it stored during the block: the live node when it is
        open, else an :class:`InstallationReader` (store and connector, no sync setup nor
        executor), hosted by the deployer like a live node but closed when the block ends and
        never kept as the live one. Errors as :meth:`installation`'s. For a process that runs
        one command (direct mode); the daemon keeps its nodes open with :meth:`installation`."""
        from ._installation_reader import InstallationReader

        info = await self.find_installation(name_or_id)
        if info is None:
            raise ErrInstallationNotFound(installation=name_or_id)
        async with self._opening.setdefault(info.id, trio.Lock()):
            live = self._live.get(info.id)
            if live is not None:
                await live.check_credentials()  # as opening would (it may have changed since)
                reader: InstallationReader | None = None
            else:
                self._check_deployable(info)
                module = self.connector_module(info.connector)
                reader = await self._deployer.deploy(
                    lambda: InstallationReader.open(info, module, workspace_name=self.name),
                    label=f"installation {self.name}/{info.name} (reading)",
                )
        if reader is None:
            assert live is not None
            yield live
            return
        try:
            yield reader
        finally:
            with trio.CancelScope(shield=True):
                await self._deployer.stop(reader)

    def _check_deployable(self, info: InstallationInfo) -> None:
        """A remote installation, or one of another deployer, is not opened here."""
        if is_remote(info):
            from ._remote_deployer import ErrRemoteInstallationElsewhere

            url = info.deployment.extra.get("url")
            raise ErrRemoteInstallationElsewhere(
                name=info.name,
                url=url,
                hint=f"run it through max, which forwards it: max -t {url} …",
            )
        if info.deployment.strategy != self._deployer.kind:
            raise ErrDeployerNotAvailable(platform="maxtrio", deployerKind=info.deployment.strategy)

    def live_installations(self) -> list[InstallationMax]:
        """The installations open now."""
        return list(self._live.values())

    async def _close_installation(self, installation_id: str) -> None:
        node = self._live.pop(installation_id, None)
        if node is not None:
            await self._deployer.stop(node)

    async def derive_installation_name(self, connector: str) -> str:
        """``<base>-1``, ``<base>-2``… the first free (base = ``x`` of ``@scope/connector-x``,
        else the connector's name)."""
        taken = {i.name for i in await self.list_installations()}
        return derive_installation_name(connector, taken)

    async def check_installation_name(self, connector: str, name: str) -> None:
        """Raise ``app.invalid_installation_name`` or ``app.installation_already_exists``
        when ``name`` cannot be used (call before prompting)."""
        check_installation_name(name)
        existing = next((i for i in await self.list_installations() if i.name == name), None)
        if existing is not None:
            raise ErrInstallationAlreadyExists(connector=existing.connector, name=name)

    async def create_installation(
        self,
        connector: str,
        *,
        name: str | None = None,
        config: Mapping[str, Any],
        credentials: Mapping[str, str],
        validate: bool = True,
        store: str | None = None,
    ) -> InstallationInfo:
        """Validate, then persist a new installation (see the module docstring). ``store``: a
        PostgreSQL URL to keep its data in (``_store_choice``), reached once before anything
        is written (``storage.store_unreachable``).

        Errors: ``connector.connector_not_found``, ``app.connector_not_installed``,
        ``app.invalid_installation_name``, ``app.installation_already_exists``,
        ``app.installation_validation_failed`` (the connector rejected the config or its
        health check failed) — in every case nothing is written.
        """
        from ._installation import CREDENTIALS_FILE_NAME
        from ._store_choice import probe_store, store_url_label, write_store_url

        module = self.connector_module(connector)
        canonical = module.name
        if name is None:
            name = await self.derive_installation_name(connector)
        await self.check_installation_name(canonical, name)
        config = dict(config)
        credentials = dict(credentials)
        label = store_url_label(store) if store is not None else None
        if validate:
            await _validate(module, name, config, credentials)
        if store is not None:
            await trio.to_thread.run_sync(probe_store, store)
        data_dir = self.data_dir / INSTALLATIONS_DIR_NAME / name
        info = InstallationInfo(
            id=str(uuid.uuid4()),
            connector=canonical,
            name=name,
            connected_at=now_iso(),
            deployment=DeploymentConfig.in_process(data_dir, label),
            locator=IN_PROCESS_LOCATOR,
            spec=InstallationSpec(canonical, name, config),
        )

        created: list[Path] = []

        def write_files() -> None:  # under the max.json lock, after the name check
            if not data_dir.exists():
                created.append(data_dir)
            try:
                provision_installation(data_dir)
            except OSError as exc:
                raise ErrFileWriteFailed(
                    path=str(data_dir), reason=exc.strerror or str(exc)
                ) from exc
            if credentials:
                text = dumps(credentials, trailing_newline=False)
                write_text_atomic(data_dir / CREDENTIALS_FILE_NAME, text, private=True)
            if store is not None:
                write_store_url(data_dir, store)

        try:
            await trio.to_thread.run_sync(
                functools.partial(self.registry.add, info, prepare=write_files)
            )
        except BaseException as exc:
            for directory in created:
                shutil.rmtree(directory, ignore_errors=True)
            if ErrRegistryEntryAlreadyExists.matches(exc):
                raise ErrInstallationAlreadyExists(connector=canonical, name=name) from None
            raise
        return info

    async def remove_installation(
        self, name_or_id: str, *, purge: bool = False
    ) -> InstallationInfo:
        """Stop it, remove its ``max.json`` entry and, with ``purge``, its data directory."""
        info = await self.find_installation(name_or_id)
        if info is None:
            raise ErrInstallationNotFound(installation=name_or_id)
        await self._close_installation(info.id)
        removed = await trio.to_thread.run_sync(self.registry.remove, info.id)
        if purge and info.deployment.data_dir is not None:
            await trio.to_thread.run_sync(
                functools.partial(shutil.rmtree, info.data_dir, ignore_errors=True)
            )
        return removed

    async def last_sync(self, name_or_id: str) -> SyncReport | None:
        """The installation's latest sync as its store records it, or None. An installation
        on its ``data.db`` that is not open is read from the file, read-only, without opening
        it — unless that sync is recorded as ``running``: then the installation is opened,
        which first records a sync whose process died as ``interrupted``."""
        from maxtrio.sql import read_sync_report

        info = await self.find_installation(name_or_id)
        if info is None:
            raise ErrInstallationNotFound(installation=name_or_id)
        if info.id not in self._live and info.deployment.store is None and not is_remote(info):
            path = info.data_dir / DATA_FILE_NAME
            schema = self.connector_schema(info.connector)
            report = await trio.to_thread.run_sync(read_sync_report, path, schema, None)
            if report is None or report.status != "running":
                return report
        node = await self.installation(info.id)
        return await node.sync_report(None)

    # -- health ------------------------------------------------------------------------------

    async def installation_health(self) -> list[NodeHealth]:
        """Each installation with its health, checked concurrently (opened if needed; an
        installation that cannot open is ``unhealthy`` with the reason)."""
        from ._status import NodeHealth

        infos = await self.list_installations()
        results: list[HealthStatus | None] = [None] * len(infos)

        async def check(index: int, info: InstallationInfo) -> None:
            if is_remote(info):  # asked over the network, never opened here
                from ._remote_deployer import RemoteNode

                results[index] = await RemoteNode.of(info).health()
                return
            try:
                live = self._live.get(info.id)
                if live is not None:
                    await live.check_credentials()
                    results[index] = await live.health()
                else:  # asked without opening it: no store, no executor
                    results[index] = await self._probe_health(info)
            except MaxError as err:
                results[index] = HealthStatus.unhealthy(_reason(err))

        async with trio.open_nursery() as nursery:
            for index, info in enumerate(infos):
                nursery.start_soon(check, index, info)
        return [
            NodeHealth(
                info.id,
                info.name,
                self.url.child(info.name),
                status or HealthStatus.unhealthy("unreachable"),
                info.connector,
            )
            for info, status in zip(infos, results, strict=True)
        ]

    async def _probe_health(self, info: InstallationInfo) -> HealthStatus:
        from ._installation import InstallationMax

        self._check_deployable(info)
        return await InstallationMax.probe_health(info, self.connector_module(info.connector))

    async def health(self, *, deep: bool = False) -> HealthStatus:
        """Aggregate: none or all healthy → healthy; all unhealthy → unhealthy; else
        degraded (``<n> installation(s) checked``). By default only the installations open
        now are asked (as the reference) and the remote ones (asked over the network, see
        ``_remote_deployer``); ``deep`` opens and asks every one. A missing root
        → ``unhealthy (directory missing)``."""
        if not (self.root / CONFIG_FILE_NAME).exists():
            return HealthStatus.unhealthy(DIRECTORY_MISSING)
        if deep:
            statuses = [h.health for h in await self.installation_health()]
        else:
            statuses = [await node.health() for node in self.live_installations()]
            statuses += await self._remote_health()
        return aggregate_health(statuses, "installation")

    async def _remote_health(self) -> list[HealthStatus]:
        """The health of the remote installations (never open here: always asked)."""
        remote = [info for info in await self.list_installations() if is_remote(info)]
        if not remote:
            return []
        from ._remote_deployer import RemoteNode

        results: list[HealthStatus] = [HealthStatus.unhealthy("unreachable")] * len(remote)

        async def ask(index: int, info: InstallationInfo) -> None:
            results[index] = await RemoteNode.of(info).health()

        async with trio.open_nursery() as nursery:
            for index, info in enumerate(remote):
                nursery.start_soon(ask, index, info)
        return results


def _reason(err: MaxError) -> str:
    """The connector's own words when an installation could not start."""
    if ErrInstallationUnavailable.matches(err) and err.cause is not None:
        return err.cause.message
    return err.message


async def _validate(
    module: ConnectorModule, name: str, config: Mapping[str, Any], credentials: Mapping[str, str]
) -> None:
    """Initialise and start the connector in memory and ask its health; raise on failure."""
    from maxtrio.connector import HealthState, InMemoryCredentialStore, Platform

    def failed(reason: str, cause: object = None) -> MaxError:
        return ErrInstallationValidationFailed(
            connector=module.name, name=name, reason=reason, cause=cause
        )

    platform = Platform.for_connector(module, InMemoryCredentialStore(credentials))
    try:
        installation = module.initialise(config, platform)
        async with installation.running():
            status = await installation.health()
    except Exception as exc:
        reason = exc.message if isinstance(exc, MaxError) else str(exc) or type(exc).__name__
        raise failed(reason, exc) from exc
    if status.state is HealthState.UNHEALTHY:
        raise failed(status.reason or "the connector reports it is unhealthy")
