"""The warning for ``AND`` and ``OR`` mixed without parentheses.

The filter language gives ``AND`` and ``OR`` equal precedence and groups them from the left
(docs/filter-language.md), so ``a=1 OR b=2 AND c=3`` means ``(a=1 OR b=2) AND c=3`` — not what
SQL would make of it. The parser keeps that reading for compatibility; this module finds the
place where a user may have meant something else so a caller (the CLI) can say so.

A *chain* is a run of factors joined by keywords with no parentheses around any part of it:
in ``(a OR b) AND c AND d`` the outer chain is ``(a OR b)``, ``c``, ``d`` (joined by ``AND``
only, so no warning) and ``a OR b`` is a chain of its own.
"""

from __future__ import annotations

from ._ast import FilterAst, Logical, LogicalOperator, Not
from ._format import format_filter, format_inner


def mixed_and_or_warning(ast: FilterAst) -> str | None:
    """A one-line warning for the first chain (left to right) that mixes ``AND`` and ``OR``,
    or ``None`` when every chain uses one keyword."""
    pending: list[FilterAst] = [ast]
    while pending:
        node = pending.pop()
        if isinstance(node, Not):
            pending.append(node.operand)
            continue
        if not isinstance(node, Logical):
            continue
        factors, operators = _chain(node)
        if len(set(operators)) > 1:
            return _message(node, factors, operators)
        pending.extend(reversed(factors))
    return None


def _chain(head: Logical) -> tuple[list[FilterAst], list[LogicalOperator]]:
    """The factors and keywords of the chain ``head`` starts, in reading order."""
    factors: list[FilterAst] = []
    operators: list[LogicalOperator] = []
    node: FilterAst = head
    while isinstance(node, Logical) and (node is head or not node.grouped):
        operators.append(node.operator)
        factors.append(node.right)
        node = node.left
    factors.append(node)
    factors.reverse()
    operators.reverse()
    return factors, operators


def _message(head: Logical, factors: list[FilterAst], operators: list[LogicalOperator]) -> str:
    written = format_inner(head)
    means = format_inner(head, explicit=True)
    sql = _sql_reading(factors, operators)
    preamble = (
        f'AND and OR have equal precedence and group from the left: "{written}" means "{means}"'
    )
    if sql == means:
        return f"{preamble}. Add parentheses to make that explicit."
    return f'{preamble}, not "{sql}" as in SQL. Add parentheses to say which one you mean.'


def _sql_reading(factors: list[FilterAst], operators: list[LogicalOperator]) -> str:
    """The chain read with SQL's precedence (``AND`` before ``OR``), fully parenthesised."""
    runs: list[list[FilterAst]] = [[factors[0]]]
    for operator, factor in zip(operators, factors[1:], strict=True):
        if operator == "AND":
            runs[-1].append(factor)
        else:
            runs.append([factor])
    texts = [" AND ".join(_factor_text(f) for f in run) for run in runs]
    return " OR ".join(f"({t})" if len(run) > 1 else t for t, run in zip(texts, runs, strict=True))


def _factor_text(factor: FilterAst) -> str:
    text = format_filter(factor)
    if isinstance(factor, Logical) and not factor.grouped:
        return f"({text})"
    return text
