"""incremental: add the model's new rows to its table instead of rebuilding it.

The first run, a full refresh, or a view in the way builds the table from `compiled_sql` like a table model.
Later runs load `incremental_sql` (rendered with is_incremental() true) into a temporary table, then in one
transaction apply the strategy: `append` (INSERT), `delete+insert` (DELETE rows with a matching unique key,
then INSERT) or `merge` (MERGE INTO, or UPDATE ... FROM + INSERT where the engine has no MERGE). Columns are
matched by name. Default strategy: append without a unique_key, merge with one.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlflow.adapters.sql import (
    ColumnPairs,
    create_table_as,
    delete_matching,
    drop_relation,
    insert_missing,
    insert_select,
    merge,
    select_nothing,
    update_from,
)
from sqlflow.errors import NodeFailedError, did_you_mean
from sqlflow.manifest import INCREMENTAL_STRATEGIES, ModelNode, Relation
from sqlflow.materializations.context import (
    BuildContext,
    BuildResult,
    compiled_sql,
    transaction,
    with_rows,
)
from sqlflow.materializations.table import replace_table

INCR_SUFFIX = "__sqlflow_incr"
SUPPORTED_SCHEMA_CHANGES = ("ignore", "fail")


def strategy_of(node: ModelNode) -> str:
    """The node's incremental strategy, checked against its unique_key."""
    strategy = node.config.incremental_strategy or ("merge" if node.config.unique_key else "append")
    if strategy not in INCREMENTAL_STRATEGIES:
        raise NodeFailedError(
            f"unknown incremental_strategy '{strategy}' for {node.name}",
            hint=did_you_mean(strategy, INCREMENTAL_STRATEGIES) or "use " + ", ".join(INCREMENTAL_STRATEGIES),
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
    if change == "fail" and (added or removed):
        raise NodeFailedError(
            f"the columns of {node.name} changed (new: {', '.join(added) or '-'}; "
            f"gone: {', '.join(removed) or '-'})",
            hint="rebuild it with --full-refresh",
        )
    if not pairs:
        raise NodeFailedError(
            f"the new rows of {node.name} share no column with {node.relation}",
            hint="rebuild it with --full-refresh",
        )
    return pairs


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
) -> list[str]:
    """The statements applying `strategy`; every row count they report adds to the rows affected."""
    if strategy == "append":
        return [insert_select(target, source, columns, dialect)]
    if strategy == "delete+insert":
        return [
            delete_matching(target, source, keys, dialect),
            insert_select(target, source, columns, dialect),
        ]
    if supports_merge:
        return [merge(target, source, columns, keys, dialect)]
    statements = []
    if len(keys) < len(columns):
        statements.append(update_from(target, source, columns, keys, dialect))
    statements.append(insert_missing(target, source, columns, keys, dialect))
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
        source_columns, _ = adapter.fetch(select_nothing(temp, dialect))
        target_columns, _ = adapter.fetch(select_nothing(node.relation, dialect))
        columns = match_columns(node, target_columns, source_columns, case_insensitive=fold)
        keys = key_pairs(node, columns, case_insensitive=fold) if strategy != "append" else []
        statements = strategy_statements(
            strategy,
            node.relation,
            temp,
            columns,
            keys,
            dialect=dialect,
            supports_merge=adapter.supports_merge,
        )
        for i, sql in enumerate(statements):
            count = adapter.execute(sql)
            # delete+insert reports the rows inserted, the others every row they touched
            if count is not None and not (strategy == "delete+insert" and i == 0):
                rows += count
        for hook in node.config.post_hook:
            adapter.execute(hook)
        adapter.execute(drop_relation(temp, "table", dialect))
    return BuildResult(rows, with_rows(strategy.upper(), rows))
