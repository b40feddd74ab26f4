"""The errors of the federation layer: domains ``app``, ``registry``, ``rpc``.

Codes and messages are the reference's where it has them (they cross the RPC wire and the JSON
error form). Errors a person can act on carry a one-line ``hint`` in ``data["hint"]``, which the
CLI prints under the message.
"""

from __future__ import annotations

from maxtrio.core import (
    BadInput,
    Boundary,
    HasConnector,
    InvariantViolated,
    NotAvailable,
    NotFound,
    NotSupported,
    define_error,
)

App = Boundary("app")
Registry = Boundary("registry")
Rpc = Boundary("rpc")

# -- nodes and targeting ----------------------------------------------------------------------

ErrWorkspaceHandleNotFound = App.define(
    "workspace_handle_not_found", facets=[NotFound], message='Unknown workspace "{workspace}"'
)
ErrInstallationHandleNotFound = App.define(
    "installation_handle_not_found",
    facets=[NotFound],
    message="Unknown installation {installation}",
)
ErrInstallationNotFound = App.define(
    "installation_not_found", facets=[NotFound], message="Installation not found: {installation}"
)
ErrInstallationAlreadyExists = App.define(
    "installation_already_exists",
    facets=[BadInput, HasConnector],
    message='Installation "{connector}:{name}" already exists',
)
ErrInvalidInstallationName = App.define(
    "invalid_installation_name",
    facets=[BadInput],
    message='Invalid installation name "{name}" — {reason}',
)
ErrInstallationValidationFailed = App.define(
    "installation_validation_failed",
    facets=[BadInput, HasConnector],
    message='Cannot connect {connector} as "{name}" — {reason}',
)
ErrInstallationUnavailable = App.define(
    "installation_unavailable",
    facets=[NotAvailable],
    message='Installation "{installation}" could not be started — {reason}',
)
# lifecycle and the per-installation lock (``_sync_lock``, ``_lifecycle``)
ErrSyncAlreadyRunning = App.define(
    "sync_already_running",
    facets=[NotAvailable],
    message="a sync of {installation} is already running: {syncId}",
)
ErrInstallationBusy = App.define(
    "installation_busy",
    facets=[NotAvailable],
    message="Cannot {operation} {installation} now — {holder}",
)
ErrUnknownConfigKey = App.define(
    "unknown_config_key",
    facets=[BadInput, HasConnector],
    message='Unknown {kind} "{key}" for {connector} — it declares: {declared}',
)
ErrNothingToUpdate = App.define(
    "nothing_to_update",
    facets=[BadInput],
    message="Nothing to update for {installation}",
)
ErrInvariant = App.define(
    "invariant", facets=[InvariantViolated], message="Invariant violation: {detail}"
)
ErrRemoteUrlNotSupported = App.define(
    "remote_url_not_supported",
    facets=[NotSupported],
    message="Remote Max URLs are not yet supported: {url}",
)
ErrWorkspaceNotResolved = App.define(
    "workspace_not_resolved", facets=[NotFound], message='Workspace "{segment}" not found — {url}'
)
ErrInstallationNotResolved = App.define(
    "installation_not_resolved",
    facets=[NotFound],
    message='Installation "{segment}" not found in workspace "{workspace}" — {url}',
)
ErrWorkspaceAlreadyExists = App.define(
    "workspace_already_exists",
    facets=[BadInput],
    message='A workspace named "{name}" is already registered at {existing}; not registering '
    "{requested}",
)
ErrWorkspaceDirectoryMissing = App.define(
    "workspace_directory_missing",
    facets=[NotFound],
    message='The directory of workspace "{workspace}" is missing: {root}',
)
ErrDeployerNotAvailable = App.define(
    "deployer_not_available",
    facets=[NotAvailable],
    message='Platform "{platform}" does not support deployer "{deployerKind}".',
)
ErrFileInvalid = App.define(
    "file_invalid", facets=[BadInput], message="Invalid file {path} — {problem}"
)
ErrFileWriteFailed = App.define(
    "file_write_failed", facets=[NotAvailable], message="Cannot write {path} — {reason}"
)
ErrCannotInitialiseProject = define_error(
    "bun-platform.cannot_initialise_project",
    facets=[BadInput],
    message="Cannot initialise Max project",
)

# -- registries --------------------------------------------------------------------------------

ErrRegistryEntryNotFound = Registry.define(
    "entry_not_found", facets=[NotFound], message='{registry} registry entry not found: "{id}"'
)
ErrRegistryEntryAlreadyExists = Registry.define(
    "entry_already_exists", facets=[BadInput], message='Registry entry "{name}" already exists'
)

# -- rpc ---------------------------------------------------------------------------------------

ErrUnknownTarget = Rpc.define(
    "unknown_target", facets=[BadInput], message='Unknown RPC target "{target}"'
)
ErrUnknownMethod = Rpc.define(
    "unknown_method", facets=[BadInput], message='Unknown method "{method}" on target "{target}"'
)
ErrSyncHandleNotFound = Rpc.define(
    "sync_handle_not_found", facets=[NotFound], message='No sync handle with id "{syncId}"'
)
ErrNodeNotFound = Rpc.define("node_not_found", facets=[NotFound], message='Node not found: "{id}"')
ErrInvalidRpcMessage = Rpc.define(
    "invalid_message", facets=[BadInput], message="Invalid RPC {what}: {reason}"
)
ErrTransportClosed = Rpc.define(
    "transport_closed",
    facets=[NotAvailable],
    message="Connection closed with pending request {id}",
)
