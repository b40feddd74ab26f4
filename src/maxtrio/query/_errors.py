"""Errors of the query layer: the filter and sync-plan parsers', and the CLI's input errors.

``query-parser.parse_failed`` is the syntax error of the filter language (spec sync-engine
§13.7). ``plan-parser.parse_failed`` is the syntax error of the sync-plan language (a filter
error inside a plan's selector is reported as one, positioned in the plan, with the filter
error as its cause); ``plan-parser.invalid_plan`` is a well-formed plan that does not fit the
connector (unknown entity type, field or collection, nothing loadable). The ``cli.*`` errors
below are the search command's validation errors (§14.5, §15); they are defined here, where
the validation lives, and the CLI raises them from here.
"""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary

QueryParser = Boundary("query-parser")

ErrFilterParseFailed = QueryParser.define(
    "parse_failed",
    facets=[BadInput],
    message='Invalid filter "{expression}" — {reason} (at position {index})',
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

ErrFilterParse = Cli.define(
    "filter_parse", facets=[BadInput], message='Invalid filter "{expression}" — {reason}'
)
ErrUnknownFieldGroup = Cli.define(
    "unknown_field_group",
    facets=[BadInput],
    message=lambda data: (
        f'Unknown field group "{data["group"]}". Available: {", ".join(data["available"])}'
    ),
)
ErrInvalidOrderBy = Cli.define(
    "invalid_order_by", facets=[BadInput], message='Invalid --order-by "{orderBy}" — {reason}'
)
