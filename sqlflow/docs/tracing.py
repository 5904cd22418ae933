"""Column lineage of one query: every output column of a model's compiled SQL traced, with sqlglot, to the
columns of the tables it reads. The passes of sqlglot's qualify run only when the query needs them (a `*`,
an unqualified column several tables could hold). Pure; used by lineage.py, and run in worker processes for
big projects (`run_tasks`). Imports sqlglot, never an adapter, jinja2 or click.

>>> from sqlflow.manifest import Manifest
>>> relations = RelationIndex(Manifest(project_name="p", dialect="duckdb", target_dialect="duckdb"))
>>> sql = "with t as (select a + b as c from s) select c as d, 1 as e from t"
>>> model_lineage("model.p.x", sql, dialect="duckdb", relations=relations, columns_of={}.get).edges
{'d': (ColumnRef(node='external:s', column='a'), ColumnRef(node='external:s', column='b')), 'e': ()}
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
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

from sqlflow.compile.lookup import EPHEMERAL_PREFIX
from sqlflow.engines import ENGINES
from sqlflow.manifest import Manifest, ModelNode, SourceNode

EXTERNAL = "external:"  # ColumnRef.node of a relation no node names: "external:<the relation's SQL>"
# how engines compare names (their EngineSpec): "all" ignores case even when quoted (DuckDB), "unquoted"
# folds unquoted names to lower case (PostgreSQL); for other dialects sqlglot's normalize_identifiers decides
FOLDING: Mapping[str, str] = {
    spec.dialect: "all" if spec.case_insensitive_identifiers else "unquoted"
    for spec in ENGINES.values()
    if spec.case_insensitive_identifiers or spec.identifier_folding == "lower"
}


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


class RelationIndex:
    """Relations and inlined ephemeral CTE names -> the unique id of the node behind them. Two nodes may
    name one relation (a source declared over a seed's table): the one the query depends on wins."""

    def __init__(self, manifest: Manifest) -> None:
        self.by_relation: dict[tuple[str, str], list[str]] = {}
        self.by_identifier: dict[str, list[str]] = {}
        self.ephemeral: dict[str, str] = {}
        self.relation_of: dict[str, tuple[str, str]] = {}
        nodes: list[ModelNode | SourceNode] = [*manifest.models(), *manifest.sources.values()]
        for node in nodes:
            if isinstance(node, ModelNode) and node.config.materialized == "ephemeral":
                self.ephemeral[(EPHEMERAL_PREFIX + node.name).lower()] = node.unique_id
                continue
            key = (node.relation.schema.lower(), node.relation.identifier.lower())
            self.by_relation.setdefault(key, []).append(node.unique_id)
            self.by_identifier.setdefault(key[1], []).append(node.unique_id)
            self.relation_of[node.unique_id] = key

    def find(self, table: exp.Table, upstream: Collection[str] = ()) -> str | None:
        name, db = table.name.lower(), table.db.lower()
        found = self.by_relation.get((db, name), []) if db else self.by_identifier.get(name, [])
        if len(found) > 1:
            found = [uid for uid in found if uid in upstream] or found[:1]
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
    parents = frozenset(upstream)
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
        if not fold:
            tree = normalize_identifiers(tree, dialect=dialect)
        root = build_scope(tree)

        def table_columns(table: exp.Table) -> Sequence[str] | None:
            uid = relations.find(table, parents)
            found = columns_of(uid) if uid is not None else None
            return [_name(None, c, fold) for c in found] if found is not None else None

        if root is not None and _needs_qualify(root, table_columns, fold):
            schema: dict[str, dict[str, dict[str, str]]] = {}
            for uid in sorted(parents):
                key = relations.relation_of.get(uid)
                columns = columns_of(uid)
                if key is None or not columns or "*" in columns:
                    continue
                schema.setdefault(key[0], {})[key[1]] = {c: "unknown" for c in columns}
            if fold:
                tree = normalize_identifiers(tree, dialect=dialect)
            tree = qualify_tables(tree, dialect=dialect)
            # dict(...): MappingSchema takes a dict[str, object], and dict is invariant in its values
            tree = qualify_columns(tree, MappingSchema(dict(schema), dialect=dialect), dialect=dialect)
            root = build_scope(tree)
    except (SqlglotError, ValueError, KeyError, AttributeError, TypeError) as exc:
        return ModelLineage(unique_id=unique_id, columns=(), error=f"{type(exc).__name__}: {exc}")
    if root is None or not isinstance(root.expression, exp.Selectable):
        return ModelLineage(unique_id=unique_id, columns=(), error="not a query")
    tracer = _Tracer(relations, dialect, fold, parents)
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


def _select_name(select: exp.Expr, fold: str | None) -> str:
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
        if scope.stars or any(_is_star(s) for s in _selects(expression)):
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
                    known = [_select_name(s, fold) for s in _selects(source.expression)]
                elif isinstance(source, exp.Table):
                    known = table_columns(source)
                if known is not None and name not in known:
                    return True
    return False


class _Tracer:
    """Walks the scopes of one query; memoised per (scope, column)."""

    def __init__(
        self, relations: RelationIndex, dialect: str, fold: str | None, upstream: Collection[str]
    ) -> None:
        self.relations = relations
        self.upstream = upstream
        self.dialect = dialect
        self.fold = fold
        self.memo: dict[tuple[int, str], frozenset[ColumnRef]] = {}
        self.selects: dict[int, dict[str, exp.Expr]] = {}
        self.subqueries: dict[int, dict[int, Scope]] = {}

    def trace(self, scope: Scope, column: str | int) -> frozenset[ColumnRef]:
        key = (id(scope), str(column))
        if key not in self.memo:
            self.memo[key] = frozenset()  # a recursive CTE reads itself: stop there
            self.memo[key] = frozenset(self._trace(scope, column))
        return self.memo[key]

    def _trace(self, scope: Scope, column: str | int) -> set[ColumnRef]:
        expression = scope.expression
        selects = _selects(expression)
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

    def _trace_expression(self, scope: Scope, expression: exp.Expr) -> set[ColumnRef]:
        out: set[ColumnRef] = set()
        if scope.subquery_scopes:  # scalar subqueries: every column they select
            subqueries = self.subqueries.get(id(scope))
            if subqueries is None:
                subqueries = {id(s.expression): s for s in scope.subquery_scopes}
                self.subqueries[id(scope)] = subqueries
            for query in find_all_in_scope(expression, *exp.UNWRAPPED_QUERIES):
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
                uid = self.relations.find(source, self.upstream)
                if uid is not None:
                    return {ColumnRef(uid, column)}
            bare = exp.Table(
                this=source.this.copy(), db=source.args.get("db"), catalog=source.args.get("catalog")
            )
            return {ColumnRef(EXTERNAL + bare.sql(dialect=self.dialect), column)}
        return set()


def _is_star(select: exp.Expr) -> bool:
    return isinstance(select, exp.Star) or (isinstance(select, exp.Column) and select.is_star)


def _selects(expression: exp.Expr) -> list[exp.Expr]:
    """The select list of a scope's expression: a select, a union, a derived table, a table function."""
    return expression.selects if isinstance(expression, exp.Selectable) else []


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
        out.append(to_plain(lin))
    return out


def to_plain(lin: ModelLineage) -> tuple[Any, ...]:
    """The picklable form the lineage cache stores."""
    edges = tuple((name, tuple((r.node, r.column) for r in refs)) for name, refs in lin.edges.items())
    return (lin.columns, edges, lin.error)


def from_plain(uid: str, plain: tuple[Any, ...]) -> ModelLineage:
    columns, edges, error = plain
    return ModelLineage(
        unique_id=uid,
        columns=tuple(columns),
        edges={name: tuple(ColumnRef(n, c) for n, c in refs) for name, refs in edges},
        error=error,
    )
