"""The filter grammar: AST shapes, escapes, whitespace and errors (docs/filter-language.md;
reference query-parser grammar.test.ts)."""

from __future__ import annotations

import pytest

from maxtrio.core import MaxError
from maxtrio.query import (
    FILTER_OPERATORS,
    JS_WHITESPACE,
    MAX_CONDITIONS,
    MAX_LIST_VALUES,
    MAX_NESTING,
    Comparison,
    FilterAst,
    InList,
    Logical,
    Not,
    NullTest,
    Value,
    parse_filter,
)


def cmp(field: str, op: str, raw: str, quoted: bool = False) -> Comparison:
    return Comparison(field, op, Value(raw, quoted))  # type: ignore[arg-type]


def parse_error(text: str) -> MaxError:
    with pytest.raises(MaxError) as info:
        parse_filter(text)
    return info.value


# -- shapes -----------------------------------------------------------------------------------


def test_simple_equality() -> None:
    ast = parse_filter("name = Acme")
    assert ast == cmp("name", "=", "Acme")
    assert isinstance(ast, Comparison)
    assert (ast.index, ast.grouped) == (0, False)


def test_equality_without_spaces() -> None:
    assert parse_filter("name=Acme") == cmp("name", "=", "Acme")


def test_quoted_value_keeps_its_spaces() -> None:
    assert parse_filter('name = "John Doe"') == cmp("name", "=", "John Doe", quoted=True)
    assert parse_filter("name='hello world'") == cmp("name", "=", "hello world", quoted=True)


def test_and_node() -> None:
    assert parse_filter("name=Acme AND status=open") == Logical(
        "AND", cmp("name", "=", "Acme"), cmp("status", "=", "open")
    )


def test_or_node() -> None:
    assert parse_filter("name=Acme OR name=Beta") == Logical(
        "OR", cmp("name", "=", "Acme"), cmp("name", "=", "Beta")
    )


@pytest.mark.parametrize("keyword", ["and", "or"])
def test_lower_case_keywords_are_normalised(keyword: str) -> None:
    ast = parse_filter(f"a=1 {keyword} b=2")
    assert isinstance(ast, Logical)
    assert ast.operator == keyword.upper()


@pytest.mark.parametrize("op", FILTER_OPERATORS)
def test_every_operator(op: str) -> None:
    assert parse_filter(f"priority{op}5") == cmp("priority", op, "5")
    assert parse_filter(f"priority {op} 5") == cmp("priority", op, "5")


def test_operators_are_tried_longest_first() -> None:
    assert parse_filter("a>=1") == cmp("a", ">=", "1")
    assert parse_filter("a<=1") == cmp("a", "<=", "1")
    assert parse_filter("a!=1") == cmp("a", "!=", "1")
    assert parse_filter("a~=1") == cmp("a", "~=", "1")


def test_grouped_or_on_the_left_of_and() -> None:
    ast = parse_filter("(name=Acme OR name=Beta) AND active=true")
    assert ast == Logical(
        "AND",
        Logical("OR", cmp("name", "=", "Acme"), cmp("name", "=", "Beta")),
        cmp("active", "=", "true"),
    )
    assert isinstance(ast, Logical)
    assert ast.left.grouped and not ast.grouped and not ast.right.grouped


def test_chains_nest_to_the_left() -> None:
    a, b, c = cmp("a", "=", "1"), cmp("b", "=", "2"), cmp("c", "=", "3")
    assert parse_filter("a=1 AND b=2 AND c=3") == Logical("AND", Logical("AND", a, b), c)


def test_and_and_or_have_equal_precedence() -> None:
    a, b, c = cmp("a", "=", "1"), cmp("b", "=", "2"), cmp("c", "=", "3")
    assert parse_filter("a=1 OR b=2 AND c=3") == Logical("AND", Logical("OR", a, b), c)
    assert parse_filter("a=1 AND b=2 OR c=3") == Logical("OR", Logical("AND", a, b), c)
    assert parse_filter("a=1 OR (b=2 AND c=3)") == Logical("OR", a, Logical("AND", b, c))


def test_parentheses_mark_nodes_as_grouped() -> None:
    ungrouped = parse_filter("a=1 OR b=2 AND c=3")
    grouped = parse_filter("(a=1 OR b=2) AND c=3")
    assert ungrouped == grouped  # same tree …
    assert isinstance(ungrouped, Logical) and isinstance(grouped, Logical)
    assert not ungrouped.left.grouped and grouped.left.grouped  # … different provenance
    single = parse_filter("((a=1))")
    assert single == cmp("a", "=", "1") and single.grouped


def test_nested_groups() -> None:
    ast = parse_filter("( ( a=1 OR b=2 ) AND ( c=3 OR d=4 ) ) OR e=5")
    a, b, c, d, e = (cmp(f, "=", str(i)) for i, f in enumerate("abcde", 1))
    assert ast == Logical("OR", Logical("AND", Logical("OR", a, b), Logical("OR", c, d)), e)


def test_comparison_index_is_a_character_position_in_the_trimmed_input() -> None:
    ast = parse_filter('   name="日本語" AND  x=1')
    assert isinstance(ast, Logical)
    assert isinstance(ast.left, Comparison) and isinstance(ast.right, Comparison)
    assert (ast.left.index, ast.right.index) == (0, 16)
    ast = parse_filter('a="😀😀" OR (b=2)')
    assert isinstance(ast, Logical) and isinstance(ast.right, Comparison)
    assert ast.right.index == 11


# -- fields and values ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "_id", "a.b", "first-name", "x_1.y-2", "A", "_"])
def test_field_names(field: str) -> None:
    assert parse_filter(f"{field}=1") == cmp(field, "=", "1")


@pytest.mark.parametrize(
    "bare",
    ["Acme", "-1", "3.5", "ein:AcmeUser:u1", "a@b.com", "2024-01-15", "user-abc123", "_x", "AND"],
)
def test_bare_values(bare: str) -> None:
    assert parse_filter(f"f = {bare}") == cmp("f", "=", bare)


def test_keywords_can_be_field_names_and_values() -> None:
    assert parse_filter("AND=OR AND or=and") == Logical(
        "AND", cmp("AND", "=", "OR"), cmp("or", "=", "and")
    )


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        (r"name = 'it\'s'", "it's"),
        (r'name = "say \"hi\""', 'say "hi"'),
        (r'name = "a\nb"', "a\nb"),
        (r'name = "a\tb"', "a\tb"),
        (r'name = "back\\slash"', "back\\slash"),
        (r"name = 'a\\b'", "a\\b"),
        ('name = "it\'s"', "it's"),
        ("name = 'say \"hi\"'", 'say "hi"'),
        ('name = "line\nbreak"', "line\nbreak"),
        ('name = "(a, b) AND c OR d"', "(a, b) AND c OR d"),
        ('name = ""', ""),
        ("name = ''", ""),
        ('name = "50%"', "50%"),
        ('name = "*foo*"', "*foo*"),
        ('name = "日本語"', "日本語"),
        ('name = "😀 emoji 👍🏽"', "😀 emoji 👍🏽"),
        ('name = "\\\\"', "\\"),
        # MAXTRIO: either quote's escape works inside either kind of quotes
        ("name = 'say \\\"hi\\\"'", 'say "hi"'),
        ('name = "it\\\'s"', "it's"),
    ],
)
def test_quoted_values_and_escapes(text: str, raw: str) -> None:
    assert parse_filter(text) == cmp("name", "=", raw, quoted=True)


def test_non_ascii_then_trailing_input_is_an_error() -> None:
    # The reference silently dropped the trailing " OR" after non-ASCII text.
    err = parse_error('name="日本語" OR')
    assert err.data["index"] == len('name="日本語" OR')
    assert parse_filter('name="日本語" OR x="é"') == Logical(
        "OR", cmp("name", "=", "日本語", True), cmp("x", "=", "é", True)
    )


def test_emoji_inside_quotes_then_more_conditions() -> None:
    assert parse_filter("a='😀' AND b='👍🏽x'") == Logical(
        "AND", cmp("a", "=", "😀", True), cmp("b", "=", "👍🏽x", True)
    )


# -- MAXTRIO additions: NOT, IN, IS [NOT] NULL -------------------------------------------------


def values(*raws: str, quoted: bool = False) -> tuple[Value, ...]:
    return tuple(Value(raw, quoted) for raw in raws)


@pytest.mark.parametrize(
    ("text", "ast"),
    [
        ("status IN (todo, done)", InList("status", values("todo", "done"))),
        ("status in(todo,done)", InList("status", values("todo", "done"))),
        (
            "status IN ( todo , 'in progress' )",
            InList("status", (Value("todo"), Value("in progress", True))),
        ),
        ("n IN (1)", InList("n", values("1"))),
        ("due IS NULL", NullTest("due")),
        ("due is null", NullTest("due")),
        ("due IS NOT NULL", NullTest("due", negated=True)),
        ("due\tis\nnot  null", NullTest("due", negated=True)),
        ("NOT a = 1", Not(cmp("a", "=", "1"))),
        ("not a=1", Not(cmp("a", "=", "1"))),
        ("NOT(a=1)", Not(cmp("a", "=", "1"))),
        ("NOT NOT a=1", Not(Not(cmp("a", "=", "1")))),
        ("NOT a IN (x)", Not(InList("a", values("x")))),
        ("NOT a IS NULL", Not(NullTest("a"))),
        # NOT binds tighter than AND and OR
        ("NOT a=1 AND b=2", Logical("AND", Not(cmp("a", "=", "1")), cmp("b", "=", "2"))),
        ("a=1 OR NOT b=2", Logical("OR", cmp("a", "=", "1"), Not(cmp("b", "=", "2")))),
        (
            "NOT (a=1 OR b=2) AND c=3",
            Logical(
                "AND",
                Not(Logical("OR", cmp("a", "=", "1"), cmp("b", "=", "2"))),
                cmp("c", "=", "3"),
            ),
        ),
        # the keywords stay usable as field names and values, as in the reference
        ("NOT = 1", cmp("NOT", "=", "1")),
        ("not!=x", cmp("not", "!=", "x")),
        ("NOT  >= 1", cmp("NOT", ">=", "1")),
        ("IN IN (IN)", InList("IN", values("IN"))),
        ("IS IS NULL", NullTest("IS")),
        ("a = NULL", cmp("a", "=", "NULL")),
        ("a = NOT", cmp("a", "=", "NOT")),
        ("INDEX = 1 AND NOTE = 2", Logical("AND", cmp("INDEX", "=", "1"), cmp("NOTE", "=", "2"))),
    ],
)
def test_not_in_and_null_tests(text: str, ast: FilterAst) -> None:
    assert parse_filter(text) == ast


def test_not_marks_grouped_operands_and_conditions_keep_their_index() -> None:
    ast = parse_filter("NOT (a=1)")
    assert isinstance(ast, Not) and ast.operand.grouped
    in_list = parse_filter("x=1 AND  tags IN (a)")
    assert isinstance(in_list, Logical) and isinstance(in_list.right, InList)
    assert in_list.right.index == 9
    null_test = parse_filter("NOT due IS NULL")
    assert isinstance(null_test, Not) and isinstance(null_test.operand, NullTest)
    assert null_test.operand.index == 4


def test_in_lists_count_towards_their_own_limit() -> None:
    listed = ", ".join(str(i) for i in range(MAX_LIST_VALUES))
    ast = parse_filter(f"a IN ({listed})")
    assert isinstance(ast, InList) and len(ast.values) == MAX_LIST_VALUES
    half = ", ".join(str(i) for i in range(MAX_LIST_VALUES // 2 + 1))
    err = parse_error(f"a IN ({half}) OR b IN ({half})")
    assert "Too many IN values" in err.data["reason"]


def test_not_counts_towards_the_nesting_limit() -> None:
    assert parse_filter("NOT " * (MAX_NESTING - 1) + "(a=1)") is not None
    err = parse_error("NOT " * MAX_NESTING + "(a=1)")
    assert "nested deeper" in err.data["reason"]
    assert parse_error("NOT " * 100_000 + "a=1").code == "query-parser.parse_failed"


# -- whitespace -------------------------------------------------------------------------------


@pytest.mark.parametrize("ws", list(JS_WHITESPACE))
def test_every_javascript_whitespace_character_separates(ws: str) -> None:
    text = f"{ws}a{ws}={ws}1{ws}AND{ws}({ws}b=2{ws}){ws}"
    assert parse_filter(text) == Logical("AND", cmp("a", "=", "1"), cmp("b", "=", "2"))


@pytest.mark.parametrize("char", ["\x1c", "\x1d", "\x1e", "\x1f", "\x85"])
def test_python_only_whitespace_is_not_whitespace(char: str) -> None:
    assert char.isspace()
    parse_error(f"a=1{char}AND b=2")
    parse_error(f"a=1{char}")  # not trimmed either


def test_bom_is_whitespace_as_in_javascript() -> None:
    assert not "\ufeff".isspace()
    assert parse_filter("\ufeffa=1\ufeffAND\ufeffb=2\ufeff") == Logical(
        "AND", cmp("a", "=", "1"), cmp("b", "=", "2")
    )


def test_whitespace_inside_groups_and_around_operators_is_optional() -> None:
    assert parse_filter("(a=1)") == parse_filter("( a = 1 )") == cmp("a", "=", "1")


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "index", "reason_part"),
    [
        ("", 0, "Empty filter expression"),
        ("   ", 0, "Empty filter expression"),
        ("\t\n\u3000", 0, "Empty filter expression"),
        ("name=", 5, "Missing value"),
        ("name Acme", 5, "Expected an operator"),
        ("name=Acme AND", 13, "Expected a condition after AND"),
        ("name=Acme OR", 12, "Expected a condition after OR"),
        ("name=Acme And b=1", 10, '"And" is not a keyword'),
        ("name=Acme Or b=1", 10, '"Or" is not a keyword'),
        ("a=1 AND(b=2)", 7, 'whitespace between AND and "("'),
        ("(a=1)AND b=2", 5, "whitespace before AND"),
        ('a="x"AND b=2', 5, "whitespace before AND"),
        ("(a=1", 4, 'Missing ")"'),
        ("((a=1) OR b=2", 13, 'Missing ")"'),
        ("a=1)", 3, 'Unexpected ")"'),
        ("()", 1, "Empty parentheses"),
        ("( )", 2, "Empty parentheses"),
        ("(a=1 AND )", 9, "Expected a condition after AND"),
        ("(a=1 AND)", 8, "Expected a condition after AND"),
        ("name = foo bar", 11, 'Unexpected "bar"'),
        ("name ~= *foo*", 8, '"*foo*"'),
        ("name = a%b", 8, 'Unexpected "%b"'),
        ('name = "a\\qb"', 9, 'Invalid escape "\\q"'),
        ("name = 'a\\xb'", 9, "Invalid escape"),
        ('name = "open', 7, "Unterminated quoted value"),
        ("name = 'open", 7, "Unterminated quoted value"),
        ('name = "trailing backslash\\', 7, "Unterminated quoted value"),
        ("name == x", 5, '"==" is not an operator'),
        ("name => 5", 5, '"=>" is not an operator'),
        ("name <> 5", 5, '"<>" is not an operator'),
        ("!!!", 0, 'Expected a field name or "("'),
        ("1abc=2", 0, 'Expected a field name or "("'),
        ("名前=1", 0, 'Expected a field name or "("'),
        ("name=日本", 5, "Expected a value"),
        ("a=1 AND !!!", 8, "Expected a condition after AND"),
        ("a=1 ANDb=2", 4, 'Unexpected "ANDb=2"'),
        ("a=1 NOT b=2", 4, 'Unexpected "NOT"'),
        ("a=1,b=2", 3, 'Unexpected ",b=2"'),
        ('"x"=1', 0, 'Expected a field name or "("'),
        # MAXTRIO additions: NOT, IN, IS [NOT] NULL
        ("a IN ()", 6, "Empty IN list"),
        ("a IN ( )", 7, "Empty IN list"),
        ("a IN (1,", 8, "Expected a value in the IN list"),
        ("a IN (1,)", 8, "Expected a value in the IN list"),
        ("a IN (1 2)", 8, 'Expected "," or ")" in the IN list'),
        ("a IN (1", 7, 'Missing ")" to close the IN list'),
        ("a IN 1", 5, 'Expected "(" after IN'),
        ("a IN (*)", 6, "Expected a value in the IN list"),
        ("a In (1)", 2, '"In" is not a keyword'),
        ("a Is NULL", 2, '"Is" is not a keyword'),
        ("a IS", 4, "Expected NULL or NOT NULL after IS"),
        ("a IS NUL", 5, "Expected NULL or NOT NULL after IS"),
        ("a IS Null", 5, "Expected NULL or NOT NULL after IS"),
        ("a IS NOT", 8, "Expected NULL after IS NOT"),
        ("a IS NOT 1", 9, "Expected NULL after IS NOT"),
        ("a IS NULLx", 5, "Expected NULL or NOT NULL after IS"),
        ("a NOT IN (1)", 2, "write NOT a IN (…) or a IS NOT NULL"),
        ("NOT", 3, "Expected a condition after NOT"),
        ("a=1 AND NOT", 11, "Expected a condition after NOT"),
        ("NOT !!!", 4, 'after field "NOT" but found "!!!"'),
        ("Not a = 1", 4, '"Not" is not a keyword'),
        ("NOT a = 1 NOT b = 2", 10, 'Unexpected "NOT"'),
        ("a IN (1) b=2", 9, 'Unexpected "b=2"'),
    ],
)
def test_parse_errors(text: str, index: int, reason_part: str) -> None:
    err = parse_error(text)
    assert err.code == "query-parser.parse_failed"
    assert err.domain == "query-parser"
    assert err.has("BadInput")
    assert set(err.data) == {"expression", "reason", "index"}
    assert err.data["index"] == index, err.message
    assert reason_part in err.data["reason"], err.message
    assert err.data["expression"] == text.strip(JS_WHITESPACE)
    assert err.message == (
        f'Invalid filter "{err.data["expression"]}" — {err.data["reason"]} (at position {index})'
    )


def test_error_positions_are_in_the_trimmed_input() -> None:
    err = parse_error("   name Acme   ")
    assert err.data["expression"] == "name Acme"
    assert err.data["index"] == 5


def test_errors_survive_the_wire_form() -> None:
    err = parse_error("name=")
    back = MaxError.from_wire(err.to_wire())
    assert (back.code, back.data, back.message) == (err.code, err.data, err.message)


def test_unprintable_characters_are_escaped_in_reasons() -> None:
    err = parse_error("a=\x00")
    assert "\\x00" in err.data["reason"]


def test_hints_about_quoting() -> None:
    assert "quote a value that contains spaces" in parse_error("name = foo bar").message
    assert "quote values with characters other than" in parse_error("name = 50%").message
    assert "quote" not in parse_error("(a=1) b=2").message


def test_long_snippets_are_shortened() -> None:
    err = parse_error("a=1 " + "x" * 200)
    assert len(err.data["reason"]) < 120
    assert "…" in err.data["reason"]


# -- limits -----------------------------------------------------------------------------------


def _chain(n: int) -> str:
    return " OR ".join(f"_id=u{i}" for i in range(n))


def test_as_many_conditions_as_the_limit() -> None:
    ast: FilterAst = parse_filter(_chain(MAX_CONDITIONS))
    depth = 0
    while isinstance(ast, Logical):
        depth += 1
        ast = ast.left
    assert depth == MAX_CONDITIONS - 1


def test_more_conditions_than_the_limit() -> None:
    text = _chain(MAX_CONDITIONS + 1)
    err = parse_error(text)
    assert "Too many conditions" in err.data["reason"]
    assert err.data["index"] == text.rindex("_id=")


def test_nesting_up_to_the_limit() -> None:
    depth = MAX_NESTING
    assert parse_filter("(" * depth + "a=1" + ")" * depth) == cmp("a", "=", "1")


def test_nesting_beyond_the_limit() -> None:
    depth = MAX_NESTING + 1
    err = parse_error("(" * depth + "a=1" + ")" * depth)
    assert "nested deeper" in err.data["reason"]
    assert err.data["index"] == MAX_NESTING


def test_thousands_of_open_parentheses_fail_cleanly() -> None:
    err = parse_error("(" * 100_000)
    assert err.code == "query-parser.parse_failed"
