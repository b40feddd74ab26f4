"""DAG levelling and stage-graph checks (Decision D5)."""

from __future__ import annotations

import pytest

from maxtrio.core import MaxError
from maxtrio.flows import (
    ErrCircularDependency,
    ErrDuplicateStepIds,
    ErrUnknownDependency,
    check_stage_graph,
    downstream,
    level_steps,
)


def test_levels_of_a_diamond() -> None:
    graph = {"fetch": [], "left": ["fetch"], "right": ["fetch"], "join": ["left", "right"]}
    assert level_steps(graph) == [["fetch"], ["left", "right"], ["join"]]


def test_independent_steps_form_one_level() -> None:
    assert level_steps({"a": [], "b": [], "c": []}) == [["a", "b", "c"]]


def test_empty_graph_has_no_levels() -> None:
    assert level_steps({}) == []


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(MaxError) as caught:
        level_steps({"a": [], "b": ["b"]})
    assert ErrCircularDependency.matches(caught.value)
    assert caught.value.message == "Circular dependency detected among steps: b"


def test_cycle_names_only_the_steps_on_it() -> None:
    graph = {"start": [], "x": ["start", "z"], "y": ["x"], "z": ["y"], "after": ["z"]}
    with pytest.raises(MaxError) as caught:
        level_steps(graph)
    assert caught.value.message == "Circular dependency detected among steps: x, y, z"


def test_two_step_cycle() -> None:
    with pytest.raises(MaxError, match=r"among steps: a, b$"):
        level_steps({"a": ["b"], "b": ["a"]})


def test_unknown_dependency_is_reported_with_both_ids() -> None:
    with pytest.raises(MaxError) as caught:
        check_stage_graph([("a", []), ("b", ["a", "ghost"])])
    assert ErrUnknownDependency.matches(caught.value)
    assert caught.value.message == 'Step "b" depends on unknown step ID "ghost"'


def test_duplicates_are_checked_before_dependencies_and_cycles() -> None:
    with pytest.raises(MaxError) as caught:
        check_stage_graph([("a", ["ghost"]), ("a", ["a"])])
    assert ErrDuplicateStepIds.matches(caught.value)
    assert caught.value.message == "Duplicate step IDs detected - all step IDs must be unique"


def test_unknown_dependency_is_checked_before_cycles() -> None:
    with pytest.raises(MaxError) as caught:
        check_stage_graph([("a", ["a"]), ("b", ["ghost"])])
    assert ErrUnknownDependency.matches(caught.value)


def test_valid_graph_is_returned_in_request_order() -> None:
    graph = check_stage_graph([("b", []), ("a", ["b"])])
    assert list(graph) == ["b", "a"]


def test_downstream_is_transitive_and_in_graph_order() -> None:
    graph = {"a": [], "b": ["a"], "c": ["b"], "d": [], "e": ["d", "c"]}
    assert downstream(graph, ["a"]) == ["b", "c", "e"]
    assert downstream(graph, ["d"]) == ["e"]
    assert downstream(graph, ["e"]) == []


def test_downstream_survives_cycles() -> None:
    assert downstream({"a": ["b"], "b": ["a"]}, ["a"]) == ["a", "b"]


def chain(n: int) -> list[tuple[str, list[str]]]:
    return [(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(n)]


def test_a_10000_step_chain_is_10000_levels_without_recursion() -> None:
    graph = check_stage_graph(chain(10_000))
    levels = level_steps(graph)
    assert len(levels) == 10_000 and levels[-1] == ["s9999"]
    assert len(downstream(graph, ["s0"])) == 9_999


def test_a_10000_step_cycle_names_some_steps_and_counts_the_rest() -> None:
    steps = [(f"s{i}", [f"s{(i - 1) % 10_000}"]) for i in range(10_000)]
    with pytest.raises(MaxError) as caught:
        check_stage_graph(steps)
    assert ErrCircularDependency.matches(caught.value)
    shown = ", ".join(f"s{i}" for i in range(20))
    assert caught.value.message == (
        f"Circular dependency detected among steps: {shown} … (9980 more)"
    )


def test_steps_between_two_cycles_are_not_named() -> None:
    graph = {"a": ["b"], "b": ["a"], "mid": ["a"], "c": ["mid", "d"], "d": ["c"]}
    with pytest.raises(MaxError, match=r"among steps: a, b, c, d$"):
        level_steps(graph)
