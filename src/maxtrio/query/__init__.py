"""maxtrio.query — the filter language, ``--order-by`` and ``--fields`` parsing, lowering.

No I/O. Text typed by a user (or an agent) becomes core query values:

* :func:`parse_filter` — filter text → :data:`FilterAst` (the reference's grammar,
  docs/filter-language.md, plus ``NOT``, ``IN`` and ``IS [NOT] NULL``), with
  ``query-parser.parse_failed`` errors that carry a reason and a character position;
* :func:`coerce_value` — a comparison value's meaning (JavaScript ``Number()`` rules);
* :func:`lower` — AST → :class:`maxtrio.core.WhereClause`;
* :func:`mixed_and_or_warning` — ``AND`` and ``OR`` have equal precedence and group from
  the left; this says so when a filter mixes them without parentheses;
* :func:`parse_where` — all of the above for one entity type, as ``max search --filter``
  needs it;
* :func:`parse_order_by` and :func:`select_fields` — ``--order-by`` and ``--fields``;
* :func:`format_filter` — an AST back to canonical filter text;
* :func:`parse_plan` — sync-plan text (``max sync --plan``) → :class:`PlanAst`, with
  ``plan-parser.parse_failed`` errors; :func:`lower_plan` — AST → :class:`maxtrio.core.SyncPlan`
  for one connector's schema and resolvers (``plan-parser.invalid_plan`` errors);
  :func:`parse_sync_plan` — both (docs/sync-plans.md).

Example::

    >>> from maxtrio.query import parse_filter, lower
    >>> lower(parse_filter("status = open AND priority >= 5"))
    WhereGroup(kind='and', clauses=(Where(field='status', op=<Op.EQ: '='>, value='open'), \
Where(field='priority', op=<Op.GE: '>='>, value=5)))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maxtrio._lazy import lazy_names

if TYPE_CHECKING:
    from ._ast import (
        FILTER_OPERATORS,
        Comparison,
        Condition,
        FilterAst,
        FilterOperator,
        InList,
        Logical,
        LogicalOperator,
        Not,
        NullTest,
        Value,
        iter_conditions,
    )
    from ._coerce import coerce_value, js_number
    from ._entity_filter import NO_FILTER, ParsedFilter, filterable_fields, parse_where
    from ._errors import (
        Cli,
        ErrFilterParse,
        ErrFilterParseFailed,
        ErrInvalidOrderBy,
        ErrInvalidPlan,
        ErrPlanParseFailed,
        ErrUnknownField,
        ErrUnknownFieldGroup,
        PlanParser,
        QueryParser,
        suggestion,
    )
    from ._format import format_filter
    from ._grammar import MAX_CONDITIONS, MAX_LIST_VALUES, MAX_NESTING, parse_filter
    from ._lower import lower
    from ._order_fields import FIELD_GROUPS, parse_order_by, select_fields
    from ._plan_ast import (
        AllSelector,
        CollectionOperation,
        ConcurrentNode,
        FieldsOperation,
        FilterSelector,
        IdSelector,
        PlanAst,
        PlanEntryNode,
        PlanNames,
        PlanOperation,
        PlanSelector,
        PlanStepNode,
        iter_plan_steps,
    )
    from ._plan_grammar import CONCURRENTLY, parse_plan
    from ._plan_lower import loads_collection, loads_fields, lower_plan, parse_sync_plan
    from ._warning import mixed_and_or_warning
    from ._whitespace import JS_WHITESPACE, is_js_whitespace, js_trim

_SOURCES = {
    "FILTER_OPERATORS": "_ast",
    "Comparison": "_ast",
    "Condition": "_ast",
    "FilterAst": "_ast",
    "FilterOperator": "_ast",
    "InList": "_ast",
    "Logical": "_ast",
    "LogicalOperator": "_ast",
    "Not": "_ast",
    "NullTest": "_ast",
    "Value": "_ast",
    "iter_conditions": "_ast",
    "coerce_value": "_coerce",
    "js_number": "_coerce",
    "NO_FILTER": "_entity_filter",
    "ParsedFilter": "_entity_filter",
    "filterable_fields": "_entity_filter",
    "parse_where": "_entity_filter",
    "Cli": "_errors",
    "ErrFilterParse": "_errors",
    "ErrFilterParseFailed": "_errors",
    "ErrInvalidOrderBy": "_errors",
    "ErrInvalidPlan": "_errors",
    "ErrPlanParseFailed": "_errors",
    "ErrUnknownField": "_errors",
    "ErrUnknownFieldGroup": "_errors",
    "PlanParser": "_errors",
    "QueryParser": "_errors",
    "suggestion": "_errors",
    "format_filter": "_format",
    "MAX_CONDITIONS": "_grammar",
    "MAX_LIST_VALUES": "_grammar",
    "MAX_NESTING": "_grammar",
    "parse_filter": "_grammar",
    "lower": "_lower",
    "FIELD_GROUPS": "_order_fields",
    "parse_order_by": "_order_fields",
    "select_fields": "_order_fields",
    "AllSelector": "_plan_ast",
    "CollectionOperation": "_plan_ast",
    "ConcurrentNode": "_plan_ast",
    "FieldsOperation": "_plan_ast",
    "FilterSelector": "_plan_ast",
    "IdSelector": "_plan_ast",
    "PlanAst": "_plan_ast",
    "PlanEntryNode": "_plan_ast",
    "PlanNames": "_plan_ast",
    "PlanOperation": "_plan_ast",
    "PlanSelector": "_plan_ast",
    "PlanStepNode": "_plan_ast",
    "iter_plan_steps": "_plan_ast",
    "CONCURRENTLY": "_plan_grammar",
    "parse_plan": "_plan_grammar",
    "loads_collection": "_plan_lower",
    "loads_fields": "_plan_lower",
    "lower_plan": "_plan_lower",
    "parse_sync_plan": "_plan_lower",
    "mixed_and_or_warning": "_warning",
    "JS_WHITESPACE": "_whitespace",
    "is_js_whitespace": "_whitespace",
    "js_trim": "_whitespace",
}

__all__ = [
    "CONCURRENTLY",
    "FIELD_GROUPS",
    "FILTER_OPERATORS",
    "JS_WHITESPACE",
    "MAX_CONDITIONS",
    "MAX_LIST_VALUES",
    "MAX_NESTING",
    "NO_FILTER",
    "AllSelector",
    "Cli",
    "CollectionOperation",
    "Comparison",
    "ConcurrentNode",
    "Condition",
    "ErrFilterParse",
    "ErrFilterParseFailed",
    "ErrInvalidOrderBy",
    "ErrInvalidPlan",
    "ErrPlanParseFailed",
    "ErrUnknownField",
    "ErrUnknownFieldGroup",
    "FieldsOperation",
    "FilterAst",
    "FilterOperator",
    "FilterSelector",
    "IdSelector",
    "InList",
    "Logical",
    "LogicalOperator",
    "Not",
    "NullTest",
    "ParsedFilter",
    "PlanAst",
    "PlanEntryNode",
    "PlanNames",
    "PlanOperation",
    "PlanParser",
    "PlanSelector",
    "PlanStepNode",
    "QueryParser",
    "Value",
    "coerce_value",
    "filterable_fields",
    "format_filter",
    "is_js_whitespace",
    "iter_conditions",
    "iter_plan_steps",
    "js_number",
    "js_trim",
    "loads_collection",
    "loads_fields",
    "lower",
    "lower_plan",
    "mixed_and_or_warning",
    "parse_filter",
    "parse_order_by",
    "parse_plan",
    "parse_sync_plan",
    "parse_where",
    "select_fields",
    "suggestion",
]

__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals())
