"""The dependency graph of a manifest: parents, children, ancestors, descendants and a deterministic order.

`build_dag` turns a `Manifest` into a `Dag` over every node (sources, models, seeds, tests), following each
node's `depends_on`. Edges run the way data flows: `a -> b` means b depends on (selects from) a, so a cycle
reads `a (models/a.sql) -> b (models/b.sql) -> a (models/a.sql)`.

Pure and deterministic: the topological order comes from `graphlib` with every ready set sorted, and a
cycle is reported as a shortest cycle starting from its smallest unique id. Imports only `sqlflow.manifest`,
`sqlflow.errors` and the stdlib.

>>> dag = Dag({"a": (), "b": ("a",), "c": ("a",), "d": ("c", "b")})
>>> dag.topological_order()
['a', 'b', 'c', 'd']
>>> sorted(dag.children("a")), sorted(dag.ancestors("d")), sorted(dag.descendants("a", depth=1))
(['b', 'c'], ['a', 'b', 'c'], ['b', 'c'])
>>> Dag({"a": ("b",), "b": ("a",)})
Traceback (most recent call last):
...
sqlflow.errors.CycleError: cycle: a -> b -> a
"""

from __future__ import annotations

import graphlib
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping

from sqlflow.errors import CycleError, SourceLocation, SqlflowError, did_you_mean
from sqlflow.manifest import Manifest


class Dag:
    """An immutable directed acyclic graph of unique ids, built from each node's parents.

    Every parent must itself be a node of the graph. Queries about an unknown id raise KeyError.
    """

    __slots__ = ("_children", "_order", "_parents")

    def __init__(self, parents: Mapping[str, Iterable[str]]) -> None:
        """Build the graph from `{uid: the uids it depends on}`; raises CycleError (with ids) on a cycle."""
        own: dict[str, tuple[str, ...]] = {uid: tuple(sorted(set(deps))) for uid, deps in parents.items()}
        children: dict[str, list[str]] = {uid: [] for uid in own}
        for uid, deps in own.items():
            for dep in deps:
                kids = children.get(dep)
                if kids is None:
                    raise ValueError(f"{uid} depends on {dep}, which is not a node of the graph")
                kids.append(uid)
        self._parents = own
        self._children = {uid: tuple(sorted(kids)) for uid, kids in children.items()}
        try:
            self._order = _sorted_order(own)
        except graphlib.CycleError as exc:
            path = _shortest_cycle(self._children, exc.args[1])
            raise CycleError("cycle: " + " -> ".join(path)) from None

    # -- neighbours ----------------------------------------------------------------------------------------

    def parents(self, uid: str) -> frozenset[str]:
        """The nodes `uid` depends on directly."""
        return frozenset(self._parents[uid])

    def children(self, uid: str) -> frozenset[str]:
        """The nodes that depend on `uid` directly."""
        return frozenset(self._children[uid])

    def ancestors(self, uid: str, depth: int | None = None) -> frozenset[str]:
        """Everything `uid` depends on, up to `depth` steps away (all when None); `uid` itself excluded.

        >>> sorted(Dag({"a": (), "b": ("a",), "c": ("b",)}).ancestors("c", depth=1))
        ['b']
        """
        self._parents[uid]  # KeyError for an unknown id
        return self.upstream((uid,), depth)

    def descendants(self, uid: str, depth: int | None = None) -> frozenset[str]:
        """Everything that depends on `uid`, up to `depth` steps away (all when None); `uid` excluded."""
        self._children[uid]
        return self.downstream((uid,), depth)

    def upstream(self, uids: Iterable[str], depth: int | None = None) -> frozenset[str]:
        """The ancestors of a set of nodes within `depth` steps of any of them, the set itself excluded."""
        return _reach(uids, self._parents, depth)

    def downstream(self, uids: Iterable[str], depth: int | None = None) -> frozenset[str]:
        """The descendants of a set of nodes within `depth` steps of any of them, the set itself excluded."""
        return _reach(uids, self._children, depth)

    # -- whole graph ---------------------------------------------------------------------------------------

    def topological_order(self) -> list[str]:
        """Every node, parents before children; ties broken by unique id, generation by generation."""
        return list(self._order)

    def subgraph(self, uids: Collection[str]) -> Dag:
        """The graph over `uids` only, keeping order through removed nodes.

        When a kept node depended on a removed one, it now depends on that node's nearest kept ancestors,
        so a runner working on a selection still runs `a` before `c` in `a -> b -> c` without `b`.

        >>> Dag({"a": (), "b": ("a",), "c": ("b",)}).subgraph({"a", "c"}).parents("c")
        frozenset({'a'})
        """
        keep = frozenset(uids)
        unknown = keep - self._parents.keys()
        if unknown:
            raise KeyError(min(unknown))
        # for every node (in order), the kept nodes reached first when walking up from it
        frontier: dict[str, frozenset[str]] = {}
        sub: dict[str, frozenset[str]] = {}
        for uid in self._order:
            reached: set[str] = set()
            for parent in self._parents[uid]:
                if parent in keep:
                    reached.add(parent)
                else:
                    reached |= frontier[parent]
            if uid in keep:
                sub[uid] = frozenset(reached)
            else:
                frontier[uid] = frozenset(reached)
        return Dag(sub)

    def __contains__(self, uid: object) -> bool:
        return uid in self._parents

    def __iter__(self) -> Iterator[str]:
        """The nodes in topological order."""
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        edges = sum(len(deps) for deps in self._parents.values())
        return f"<Dag {len(self)} nodes, {edges} edges>"


def build_dag(manifest: Manifest) -> Dag:
    """The graph of every node of `manifest` (sources, models, seeds, tests) along `depends_on`.

    Raises CycleError naming the whole cycle with files, located at its first node's file, and
    SqlflowError when a node depends on a unique id the manifest does not hold.
    """
    parents: dict[str, tuple[str, ...]] = {uid: () for uid in manifest.sources}
    for uid, node in manifest.nodes.items():
        parents[uid] = node.depends_on
    for node in manifest.nodes.values():
        for dep in node.depends_on:
            if dep not in parents:
                raise SqlflowError(
                    f"{node.unique_id} depends on unknown node '{dep}'",
                    location=SourceLocation(node.path, getattr(node, "line", None)),
                    hint=did_you_mean(dep, sorted(parents.keys() - {node.unique_id}))
                    or "recompile the project",
                )
    try:
        return Dag(parents)
    except CycleError:
        path = find_cycle(parents)
        assert path is not None
        steps = " -> ".join(f"{manifest.get(uid).name} ({manifest.get(uid).path})" for uid in path)
        raise CycleError(f"cycle: {steps}", location=SourceLocation(manifest.get(path[0]).path)) from None


def find_cycle(parents: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A shortest cycle of the graph `{uid: parents}` as a closed path in data-flow order, or None.

    The cycle is one through the smallest id of the cycle `graphlib` finds, presented from its own smallest
    id, so the answer does not depend on the mapping's order.

    >>> find_cycle({"c": ("b",), "b": ("a",), "a": ("c", "b")})
    ['a', 'b', 'a']
    >>> find_cycle({"a": (), "b": ("a",)}) is None
    True
    """
    own = {uid: tuple(sorted(set(deps))) for uid, deps in parents.items()}
    children: dict[str, list[str]] = {uid: [] for uid in own}
    for uid, deps in own.items():
        for dep in deps:
            children.setdefault(dep, []).append(uid)
    try:
        _sorted_order(own)
    except graphlib.CycleError as exc:
        return _shortest_cycle({uid: sorted(kids) for uid, kids in children.items()}, exc.args[1])
    return None


def _sorted_order(parents: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Kahn's algorithm through graphlib, each ready set sorted; raises graphlib.CycleError."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for uid in sorted(parents):
        sorter.add(uid, *parents[uid])
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return tuple(order)


def _shortest_cycle(children: Mapping[str, Iterable[str]], found: list[str]) -> list[str]:
    """A shortest cycle through the smallest node of `found`, rotated to start at its smallest node."""
    start = min(found)
    previous: dict[str, str] = {}
    queue = deque([start])
    last = start
    while queue:
        uid = queue.popleft()
        kids = children[uid]
        if start in kids:
            last = uid
            break
        for kid in kids:
            if kid not in previous:
                previous[kid] = uid
                queue.append(kid)
    path = [last]
    while path[-1] != start:
        path.append(previous[path[-1]])
    path.reverse()  # start ... last, and last -> start closes it
    first = path.index(min(path))
    ring = path[first:] + path[:first]
    return [*ring, ring[0]]


def _reach(
    starts: Iterable[str], neighbours: Mapping[str, tuple[str, ...]], depth: int | None
) -> frozenset[str]:
    """Breadth-first walk from `starts` along `neighbours`, at most `depth` steps, starts excluded."""
    if depth is not None and depth < 0:
        raise ValueError(f"depth must be 0 or more, not {depth}")
    origin = set(starts)
    seen = set(origin)
    layer = list(origin)
    steps = 0
    while layer and (depth is None or steps < depth):
        steps += 1
        following: list[str] = []
        for uid in layer:
            for other in neighbours[uid]:
                if other not in seen:
                    seen.add(other)
                    following.append(other)
        layer = following
    return frozenset(seen - origin)
