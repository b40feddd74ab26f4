"""Rendering a filter AST back to filter text that parses to the same tree.

``format_filter(parse_filter(text))`` is a canonical spelling of ``text``: no spaces around
operators (``priority>=5``), single spaces around upper-case keywords, double quotes for
quoted values, the parentheses the user wrote and any a hand-built tree needs (a logical node
on the right of another one). ``explicit=True`` also parenthesises every left operand whose
keyword differs from its parent's, spelling out the left-to-right grouping
(``(a OR b) AND c``). ``IN`` lists are written ``field IN (a, b)``, null tests
``field IS NULL`` / ``field IS NOT NULL``, negations ``NOT x`` (``NOT (…)`` around a logical
node).
"""

from __future__ import annotations

from ._ast import Comparison, FilterAst, InList, Logical, Not, NullTest, Value
from ._tokens import BARE_VALUE, FIELD

_QUOTE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"})


def format_filter(ast: FilterAst, *, explicit: bool = False) -> str:
    """Filter text for ``ast``. Raises ``ValueError`` for a field name or an unquoted value
    that the filter language cannot spell (only possible for trees built in code)."""
    text = format_inner(ast, explicit=explicit)
    return f"({text})" if ast.grouped else text


def format_inner(ast: FilterAst, *, explicit: bool = False) -> str:
    """Like :func:`format_filter`, without the node's own parentheses."""
    if isinstance(ast, Comparison):
        return f"{_field(ast.field)}{ast.op}{format_value(ast.value)}"
    if isinstance(ast, InList):
        values = ", ".join(format_value(v) for v in ast.values)
        return f"{_keyword_safe_field(ast.field)} IN ({values})"
    if isinstance(ast, NullTest):
        test = "IS NOT NULL" if ast.negated else "IS NULL"
        return f"{_keyword_safe_field(ast.field)} {test}"
    if isinstance(ast, Not):
        operand = format_filter(ast.operand, explicit=explicit)
        if isinstance(ast.operand, Logical) and not ast.operand.grouped:
            operand = f"({operand})"
        return f"NOT {operand}"
    left = format_filter(ast.left, explicit=explicit)
    if (
        explicit
        and isinstance(ast.left, Logical)
        and not ast.left.grouped
        and ast.left.operator != ast.operator
    ):
        left = f"({left})"
    right = format_filter(ast.right, explicit=explicit)
    if isinstance(ast.right, Logical) and not ast.right.grouped:
        right = f"({right})"
    return f"{left} {ast.operator} {right}"


def format_value(value: Value) -> str:
    if value.quoted:
        return '"' + value.raw.translate(_QUOTE_ESCAPES) + '"'
    if BARE_VALUE.fullmatch(value.raw) is None:
        raise ValueError(f"{value.raw!r} cannot be written as an unquoted filter value")
    return value.raw


def _keyword_safe_field(name: str) -> str:
    """A field name before ``IN`` / ``IS``: ``NOT`` there would read as the keyword."""
    if name in ("NOT", "not"):
        raise ValueError(f"{name!r} can only be written as a field name before an operator")
    return _field(name)


def _field(name: str) -> str:
    if FIELD.fullmatch(name) is None:
        raise ValueError(f"{name!r} cannot be written as a filter field name")
    return name
