"""The where tree: leaves ``field op value`` combined by ``and`` / ``or`` nodes."""

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


@attrs.frozen
class Where:
    """A leaf: ``field op value``. ``value`` is a str, int, float, bool, datetime or Ref."""

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


WhereClause: TypeAlias = Where | WhereGroup

#: Matches every row.
EMPTY_WHERE = WhereGroup("and", ())


def and_(*clauses: WhereClause) -> WhereGroup:
    return WhereGroup("and", clauses)


def or_(*clauses: WhereClause) -> WhereGroup:
    return WhereGroup("or", clauses)


def is_leaf(clause: WhereClause) -> bool:
    return isinstance(clause, Where)


def iter_leaves(clause: WhereClause) -> Iterator[Where]:
    """Every leaf of a tree, left to right."""
    if isinstance(clause, Where):
        yield clause
    else:
        for c in clause.clauses:
            yield from iter_leaves(c)


def where_all(leaves: Sequence[Where]) -> WhereClause:
    return WhereGroup("and", tuple(leaves))
