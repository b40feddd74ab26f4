"""The step DAG of a stage: validation, levelling and downstream closure. Pure functions.

A stage's steps form a graph through ``dependsOn``. Scheduling a stage checks, in the
contract's order: duplicate ids, dependencies on ids outside the request, then
cycles (a maxtrio addition, D5 — the reference would hang forever). :func:`level_steps` groups
steps into levels that can run together; :func:`downstream` finds the steps a failure cascades to
and a step retry resets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import attrs

from ._errors import ErrCircularDependency, ErrDuplicateStepIds, ErrUnknownDependency

Graph = Mapping[str, Sequence[str]]
"""Step id → ids it depends on, in request (or storage) order."""

CYCLE_IDS_SHOWN = 20  # a 10,000-step cycle names 20 of its steps, then counts the rest


def check_stage_graph(steps: Sequence[tuple[str, Sequence[str]]]) -> dict[str, Sequence[str]]:
    """Validate a stage's ``(id, dependsOn)`` pairs and return them as a graph."""
    graph: dict[str, Sequence[str]] = {}
    for step_id, depends_on in steps:
        if step_id in graph:
            raise ErrDuplicateStepIds()
        graph[step_id] = depends_on
    for step_id, depends_on in graph.items():
        for dependency in depends_on:
            if dependency not in graph:
                raise ErrUnknownDependency(step=step_id, dependency=dependency)
    level_steps(graph)
    return graph


def level_steps(graph: Graph) -> list[list[str]]:
    """Kahn levelling: level 0 has no dependencies, level n depends only on levels < n.

    Linear in steps plus edges, and iterative (a 10,000-step chain is 10,000 levels, not a
    recursion). Each level lists its steps in graph order. Dependencies outside the graph are
    ignored. Raise ``flows.circular_dependency`` naming the steps that lie on a cycle
    (self-dependencies included), in graph order.
    """
    edges = _edges(graph)
    waiting = {step_id: len(deps) for step_id, deps in edges.dependencies.items()}
    position = {step_id: index for index, step_id in enumerate(graph)}
    levels: list[list[str]] = []
    level = [step_id for step_id, count in waiting.items() if count == 0]
    while level:
        levels.append(level)
        following: list[str] = []
        for step_id in level:
            for child in edges.dependants[step_id]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    following.append(child)
        level = sorted(following, key=position.__getitem__)
    if sum(len(each) for each in levels) < len(graph):
        blocked = [step_id for step_id, count in waiting.items() if count > 0]
        raise ErrCircularDependency(ids=_id_list(_on_cycles(edges, blocked)))
    return levels


def downstream(graph: Graph, roots: Iterable[str]) -> list[str]:
    """Every step that depends on one of ``roots`` directly or transitively, in graph order."""
    dependants: dict[str, list[str]] = {}
    for step_id, deps in graph.items():
        for dep in deps:
            dependants.setdefault(dep, []).append(step_id)
    seen: set[str] = set()
    frontier = list(roots)
    while frontier:
        for child in dependants.get(frontier.pop(), ()):
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    return [step_id for step_id in graph if step_id in seen]


@attrs.frozen
class _Edges:
    """A graph's edges both ways, duplicates and outside dependencies dropped."""

    dependencies: dict[str, set[str]]
    dependants: dict[str, list[str]]


def _edges(graph: Graph) -> _Edges:
    dependencies = {step_id: {d for d in deps if d in graph} for step_id, deps in graph.items()}
    dependants: dict[str, list[str]] = {step_id: [] for step_id in graph}
    for step_id, deps in dependencies.items():
        for dep in deps:
            dependants[dep].append(step_id)
    return _Edges(dependencies, dependants)


def _on_cycles(edges: _Edges, blocked: list[str]) -> list[str]:
    """Of the ``blocked`` steps (those Kahn could not place), the ones that lie on a cycle.

    Kosaraju's strongly connected components, with explicit stacks (no recursion, linear): a
    step lies on a cycle iff its component has more than one step or it depends on itself.
    Steps that merely hang off a cycle, or sit between two, are not named.
    """
    alive = set(blocked)
    finished: list[str] = []
    seen: set[str] = set()
    for root in blocked:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(edges.dependencies[root]))]
        while stack:
            node, deps = stack[-1]
            for dep in deps:
                if dep in alive and dep not in seen:
                    seen.add(dep)
                    stack.append((dep, iter(edges.dependencies[dep])))
                    break
            else:
                stack.pop()
                finished.append(node)
    component: dict[str, str] = {}
    for root in reversed(finished):
        if root in component:
            continue
        component[root] = root
        frontier = [root]
        while frontier:
            for child in edges.dependants[frontier.pop()]:
                if child in alive and child not in component:
                    component[child] = root
                    frontier.append(child)
    sizes = Counter(component.values())
    return [
        step_id
        for step_id in blocked
        if sizes[component[step_id]] > 1 or step_id in edges.dependencies[step_id]
    ]


def _id_list(ids: list[str]) -> str:
    """Comma-separated ids; a long list names the first ones and counts the rest."""
    if len(ids) <= CYCLE_IDS_SHOWN:
        return ", ".join(ids)
    hidden = len(ids) - CYCLE_IDS_SHOWN
    return ", ".join(ids[:CYCLE_IDS_SHOWN]) + f" … ({hidden} more)"
