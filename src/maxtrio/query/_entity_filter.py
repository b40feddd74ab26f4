"""A ``--filter`` for one entity type: parse, check the fields, lower.

This is what ``max search <Type> --filter EXPR`` runs before it queries the engine:

* an empty or all-whitespace filter means "no filter" (:data:`maxtrio.core.EMPTY_WHERE`);
* a syntax error is ``query-parser.parse_failed``, raised as is;
* every comparison's field, in every branch, must be a filterable meta field (``_id``) or a
  stored field of the entity, else ``cli.filter_parse`` with the reason
  ``Unknown field "<f>". Valid fields: _id, …``. Collection fields are not valid (MAXTRIO,
  reference bug B16: the reference lets them through to fail in the engine), and the error
  carries a ``hint`` naming the closest valid field (``did you mean "title"?``) when one is
  close;
* the result carries the :func:`mixed_and_or_warning` text, if any, for the CLI to print.

The grammar, the AST and the lowering are imported with the first filter parsed: a search
without ``--filter`` does not load them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from maxtrio.core import (
    EMPTY_WHERE,
    FILTERABLE_META_FIELDS,
    EntityDef,
    WhereClause,
    quote_input,
)

from ._errors import ErrFilterParse, suggestion
from ._whitespace import js_trim

if TYPE_CHECKING:
    from ._ast import FilterAst

#: The most characters of an unknown field name an error quotes.
FIELD_NAME_LENGTH = 60


@attrs.frozen
class ParsedFilter:
    """A checked filter: the where tree, the AST it came from (``None`` for no filter) and
    the mixed ``AND``/``OR`` warning (``None`` when there is nothing to say)."""

    where: WhereClause
    warning: str | None = None
    ast: FilterAst | None = None


#: The filter that matches every row.
NO_FILTER = ParsedFilter(EMPTY_WHERE)


def filterable_fields(entity_def: EntityDef) -> tuple[str, ...]:
    """Field names a filter may use on ``entity_def``: ``_id``, then the stored fields."""
    return (*FILTERABLE_META_FIELDS, *entity_def.stored_field_names)


def parse_where(text: str | None, entity_def: EntityDef) -> ParsedFilter:
    """Parse ``text`` as a filter on ``entity_def``; see the module docstring."""
    if text is None:
        return NO_FILTER
    expression = js_trim(text)
    if not expression:
        return NO_FILTER
    from ._ast import iter_conditions
    from ._grammar import parse_filter
    from ._lower import lower
    from ._warning import mixed_and_or_warning

    ast = parse_filter(expression)
    valid = filterable_fields(entity_def)
    valid_set = frozenset(valid)
    for condition in iter_conditions(ast):
        if condition.field not in valid_set:
            shown = quote_input(condition.field, FIELD_NAME_LENGTH)
            raise ErrFilterParse(
                expression=expression,
                reason=f'Unknown field "{shown}". Valid fields: {", ".join(valid)}',
                field=condition.field,
                validFields=list(valid),
                index=condition.index,
                **suggestion(condition.field, valid),
            )
    return ParsedFilter(lower(ast), mixed_and_or_warning(ast), ast)
