"""incremental: add the model's new rows to its table instead of rebuilding it.

The first run, a full refresh, or a view in the way builds the table from `compiled_sql` like a table model.
Later runs load `incremental_sql` (rendered with is_incremental() true) into a temporary table, then in one
transaction apply the strategy: `append` (INSERT), `delete+insert` (DELETE rows with a matching unique key,
then INSERT) or `merge` (MERGE INTO, or UPDATE ... FROM + INSERT where the engine has no MERGE). Columns are
matched by name. Default strategy: append without a unique_key, merge with one. `incremental_predicates`
join the unique key in the MERGE's ON clause (and the DELETE's and the UPDATE/INSERT's conditions), where the
table's rows are `DBT_INTERNAL_DEST` and the new rows `DBT_INTERNAL_SOURCE`, as in dbt.

When the model's columns differ from the table's, `on_schema_change` decides, inside the same transaction:
`fail` (the default) stops with the columns named, `ignore` loads the columns both have, `append_new_columns`
adds the new ones (typed as the staged rows), `sync_all_columns` also drops the gone ones and changes the
changed types. The result message names every column added, dropped or retyped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlflow.adapters import Adapter
from sqlflow.adapters.sql import (
    ColumnPairs,
    add_column,
    alter_column_type,
    column_types,
    create_table_as,
    delete_matching,
    drop_column,
    drop_relation,
    insert_missing,
    insert_select,
    merge,
    update_from,
)
from sqlflow.errors import NodeFailedError, SourceLocation, did_you_mean
from sqlflow.manifest import INCREMENTAL_STRATEGIES, UNBUILDABLE_STRATEGIES, ModelNode, Relation
from sqlflow.materializations.context import (
    BuildContext,
    BuildResult,
    compiled_sql,
    transaction,
    with_rows,
)
from sqlflow.materializations.table import replace_table

INCR_SUFFIX = "__sqlflow_incr"
SUPPORTED_SCHEMA_CHANGES = ("ignore", "fail")  # by match_columns, which cannot change the table
SCHEMA_CHANGES = ("fail", "ignore", "append_new_columns", "sync_all_columns")

# (column name, data type as the engine spells it), in column order
ColumnTypes = Sequence[tuple[str, str]]


def strategy_of(node: ModelNode) -> str:
    """The node's incremental strategy, checked against its unique_key when an incremental run uses it."""
    strategy = node.config.incremental_strategy or ("merge" if node.config.unique_key else "append")
    if strategy not in INCREMENTAL_STRATEGIES:
        raise NodeFailedError(
            f"unknown incremental_strategy '{strategy}' for {node.name}",
            hint=did_you_mean(strategy, INCREMENTAL_STRATEGIES)
            or "use " + ", ".join(s for s in INCREMENTAL_STRATEGIES if s not in UNBUILDABLE_STRATEGIES),
        )
    if strategy in UNBUILDABLE_STRATEGIES:
        raise NodeFailedError(
            f"incremental_strategy '{strategy}' of {node.name} is not available on duckdb/postgres",
            location=SourceLocation(node.path),
            hint="use append, merge or delete+insert; a first or --full-refresh build creates the table",
        )
    if strategy != "append" and not node.config.unique_key:
        raise NodeFailedError(
            f"incremental_strategy '{strategy}' of {node.name} needs a unique_key",
            hint="set unique_key in the model's config, or use the append strategy",
        )
    return strategy


def wants_full_refresh(node: ModelNode, flag: bool) -> bool:
    """A `full_refresh` config wins over the --full-refresh flag (false protects the table, as in dbt)."""
    return node.config.full_refresh if node.config.full_refresh is not None else flag


def match_columns(
    node: ModelNode, target: Sequence[str], source: Sequence[str], *, case_insensitive: bool
) -> list[tuple[str, str]]:
    """(target column, source column) for every target column the new rows have, in the target's order."""

    def fold(name: str) -> str:
        return name.lower() if case_insensitive else name

    by_name = {fold(c): c for c in source}
    pairs = [(t, by_name[fold(t)]) for t in target if fold(t) in by_name]
    known = {fold(t) for t in target}
    added = [c for c in source if fold(c) not in known]
    removed = [t for t in target if fold(t) not in by_name]
    change = node.config.on_schema_change
    if change not in SUPPORTED_SCHEMA_CHANGES and (added or removed):
        raise NodeFailedError(
            f"the columns of {node.name} changed and on_schema_change '{change}' is not supported yet",
            hint="rebuild it with --full-refresh, or use on_schema_change 'ignore' or 'fail'",
        )
    _fail_on_change(node, added, removed)
    _need_shared_column(node, pairs)
    return pairs


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """What on_schema_change does to the table before the new rows are loaded, and the columns loaded."""

    columns: ColumnPairs  # (target column, source column) of every column loaded, after the change
    added: tuple[tuple[str, str], ...] = ()  # (column, type) added to the table
    dropped: tuple[str, ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()  # (column, old type, new type)

    def statements(self, relation: Relation, dialect: str) -> list[str]:
        """The ALTER TABLE statements: drops first, then type changes, then additions."""
        return [
            *(drop_column(relation, c, dialect) for c in self.dropped),
            *(alter_column_type(relation, c, new, dialect) for c, _, new in self.retyped),
            *(add_column(relation, c, t, dialect) for c, t in self.added),
        ]

    def describe(self) -> str:
        """The message's suffix: ' (added: x; dropped: y; retyped: z INTEGER -> BIGINT)', or ''."""
        parts = []
        if self.added:
            parts.append("added: " + ", ".join(c for c, _ in self.added))
        if self.dropped:
            parts.append("dropped: " + ", ".join(self.dropped))
        if self.retyped:
            parts.append("retyped: " + ", ".join(f"{c} {old} -> {new}" for c, old, new in self.retyped))
        return f" ({'; '.join(parts)})" if parts else ""


def plan_schema_change(
    node: ModelNode, target: ColumnTypes, source: ColumnTypes, *, case_insensitive: bool
) -> SchemaChange:
    """How the table (`target` columns) meets the new rows (`source` columns) under the node's
    on_schema_change; raises NodeFailedError for `fail` when a column is new or gone. Types are compared
    case-insensitively; only sync_all_columns acts on a changed type (the others let INSERT cast).
    """
    change = node.config.on_schema_change
    if change not in SCHEMA_CHANGES:
        raise NodeFailedError(
            f"unknown on_schema_change '{change}' for {node.name}",
            hint=did_you_mean(change, SCHEMA_CHANGES) or "use " + ", ".join(SCHEMA_CHANGES),
        )

    def fold(name: str) -> str:
        return name.lower() if case_insensitive else name

    by_name = {fold(c): (c, t) for c, t in source}
    known = {fold(c) for c, _ in target}
    added = tuple((c, t) for c, t in source if fold(c) not in known)
    dropped = tuple(c for c, _ in target if fold(c) not in by_name)
    _fail_on_change(node, [c for c, _ in added], dropped)
    shared = [(c, t, *by_name[fold(c)]) for c, t in target if fold(c) in by_name]
    columns = [(c, s) for c, _, s, _ in shared]
    if change == "ignore" or change == "fail":
        _need_shared_column(node, columns)
        return SchemaChange(columns)
    columns += [(c, c) for c, _ in added]
    if change == "append_new_columns":
        return SchemaChange(columns, added=added)
    retyped = tuple((c, old, new) for c, old, _, new in shared if old.lower() != new.lower())
    return SchemaChange(columns, added=added, dropped=dropped, retyped=retyped)


def read_column_types(adapter: Adapter, relation: Relation | str) -> list[tuple[str, str]]:
    """(name, type) of each column of `relation` (a str: this session's temporary table)."""
    _, rows = adapter.fetch(column_types(relation, adapter.dialect))
    return [(str(row[0]), str(row[1])) for row in rows]


def _fail_on_change(node: ModelNode, added: Sequence[str], removed: Sequence[str]) -> None:
    if node.config.on_schema_change == "fail" and (added or removed):
        raise NodeFailedError(
            f"the columns of {node.name} changed (new: {', '.join(added) or '-'}; "
            f"gone: {', '.join(removed) or '-'})",
            hint="rebuild it with --full-refresh, or set on_schema_change to ignore, append_new_columns "
            "or sync_all_columns",
        )


def _need_shared_column(node: ModelNode, pairs: ColumnPairs) -> None:
    if not pairs:
        raise NodeFailedError(
            f"the new rows of {node.name} share no column with {node.relation}",
            hint="rebuild it with --full-refresh",
        )


def key_pairs(node: ModelNode, columns: ColumnPairs, *, case_insensitive: bool) -> list[tuple[str, str]]:
    """The unique_key columns as (target, source) pairs."""

    def fold(name: str) -> str:
        return name.lower() if case_insensitive else name

    by_name = {fold(t): (t, s) for t, s in columns}
    keys = []
    for key in node.config.unique_key:
        if fold(key) not in by_name:
            raise NodeFailedError(
                f"unique_key '{key}' of {node.name} is not a column of both the table and the new rows",
                hint=did_you_mean(key, [t for t, _ in columns]) or "check the model's unique_key",
            )
        keys.append(by_name[fold(key)])
    return keys


def strategy_statements(
    strategy: str,
    target: Relation,
    source: str,
    columns: ColumnPairs,
    keys: ColumnPairs,
    *,
    dialect: str,
    supports_merge: bool,
    predicates: Sequence[str] = (),
) -> list[str]:
    """The statements applying `strategy`; every row count they report adds to the rows affected.
    `predicates` (SQL on DBT_INTERNAL_DEST / DBT_INTERNAL_SOURCE) narrow the target rows a new row may
    match; append ignores them, as dbt does."""
    if strategy == "append":
        return [insert_select(target, source, columns, dialect)]
    if strategy == "delete+insert":
        return [
            delete_matching(target, source, keys, dialect, predicates=predicates),
            insert_select(target, source, columns, dialect),
        ]
    if supports_merge:
        return [merge(target, source, columns, keys, dialect, predicates=predicates)]
    statements = []
    if len(keys) < len(columns):
        statements.append(update_from(target, source, columns, keys, dialect, predicates=predicates))
    statements.append(insert_missing(target, source, columns, keys, dialect, predicates=predicates))
    return statements


def build_incremental(node: ModelNode, ctx: BuildContext) -> BuildResult:
    existing = ctx.relations.get(node.relation)
    if existing != "table" or wants_full_refresh(node, ctx.full_refresh):
        rows = replace_table(ctx, node, compiled_sql(node))
        return BuildResult(rows, with_rows("CREATE TABLE", rows))
    strategy = strategy_of(node)
    adapter = ctx.adapter
    dialect, fold = adapter.dialect, adapter.case_insensitive_identifiers
    temp = node.relation.identifier + INCR_SUFFIX
    rows = 0
    with transaction(ctx):
        for hook in node.config.pre_hook:
            adapter.execute(hook)
        adapter.execute(
            create_table_as(temp, node.incremental_sql or compiled_sql(node), dialect, temporary=True)
        )
        change = plan_schema_change(
            node,
            read_column_types(adapter, node.relation),
            read_column_types(adapter, temp),
            case_insensitive=fold,
        )
        columns = change.columns
        keys = key_pairs(node, columns, case_insensitive=fold) if strategy != "append" else []
        for sql in change.statements(node.relation, dialect):
            adapter.execute(sql)
        statements = strategy_statements(
            strategy,
            node.relation,
            temp,
            columns,
            keys,
            dialect=dialect,
            supports_merge=adapter.supports_merge,
            predicates=node.config.incremental_predicates,
        )
        for i, sql in enumerate(statements):
            count = adapter.execute(sql)
            # delete+insert reports the rows inserted, the others every row they touched
            if count is not None and not (strategy == "delete+insert" and i == 0):
                rows += count
        for hook in node.config.post_hook:
            adapter.execute(hook)
        adapter.execute(drop_relation(temp, "table", dialect))
    return BuildResult(rows, with_rows(strategy.upper(), rows) + change.describe())
