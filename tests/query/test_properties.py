"""Property tests of the filter parser: random ASTs written out in random ways parse back to
themselves, and random input never fails with anything but ``query-parser.parse_failed``."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from maxtrio.core import EntityDef, Field, MaxError
from maxtrio.query import (
    FILTER_OPERATORS,
    JS_WHITESPACE,
    Comparison,
    FilterAst,
    Logical,
    LogicalOperator,
    Value,
    format_filter,
    js_trim,
    mixed_and_or_warning,
    parse_filter,
    parse_where,
)

from ..hypothesis_budget import examples

# -- generating trees -------------------------------------------------------------------------

fields = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,8}", fullmatch=True)
bare_values = st.from_regex(r"[A-Za-z0-9_.:@\-]{1,12}", fullmatch=True).map(Value)
quoted_values = st.builds(
    Value,
    st.text(
        alphabet=st.one_of(
            st.sampled_from("\"'\\\n\t ()ANDOR=<>~!,%*"),
            st.characters(codec="utf-8", exclude_categories=["Cs"]),
        ),
        max_size=12,
    ),
    st.just(True),
)
comparisons = st.builds(
    Comparison,
    fields,
    st.sampled_from(FILTER_OPERATORS),
    st.one_of(bare_values, quoted_values),
    grouped=st.booleans(),
)


@st.composite
def filter_trees(draw: st.DrawFn, depth: int = 4) -> FilterAst:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(comparisons)
    left = draw(filter_trees(depth - 1))
    right = draw(filter_trees(depth - 1))
    if isinstance(right, Logical):
        # a logical node on the right can only be written in parentheses
        right = Logical(right.operator, right.left, right.right, grouped=True)
    operator: LogicalOperator = draw(st.sampled_from(["AND", "OR"]))
    return Logical(operator, left, right, grouped=draw(st.booleans()))


def shape(ast: FilterAst) -> Any:
    """The tree including what equality leaves out: the grouped flags."""
    if isinstance(ast, Comparison):
        return ("cmp", ast.field, ast.op, ast.value.raw, ast.value.quoted, ast.grouped)
    return ("logical", ast.operator, shape(ast.left), shape(ast.right), ast.grouped)


# -- writing them out in random ways ----------------------------------------------------------


def spaces(data: st.DataObject, minimum: int) -> str:
    return "".join(
        data.draw(st.lists(st.sampled_from(JS_WHITESPACE), min_size=minimum, max_size=3))
    )


def write_value(data: st.DataObject, value: Value) -> str:
    if not value.quoted:
        return value.raw
    quote = data.draw(st.sampled_from(['"', "'"]))
    out = [quote]
    for char in value.raw:
        if char in ("\\", quote):
            out.append("\\" + char)
        elif char == "\n":
            out.append(data.draw(st.sampled_from(["\n", "\\n"])))
        elif char == "\t":
            out.append(data.draw(st.sampled_from(["\t", "\\t"])))
        else:
            out.append(char)
    out.append(quote)
    return "".join(out)


def write(data: st.DataObject, ast: FilterAst) -> str:
    if isinstance(ast, Comparison):
        text = ast.field + spaces(data, 0) + ast.op + spaces(data, 0) + write_value(data, ast.value)
    else:
        keyword = ast.operator if data.draw(st.booleans()) else ast.operator.lower()
        text = (
            write(data, ast.left)
            + spaces(data, 1)
            + keyword
            + spaces(data, 1)
            + write(data, ast.right)
        )
    if ast.grouped:
        text = "(" + spaces(data, 0) + text + spaces(data, 0) + ")"
    return text


def comparisons_of(ast: FilterAst) -> list[Comparison]:
    if isinstance(ast, Comparison):
        return [ast]
    return comparisons_of(ast.left) + comparisons_of(ast.right)


@settings(max_examples=examples(200))
@given(filter_trees(), st.data())
def test_written_trees_parse_back_to_themselves(ast: FilterAst, data: st.DataObject) -> None:
    text = spaces(data, 0) + write(data, ast) + spaces(data, 0)
    parsed = parse_filter(text)
    assert parsed == ast
    assert shape(parsed) == shape(ast)
    trimmed = js_trim(text)
    for comparison in comparisons_of(parsed):
        assert trimmed.startswith(comparison.field, comparison.index)
        assert trimmed.startswith(comparison.op, comparison.index + len(comparison.field)) or (
            trimmed[comparison.index + len(comparison.field)] in JS_WHITESPACE
        )


@settings(max_examples=examples(150))
@given(filter_trees())
def test_format_filter_round_trips(ast: FilterAst) -> None:
    text = format_filter(ast)
    assert shape(parse_filter(text)) == shape(ast)
    explicit = parse_filter(format_filter(ast, explicit=True))
    assert explicit == ast


def _mixes_without_parentheses(ast: FilterAst) -> bool:
    if isinstance(ast, Comparison):
        return False
    left = ast.left
    if isinstance(left, Logical) and not left.grouped and left.operator != ast.operator:
        return True
    return _mixes_without_parentheses(left) or _mixes_without_parentheses(ast.right)


@settings(max_examples=examples(150))
@given(filter_trees())
def test_warning_exactly_when_a_chain_mixes_keywords(ast: FilterAst) -> None:
    warning = mixed_and_or_warning(ast)
    assert (warning is not None) == _mixes_without_parentheses(ast)
    if warning is not None:
        assert "equal precedence" in warning


# -- random input -----------------------------------------------------------------------------

_GRAMMAR_SOUP = st.lists(
    st.one_of(
        st.sampled_from([*"()\"'\\=!<>~ \t\n_.-:@,%*", "AND", "OR", "and", "or", "And"]),
        st.sampled_from([*JS_WHITESPACE, "\x1c", "\x85", "😀", "日", "\x00"]),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    ),
    max_size=30,
).map("".join)
_TOKEN_SOUP = st.lists(
    st.sampled_from(
        ["a", "b.c", "_id", "x-1", "=", "!=", ">=", "<=", "~=", ">", "<", "==", "(", ")"]
        + [" ", "\t", "\u3000", " AND ", " OR ", " and ", " or ", "AND", "Or", " NOT "]
        + ["1", "-2.5", "true", "0x1F", "ein:T:1", "'x'", '"y z"', "'", '"', "\\", "\\n"]
        + ["😀", "日本", "\x85", "\ufeff", ",", "*", "%"]
        + ["a=1", "b.c ~= 'x y'", "(_id!=u1)", "x-1>=-2"] * 6
    ),
    max_size=16,
).map("".join)
_ANY_TEXT = st.text(max_size=60)

Thing = EntityDef.create("Thing", {"a": Field.string(), "b": Field.number()})


def _check_failure_or_stable_parse(text: str) -> None:
    try:
        ast = parse_filter(text)
    except MaxError as err:
        assert err.code == "query-parser.parse_failed"
        assert err.has("BadInput")
        assert 0 <= err.data["index"] <= len(err.data["expression"])
        assert err.data["expression"] == js_trim(text)
        return
    assert shape(parse_filter(format_filter(ast))) == shape(ast)


@settings(max_examples=examples(600))
@given(st.one_of(_GRAMMAR_SOUP, _TOKEN_SOUP))
def test_grammar_soup_never_raises_anything_else(text: str) -> None:
    _check_failure_or_stable_parse(text)


@settings(max_examples=examples(500))
@given(_ANY_TEXT)
def test_any_text_never_raises_anything_else(text: str) -> None:
    _check_failure_or_stable_parse(text)


@settings(max_examples=examples(300))
@given(st.one_of(_GRAMMAR_SOUP, _TOKEN_SOUP, _ANY_TEXT))
def test_parse_where_raises_only_its_own_errors(text: str) -> None:
    try:
        parse_where(text, Thing)
    except MaxError as err:
        assert err.code in ("query-parser.parse_failed", "cli.filter_parse")


@settings(max_examples=examples(100))
@given(filter_trees(), st.data())
def test_damaged_filters_fail_cleanly(ast: FilterAst, data: st.DataObject) -> None:
    text = write(data, ast)
    position = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 3))
    inserted = data.draw(st.sampled_from(["", "(", ")", '"', "'", "\\", " AND", "=", " "]))
    _check_failure_or_stable_parse(text[:position] + inserted + text[position + cut :])
