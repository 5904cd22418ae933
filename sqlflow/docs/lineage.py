"""Column-level lineage: the upstream columns each output column of a model derives from, across models.

Pure: a manifest and the columns already known (catalog, property YAML, seed headers) in, edges out.
Each model's compiled SQL is parsed once with sqlglot, qualified against its parents' columns (so `select *`
expands), and every output column traced through CTEs, subqueries, joins, set operations and scalar
subqueries down to the tables it reads; an inlined ephemeral model stops the walk at that model. Results are
cached per model, and a model is computed only when asked for (or when a child needs its columns).
Imports sqlglot, never an adapter, jinja2 or click.

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
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.qualify_tables import qualify_tables
from sqlglot.optimizer.scope import Scope, build_scope, find_all_in_scope
from sqlglot.schema import MappingSchema

from sqlflow.compile.names import EPHEMERAL_PREFIX
from sqlflow.manifest import Manifest, ModelNode

CACHE_VERSION = 2  # bump when what model_lineage returns changes
EXTERNAL = "external:"  # ColumnRef.node of a relation no node names: "external:<the relation's SQL>"
# how engines compare names: DuckDB ignores case even when quoted, PostgreSQL folds unquoted names to lower
# case; for other dialects sqlglot's normalize_identifiers pass decides
FOLDING: Mapping[str, str] = {"duckdb": "all", "postgres": "unquoted"}


@dataclass(frozen=True, slots=True, order=True)
class ColumnRef:
    """A column of a node (`node` is its unique id), or of an external relation (`external:<sql>`)."""

    node: str
    column: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelLineage:
    """The output columns of one model and, per column, the upstream columns it derives from directly."""

    unique_id: str
    columns: tuple[str, ...]
    edges: Mapping[str, tuple[ColumnRef, ...]] = field(default_factory=dict)
    error: str | None = None  # why the SQL could not be traced (the columns are then the known ones)
    skipped: bool = False  # not traced this time (over the time budget): the columns are the known ones


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    """One edge of a transitive walk: `column` derives from `source`, `depth` edges from where it began."""

    depth: int
    column: ColumnRef
    source: ColumnRef


class RelationIndex:
    """Relations and inlined ephemeral CTE names -> the unique id of the node behind them."""

    def __init__(self, manifest: Manifest) -> None:
        self.by_relation: dict[tuple[str, str], str] = {}
        self.by_identifier: dict[str, list[str]] = {}
        self.ephemeral: dict[str, str] = {}
        for node in [*manifest.models(), *manifest.sources.values()]:
            if isinstance(node, ModelNode) and node.config.materialized == "ephemeral":
                self.ephemeral[(EPHEMERAL_PREFIX + node.name).lower()] = node.unique_id
                continue
            rel = node.relation
            self.by_relation[(rel.schema.lower(), rel.identifier.lower())] = node.unique_id
            self.by_identifier.setdefault(rel.identifier.lower(), []).append(node.unique_id)
        self.relation_of: dict[str, tuple[str, str]] = {uid: key for key, uid in self.by_relation.items()}

    def find(self, table: exp.Table) -> str | None:
        name, db = table.name.lower(), table.db.lower()
        if db:
            return self.by_relation.get((db, name))
        found = self.by_identifier.get(name, [])
        return found[0] if len(found) == 1 else None


def model_lineage(
    unique_id: str,
    sql: str,
    *,
    dialect: str,
    relations: RelationIndex,
    columns_of: Callable[[str], Sequence[str] | None],
    upstream: Iterable[str] = (),
) -> ModelLineage:
    """Trace every output column of one query. `columns_of(uid)` gives a parent's columns (None: unknown);
    `upstream` are the unique ids whose columns the query may read (its depends_on).

    sqlglot's qualify passes (identifiers, tables, then columns against the parents' columns) run only when
    the query needs them: a `*`, a column without its table where several tables could hold it, or one that
    names an alias of the same select. They cost more than the parse; a query whose columns are qualified
    (or read one table each) is traced as it is, its unquoted names folded to lower case like the engines do.
    """
    fold = FOLDING.get(dialect)
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
        if not fold:
            tree = normalize_identifiers(tree, dialect=dialect)
        root = build_scope(tree)

        def table_columns(table: exp.Table) -> Sequence[str] | None:
            uid = relations.find(table)
            found = columns_of(uid) if uid is not None else None
            return [_name(None, c, fold) for c in found] if found is not None else None

        if root is not None and _needs_qualify(root, table_columns, fold):
            schema: dict[str, dict[str, dict[str, str]]] = {}
            for uid in upstream:
                key = relations.relation_of.get(uid)
                columns = columns_of(uid)
                if key is None or not columns or "*" in columns:
                    continue
                schema.setdefault(key[0], {})[key[1]] = {c: "unknown" for c in columns}
            if fold:
                tree = normalize_identifiers(tree, dialect=dialect)
            tree = qualify_tables(tree, dialect=dialect)
            tree = qualify_columns(tree, MappingSchema(schema, dialect=dialect), dialect=dialect)
            root = build_scope(tree)
    except (SqlglotError, ValueError, KeyError, AttributeError, TypeError) as exc:
        return ModelLineage(unique_id=unique_id, columns=(), error=f"{type(exc).__name__}: {exc}")
    if root is None:
        return ModelLineage(unique_id=unique_id, columns=(), error="not a query")
    tracer = _Tracer(relations, dialect, fold)
    columns = tuple(dict.fromkeys(_select_name(s, fold) for s in root.expression.selects))
    edges = {name: tuple(sorted(tracer.trace(root, name))) for name in columns}
    return ModelLineage(unique_id=unique_id, columns=columns, edges=edges)


def _name(identifier: Any, name: str, fold: str | None) -> str:
    """`name` as the engine compares it: folded to lower case on DuckDB, unless quoted on PostgreSQL."""
    if fold == "all" or (
        fold == "unquoted" and not (isinstance(identifier, exp.Identifier) and identifier.quoted)
    ):
        return name.lower()
    return name


def _select_name(select: exp.Expression, fold: str | None) -> str:
    if _is_star(select):
        return "*"
    if isinstance(select, exp.Alias):
        return _name(select.args.get("alias"), select.alias, fold)
    if isinstance(select, exp.Column):
        return _name(select.this, select.name, fold)
    return select.alias_or_name


def _needs_qualify(
    root: Scope, table_columns: Callable[[exp.Table], Sequence[str] | None], fold: str | None
) -> bool:
    """Whether a scope has a `*`, a column that may come from several tables, or one that names an alias
    of its own select list and no column of its table (DuckDB's `select a + 1 as b, b * 2 as c`)."""
    for scope in root.traverse():
        expression = scope.expression
        if scope.stars or any(_is_star(s) for s in expression.selects):
            return True
        aliases = (
            {_select_name(s, fold) for s in expression.selects if isinstance(s, exp.Alias)}
            if isinstance(expression, exp.Select)
            else set()
        )
        several = len(scope.selected_sources) != 1
        for column in scope.columns:
            if column.table:
                continue
            if several:
                return True
            name = _name(column.this, column.name, fold)
            if name in aliases:
                source = next(iter(scope.selected_sources.values()))[1]
                known: Sequence[str] | None = None
                if isinstance(source, Scope):
                    known = [_select_name(s, fold) for s in source.expression.selects]
                elif isinstance(source, exp.Table):
                    known = table_columns(source)
                if known is not None and name not in known:
                    return True
    return False


class _Tracer:
    """Walks the scopes of one query; memoised per (scope, column)."""

    def __init__(self, relations: RelationIndex, dialect: str, fold: str | None) -> None:
        self.relations = relations
        self.dialect = dialect
        self.fold = fold
        self.memo: dict[tuple[int, str], frozenset[ColumnRef]] = {}
        self.selects: dict[int, dict[str, exp.Expression]] = {}
        self.subqueries: dict[int, dict[int, Scope]] = {}

    def trace(self, scope: Scope, column: str | int) -> frozenset[ColumnRef]:
        key = (id(scope), str(column))
        if key not in self.memo:
            self.memo[key] = frozenset()  # a recursive CTE reads itself: stop there
            self.memo[key] = frozenset(self._trace(scope, column))
        return self.memo[key]

    def _trace(self, scope: Scope, column: str | int) -> set[ColumnRef]:
        expression = scope.expression
        selects = expression.selects
        if isinstance(expression, exp.SetOperation):  # union: the same position in every branch
            names = [_select_name(s, self.fold) for s in selects]
            index = column if isinstance(column, int) else (names.index(column) if column in names else None)
            out: set[ColumnRef] = set()
            if index is not None:
                for branch in scope.set_operation_scopes:
                    out |= self.trace(branch, index)
            return out
        if isinstance(column, int):
            select = selects[column] if column < len(selects) else None
        else:
            by_name = self.selects.get(id(scope))
            if by_name is None:
                by_name = {}
                for s in selects:
                    by_name.setdefault(_select_name(s, self.fold), s)
                self.selects[id(scope)] = by_name
            select = by_name.get(column)
            if select is None and "*" in by_name:  # not expanded: any source may hold it
                return self._from_sources(scope, column)
        if select is None:
            return set()
        if _is_star(select):
            return self._from_sources(scope, "*")
        return self._trace_expression(scope, select)

    def _trace_expression(self, scope: Scope, expression: exp.Expression) -> set[ColumnRef]:
        out: set[ColumnRef] = set()
        if scope.subquery_scopes:  # scalar subqueries: every column they select
            subqueries = self.subqueries.get(id(scope))
            if subqueries is None:
                subqueries = {id(s.expression): s for s in scope.subquery_scopes}
                self.subqueries[id(scope)] = subqueries
            for query in find_all_in_scope(expression, exp.UNWRAPPED_QUERIES):
                sub = subqueries.get(id(query))
                if sub is not None:
                    for s in query.selects:
                        out |= self.trace(sub, _select_name(s, self.fold))
        only = next(iter(scope.selected_sources)) if len(scope.selected_sources) == 1 else None
        for col in find_all_in_scope(expression, exp.Column):
            name = "*" if col.is_star else _name(col.this, col.name, self.fold)
            table = col.table or only  # an unqualified column of the only source
            if table:
                out |= self._from_source(scope, table, name)
        return out

    def _from_sources(self, scope: Scope, column: str) -> set[ColumnRef]:
        out: set[ColumnRef] = set()
        for alias in scope.selected_sources:
            out |= self._from_source(scope, alias, column)
        return out

    def _from_source(self, scope: Scope, alias: str, column: str) -> set[ColumnRef]:
        source = scope.sources.get(alias)
        if source is None and self.fold:  # `FROM t AS A ... a.x`
            source = next((v for k, v in scope.sources.items() if k.lower() == alias.lower()), None)
        if isinstance(source, Scope):
            cte = source.expression.parent
            if isinstance(cte, exp.CTE):
                uid = self.relations.ephemeral.get(cte.alias.lower())
                if uid is not None:
                    return {ColumnRef(uid, column)}
            return set(self.trace(source, column))
        if isinstance(source, exp.Table):
            if isinstance(source.this, exp.Identifier):
                uid = self.relations.find(source)
                if uid is not None:
                    return {ColumnRef(uid, column)}
            bare = exp.Table(
                this=source.this.copy(), db=source.args.get("db"), catalog=source.args.get("catalog")
            )
            return {ColumnRef(EXTERNAL + bare.sql(dialect=self.dialect), column)}
        return set()


def _is_star(select: exp.Expression) -> bool:
    return isinstance(select, exp.Star) or (isinstance(select, exp.Column) and select.is_star)


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
        out = []
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
            traced = _from_plain(uid, stored)
        else:
            traced = model_lineage(
                uid,
                node.compiled_sql,
                dialect=self.manifest.target_dialect,
                relations=self.relations,
                columns_of=parents.get,
                upstream=node.depends_on,
            )
            self.store[key] = _to_plain(traced)
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


Task = tuple[str, str, str, Mapping[str, Sequence[str] | None]]  # (unique id, SQL, dialect, parents' columns)
_WORKER_RELATIONS: list[RelationIndex] = []


def init_worker(relations: RelationIndex) -> None:
    """In a worker process: the relation index every task resolves tables with."""
    _WORKER_RELATIONS[:] = [relations]


def run_tasks(tasks: Sequence[Task]) -> list[tuple[Any, ...]]:
    """Trace models in a worker process; the plain results the cache stores."""
    out = []
    for uid, sql, dialect, parents in tasks:
        lin = model_lineage(
            uid,
            sql,
            dialect=dialect,
            relations=_WORKER_RELATIONS[0],
            columns_of=parents.get,
            upstream=parents,
        )
        out.append(_to_plain(lin))
    return out


def _cache_key(dialect: str, sql: str, parents: Mapping[str, Sequence[str] | None]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{CACHE_VERSION}\0{dialect}\0{sql}".encode())
    for uid in sorted(parents):
        digest.update(f"\0{uid}:{','.join(parents[uid] or ())}".encode())
    return digest.hexdigest()


def _to_plain(lin: ModelLineage) -> tuple[Any, ...]:
    edges = tuple((name, tuple((r.node, r.column) for r in refs)) for name, refs in lin.edges.items())
    return (lin.columns, edges, lin.error)


def _from_plain(uid: str, plain: tuple[Any, ...]) -> ModelLineage:
    columns, edges, error = plain
    return ModelLineage(
        unique_id=uid,
        columns=tuple(columns),
        edges={name: tuple(ColumnRef(n, c) for n, c in refs) for name, refs in edges},
        error=error,
    )


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


def as_json(refs: Iterable[ColumnRef]) -> list[list[str]]:
    return [[r.node, r.column] for r in refs]
