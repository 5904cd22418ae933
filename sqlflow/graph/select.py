"""`--select` / `--exclude`: dbt's node selection grammar, parsed into data, then matched node by node.

Grammar. Each string may hold several terms separated by spaces, whose matches are united; a term joins
parts with commas, and matches what all its parts match::

    part   := ["@"] [[N] "+"] [method ":"] value ["+" [N]]
    method := fqn | name | tag | path | file | package | config.<key>[.<key>...] | resource_type
            | source | sensor | test_type | test_name | result              (see sqlflow.graph.methods)

A bare value is `path:` when it looks like a file or folder (holds a "/" or ends in .sql, .csv, .yml or
.yaml), else `fqn:`: a node name, package, unique id or dotted fqn prefix (`staging.*`,
`shop.staging.stg_orders`), shell wildcards allowed. Graph operators: `+x` adds every ancestor of x, `2+x`
those up to two steps up, `x+` / `x+2` the same for descendants, `@x` adds x's descendants and every ancestor
of those (`@` cannot take a `+` prefix).

Semantics of `select_nodes`: an empty `select` selects every node; the nodes matched by `exclude` are then
removed. Tests follow their parents (dbt's indirect selection, `indirect`): with `eager` (the default, as
dbt) a test any of whose parents (`depends_on`) is selected is added; with `cautious`, a test whose parents
are all selected; with `buildable`, a test with a selected parent whose other parents are selected or
upstream of the selection; with `empty`, no test is added (a test is selected only by naming it). In every
mode a test with any parent excluded is removed; sensor parents do not count here (a test waiting on a
sensor follows the data it tests). Last, `resource_types` keeps only nodes of those types
("model", "seed", "snapshot", "test", "source", "sensor"). Sources are never run, but may be selected as
anchors (`source:shop+`); a runner drops them. Sensors are nodes like models: a sensor is an ancestor of
the nodes that depend on it, so `+orders` selects the sensors orders waits for, and `sensor:landing+` what
waits.

Errors. Malformed input (an unknown method, an empty value, a bad operator, an unknown config key, resource
type or test type, `result:` without previous results) raises SelectionError (exit code 2) before anything
is matched. A term that matches nothing is not an error: it adds nothing. `unmatched_terms` lists such
terms, so the CLI can warn `nothing matched 'foo'`.

Pure; imports only `sqlflow.manifest`, `sqlflow.errors` and the stdlib.

>>> [part.text for term in parse_selection(["+orders,tag:nightly stg_*"]) for part in term.parts]
['+orders', 'tag:nightly', 'stg_*']
>>> part = parse_selection(["2+config.materialized:table+"])[0].parts[0]
>>> part.method, part.keys, part.value, part.parents_depth, part.children, part.children_depth
('config', ('materialized',), 'table', 2, True, None)
>>> parse_selection(["tga:nightly"])
Traceback (most recent call last):
...
sqlflow.errors.SelectionError: unknown selector method 'tga' in 'tga:nightly' (did you mean 'tag'?)
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlflow.errors import SelectionError, did_you_mean
from sqlflow.graph.dag import Dag
from sqlflow.graph.methods import METHODS, RESOURCE_TYPES, MethodCall, Predicate
from sqlflow.manifest import Manifest

_PART = re.compile(
    r"""
    (?P<at>@)?
    (?:(?P<parents_depth>\d*)(?P<parents>\+))?
    (?:(?P<method>[A-Za-z_][\w.]*):)?
    (?P<value>.*?)
    (?:(?P<children>\+)(?P<children_depth>\d*))?
    """,
    re.VERBOSE,
)
_PATH_SUFFIXES = (".sql", ".csv", ".yml", ".yaml")
IndirectSelection = Literal["eager", "cautious", "buildable", "empty"]
INDIRECT_SELECTION: tuple[IndirectSelection, ...] = ("eager", "cautious", "buildable", "empty")


@dataclass(frozen=True, slots=True)
class Part:
    """One comma-separated part of a term: a method, its value and graph operators."""

    text: str
    method: str
    keys: tuple[str, ...]
    value: str
    parents: bool = False
    parents_depth: int | None = None  # None: all the way up
    children: bool = False
    children_depth: int | None = None
    at: bool = False


@dataclass(frozen=True, slots=True)
class Term:
    """One space-separated term: the intersection of its parts."""

    text: str
    parts: tuple[Part, ...]


def parse_selection(specs: Sequence[str]) -> tuple[Term, ...]:
    """Every term of the selector strings, in order; raises SelectionError on bad syntax or methods."""
    if isinstance(specs, str):
        raise TypeError("specs is a sequence of selector strings, not one string")
    terms: list[Term] = []
    for spec in specs:
        words = spec.split()
        if not words:
            raise SelectionError(f"empty selector '{spec}'", hint="give a node name, tag:x, path:y ...")
        terms.extend(Term(word, tuple(_parse_part(text, word) for text in word.split(","))) for word in words)
    return tuple(terms)


def _parse_part(text: str, term: str) -> Part:
    if not text:
        raise SelectionError(f"empty part in selector '{term}'", hint="remove the extra comma")
    found = _PART.fullmatch(text)
    assert found is not None  # every group is optional and the value takes anything
    if not found["value"]:
        raise SelectionError(f"empty value in selector '{text}'")
    if found["at"] and found["parents"]:
        raise SelectionError(
            f"'@' and a '+' prefix cannot be combined in '{text}'", hint="'@' already adds ancestors"
        )
    value = found["value"]
    if value.startswith("+") or value.endswith("+"):
        raise SelectionError(f"bad '+' in selector '{text}'", hint="write +x, 2+x, x+ or x+2")
    method, *keys = (found["method"] or _default_method(value)).split(".")
    if method not in METHODS:
        raise SelectionError(
            f"unknown selector method '{method}' in '{text}'",
            hint=did_you_mean(method, METHODS) or "methods: " + ", ".join(METHODS),
        )
    if any(not key for key in keys):
        raise SelectionError(f"empty key in selector '{text}'", hint="like config.materialized:table")
    return Part(
        text=text,
        method=method,
        keys=tuple(keys),
        value=value,
        parents=bool(found["parents"]),
        parents_depth=int(found["parents_depth"]) if found["parents_depth"] else None,
        children=bool(found["children"]),
        children_depth=int(found["children_depth"]) if found["children_depth"] else None,
        at=bool(found["at"]),
    )


def _default_method(value: str) -> str:
    looks_like_path = "/" in value or "\\" in value or value.endswith(_PATH_SUFFIXES)
    return "path" if looks_like_path else "fqn"


def select_nodes(
    manifest: Manifest,
    dag: Dag,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    *,
    previous_results: Mapping[str, str] | None = None,
    resource_types: Collection[str] | None = None,
    indirect: IndirectSelection = "eager",
) -> frozenset[str]:
    """The unique ids chosen by `select` minus `exclude`, with tests following their parents as `indirect`
    says.

    `previous_results` maps unique id -> status of the last run (for `result:`); `resource_types` keeps only
    those types in the answer. See the module docstring for the grammar and the rules.
    """
    if resource_types is not None:
        unknown = set(resource_types).difference(RESOURCE_TYPES)
        if unknown:
            raise ValueError(f"unknown resource types {sorted(unknown)}; expected some of {RESOURCE_TYPES}")
    if indirect not in INDIRECT_SELECTION:
        raise SelectionError(
            f"unknown indirect selection '{indirect}'",
            hint=did_you_mean(indirect, INDIRECT_SELECTION) or "use " + ", ".join(INDIRECT_SELECTION),
        )
    chosen = _Matcher(manifest, dag, previous_results, parse_selection(select))
    dropped = _Matcher(manifest, dag, previous_results, parse_selection(exclude))
    selected = chosen.union() if select else set(dag)
    excluded = dropped.union()
    sensors = {sensor.unique_id for sensor in manifest.sensors()}
    parents = {test.unique_id: set(test.depends_on) - sensors for test in manifest.tests()}
    parents = {uid: deps for uid, deps in parents.items() if deps}
    if excluded:
        excluded |= {uid for uid, deps in parents.items() if not excluded.isdisjoint(deps)}
    if select:
        selected |= _tests_of(dag, selected, parents, indirect)
    selected -= excluded
    if resource_types is not None:
        selected = {uid for uid in selected if manifest.get(uid).resource_type in resource_types}
    return frozenset(selected)


def _tests_of(
    dag: Dag, selected: set[str], parents: Mapping[str, set[str]], indirect: IndirectSelection
) -> set[str]:
    """The tests (unique id -> their non-sensor parents) that `indirect` adds to `selected`."""
    if indirect == "empty":
        return set()
    if indirect == "cautious":
        return {uid for uid, deps in parents.items() if selected.issuperset(deps)}
    touching = {uid for uid, deps in parents.items() if not selected.isdisjoint(deps)}
    if indirect == "eager":
        return touching
    buildable = selected | dag.upstream(uid for uid in selected if uid in dag)
    return {uid for uid in touching if buildable.issuperset(parents[uid])}


def unmatched_terms(
    manifest: Manifest,
    dag: Dag,
    specs: Sequence[str],
    *,
    previous_results: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """The terms of `specs` (as written, in order, once each) that match no node at all.

    Pass `[*select, *exclude]` to check both; the CLI warns `nothing matched '<term>'` for each.
    Matching is before exclusion and `resource_types`, so `source:shop` for `run` is not reported.
    """
    matcher = _Matcher(manifest, dag, previous_results, parse_selection(specs))
    missing = [term.text for term in matcher.terms if not matcher.term(term)]
    return tuple(dict.fromkeys(missing))


class _Matcher:
    """Evaluates parsed terms against one manifest; builds every predicate up front to report errors early."""

    def __init__(
        self,
        manifest: Manifest,
        dag: Dag,
        previous_results: Mapping[str, str] | None,
        terms: Iterable[Term],
    ) -> None:
        self.manifest = manifest
        self.dag = dag
        self.terms = tuple(terms)
        self.predicates: dict[Part, Predicate] = {}
        for term in self.terms:
            for part in term.parts:
                call = MethodCall(part.text, part.method, part.keys, part.value, previous_results)
                self.predicates[part] = METHODS[part.method](call)

    def union(self) -> set[str]:
        out: set[str] = set()
        for term in self.terms:
            out |= self.term(term)
        return out

    def term(self, term: Term) -> set[str]:
        first, *rest = term.parts
        out = self.part(first)
        for part in rest:
            if not out:
                break
            out &= self.part(part)
        return out

    def part(self, part: Part) -> set[str]:
        match = self.predicates[part]
        direct = {node.unique_id for node in self.manifest.all_nodes() if match(node)}
        out = set(direct)
        if part.at:
            below = self.dag.downstream(direct)
            out |= below
            out |= self.dag.upstream(direct | below)
            return out
        if part.parents:
            out |= self.dag.upstream(direct, part.parents_depth)
        if part.children:
            out |= self.dag.downstream(direct, part.children_depth)
        return out
