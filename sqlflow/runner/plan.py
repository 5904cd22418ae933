"""A plan is data: the steps a command will run, in order, and what each step waits for.

`build_plan` keeps the selected nodes a command runs, orders them through the graph, and makes each step
wait only for selected steps upstream (through unselected nodes too, so order is kept). `describe_plan`
prints it for --dry-run. The rules, per command:

- `run`: models (never ephemeral ones, they are inlined), sensors, and tests that act as sensors (a `sensor`
  config); no other test, as in dbt. With `audit` (`run --audit`, `flags: {run_audits: true}`), every
  table, incremental, seed or view step also gets its *audits*: the enabled tests of severity error
  attached to it (from the manifest, selected or not) whose other inputs are upstream of it in the plan or
  not in the plan at all. They run inside the step's transaction (write-audit-publish) and appear as
  steps of their own (`audit_of`), whose results the model step reports.
- `build`: seeds, models, snapshots, sensors and tests. A unit test runs before the model it tests (after
  that model's parents), and the model waits for it. A selected test of severity error becomes an audit
  of its node as above (snapshots are audited like tables); the other selected tests run as steps after
  what they test. A test of severity error (not an audit) makes the children of what it tests wait for
  it; warn tests gate nothing.
- `seed`: seeds; `snapshot`: snapshots (a full refresh never rebuilds one: its history would be lost);
  `test`: tests, each run once against the relations that exist (no audits, no re-poke).
- Sensors are planned when selected (the `+` operator selects those upstream of a node; api code that
  wants `--select orders` to wait for orders' sensors adds `upstream_sensors(...)` to the selection). A
  test on sources only (a source test) makes every step downstream of those sources wait for it, in
  `build`, and in `run` when it is a sensor.

Pure; imports only `sqlflow.graph`, `sqlflow.manifest` and the stdlib.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlflow.errors import SelectionError
from sqlflow.graph import Dag
from sqlflow.manifest import Manifest, ModelNode, Relation, SensorNode, TestNode

Command = Literal["run", "seed", "snapshot", "test", "build"]

# what the selection of each command may hold (the api passes it to select_nodes)
COMMAND_RESOURCES: Mapping[str, frozenset[str]] = {
    "run": frozenset({"model", "sensor", "test"}),  # tests: only those that act as sensors are planned
    "seed": frozenset({"seed"}),
    "snapshot": frozenset({"snapshot"}),
    "test": frozenset({"test"}),
    "build": frozenset({"model", "seed", "snapshot", "test", "sensor"}),
}
AUDITED = frozenset({"table", "incremental", "seed", "view", "snapshot"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One node to run."""

    unique_id: str
    resource_type: str  # model, seed, snapshot, test, sensor
    name: str
    # view, table, incremental, seed, snapshot, test, or sensor (a sensor, or a test acting as one)
    materialized: str
    relation: Relation | None  # None for tests and sensors
    waits_for: tuple[str, ...] = ()  # unique ids of earlier steps, sorted
    audits: tuple[str, ...] = ()  # tests run inside this step's transaction, before it publishes
    audit_of: str | None = None  # for such a test: the step that runs it

    @property
    def waits(self) -> bool:
        """Whether the step polls until something outside holds (it must not hold a worker thread)."""
        return self.materialized == "sensor"


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
    audit: bool = False,
) -> Plan:
    """The steps `command` runs for the `selected` unique ids (see the module docstring for the rules).
    `audit` gives `run` the audits `build` always has."""
    if command not in COMMAND_RESOURCES:
        raise SelectionError(f"unknown command '{command}'", hint="use " + ", ".join(COMMAND_RESOURCES))
    kinds = COMMAND_RESOURCES[command]
    keep = {uid for uid in selected if _runs(manifest, uid, kinds, command)}
    audit_of: dict[str, str] = {}
    if command == "build" or (command == "run" and audit):
        candidates = manifest.tests() if command == "run" else (manifest.nodes[u] for u in keep)
        audit_of = _audits(manifest, dag, keep, candidates)
        keep |= audit_of.keys()
    sub = dag.subgraph(keep)
    parents: dict[str, set[str]] = {uid: set(sub.parents(uid)) for uid in keep}
    if command in ("run", "build"):
        gating = sorted(uid for uid in keep if _gates(manifest.nodes[uid], command, uid in audit_of))
        _gate_children_on_tests(manifest, dag, sub, parents, gating)
        _unit_tests_first(manifest, parents)
    order = Dag(parents).topological_order()
    audits: dict[str, list[str]] = {}
    for test, owner in audit_of.items():
        audits.setdefault(owner, []).append(test)
    steps = tuple(
        _step(
            manifest.nodes[uid],
            tuple(sorted(parents[uid])),
            command=command,
            audits=tuple(sorted(audits.get(uid, ()))),
            audit_of=audit_of.get(uid),
        )
        for uid in order
    )
    return Plan(command=command, steps=steps, full_refresh=full_refresh)


def upstream_sensors(manifest: Manifest, dag: Dag, selected: Iterable[str]) -> frozenset[str]:
    """The sensors upstream of the selected nodes, and the enabled sensor tests on those nodes' upstream
    sources and models, not already selected: what `run`/`build` of the selection should wait for."""
    chosen = frozenset(selected)
    above = dag.upstream(uid for uid in chosen if uid in dag)
    sensors = {uid for uid in above if isinstance(manifest.nodes.get(uid), SensorNode)}
    reach = above | chosen
    for test in manifest.tests():
        if (
            test.config.sensor
            and test.config.enabled
            and test.depends_on
            and reach.issuperset(test.depends_on)
        ):
            sensors.add(test.unique_id)
    return frozenset(sensors - chosen)


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
        waiting = f"waits for: {waits}" if waits else ""
        if step.audit_of is not None:
            others = ", ".join(names[uid] for uid in step.waits_for if uid != step.audit_of)
            waiting = f"audit of {names[step.audit_of]}" + (f", waits for: {others}" if others else "")
        rows.append(
            (
                f"{i:>{width}}/{len(plan.steps)}",
                step.resource_type,
                step.name,
                materialized,
                str(step.relation) if step.relation else "-",
                waiting,
            )
        )
    widths = [max((len(row[col]) for row in rows), default=0) for col in range(5)]
    return [
        " ".join(cell.ljust(widths[col]) if col < 5 else cell for col, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def _runs(manifest: Manifest, uid: str, kinds: frozenset[str], command: str) -> bool:
    node = manifest.nodes.get(uid)
    if node is None or node.resource_type not in kinds:
        return False
    if isinstance(node, SensorNode):
        return True
    if not node.config.enabled:
        return False
    if isinstance(node, TestNode):
        return command != "run" or bool(node.config.sensor)
    return not (node.resource_type == "model" and node.config.materialized == "ephemeral")


def _unit_tests_first(manifest: Manifest, parents: dict[str, set[str]]) -> None:
    """A planned unit test runs before the model it tests, as in dbt: it waits for that model's planned
    parents (its inputs' real relations give the fixtures' column types), and the model waits for it."""
    units = [
        (uid, node.attached_node)
        for uid, node in ((u, manifest.nodes[u]) for u in sorted(parents))
        if isinstance(node, TestNode) and node.test_type == "unit" and node.attached_node in parents
    ]
    inputs = {model: set(parents[model]) for _, model in units}
    for uid, model in units:
        parents[uid] = (parents[uid] - {model}) | inputs[model]
        parents[model].add(uid)


def _blocking(node: object) -> bool:
    """A test of severity error that is not a sensor (nor a unit test): one that can audit a node."""
    return (
        isinstance(node, TestNode)
        and node.test_type != "unit"
        and node.config.enabled
        and not node.config.sensor
        and node.config.severity.lower() != "warn"
        and bool(node.depends_on)
    )


def _audits(manifest: Manifest, dag: Dag, keep: set[str], candidates: Iterable[object]) -> dict[str, str]:
    """test unique id -> the step it audits: a table, incremental, seed, snapshot or view step among the
    test's inputs that every other planned input is upstream of (the attached node first). Only a test whose
    model and snapshot inputs are all built by the plan audits (seeds and sources are read as they are)."""
    out: dict[str, str] = {}
    for test in candidates:
        if not _blocking(test):
            continue
        assert isinstance(test, TestNode)
        planned = [dep for dep in test.depends_on if dep in keep]
        if any(_built_elsewhere(manifest.nodes.get(dep)) for dep in test.depends_on if dep not in keep):
            # it reads a model or snapshot this command does not build, which may not exist yet (an eagerly
            # selected relationships test): a plain test after its parents, as in dbt, never a gate
            continue
        owners = [dep for dep in planned if _audited(manifest.nodes.get(dep))]
        if test.attached_node in owners:
            owners.remove(test.attached_node)
            owners.insert(0, test.attached_node)
        for owner in owners:
            others = [dep for dep in planned if dep != owner]
            if not others or dag.ancestors(owner).issuperset(others):
                out[test.unique_id] = owner
                break
    return out


def _built_elsewhere(node: object) -> bool:
    """A model or snapshot (not a seed, which `sqlflow seed` loads, nor a source, which is there)."""
    return isinstance(node, ModelNode) and node.resource_type in ("model", "snapshot")


def _audited(node: object) -> bool:
    if not isinstance(node, ModelNode):
        return False
    return node.build_kind in AUDITED


def _gates(node: object, command: str, is_audit: bool) -> bool:
    """Whether the children of what a planned test tests wait for it."""
    if not isinstance(node, TestNode) or node.test_type == "unit":  # a unit test gates its model only
        return False
    if node.config.sensor:
        return True
    return (command == "build" or is_audit) and node.config.severity.lower() != "warn"


def _step(
    node: ModelNode | TestNode | SensorNode,
    waits_for: tuple[str, ...],
    *,
    command: str,
    audits: tuple[str, ...],
    audit_of: str | None,
) -> Step:
    if isinstance(node, SensorNode):
        return Step(
            unique_id=node.unique_id,
            resource_type="sensor",
            name=node.name,
            materialized="sensor",
            relation=None,
            waits_for=waits_for,
        )
    if isinstance(node, TestNode):
        sensor = bool(node.config.sensor) and command != "test"
        return Step(
            unique_id=node.unique_id,
            resource_type="test",
            name=node.name,
            materialized="sensor" if sensor else "test",
            relation=None,
            waits_for=waits_for,
            audit_of=audit_of,
        )
    return Step(
        unique_id=node.unique_id,
        resource_type=node.resource_type,
        name=node.name,
        materialized=node.build_kind,
        relation=node.relation,
        waits_for=waits_for,
        audits=audits,
    )


def _gate_children_on_tests(
    manifest: Manifest, dag: Dag, sub: Dag, parents: dict[str, set[str]], tests: list[str]
) -> None:
    """Make the children of what each gating test tests wait for it, unless that would close a cycle.

    A test with one planned parent can always gate that parent's children. A test with several (e.g.
    relationships) may depend on a child of one of them; such an edge is added only when the child does
    not already lead to the test. A test none of whose parents is planned (a test on a source) gates the
    nearest planned steps downstream of its parents.
    """
    tested = {uid: sorted(dep for dep in manifest.nodes[uid].depends_on if dep in parents) for uid in tests}
    anchored = sorted(t for t in tests if not tested[t] and manifest.nodes[t].depends_on)
    outside = {dep for t in anchored for dep in manifest.nodes[t].depends_on}
    around = dag.subgraph(parents.keys() | outside) if outside else sub
    children: dict[str, set[str]] = {uid: set() for uid in parents}
    for uid, ups in parents.items():
        for up in ups:
            children[up].add(uid)

    def kids(dep: str) -> Iterable[str]:
        graph = sub if dep in parents else around
        return sorted(child for child in graph.children(dep) if child in parents)

    single = [t for t in tests if len(tested[t]) == 1]
    multi = [t for t in tests if len(tested[t]) > 1]
    for test in single + multi + anchored:
        deps = tested[test] or sorted(manifest.nodes[test].depends_on)
        for dep in deps:
            for child in kids(dep):
                if manifest.nodes[child].resource_type == "test" or test in parents[child] or child == test:
                    continue
                if (test not in single) and _reaches(children, child, test):
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
