"""The sync-plan grammar: AST shapes, chaining, blocks, whitespace and errors with positions
(docs/sync-plans.md; the reference plan-parser's grammar tests, ported)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maxtrio.core import MaxError
from maxtrio.query import (
    AllSelector,
    CollectionOperation,
    Comparison,
    ConcurrentNode,
    ErrFilterParseFailed,
    ErrPlanParseFailed,
    FieldsOperation,
    FilterSelector,
    IdSelector,
    Logical,
    PlanAst,
    PlanStepNode,
    Value,
    iter_plan_steps,
    parse_filter,
    parse_plan,
)


def step(entity: str, selector: object, *operations: object) -> PlanStepNode:
    return PlanStepNode(entity, selector, operations)  # type: ignore[arg-type]


def fields(*names: str) -> FieldsOperation:
    return FieldsOperation("*" if names == ("*",) else names)


def collection(*names: str) -> CollectionOperation:
    return CollectionOperation("*" if names == ("*",) else names)


def only_step(text: str) -> PlanStepNode:
    plan = parse_plan(text)
    assert len(plan.entries) == 1
    entry = plan.entries[0]
    assert isinstance(entry, PlanStepNode)
    return entry


def where(text: str) -> FilterSelector:
    return FilterSelector(parse_filter(text))


def parse_error(text: str) -> MaxError:
    with pytest.raises(MaxError) as info:
        parse_plan(text)
    assert ErrPlanParseFailed.matches(info.value)
    assert info.value.has("BadInput")
    return info.value


# -- single steps -------------------------------------------------------------------------------


def test_all_with_named_fields() -> None:
    assert only_step("AcmeUser(*).fields{name, email}") == step(
        "AcmeUser", AllSelector(), fields("name", "email")
    )


def test_all_with_every_field() -> None:
    parsed = only_step("AcmeUser(*).fields{*}")
    assert parsed == step("AcmeUser", AllSelector(), fields("*"))
    assert parsed.operations[0].fields == "*"  # type: ignore[union-attr]


def test_one_by_id_with_a_collection() -> None:
    assert only_step("AcmeWorkspace(#ws1).collection{teams}") == step(
        "AcmeWorkspace", IdSelector("ws1"), collection("teams")
    )


def test_a_hyphenated_id() -> None:
    assert only_step("LinearTeam(#team-abc-123).fields{name, key}") == step(
        "LinearTeam", IdSelector("team-abc-123"), fields("name", "key")
    )


def test_ids_take_ref_key_characters() -> None:
    assert only_step("AcmeUser(#ein:AcmeUser:u_1.a@b).fields{email}").selector == IdSelector(
        "ein:AcmeUser:u_1.a@b"
    )


def test_every_collection() -> None:
    assert only_step("AcmeWorkspace(#ws1).collection{*}") == step(
        "AcmeWorkspace", IdSelector("ws1"), collection("*")
    )


def test_named_collections() -> None:
    assert only_step("AcmeWorkspace(#ws1).collection{users, projects}") == step(
        "AcmeWorkspace", IdSelector("ws1"), collection("users", "projects")
    )


def test_kinds_and_positions() -> None:
    parsed = only_step("AcmeUser(#u1).fields{name, email}")
    assert (parsed.kind, parsed.index) == ("step", 0)
    assert (parsed.selector.kind, parsed.selector.index) == ("one", 9)
    op = parsed.operations[0]
    assert (op.kind, op.index, op.name_indices) == ("fields", 14, (21, 27))
    assert AllSelector().kind == "all" and where("a = 1").kind == "filter"
    assert collection("x").kind == "collection"


# -- chained operations -------------------------------------------------------------------------


def test_chained_operations_on_separate_lines() -> None:
    assert only_step("AcmeTeam(*)\n  .fields{name, key}\n  .collection{members}") == step(
        "AcmeTeam", AllSelector(), fields("name", "key"), collection("members")
    )


def test_three_chained_operations() -> None:
    text = "AcmeTeam(*)\n  .fields{name, key}\n  .collection{members}\n  .collection{projects}"
    assert only_step(text) == step(
        "AcmeTeam",
        AllSelector(),
        fields("name", "key"),
        collection("members"),
        collection("projects"),
    )


def test_chained_operations_on_the_same_line() -> None:
    assert only_step("AcmeTeam(*).fields{name}.collection{members}") == step(
        "AcmeTeam", AllSelector(), fields("name"), collection("members")
    )


def test_unindented_chaining() -> None:
    assert only_step("AcmeTeam(*)\n.fields{name}\n.collection{members}") == step(
        "AcmeTeam", AllSelector(), fields("name"), collection("members")
    )


# -- filter selectors ---------------------------------------------------------------------------


def test_a_simple_equality_filter() -> None:
    parsed = only_step("AcmeUser(name = John).fields{email}")
    assert parsed.selector == FilterSelector(Comparison("name", "=", Value("John")))
    assert parsed.selector.text == "name = John"  # type: ignore[union-attr]
    assert parsed.selector.index == 9


def test_an_and_filter() -> None:
    selector = only_step("AcmeUser(active = true AND role = admin).fields{email}").selector
    assert selector == FilterSelector(
        Logical(
            "AND",
            Comparison("active", "=", Value("true")),
            Comparison("role", "=", Value("admin")),
        )
    )


def test_a_grouped_or_filter() -> None:
    text = "AcmeProject((status = active OR status = review) AND priority >= 3).fields{name}"
    selector = only_step(text).selector
    assert selector == FilterSelector(
        Logical(
            "AND",
            Logical(
                "OR",
                Comparison("status", "=", Value("active")),
                Comparison("status", "=", Value("review")),
            ),
            Comparison("priority", ">=", Value("3")),
        )
    )


def test_a_quoted_filter_value() -> None:
    selector = only_step('AcmeUser(displayName = "John Doe").fields{email}').selector
    assert selector == where('displayName = "John Doe"')
    assert selector.filter == Comparison("displayName", "=", Value("John Doe", quoted=True))  # type: ignore[union-attr]


def test_a_greater_or_equal_filter() -> None:
    assert only_step("AcmeTask(priority >= 3).fields{title}").selector == where("priority >= 3")


def test_parentheses_and_quotes_inside_a_filter_are_balanced() -> None:
    text = 'AcmeTask(title = "a) b" OR (title = \'c (d\' AND title ~= "\\")")).fields{title}'
    parsed = only_step(text)
    assert parsed.selector == where('title = "a) b" OR (title = \'c (d\' AND title ~= "\\")")')
    assert parsed.operations == (fields("title"),)


# -- sequential plans ---------------------------------------------------------------------------


def test_three_sequential_steps() -> None:
    plan = parse_plan(
        "AcmeWorkspace(#root).collection{teams}\n"
        "AcmeTeam(*).fields{name}\n"
        "AcmeUser(*).fields{email}"
    )
    assert plan == PlanAst(
        (
            step("AcmeWorkspace", IdSelector("root"), collection("teams")),
            step("AcmeTeam", AllSelector(), fields("name")),
            step("AcmeUser", AllSelector(), fields("email")),
        )
    )


def test_chained_steps_in_the_middle() -> None:
    plan = parse_plan(
        "AcmeWorkspace(#root).collection{teams}\n"
        "AcmeTeam(*)\n"
        "  .fields{name}\n"
        "  .collection{members}\n"
        "AcmeUser(*).fields{email}"
    )
    assert [len(e.operations) for e in plan.entries] == [1, 2, 1]  # type: ignore[union-attr]
    assert plan.entries[2] == step("AcmeUser", AllSelector(), fields("email"))


def test_blank_lines_between_entries() -> None:
    plan = parse_plan("A(*).fields{a}\n\n\n  \nB(*).fields{b}\n\t\nC(*).fields{c}")
    assert [e.entity_type for e in plan.entries] == ["A", "B", "C"]  # type: ignore[union-attr]


# -- concurrent blocks --------------------------------------------------------------------------


def test_a_concurrent_block() -> None:
    plan = parse_plan(
        "Concurrently {\n  AcmeUser(*).fields{displayName}\n  AcmeProject(*).fields{name}\n}"
    )
    assert plan == PlanAst(
        (
            ConcurrentNode(
                (
                    step("AcmeUser", AllSelector(), fields("displayName")),
                    step("AcmeProject", AllSelector(), fields("name")),
                )
            ),
        )
    )
    assert plan.entries[0].kind == "concurrent"


def test_a_concurrent_block_with_chained_operations() -> None:
    plan = parse_plan(
        "Concurrently {\n"
        "  AcmeUser(*).fields{displayName, email}\n"
        "  AcmeProject(*)\n"
        "    .fields{name, status}\n"
        "    .collection{issues}\n"
        "}"
    )
    block = plan.entries[0]
    assert isinstance(block, ConcurrentNode)
    assert block.steps[1] == step(
        "AcmeProject", AllSelector(), fields("name", "status"), collection("issues")
    )


def test_concurrent_blocks_mixed_with_sequential_entries() -> None:
    plan = parse_plan(
        "AcmeWorkspace(#root).collection{teams}\n"
        "Concurrently {\n"
        "  AcmeUser(*).fields{email}\n"
        "  AcmeTeam(*).fields{name}\n"
        "}\n"
        "AcmeIssue(*).fields{title}"
    )
    assert [e.kind for e in plan.entries] == ["step", "concurrent", "step"]


def test_a_one_line_block_and_a_type_named_like_the_keyword() -> None:
    plan = parse_plan("Concurrently { A(*).fields{a} }\nConcurrently(*).fields{x}")
    assert plan.entries == (
        ConcurrentNode((step("A", AllSelector(), fields("a")),)),
        step("Concurrently", AllSelector(), fields("x")),
    )


# -- a realistic plan ---------------------------------------------------------------------------

REALISTIC = """\
AcmeWorkspace(#root).collection{teams}

AcmeTeam(*)
  .fields{name, key}
  .collection{members}
  .collection{projects}

Concurrently {
  AcmeUser(*).fields{displayName, email}
  AcmeProject(*)
    .fields{name, status}
    .collection{issues}
}

AcmeIssue(*).fields{title, priority}
"""


def test_a_full_realistic_plan() -> None:
    plan = parse_plan(REALISTIC)
    assert len(plan.entries) == 4
    assert [e.kind for e in plan.entries] == ["step", "step", "concurrent", "step"]
    assert [len(s.operations) for s in iter_plan_steps(plan)] == [1, 3, 1, 2, 1]
    assert plan.operation_count == 8
    assert plan.text == REALISTIC.strip()
    block = plan.entries[2]
    assert isinstance(block, ConcurrentNode) and len(block.steps) == 2
    assert plan.entries[3] == step("AcmeIssue", AllSelector(), fields("title", "priority"))


# -- whitespace ---------------------------------------------------------------------------------


def test_whitespace_is_tolerated_where_the_grammar_allows_it() -> None:
    expected = step("AcmeUser", AllSelector(), fields("name", "email"))
    for text in (
        "  AcmeUser( * ).fields{ name , email }  ",
        "\n\nAcmeUser(\t*\t).fields {name,email}\n\n",
        "AcmeUser(*)  .fields\t{ name,\temail }",
        "AcmeUser(*)\r\n  .fields{name, email}\r\n",
    ):
        assert only_step(text) == expected, text
    assert only_step("AcmeWorkspace( #ws1 ).collection{*}").selector == IdSelector("ws1")
    assert only_step("AcmeUser(   a = 1   ).fields{a}").selector == where("a = 1")
    assert parse_plan("Concurrently{A(*).fields{a}\n\n   B(*).fields{b}}").entries == (
        ConcurrentNode(
            (step("A", AllSelector(), fields("a")), step("B", AllSelector(), fields("b")))
        ),
    )


def test_positions_count_in_the_normalised_text() -> None:
    parsed = parse_plan("\r\n  A(*).fields{a}\r\nB(#x).fields{b}")
    assert parsed.text == "A(*).fields{a}\nB(#x).fields{b}"
    assert [e.index for e in parsed.entries] == [0, 15]


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason", "index"),
    [
        ("", "Empty sync plan", 0),
        (" \r\n\t ", "Empty sync plan", 0),
        (
            "acmeUser(*).fields{name}",
            '"acmeUser" is not an entity type: entity types start with an upper-case letter '
            "(see max schema)",
            0,
        ),
        (
            "AcmeUser(*)",
            "Expected an operation after AcmeUser(…) — .fields{…} or .collection{…} — but found "
            "the end of the plan",
            11,
        ),
        (
            "AcmeUser().fields{name}",
            "Empty selector: write * (every entity), #id (one entity) or a filter",
            9,
        ),
        ("AcmeUser(   ).fields{name}", "Empty selector: write * (every entity), #id", 12),
        ("AcmeUser(*x).fields{a}", 'Expected ")" after "*" but found "x).fields{a}"', 10),
        ("AcmeUser(#).fields{a}", 'Expected an id after "#" but found ").fields{a}"', 10),
        ("AcmeUser(#a/b).fields{a}", 'Expected ")" after the id but found "/b).fields{a}"', 11),
        ("AcmeUser(*", 'Missing ")" to close the "(" at position 8', 10),
        ("AcmeUser(a = (1).fields{a}", 'Missing ")" to close the "(" at position 8', 26),
        ("AcmeUser (*).fields{a}", 'Expected "(" after AcmeUser but found " (*).fields{a}"', 8),
        (
            "A(*).fields{a} B(*).fields{b}",
            'Unexpected input "B(*).fields{b}"; put each entry on its own line',
            15,
        ),
        ("A(*).fields{a} junk", 'Unexpected input "junk"; put each entry on its own line', 15),
        (
            "A(*).fields{a}\n.",
            'Expected fields{…} or collection{…} after "." but found the end of the plan',
            16,
        ),
        ("A(*)..fields{a}", 'Expected fields{…} or collection{…} after "." but found ".fi', 5),
        ("A(*).field{x}", 'Unknown operation "field"; expected fields{…} or collection{…}', 5),
        ("A(*).fields", 'Expected "{" after fields but found the end of the plan', 11),
        ("A(*).fields{}", "Empty fields{}: list the names or write fields{*}", 12),
        ("A(*).collection{ }", "Empty collection{}: list the names or write collection{*}", 17),
        ("A(*).fields{a,\nb}", "Line break inside fields{…}: write its list on one line", 14),
        ("A(*).fields{a\n}", "Line break inside fields{…}: write its list on one line", 13),
        ("A(*).fields{*, a}", 'Expected "}" after "*" but found ", a}"', 13),
        ("A(*).fields{a b}", 'Expected "," or "}" after "a" but found "b}"', 14),
        ("A(*).fields{a.b}", 'Expected "," or "}" after "a" but found ".b}"', 13),
        ("A(*).fields{a,}", 'Expected a name in fields{…} but found "}"', 14),
        ("A(*).fields{a", 'Missing "}" to close the "{" at position 11', 13),
        ("Concurrently {}", "A Concurrently block needs at least one step", 14),
        ("Concurrently {\n\n}", "A Concurrently block needs at least one step", 16),
        ("Concurrently { A(*).fields{a}", 'Missing "}" to close the "{" at position 13', 29),
        (
            "Concurrently { A(*).fields{a} B(*).fields{b} }",
            'Unexpected input "B(*).fields{b} }"; put each step on its own line',
            30,
        ),
        (
            "Concurrently {\n Concurrently { A(*).fields{a} }\n}",
            "Concurrently blocks cannot be nested",
            16,
        ),
        (
            "Concurrently\n{ A(*).fields{a} }",
            'Expected "{" after Concurrently (on the same line) but found a line break',
            12,
        ),
        (
            "Concurrently { * }",
            'Expected a step (EntityType(selector).operation) but found "* }"',
            15,
        ),
        (
            "A(*).fields{a}\n}",
            'Expected a step (EntityType(selector).operation) or "Concurrently {" but found "}"',
            15,
        ),
        ('A(name = "x).fields{a}', 'Unterminated quoted value (no closing ")', 9),
        ("A(*).fields{a}\n#b", 'Expected a step (EntityType(selector).operation) or "Concurre', 15),
    ],
)
def test_errors_name_the_reason_and_position(text: str, reason: str, index: int) -> None:
    err = parse_error(text)
    assert err.data["reason"].startswith(reason), err.data["reason"]
    assert err.data["index"] == index
    assert err.data["expression"] == text.replace("\r\n", "\n").strip()
    assert err.message == f"Invalid sync plan — {err.data['reason']} (at position {index})"
    assert "\n" not in err.message


@pytest.mark.parametrize(
    ("text", "reason", "index"),
    [
        ("AcmeUser(!!!).fields{name}", 'Expected a field name or "(" but found "!!!"', 9),
        ("AcmeUser(  a = 1 AND  ).fields{x}", "Expected a condition after AND", 20),
        ("AcmeUser(a = 1 b = 2).fields{x}", 'Unexpected "b"; expected AND, OR or', 15),
        ("X(*).fields{a}\nAcmeUser(a ? 1).fields{x}", "Expected an operator (=, !=,", 26),
    ],
)
def test_a_bad_filter_is_a_plan_error_positioned_in_the_plan(
    text: str, reason: str, index: int
) -> None:
    err = parse_error(text)
    assert err.data["reason"].startswith(f"in the filter: {reason}"), err.data["reason"]
    assert err.data["index"] == index
    assert err.cause is not None and ErrFilterParseFailed.matches(err.cause)
    assert err.message.startswith("Invalid sync plan — in the filter: ")


# -- robustness ---------------------------------------------------------------------------------

plan_like_text = st.lists(
    st.one_of(
        st.sampled_from(list("AaZz(){}.,*#_-:@ \t\r\n\"'\\=<>~!&\u00a0")),
        st.sampled_from(["Concurrently", "fields", "collection", "AcmeUser", " AND ", " OR "]),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(plan_like_text)
def test_any_text_parses_or_fails_with_a_positioned_plan_error(text: str) -> None:
    try:
        plan = parse_plan(text)
    except MaxError as err:
        assert ErrPlanParseFailed.matches(err), err
        assert 0 <= err.data["index"] <= len(err.data["expression"])
        assert "\n" not in err.message
        return
    assert plan.entries and all(s.operations for s in iter_plan_steps(plan))
