"""``WorkspaceMax``: a project — its installations and connectors (§11.2).

A workspace is a directory with ``max.json`` and ``.max/``. Its installations are recorded in
``max.json`` (re-read on every call) and opened lazily: :meth:`WorkspaceMax.installation`
opens each id once (under a lock) in the in-process deployer and reuses it afterwards.

Creating an installation (:meth:`create_installation`) checks the name, initialises the
connector with the given config and credentials *in memory*, starts it and asks its
``health()`` — only when that passes does anything reach the disk (data dir, 0600
``credentials.json``, the ``max.json`` entry). A failed validation writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from maxtrio.connector import (
    ConnectorEntry,
    ConnectorRegistry,
    HealthStatus,
    OnboardingAnswers,
    OnboardingFlow,
    Prompter,
)
from maxtrio.core import MaxUrl, Schema

from ._installation import InstallationMax
from ._records import InstallationInfo, NodeHealth, WorkspaceInfo


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
    """A live workspace. Get one from :meth:`GlobalMax.workspace` or ``resolve``."""

    info: WorkspaceInfo

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
        raise NotImplementedError

    def connector_entry(self, connector: str) -> ConnectorEntry:
        """The registry entry (unknown → ``connector.connector_not_found``)."""
        raise NotImplementedError

    def connector_schema(self, connector: str) -> Schema:
        """The connector's schema (loads it; ``app.connector_not_installed`` on import error)."""
        raise NotImplementedError

    def connector_onboarding(self, connector: str) -> OnboardingFlow:
        raise NotImplementedError

    async def onboard(
        self,
        connector: str,
        *,
        prompter: Prompter | None = None,
        answers: OnboardingAnswers | None = None,
    ) -> OnboardingResult:
        """Run the connector's onboarding flow with an in-memory credential store.

        ``prompter`` None means non-interactive: every missing answer is an error listing
        what is still needed. Nothing is written.
        """
        raise NotImplementedError

    # -- installations -----------------------------------------------------------------------

    async def list_installations(self) -> list[InstallationInfo]:
        """Every installation of ``max.json``, sorted by name."""
        raise NotImplementedError

    async def find_installation(self, name_or_id: str) -> InstallationInfo | None:
        """Names first, then ids."""
        raise NotImplementedError

    async def installation(self, name_or_id: str) -> InstallationMax:
        """The live installation (opened on first use, once per id). Unknown →
        ``app.installation_not_found``."""
        raise NotImplementedError

    async def derive_installation_name(self, connector: str) -> str:
        """``<base>-1``, ``<base>-2``… the first free (base = ``x`` of ``@scope/connector-x``,
        else the connector's canonical name)."""
        raise NotImplementedError

    async def check_installation_name(self, connector: str, name: str) -> None:
        """Raise ``app.invalid_installation_name`` or ``app.installation_already_exists``
        when ``name`` cannot be used (call before prompting)."""
        raise NotImplementedError

    async def create_installation(
        self,
        connector: str,
        *,
        name: str | None = None,
        config: Mapping[str, Any],
        credentials: Mapping[str, str],
        validate: bool = True,
    ) -> InstallationInfo:
        """Validate, then persist a new installation (see the module docstring).

        Errors: ``connector.connector_not_found``, ``app.invalid_installation_name``,
        ``app.installation_already_exists``, ``app.installation_validation_failed`` (the
        connector rejected the config, or its health check failed) — nothing written.
        """
        raise NotImplementedError

    async def remove_installation(
        self, name_or_id: str, *, purge: bool = False
    ) -> InstallationInfo:
        """Stop it, remove its ``max.json`` entry and, with ``purge``, its data directory."""
        raise NotImplementedError

    # -- health ------------------------------------------------------------------------------

    async def installation_health(self) -> list[NodeHealth]:
        """Each installation with its health (opened if needed; errors → ``unhealthy``)."""
        raise NotImplementedError

    async def health(self) -> HealthStatus:
        """Aggregate: none or all healthy → healthy; all unhealthy → unhealthy; else
        degraded (``<n> installation(s) checked``). A missing root → unhealthy
        (``directory missing``)."""
        raise NotImplementedError
