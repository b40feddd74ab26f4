"""The ``core`` boundary and the errors the core model raises."""

from __future__ import annotations

from ._errors import (
    BadInput,
    Boundary,
    HasEntityField,
    HasEntityType,
    InvariantViolated,
    NotFound,
    NotImplementedFacet,
    NotSupported,
)

Core = Boundary("core")

ErrInvalidRefKey = Core.define(
    "invalid_ref_key", facets=[BadInput], message="Invalid RefKey format: {key}"
)
ErrInvalidMaxUrl = Core.define(
    "invalid_max_url", facets=[BadInput], message='Invalid Max URL "{url}" \u2014 {reason}'
)
ErrNotImplemented = Core.define(
    "not_implemented", facets=[NotImplementedFacet], message="Not implemented"
)
ErrNotSupported = Core.define("not_supported", facets=[NotSupported], message="Not supported")
ErrFieldNotLoaded = Core.define(
    "field_not_loaded",
    facets=[HasEntityField],
    message="Field '{field}' not loaded on {entityType}",
)
ErrContextBuildFailed = Core.define(
    "context_build_failed", facets=[BadInput], message="Could not build the connector context"
)
ErrBatchKeyMissing = Core.define(
    "batch_key_missing", facets=[NotFound], message="Batch value missing for key: {key}"
)
ErrBatchEmptyDeriveKey = Core.define(
    "batch_empty_derive_key",
    facets=[InvariantViolated],
    message="Cannot derive a key from an empty batch",
)
ErrUnknownEntityType = Core.define(
    "unknown_entity_type", facets=[HasEntityType], message="Unknown entity type: {entityType}"
)
ErrRootNotInEntities = Core.define(
    "root_not_in_entities",
    facets=[BadInput],
    message='Root entity "{root}" is not in the entities list',
)
ErrReservedFieldPrefix = Core.define(
    "reserved_field_prefix",
    facets=[BadInput, HasEntityField],
    message=(
        "Field '{field}' on {entityType} uses the reserved prefix '_', "
        "which is kept for Max meta fields"
    ),
)
ErrInvalidEntityDef = Core.define(
    "invalid_entity_def",
    facets=[BadInput],
    message="Invalid entity definition {entityType}: {reason}",
)
ErrInvalidPageRequest = Core.define(
    "invalid_page_request", facets=[BadInput], message="Invalid page request: {reason}"
)
ErrUnresolvedRefTarget = Core.define(
    "unresolved_ref_target",
    facets=[BadInput, HasEntityField],
    message="Ref field '{field}' on {entityType} points at unknown entity type {target}",
)
ErrCircularDependency = Core.define(
    "circular_dependency",
    facets=[InvariantViolated],
    message=lambda data: "Circular dependency: " + " \u2192 ".join(map(str, data.get("chain", ()))),
)
