"""maxtrio.federation — the three tiers of Max: global, workspace, installation (spec §10–§13).

============================  ====================================================================
``MaxHome``                   ``$MAX_HOME`` or ``~/.max``: ``workspaces.json``, ``collections/``
``GlobalMax``                 the machine: workspace registry, connectors, ``create_workspace``,
                              ``resolve(url)``, cwd context and ``-t`` conversion
``WorkspaceMax``              a project: ``max.json``, connectors, onboarding, installations
``InstallationMax``           one connector + one ``data.db``: schema, engine, ``sync()``, health
registries / provisioners     ``workspaces.json`` and ``max.json`` (atomic, flock-ed), ``.max/``
``InProcessDeployer``         hosts live nodes as tasks of one nursery
RPC                           envelope, messages, dispatchers and client proxies between tiers
============================  ====================================================================

See ``docs/federation.md``.
"""

from ._deployer import IN_PROCESS_LOCATOR, InProcessDeployer
from ._errors import (
    App,
    ErrCannotInitialiseProject,
    ErrDeployerNotAvailable,
    ErrFileInvalid,
    ErrInstallationAlreadyExists,
    ErrInstallationHandleNotFound,
    ErrInstallationNotFound,
    ErrInstallationNotResolved,
    ErrInstallationUnavailable,
    ErrInstallationValidationFailed,
    ErrInvalidInstallationName,
    ErrInvalidRpcMessage,
    ErrInvariant,
    ErrNodeNotFound,
    ErrRegistryEntryAlreadyExists,
    ErrRegistryEntryNotFound,
    ErrRemoteUrlNotSupported,
    ErrSyncHandleNotFound,
    ErrTransportClosed,
    ErrUnknownMethod,
    ErrUnknownTarget,
    ErrWorkspaceAlreadyExists,
    ErrWorkspaceDirectoryMissing,
    ErrWorkspaceHandleNotFound,
    ErrWorkspaceNotResolved,
    Registry,
    Rpc,
)
from ._global import GlobalMax
from ._home import MAX_HOME_ENV, MaxHome
from ._installation import InstallationMax
from ._installation_registry import (
    FileInstallationRegistry,
    InMemoryInstallationRegistry,
    InstallationRegistry,
)
from ._provision import WorkspaceProvisioning, provision_installation, provision_workspace
from ._records import (
    DeploymentConfig,
    InstallationInfo,
    InstallationSpec,
    NodeHealth,
    ResolvedTarget,
    SyncSummary,
    WorkspaceInfo,
    WorkspaceSpec,
)
from ._resolve import cwd_context, find_project_root, target_url
from ._workspace import OnboardingResult, WorkspaceMax
from ._workspace_registry import (
    FileWorkspaceRegistry,
    InMemoryWorkspaceRegistry,
    WorkspaceRegistry,
)

__all__ = [
    "IN_PROCESS_LOCATOR",
    "MAX_HOME_ENV",
    "App",
    "DeploymentConfig",
    "ErrCannotInitialiseProject",
    "ErrDeployerNotAvailable",
    "ErrFileInvalid",
    "ErrInstallationAlreadyExists",
    "ErrInstallationHandleNotFound",
    "ErrInstallationNotFound",
    "ErrInstallationNotResolved",
    "ErrInstallationUnavailable",
    "ErrInstallationValidationFailed",
    "ErrInvalidInstallationName",
    "ErrInvalidRpcMessage",
    "ErrInvariant",
    "ErrNodeNotFound",
    "ErrRegistryEntryAlreadyExists",
    "ErrRegistryEntryNotFound",
    "ErrRemoteUrlNotSupported",
    "ErrSyncHandleNotFound",
    "ErrTransportClosed",
    "ErrUnknownMethod",
    "ErrUnknownTarget",
    "ErrWorkspaceAlreadyExists",
    "ErrWorkspaceDirectoryMissing",
    "ErrWorkspaceHandleNotFound",
    "ErrWorkspaceNotResolved",
    "FileInstallationRegistry",
    "FileWorkspaceRegistry",
    "GlobalMax",
    "InMemoryInstallationRegistry",
    "InMemoryWorkspaceRegistry",
    "InProcessDeployer",
    "InstallationInfo",
    "InstallationMax",
    "InstallationRegistry",
    "InstallationSpec",
    "MaxHome",
    "NodeHealth",
    "OnboardingResult",
    "Registry",
    "ResolvedTarget",
    "Rpc",
    "SyncSummary",
    "WorkspaceInfo",
    "WorkspaceMax",
    "WorkspaceProvisioning",
    "WorkspaceRegistry",
    "WorkspaceSpec",
    "cwd_context",
    "find_project_root",
    "provision_installation",
    "provision_workspace",
    "target_url",
]
