"""The ``storage`` boundary and its errors."""

from __future__ import annotations

from maxtrio.core import (
    BadInput,
    Boundary,
    HasEntityField,
    HasEntityRef,
    InvariantViolated,
    NotFound,
    NotImplementedFacet,
    printable,
    quote_input,
)

Storage = Boundary("storage")

ErrEntityNotFound = Storage.define(
    "entity_not_found",
    facets=[NotFound, HasEntityRef],
    message="{entityType} not found: {entityId}",
)
ErrEntityNotRegistered = Storage.define(
    "entity_not_registered",
    facets=[InvariantViolated],
    message="Entity '{entityType}' not registered in schema",
)
ErrFieldNotFound = Storage.define(
    "field_not_found",
    facets=[NotFound, HasEntityField],
    message="Field '{field}' not found on {entityType}",
)
ErrCollectionNotSupported = Storage.define(
    "collection_not_supported",
    facets=[NotImplementedFacet],
    message="loadCollection not yet implemented",
)
ErrInvalidFieldMapping = Storage.define(
    "invalid_field_mapping",
    facets=[InvariantViolated, HasEntityField],
    message="Field '{field}' on {entityType} has no column (collection fields are not stored)",
)
ErrColumnCollision = Storage.define(
    "column_collision",
    facets=[BadInput],
    message="Fields '{first}' and '{second}' of {entityType} both map to column \"{column}\"",
)
ErrTableCollision = Storage.define(
    "table_collision",
    facets=[BadInput],
    message='Entity type {entityType} maps to table "{table}", {reason}',
)
ErrInvalidValue = Storage.define(
    "invalid_value",
    facets=[BadInput, HasEntityField],
    message=(
        "Invalid value for {entityType}.{field} (id {entityId}): expected {expected}, got {got}"
    ),
)
ErrInvalidFilterValue = Storage.define(
    "invalid_filter_value",
    facets=[BadInput, HasEntityField],
    message="Field '{field}' of {entityType} is a {kind}; {value} is not a valid {kind} value",
)
ErrInvalidCursor = Storage.define(
    "invalid_cursor",
    facets=[BadInput],
    message=lambda data: f'Invalid cursor "{quote_input(data["cursor"])}": {data["reason"]}',
)
ErrInvalidLimit = Storage.define(
    "invalid_limit", facets=[BadInput], message="Invalid limit {limit}: limit must be ≥ 0"
)
ErrWriteFailed = Storage.define(
    "write_failed", facets=[], message="Could not write to {path}: {reason}"
)
ErrStoreUnreachable = Storage.define(
    "store_unreachable",
    facets=[NotFound],
    message="cannot reach the store {store} — {reason}",
)
ErrOpenFailed = Storage.define(
    "open_failed", facets=[NotFound], message="Could not open database {path}: {reason}"
)
#: The hint of ``storage.invalid_text_query``: the query language, on both SQL stores.
TEXT_QUERY_HINT = (
    'FTS5 syntax: words (all must match), "a phrase", OR, NOT, prefix*, (groups), '
    "column:word (SQLite only); put words with punctuation in double quotes"
)
ErrInvalidTextQuery = Storage.define(
    "invalid_text_query",
    facets=[BadInput],
    message=lambda data: (
        f'Invalid text query "{quote_input(data["text"])}": {printable(data["reason"])}'
    ),
)
ErrNoTextFields = Storage.define(
    "no_text_fields",
    facets=[BadInput],
    message="{entityType} has no text fields to search",
)
ErrTextSearchUnsupported = Storage.define(
    "text_search_unsupported",
    facets=[NotImplementedFacet],
    message="Full-text search needs SQLite or PostgreSQL (the in-memory engine has no index)",
)
