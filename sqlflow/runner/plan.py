"""A plan is data: the steps a command will run, in order, and what each step waits for.

`build_plan` keeps the selected nodes a command runs (models for `run`, seeds for `seed`, tests for `test`,
all three for `build`; ephemeral models never, they are inlined), orders them through the graph, and makes
each step wait only for selected steps upstream (through unselected nodes too, so order is kept). In
`build`, the tests of a model also gate its children. `describe_plan` prints it for --dry-run.
Pure; imports only `sqlflow.graph`, `sqlflow.manifest` and the stdlib.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlflow.errors import SelectionError
from sqlflow.graph import Dag
from sqlflow.manifest import Manifest, ModelNode, Relation, TestNode

Command = Literal["run", "seed", "test", "build"]

COMMAND_RESOURCES: Mapping[str, frozenset[str]] = {
    "run": frozenset({"model"}),
    "seed": frozenset({"seed"}),
    "test": frozenset({"test"}),
    "build": frozenset({"model", "seed", "test"}),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One node to run."""

    unique_id: str
    resource_type: str  # model, seed, test
    name: str
    materialized: str  # view, table, incremental, seed, or test
    relation: Relation | None  # None for tests
    waits_for: tuple[str, ...] = ()  # unique ids of earlier steps, sorted


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    command: str
    steps: tuple[Step, ...]  # a deterministic topological order
    full_refresh: bool = False

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """(upstream, downstream) pairs: downstream waits for upstream."""
        return tuple((up, step.unique_id) for step in self.steps for up in step.waits_for)

    def by_id(self) -> dict[str, Step]:
        return {step.unique_id: step for step in self.steps}

    def __len__(self) -> int:
        return len(self.steps)


def build_plan(
    manifest: Manifest,
    dag: Dag,
    selected: Iterable[str],
    *,
    command: Command,
    full_refresh: bool = False,
) -> Plan:
    """The steps `command` runs for the `selected` unique ids."""
    if command not in COMMAND_RESOURCES:
        raise SelectionError(f"unknown command '{command}'", hint="use " + ", ".join(COMMAND_RESOURCES))
    kinds = COMMAND_RESOURCES[command]
    keep = {uid for uid in selected if _runs(manifest, uid, kinds)}
    sub = dag.subgraph(keep)
    parents: dict[str, set[str]] = {uid: set(sub.parents(uid)) for uid in keep}
    if command == "build":
        _gate_children_on_tests(manifest, sub, parents)
    order = Dag(parents).topological_order()
    steps = tuple(_step(manifest.nodes[uid], tuple(sorted(parents[uid]))) for uid in order)
    return Plan(command=command, steps=steps, full_refresh=full_refresh)


def describe_plan(plan: Plan) -> list[str]:
    """One line per step: index, kind, name, materialization, relation, what it waits for.

    >>> rel = Relation(database=None, schema="main", identifier="a")
    >>> plan = Plan(command="run", steps=(
    ...     Step(unique_id="model.p.a", resource_type="model", name="a", materialized="table", relation=rel),
    ...     Step(unique_id="test.p.t", resource_type="test", name="t", materialized="test", relation=None,
    ...          waits_for=("model.p.a",)),
    ... ))
    >>> for line in describe_plan(plan): print(line)
    1/2 model a table "main"."a"
    2/2 test  t test  -          waits for: a
    """
    names = {step.unique_id: step.name for step in plan.steps}
    width = len(str(len(plan.steps)))
    rows = []
    for i, step in enumerate(plan.steps, start=1):
        materialized = step.materialized
        if plan.full_refresh and materialized == "incremental":
            materialized += " (full refresh)"
        waits = ", ".join(names[uid] for uid in step.waits_for)
        rows.append(
            (
                f"{i:>{width}}/{len(plan.steps)}",
                step.resource_type,
                step.name,
                materialized,
                str(step.relation) if step.relation else "-",
                f"waits for: {waits}" if waits else "",
            )
        )
    widths = [max((len(row[col]) for row in rows), default=0) for col in range(5)]
    return [
        " ".join(cell.ljust(widths[col]) if col < 5 else cell for col, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def _runs(manifest: Manifest, uid: str, kinds: frozenset[str]) -> bool:
    node = manifest.nodes.get(uid)
    if node is None or not node.config.enabled or node.resource_type not in kinds:
        return False
    return not (
        isinstance(node, ModelNode)
        and node.resource_type == "model"
        and node.config.materialized == "ephemeral"
    )


def _step(node: ModelNode | TestNode, waits_for: tuple[str, ...]) -> Step:
    if isinstance(node, TestNode):
        return Step(
            unique_id=node.unique_id,
            resource_type="test",
            name=node.name,
            materialized="test",
            relation=None,
            waits_for=waits_for,
        )
    return Step(
        unique_id=node.unique_id,
        resource_type=node.resource_type,
        name=node.name,
        materialized="seed" if node.resource_type == "seed" else node.config.materialized,
        relation=node.relation,
        waits_for=waits_for,
    )


def _gate_children_on_tests(manifest: Manifest, sub: Dag, parents: dict[str, set[str]]) -> None:
    """Make the children of each tested model wait for its tests, unless that would close a cycle.

    A test with one parent can always gate that parent's children. A test with several parents (e.g.
    relationships) may depend on a child of one of them; such an edge is added only when the child does
    not already lead to the test.
    """
    tests = sorted(uid for uid in parents if manifest.nodes[uid].resource_type == "test")
    tested = {uid: sorted(dep for dep in manifest.nodes[uid].depends_on if dep in parents) for uid in tests}
    children: dict[str, set[str]] = {uid: set() for uid in parents}
    for uid, ups in parents.items():
        for up in ups:
            children[up].add(uid)
    single = [t for t in tests if len(tested[t]) == 1]
    multi = [t for t in tests if len(tested[t]) > 1]
    for test in single + multi:
        for model in tested[test]:
            for child in sorted(sub.children(model)):
                if manifest.nodes[child].resource_type == "test" or test in parents[child]:
                    continue
                if test in multi and _reaches(children, child, test):
                    continue
                parents[child].add(test)
                children[test].add(child)


def _reaches(children: Mapping[str, set[str]], start: str, goal: str) -> bool:
    """Whether `goal` is downstream of (or is) `start`."""
    seen = {start}
    todo = [start]
    while todo:
        uid = todo.pop()
        if uid == goal:
            return True
        for child in children[uid]:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return False
