"""The ``connector`` boundary: errors of the connector SDK.

Codes and messages follow the reference. ``app.connector_not_installed`` keeps its reference
code (the federation layer owns the ``app`` domain, but the registry is what raises it).
Credential values never appear in any message or data.
"""

from __future__ import annotations

from maxtrio.core import (
    BadInput,
    Boundary,
    HasConnector,
    InvariantViolated,
    NotFound,
    NotSupported,
    define_error,
)

ConnectorBoundary = Boundary("connector")

ErrCredentialNotFound = ConnectorBoundary.define(
    "credential_not_found", facets=[NotFound], message='Credential "{credential}" not found'
)
ErrCredentialsFileInvalid = ConnectorBoundary.define(
    "credentials_file_invalid",
    facets=[BadInput],
    message="Credentials file {path} is not usable: {reason}",
)
ErrCredentialsFileExposed = ConnectorBoundary.define(
    "credentials_file_exposed",
    facets=[BadInput],
    message="credentials file {path} is {access} by others",
)
ErrInvalidCredentialValue = ConnectorBoundary.define(
    "invalid_credential_value",
    facets=[BadInput],
    message='Credential "{credential}" must be a non-empty string',
)
ErrOAuthNotRegistered = ConnectorBoundary.define(
    "oauth_not_registered",
    facets=[BadInput],
    message='No OAuth credential registered for access token "{accessToken}"',
)
ErrUnknownCredentialRef = ConnectorBoundary.define(
    "unknown_credential_ref",
    facets=[InvariantViolated],
    message="Unknown credential ref kind: {kind}",
)
ErrOAuthRefreshFailed = ConnectorBoundary.define(
    "oauth_refresh_failed",
    message='Refreshing the OAuth access token "{accessToken}" failed',
)
ErrConnectorNotFound = ConnectorBoundary.define(
    "connector_not_found",
    facets=[NotFound, HasConnector],
    message='Connector "{connector}" not found in registry',
)
ErrConnectorAlreadyRegistered = ConnectorBoundary.define(
    "connector_already_registered",
    facets=[BadInput, HasConnector],
    message='Connector "{connector}" is already registered',
)
ErrConnectorPackageInvalid = ConnectorBoundary.define(
    "connector_package_invalid", message="Invalid connector package at {location}: {reason}"
)
ErrConnectorModuleInvalid = ConnectorBoundary.define(
    "connector_module_invalid",
    facets=[HasConnector],
    message='Connector "{connector}" at {location} is not a valid connector module: {reason}',
)
ErrConnectorNotInstalled = define_error(
    "app.connector_not_installed",
    facets=[NotFound, HasConnector],
    message="Connector: {connector} could not be loaded",
)
ErrInvalidConnectorDef = ConnectorBoundary.define(
    "invalid_connector_def",
    facets=[BadInput],
    message="Invalid connector definition {connector!r}: {reason}",
)
ErrInvalidOnboardingStep = ConnectorBoundary.define(
    "invalid_onboarding_step",
    facets=[BadInput],
    message="Invalid onboarding step {step!r}: {reason}",
)
ErrOnboardingInputInvalid = ConnectorBoundary.define(
    "onboarding_input_invalid",
    facets=[BadInput],
    message="{label} ({key}): {reason}",
)
ErrOnboardingInputMissing = ConnectorBoundary.define(
    "onboarding_input_missing",
    facets=[BadInput],
    message="{step} needs input that was not given: {missing}",
)
ErrInvalidSelection = ConnectorBoundary.define(
    "invalid_selection",
    facets=[BadInput],
    message="Invalid selection for {step}: {answer} (choose one of: {choices})",
)
ErrOnboardingValidationFailed = ConnectorBoundary.define(
    "onboarding_validation_failed", facets=[BadInput], message="{step} — {reason}"
)
ErrInputRequired = ConnectorBoundary.define(
    "input_required",
    facets=[BadInput, NotSupported],
    message="Input required but not available (non-interactive): {prompt}",
)
ErrOnboardingStepFailed = ConnectorBoundary.define(
    "onboarding_step_failed", facets=[BadInput], message="{step} — {reason}"
)
ErrInvalidConnectorName = ConnectorBoundary.define(
    "invalid_connector_name",
    facets=[BadInput],
    message="Invalid connector name {name!r}: {reason}",
)
ErrScaffoldTargetExists = ConnectorBoundary.define(
    "scaffold_target_exists",
    facets=[BadInput],
    message="{path} already exists and is not empty",
)
