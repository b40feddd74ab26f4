"""Errors of the query layer: the filter and sync-plan parsers', and the CLI's input errors.

``query-parser.parse_failed`` is the syntax error of the filter language (a code of
the wire). ``plan-parser.parse_failed`` is the syntax error of the sync-plan language (a filter
error inside a plan's selector is reported as one, positioned in the plan, with the filter
error as its cause); ``plan-parser.invalid_plan`` is a well-formed plan that does not fit the
connector (unknown entity type, field or collection, nothing loadable). The ``cli.*`` errors
below are the search command's validation errors; they are defined here, where
the validation lives, and the CLI raises them from here.

Every message quotes the user's text through :func:`maxtrio.core.quote_input` (one line, at
most ~200 characters); ``data`` keeps the text as given. Errors about an unknown name carry a
``hint`` (``did you mean "title"?``) when a valid name is close.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from maxtrio.core import BadInput, Boundary, did_you_mean, quote_input

QueryParser = Boundary("query-parser")


def _quoted(label: str, key: str) -> Callable[[Mapping[str, Any]], str]:
    """A message ``<label> "<data[key], quoted>" — <reason>``."""
    return lambda data: f'{label} "{quote_input(data[key])}" — {data["reason"]}'


_invalid_filter = _quoted("Invalid filter", "expression")


def _invalid_filter_at(data: Mapping[str, Any]) -> str:
    return f"{_invalid_filter(data)} (at position {data['index']})"


ErrFilterParseFailed = QueryParser.define(
    "parse_failed", facets=[BadInput], message=_invalid_filter_at
)

PlanParser = Boundary("plan-parser")

ErrPlanParseFailed = PlanParser.define(
    "parse_failed",
    facets=[BadInput],
    message="Invalid sync plan — {reason} (at position {index})",
)
ErrInvalidPlan = PlanParser.define(
    "invalid_plan",
    facets=[BadInput],
    message="Invalid sync plan — {reason} (at position {index})",
)

Cli = Boundary("cli")


def _unknown_field_group(data: Mapping[str, Any]) -> str:
    available = ", ".join(data["available"])
    return f'Unknown field group "{quote_input(data["group"])}". Available: {available}'


def _unknown_field(data: Mapping[str, Any]) -> str:
    kind = "Collection" if data.get("collection") else "Unknown"
    stored = ", ".join(data["available"])
    field = quote_input(data["field"], 60)
    return (
        f'{kind} field "{field}" in {data["option"]}. Fields {data["entityType"]} stores: {stored}'
    )


ErrFilterParse = Cli.define("filter_parse", facets=[BadInput], message=_invalid_filter)
ErrUnknownFieldGroup = Cli.define(
    "unknown_field_group", facets=[BadInput], message=_unknown_field_group
)
ErrInvalidOrderBy = Cli.define(
    "invalid_order_by", facets=[BadInput], message=_quoted("Invalid --order-by", "orderBy")
)
ErrUnknownField = Cli.define("unknown_field", facets=[BadInput], message=_unknown_field)


def suggestion(name: str, valid: Iterable[str]) -> dict[str, Any]:
    """``{"hint": 'did you mean "title"?'}`` when a valid name is close to ``name``, else
    nothing — spread into an error's data."""
    hint = did_you_mean(name, valid)
    return {"hint": hint} if hint else {}
