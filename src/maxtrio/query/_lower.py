"""Lowering: the filter AST → the core where tree (spec sync-engine §14.3).

* a comparison becomes a leaf ``Where(field, op, value)``; ``~=`` becomes ``Op.CONTAINS``;
* a logical node becomes a ``WhereGroup`` of exactly its two sides (no flattening), so
  ``a AND b AND c`` lowers to ``and(and(a, b), c)``.

Values are coerced by :func:`coerce_value` — except under ``~=``, whose leaf value is the raw
text as written (MAXTRIO, §15.5): a substring search is about text, so ``title ~= 007``
searches for ``007``, not ``7``, and ``active ~= TRUE`` for ``TRUE``.
"""

from __future__ import annotations

from maxtrio.core import Op, Where, WhereClause, WhereGroup

from ._ast import Comparison, FilterAst, FilterOperator
from ._coerce import coerce_value

_OPS: dict[FilterOperator, Op] = {
    "=": Op.EQ,
    "!=": Op.NE,
    ">": Op.GT,
    "<": Op.LT,
    ">=": Op.GE,
    "<=": Op.LE,
    "~=": Op.CONTAINS,
}


def lower(ast: FilterAst) -> WhereClause:
    """The where tree a filter means."""
    if isinstance(ast, Comparison):
        return lower_comparison(ast)
    clauses = (lower(ast.left), lower(ast.right))
    return WhereGroup("and" if ast.operator == "AND" else "or", clauses)


def lower_comparison(comparison: Comparison) -> Where:
    op = _OPS[comparison.op]
    value = comparison.value.raw if op is Op.CONTAINS else coerce_value(comparison.value)
    return Where(comparison.field, op, value)
