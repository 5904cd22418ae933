"""Model and column lineage across a project: the upstream columns each output column of a model derives
from, and the walks up and down from a column.

Pure: a manifest and the columns already known (catalog, property YAML, seed headers) in, edges out.
Each model's compiled SQL is traced once (tracing.py: parsed with sqlglot, qualified against its parents'
columns so `select *` expands, followed through CTEs, subqueries, joins, set operations and scalar
subqueries; an inlined ephemeral model stops the walk at that model). Results are cached per model, and a
model is computed only when asked for (or when a child needs its columns). Imports no adapter, jinja2 or
click.

>>> from sqlflow.manifest import Manifest, ModelNode, NodeConfig, Relation
>>> def model(name, sql, deps=()):
...     rel = Relation(database=None, schema="main", identifier=name)
...     return ModelNode(unique_id=f"model.p.{name}", name=name, resource_type="model", package_name="p",
...         path=f"models/{name}.sql", fqn=("p", name), raw_sql=sql, checksum="", config=NodeConfig(),
...         relation=rel, compiled_sql=sql, depends_on=tuple(f"model.p.{d}" for d in deps))
>>> a = model("a", "select 1 as id, 2 as x")
>>> b = model("b", 'with t as (select id, x * 2 as y from "main"."a") select y as z from t', ["a"])
>>> m = Manifest(project_name="p", dialect="duckdb", target_dialect="duckdb",
...     nodes={"model.p.a": a, "model.p.b": b})
>>> Lineage(m).of("model.p.b").edges["z"]
(ColumnRef(node='model.p.a', column='x'),)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlflow.docs.tracing import (
    EXTERNAL,
    ColumnRef,
    ModelLineage,
    RelationIndex,
    Task,
    from_plain,
    model_lineage,
    to_plain,
)
from sqlflow.manifest import Manifest, ModelNode

CACHE_VERSION = 3  # bump when what model_lineage returns changes


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    """One edge of a transitive walk: `column` derives from `source`, `depth` edges from where it began."""

    depth: int
    column: ColumnRef
    source: ColumnRef


class Lineage:
    """The column lineage of a manifest's models, computed per model on demand and cached.

    `known` gives the columns of nodes whose SQL says nothing (seeds, sources) or says them better (the
    engine's catalog); the columns of a model come from its traced SQL, else from `known`, its inferred
    columns, then its property YAML.
    """

    def __init__(
        self,
        manifest: Manifest,
        known: Mapping[str, Sequence[str]] | None = None,
        *,
        cache: MutableMapping[str, Any] | None = None,
    ) -> None:
        self.manifest = manifest
        self.known = dict(known or {})
        self.store = cache if cache is not None else {}  # key of (SQL, parents' columns) -> plain result
        self.relations = RelationIndex(manifest)
        self._cache: dict[str, ModelLineage] = {}
        self._children: dict[str, list[str]] | None = None

    def of(self, unique_id: str) -> ModelLineage:
        """The lineage of one model, seed, snapshot or source (no edges for a node without SQL)."""
        found = self._cache.get(unique_id)
        if found is not None:
            return found
        pending = [unique_id]  # parents whose columns are needed first, without recursion
        while pending:
            uid = pending[-1]
            if uid in self._cache:
                pending.pop()
                continue
            node = self.manifest.nodes.get(uid)
            if isinstance(node, ModelNode) and node.compiled_sql:
                missing = [d for d in node.depends_on if d not in self._cache and self._needs_trace(d)]
                if missing:
                    pending.extend(missing)
                    continue
            self._cache[uid] = self._compute(uid)
            pending.pop()
        return self._cache[unique_id]

    def columns(self, unique_id: str) -> tuple[str, ...]:
        return self.of(unique_id).columns

    def _needs_trace(self, uid: str) -> bool:
        node = self.manifest.nodes.get(uid)
        if not isinstance(node, ModelNode) or not node.compiled_sql:
            return False
        known = self._static_columns(uid)
        return not known or "*" in known

    def _static_columns(self, uid: str) -> tuple[str, ...]:
        if uid in self.known:
            return tuple(self.known[uid])
        node = self.manifest.nodes.get(uid) or self.manifest.sources.get(uid)
        inferred = tuple(getattr(node, "inferred_columns", ()) or ())
        if inferred:
            return inferred
        return tuple(c.name for c in getattr(node, "columns", ()))

    def _parent_columns(self, uid: str) -> Sequence[str] | None:
        """A parent's columns as a child's query sees them: the known or inferred ones when complete (so
        the answer never depends on what was traced before), else the traced ones."""
        static = self._static_columns(uid)
        if static and "*" not in static:
            return static
        if uid in self._cache and self._cache[uid].columns:
            return self._cache[uid].columns
        return static or None

    def untraced(self, order: Iterable[str]) -> list[tuple[str, Task]]:
        """(cache key, task) of every model of `order` not in the cache whose parents' columns are known
        without tracing them: work that `run_task` may do anywhere (in other processes) before `of()`."""
        out: list[tuple[str, Task]] = []
        for uid in order:
            node = self.manifest.nodes.get(uid)
            if uid in self._cache or not isinstance(node, ModelNode) or not node.compiled_sql:
                continue
            if any(self._needs_trace(d) for d in node.depends_on):
                continue
            parents = {d: self._parent_columns(d) for d in node.depends_on}
            key = _cache_key(self.manifest.target_dialect, node.compiled_sql, parents)
            if self.store.get(key) is None:
                out.append((key, (uid, node.compiled_sql, self.manifest.target_dialect, parents)))
        return out

    def _compute(self, uid: str) -> ModelLineage:
        node = self.manifest.nodes.get(uid)
        if not isinstance(node, ModelNode) or not node.compiled_sql:
            return ModelLineage(unique_id=uid, columns=self._static_columns(uid))
        parents = {d: self._parent_columns(d) for d in node.depends_on}
        key = _cache_key(self.manifest.target_dialect, node.compiled_sql, parents)
        stored = self.store.get(key)
        if stored is not None:
            traced = from_plain(uid, stored)
        else:
            traced = model_lineage(
                uid,
                node.compiled_sql,
                dialect=self.manifest.target_dialect,
                relations=self.relations,
                columns_of=parents.get,
                upstream=node.depends_on,
            )
            self.store[key] = to_plain(traced)
        static = self._static_columns(uid)
        if traced.error is not None or not traced.columns or "*" in traced.columns:
            extra = {c: () for c in static if c not in traced.edges}
            columns = traced.columns if traced.columns and "*" not in static else static
            return ModelLineage(
                unique_id=uid,
                columns=tuple(dict.fromkeys([*columns, *extra])),
                edges={**extra, **traced.edges},
                error=traced.error,
            )
        # a snapshot adds its meta columns, the catalog may know more: keep every known column
        extra = {c: () for c in static if c not in traced.edges}
        if not extra:
            return traced
        return ModelLineage(unique_id=uid, columns=(*traced.columns, *extra), edges={**traced.edges, **extra})

    # -- walks ---------------------------------------------------------------------------------------------

    def upstream(self, ref: ColumnRef, *, depth: int | None = None, limit: int = 10_000) -> list[Hop]:
        """Every column `ref` derives from, breadth first, each edge once."""
        hops: list[Hop] = []
        seen = {ref}
        frontier = [ref]
        level = 0
        while frontier and (depth is None or level < depth) and len(hops) < limit:
            level += 1
            nxt = []
            for col in frontier:
                if col.node.startswith(EXTERNAL):
                    continue
                for src in self.of(col.node).edges.get(col.column, ()):
                    hops.append(Hop(depth=level, column=col, source=src))
                    if src not in seen:
                        seen.add(src)
                        nxt.append(src)
            frontier = nxt
        return hops

    def downstream(self, ref: ColumnRef, *, depth: int | None = None, limit: int = 10_000) -> list[Hop]:
        """Every column derived from `ref`, breadth first: `Hop.column` is the dependent column."""
        hops: list[Hop] = []
        seen = {ref}
        frontier = [ref]
        level = 0
        while frontier and (depth is None or level < depth) and len(hops) < limit:
            level += 1
            nxt = []
            for col in frontier:
                for child in self.children(col.node):
                    for name, sources in self.of(child).edges.items():
                        if col in sources:
                            dep = ColumnRef(child, name)
                            hops.append(Hop(depth=level, column=dep, source=col))
                            if dep not in seen:
                                seen.add(dep)
                                nxt.append(dep)
            frontier = nxt
        return hops

    def children(self, uid: str) -> list[str]:
        """The models that read `uid`."""
        if self._children is None:
            children: dict[str, list[str]] = {}
            for node in self.manifest.models():
                for dep in node.depends_on:
                    children.setdefault(dep, []).append(node.unique_id)
            self._children = children
        return self._children.get(uid, [])

    def all(self, order: Iterable[str], *, stop: Callable[[], bool] | None = None) -> dict[str, ModelLineage]:
        """The lineage of every model, seed, snapshot and source of `order` (a topological order). Once
        `stop()` is true, a model whose lineage would need parsing is left `skipped`."""
        out = {}
        for uid in order:
            if uid not in self.manifest.sources and not _is_model(self, uid):
                continue
            if stop is not None and not self._cheap(uid) and stop():
                out[uid] = ModelLineage(unique_id=uid, columns=self._static_columns(uid), skipped=True)
            else:
                out[uid] = self.of(uid)
        return out

    def _cheap(self, uid: str) -> bool:
        """Whether of(uid) parses nothing: done already, nothing to parse, or in the cache."""
        node = self.manifest.nodes.get(uid)
        if uid in self._cache or not isinstance(node, ModelNode) or not node.compiled_sql:
            return True
        if any(self._needs_trace(d) and d not in self._cache for d in node.depends_on):
            return False
        parents = {d: self._parent_columns(d) for d in node.depends_on}
        return (
            self.store.get(_cache_key(self.manifest.target_dialect, node.compiled_sql, parents)) is not None
        )


def invert(lineages: Mapping[str, ModelLineage]) -> dict[str, dict[str, list[ColumnRef]]]:
    """Downstream edges: uid -> column -> the columns (of other models) derived from it directly."""
    out: dict[str, dict[str, list[ColumnRef]]] = {}
    for uid, lin in lineages.items():
        for name, sources in lin.edges.items():
            for src in sources:
                out.setdefault(src.node, {}).setdefault(src.column, []).append(ColumnRef(uid, name))
    return out


def _cache_key(dialect: str, sql: str, parents: Mapping[str, Sequence[str] | None]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{CACHE_VERSION}\0{dialect}\0{sql}".encode())
    for uid in sorted(parents):
        digest.update(f"\0{uid}:{','.join(parents[uid] or ())}".encode())
    return digest.hexdigest()


def _is_model(lineage: Lineage, uid: str) -> bool:
    return isinstance(lineage.manifest.nodes.get(uid), ModelNode)


def parse_column(text: str) -> tuple[str, str]:
    """`orders.amount` -> ("orders", "amount"); the column is after the last dot.

    >>> parse_column("raw.orders.amount")
    ('raw.orders', 'amount')
    """
    node, dot, column = text.rpartition(".")
    if not dot or not node or not column:
        raise ValueError(text)
    return node, column
