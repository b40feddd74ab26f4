"""The filter AST: comparisons, and ``AND`` / ``OR`` nodes that nest to the left.

This is what :func:`maxtrio.query.parse_filter` returns (spec sync-engine §14.1). A chain
``a AND b AND c`` becomes ``Logical("AND", Logical("AND", a, b), c)``.

Two attributes record where a node came from and take no part in equality: ``index`` (the
position of a comparison's field in the trimmed filter text, 0 for nodes built in code) and
``grouped`` (the node was written inside its own parentheses). ``grouped`` is what lets
:func:`maxtrio.query.mixed_and_or_warning` tell ``(a OR b) AND c`` from ``a OR b AND c`` —
both have the same tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, TypeAlias

import attrs

#: A comparison operator as written in the filter language.
FilterOperator: TypeAlias = Literal["=", "!=", ">", "<", ">=", "<=", "~="]
#: A logical keyword, normalised to upper case.
LogicalOperator: TypeAlias = Literal["AND", "OR"]

#: The operators in the order the parser tries them (longest first).
FILTER_OPERATORS: tuple[FilterOperator, ...] = ("!=", ">=", "<=", "~=", "=", ">", "<")


@attrs.frozen
class Value:
    """A comparison's right-hand side: ``raw`` is the text after escape processing, without
    quotes; ``quoted`` says whether it was written in quotes (quoted values are never coerced)."""

    raw: str
    quoted: bool = False


@attrs.frozen
class Comparison:
    """``field op value``, e.g. ``priority >= 5``."""

    field: str
    op: FilterOperator
    value: Value
    index: int = attrs.field(default=0, eq=False)
    grouped: bool = attrs.field(default=False, eq=False)


@attrs.frozen
class Logical:
    """``left AND right`` / ``left OR right``."""

    operator: LogicalOperator
    left: FilterAst
    right: FilterAst
    grouped: bool = attrs.field(default=False, eq=False)


#: A parsed filter: one comparison or a tree of logical nodes.
FilterAst: TypeAlias = Comparison | Logical


def iter_comparisons(ast: FilterAst) -> Iterator[Comparison]:
    """Every comparison of ``ast``, left to right."""
    pending: list[FilterAst] = [ast]
    while pending:
        node = pending.pop()
        if isinstance(node, Comparison):
            yield node
        else:
            pending.append(node.right)
            pending.append(node.left)
