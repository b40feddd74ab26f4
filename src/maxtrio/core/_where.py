"""The where tree: leaves ``field op value`` combined by ``and`` / ``or`` / ``not`` nodes.

Leaves compare one field: ``=``, ``!=``, ``<``… and ``contains`` take one value; ``in`` takes a
tuple of values (the field equals one of them); ``is null`` / ``is not null`` take none (the
value is ``None``).

NULL rule (the same in every engine): a leaf on an empty (NULL) field is **false** — except
``is null`` — and ``not`` is the complement of its clause, so ``not (status = done)`` matches
the rows where status is empty while ``status != done`` does not (docs/filter-language.md).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from typing import Any, Literal, TypeAlias

import attrs


class Op(enum.StrEnum):
    EQ = "="
    NE = "!="
    GT = ">"
    LT = "<"
    GE = ">="
    LE = "<="
    CONTAINS = "contains"
    IN = "in"
    IS_NULL = "is null"
    IS_NOT_NULL = "is not null"


#: The operators that take no value (the leaf's value is ``None``).
NULL_TESTS = frozenset({Op.IS_NULL, Op.IS_NOT_NULL})


@attrs.frozen
class Where:
    """A leaf: ``field op value``. ``value`` is a str, int, float, bool, datetime or Ref; a
    tuple of those for ``in``; ``None`` for ``is null`` / ``is not null``."""

    field: str
    op: Op = attrs.field(converter=Op)
    value: Any


@attrs.frozen
class WhereGroup:
    """``and`` / ``or`` of clauses. An ``and`` with no clauses matches everything."""

    kind: Literal["and", "or"]
    clauses: tuple[WhereClause, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.clauses


@attrs.frozen
class WhereNot:
    """``not clause``: the rows ``clause`` does not match (NULL comparisons count as false).
    ``not`` of an empty group matches nothing."""

    clause: WhereClause


WhereClause: TypeAlias = Where | WhereGroup | WhereNot

#: Matches every row.
EMPTY_WHERE = WhereGroup("and", ())


def and_(*clauses: WhereClause) -> WhereGroup:
    return WhereGroup("and", clauses)


def or_(*clauses: WhereClause) -> WhereGroup:
    return WhereGroup("or", clauses)


def not_(clause: WhereClause) -> WhereNot:
    return WhereNot(clause)


def is_leaf(clause: WhereClause) -> bool:
    return isinstance(clause, Where)


def iter_leaves(clause: WhereClause) -> Iterator[Where]:
    """Every leaf of a tree, left to right."""
    if isinstance(clause, Where):
        yield clause
    elif isinstance(clause, WhereNot):
        yield from iter_leaves(clause.clause)
    else:
        for c in clause.clauses:
            yield from iter_leaves(c)


def where_all(leaves: Sequence[Where]) -> WhereClause:
    return WhereGroup("and", tuple(leaves))
