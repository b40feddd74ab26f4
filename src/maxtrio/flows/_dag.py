"""The step DAG of a stage: validation, levelling and downstream closure. Pure functions.

A stage's steps form a graph through ``dependsOn``. Scheduling a stage checks, in the
contract's order (spec §5.8): duplicate ids, dependencies on ids outside the request, then
cycles (a maxtrio addition, D5 — the reference would hang forever). :func:`level_steps` groups
steps into levels that can run together; :func:`downstream` finds the steps a failure cascades to
and a step retry resets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ._errors import ErrCircularDependency, ErrDuplicateStepIds, ErrUnknownDependency

Graph = Mapping[str, Sequence[str]]
"""Step id → ids it depends on, in request (or storage) order."""


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

    Dependencies outside the graph are ignored. Raise ``flows.circular_dependency`` naming the
    steps that lie on a cycle (self-dependencies included), in graph order.
    """
    remaining = {step_id: {dep for dep in deps if dep in graph} for step_id, deps in graph.items()}
    levels: list[list[str]] = []
    while remaining:
        ready = [step_id for step_id, deps in remaining.items() if not deps]
        if not ready:
            raise ErrCircularDependency(ids=", ".join(_on_cycles(remaining)))
        levels.append(ready)
        for step_id in ready:
            del remaining[step_id]
        for deps in remaining.values():
            deps.difference_update(ready)
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


def _on_cycles(remaining: dict[str, set[str]]) -> list[str]:
    """Peel off steps that only lead into or out of cycles; what is left lies on one."""
    nodes = {step_id: set(deps) for step_id, deps in remaining.items()}
    changed = True
    while changed:
        changed = False
        depended_on = {dep for deps in nodes.values() for dep in deps}
        for step_id in list(nodes):
            if not nodes[step_id] & nodes.keys() or step_id not in depended_on:
                del nodes[step_id]
                changed = True
        for deps in nodes.values():
            deps.intersection_update(nodes.keys())
    return [step_id for step_id in remaining if step_id in nodes]
