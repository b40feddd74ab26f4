"""Property tests of the filter parser: random ASTs (``NOT``, ``IN`` and ``IS [NOT] NULL``
included) written out in random ways parse back to themselves, and random input never fails
with anything but ``query-parser.parse_failed``."""

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
    InList,
    Logical,
    LogicalOperator,
    Not,
    NullTest,
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
#: Before IN / IS a field named NOT would read as the keyword (only comparisons can use it).
list_fields = fields.filter(lambda name: name not in ("NOT", "not"))
in_lists = st.builds(
    InList,
    list_fields,
    st.lists(st.one_of(bare_values, quoted_values), min_size=1, max_size=4).map(tuple),
    grouped=st.booleans(),
)
null_tests = st.builds(NullTest, list_fields, st.booleans(), grouped=st.booleans())
conditions = st.one_of(comparisons, comparisons, in_lists, null_tests)


def _grouped_if_logical(node: FilterAst) -> FilterAst:
    """A logical node on the right of another one, or after NOT, is only written in
    parentheses."""
    if isinstance(node, Logical):
        return Logical(node.operator, node.left, node.right, grouped=True)
    return node


@st.composite
def filter_trees(draw: st.DrawFn, depth: int = 4) -> FilterAst:
    choice = draw(st.integers(0, 3))
    if depth == 0 or choice == 0:
        return draw(conditions)
    if choice == 3:
        operand = _grouped_if_logical(draw(filter_trees(depth - 1)))
        return Not(operand, grouped=draw(st.booleans()))
    left = draw(filter_trees(depth - 1))
    right = _grouped_if_logical(draw(filter_trees(depth - 1)))
    operator: LogicalOperator = draw(st.sampled_from(["AND", "OR"]))
    return Logical(operator, left, right, grouped=draw(st.booleans()))


def shape(ast: FilterAst) -> Any:
    """The tree including what equality leaves out: the grouped flags."""
    if isinstance(ast, Comparison):
        return ("cmp", ast.field, ast.op, ast.value.raw, ast.value.quoted, ast.grouped)
    if isinstance(ast, InList):
        listed = tuple((v.raw, v.quoted) for v in ast.values)
        return ("in", ast.field, listed, ast.grouped)
    if isinstance(ast, NullTest):
        return ("null", ast.field, ast.negated, ast.grouped)
    if isinstance(ast, Not):
        return ("not", shape(ast.operand), ast.grouped)
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
        elif char in "\"'":  # the other quote: as is, or escaped (MAXTRIO)
            out.append(data.draw(st.sampled_from([char, "\\" + char])))
        elif char == "\n":
            out.append(data.draw(st.sampled_from(["\n", "\\n"])))
        elif char == "\t":
            out.append(data.draw(st.sampled_from(["\t", "\\t"])))
        else:
            out.append(char)
    out.append(quote)
    return "".join(out)


def spell(data: st.DataObject, word: str) -> str:
    return word if data.draw(st.booleans()) else word.lower()


def write(data: st.DataObject, ast: FilterAst) -> str:
    if isinstance(ast, Comparison):
        text = ast.field + spaces(data, 0) + ast.op + spaces(data, 0) + write_value(data, ast.value)
    elif isinstance(ast, InList):
        separator = "".join([spaces(data, 0), ",", spaces(data, 0)])
        listed = separator.join(write_value(data, v) for v in ast.values)
        text = (
            f"{ast.field}{spaces(data, 1)}{spell(data, 'IN')}{spaces(data, 0)}("
            f"{spaces(data, 0)}{listed}{spaces(data, 0)})"
        )
    elif isinstance(ast, NullTest):
        negation = spell(data, "NOT") + spaces(data, 1) if ast.negated else ""
        text = (
            f"{ast.field}{spaces(data, 1)}{spell(data, 'IS')}{spaces(data, 1)}"
            f"{negation}{spell(data, 'NULL')}"
        )
    elif isinstance(ast, Not):
        gap = spaces(data, 0 if ast.operand.grouped else 1)
        text = spell(data, "NOT") + gap + write(data, ast.operand)
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


def conditions_of(ast: FilterAst) -> list[Comparison | InList | NullTest]:
    if isinstance(ast, Not):
        return conditions_of(ast.operand)
    if isinstance(ast, Logical):
        return conditions_of(ast.left) + conditions_of(ast.right)
    return [ast]


@settings(max_examples=examples(200))
@given(filter_trees(), st.data())
def test_written_trees_parse_back_to_themselves(ast: FilterAst, data: st.DataObject) -> None:
    text = spaces(data, 0) + write(data, ast) + spaces(data, 0)
    parsed = parse_filter(text)
    assert parsed == ast
    assert shape(parsed) == shape(ast)
    trimmed = js_trim(text)
    for condition in conditions_of(parsed):
        assert trimmed.startswith(condition.field, condition.index)
        after_field = condition.index + len(condition.field)
        if isinstance(condition, Comparison):
            assert trimmed.startswith(condition.op, after_field) or (
                trimmed[after_field] in JS_WHITESPACE
            )
        else:
            assert trimmed[after_field] in JS_WHITESPACE


@settings(max_examples=examples(150))
@given(filter_trees())
def test_format_filter_round_trips(ast: FilterAst) -> None:
    text = format_filter(ast)
    assert shape(parse_filter(text)) == shape(ast)
    explicit = parse_filter(format_filter(ast, explicit=True))
    assert explicit == ast


def _mixes_without_parentheses(ast: FilterAst) -> bool:
    if isinstance(ast, Not):
        return _mixes_without_parentheses(ast.operand)
    if not isinstance(ast, Logical):
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
        st.sampled_from(["NOT", "not", "Not", "IN", "in", "IS", "NULL", "null", "IS NOT"]),
        st.sampled_from(["NOT", "not", "Not", "IN", "in", "IS", "NULL", "null", "IS NOT"]),
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
        + [" IN ", "IN", " in(", " IS ", "NULL", " null", " NOT ", "NOT ", "not(", ", "]
        + ["a=1", "b.c ~= 'x y'", "(_id!=u1)", "x-1>=-2", "a IN (1, 'x')", "b IS NULL"] * 6
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
