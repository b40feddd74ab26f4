"""Lowering: the filter AST → the core where tree.

* a comparison becomes a leaf ``Where(field, op, value)``; ``~=`` becomes ``Op.CONTAINS``;
* ``IN (…)`` becomes ``Where(field, Op.IN, (v1, v2, …))``, each value coerced as for ``=``;
* ``IS NULL`` / ``IS NOT NULL`` become ``Op.IS_NULL`` / ``Op.IS_NOT_NULL`` leaves (value None);
* a logical node becomes a ``WhereGroup`` of exactly its two sides (no flattening), so
  ``a AND b AND c`` lowers to ``and(and(a, b), c)``; ``NOT`` becomes a ``WhereNot``.

Values are coerced by :func:`coerce_value` — except under ``~=``, whose leaf value is the raw
text as written: a substring search is about text, so ``title ~= 007``
searches for ``007``, not ``7``, and ``active ~= TRUE`` for ``TRUE``.
"""

from __future__ import annotations

from maxtrio.core import Op, Where, WhereClause, WhereGroup, WhereNot

from ._ast import Comparison, FilterAst, FilterOperator, InList, Logical, Not, NullTest
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
    if isinstance(ast, InList):
        return Where(ast.field, Op.IN, tuple(coerce_value(v) for v in ast.values))
    if isinstance(ast, NullTest):
        return Where(ast.field, Op.IS_NOT_NULL if ast.negated else Op.IS_NULL, None)
    if isinstance(ast, Not):
        return WhereNot(lower(ast.operand))
    assert isinstance(ast, Logical)
    clauses = (lower(ast.left), lower(ast.right))
    return WhereGroup("and" if ast.operator == "AND" else "or", clauses)


def lower_comparison(comparison: Comparison) -> Where:
    op = _OPS[comparison.op]
    value = comparison.value.raw if op is Op.CONTAINS else coerce_value(comparison.value)
    return Where(comparison.field, op, value)
