"""The filter AST: conditions, ``AND`` / ``OR`` nodes that nest to the left, and ``NOT``.

This is what :func:`maxtrio.query.parse_filter` returns. A chain ``a AND b AND c`` becomes
``Logical("AND", Logical("AND", a, b), c)``; ``NOT a AND b`` becomes
``Logical("AND", Not(a), b)`` (``NOT`` applies to the one condition or group after it).

A *condition* tests one field: a :class:`Comparison` (``priority >= 5``), an :class:`InList`
(``status IN (todo, done)``) or a :class:`NullTest` (``dueDate IS NULL``).

Two attributes record where a node came from and take no part in equality: ``index`` (the
position of a condition's field in the trimmed filter text, 0 for nodes built in code) and
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
class InList:
    """``field IN (v1, v2, …)``: the field equals one of the values (at least one)."""

    field: str
    values: tuple[Value, ...]
    index: int = attrs.field(default=0, eq=False)
    grouped: bool = attrs.field(default=False, eq=False)


@attrs.frozen
class NullTest:
    """``field IS NULL`` (the field has no value), or ``field IS NOT NULL`` when ``negated``."""

    field: str
    negated: bool = False
    index: int = attrs.field(default=0, eq=False)
    grouped: bool = attrs.field(default=False, eq=False)


@attrs.frozen
class Logical:
    """``left AND right`` / ``left OR right``."""

    operator: LogicalOperator
    left: FilterAst
    right: FilterAst
    grouped: bool = attrs.field(default=False, eq=False)


@attrs.frozen
class Not:
    """``NOT operand``: the rows ``operand`` does not match (a condition on an empty field is
    false, so ``NOT (status = done)`` keeps the tasks without a status)."""

    operand: FilterAst
    grouped: bool = attrs.field(default=False, eq=False)


#: A test of one field.
Condition: TypeAlias = Comparison | InList | NullTest
#: A parsed filter: one condition, or a tree of logical and ``NOT`` nodes over conditions.
FilterAst: TypeAlias = Comparison | InList | NullTest | Logical | Not


def iter_conditions(ast: FilterAst) -> Iterator[Condition]:
    """Every condition of ``ast``, left to right."""
    pending: list[FilterAst] = [ast]
    while pending:
        node = pending.pop()
        if isinstance(node, Logical):
            pending.append(node.right)
            pending.append(node.left)
        elif isinstance(node, Not):
            pending.append(node.operand)
        else:
            yield node
