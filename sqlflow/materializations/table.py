"""table: rebuild the relation from the model's SQL so that a failure leaves the previous table untouched.

Where `CREATE OR REPLACE TABLE` is atomic (DuckDB: it runs in one transaction and a failing SELECT leaves the
old table), that one statement is the whole build. Elsewhere the table is built aside and swapped in one
transaction: CREATE TABLE <name>__sqlflow_tmp AS ...; DROP the old relation; ALTER TABLE ... RENAME.
Seeds and full refreshes of incremental models use the same steps.
"""

from __future__ import annotations

from sqlflow.adapters import TMP_SUFFIX, RelationType
from sqlflow.adapters.sql import create_table_as, drop_relation, rename_relation, renamed
from sqlflow.manifest import ModelNode, Relation
from sqlflow.materializations.context import (
    BuildContext,
    BuildResult,
    compiled_sql,
    keeping_dependents,
    run_steps,
    with_rows,
)


def table_statements(
    relation: Relation,
    select_sql: str,
    *,
    existing: RelationType | None,
    dialect: str,
    replace_atomically: bool,
) -> tuple[list[str], int]:
    """The statements replacing `relation` (now `existing`) by a table of `select_sql`, and which of them
    reports the rows.

    >>> rel = Relation(database=None, schema="main", identifier="t")
    >>> table_statements(rel, "select 1", existing="view", dialect="duckdb", replace_atomically=False)[0]
    ['CREATE TABLE "main"."t__sqlflow_tmp" AS\\nselect 1', 'DROP VIEW IF EXISTS "main"."t"', \
'ALTER TABLE "main"."t__sqlflow_tmp" RENAME TO "t"']
    """
    if existing is None:
        return [create_table_as(relation, select_sql, dialect)], 0
    if replace_atomically:
        if existing == "view":
            return [
                drop_relation(relation, "view", dialect),
                create_table_as(relation, select_sql, dialect),
            ], 1
        return [create_table_as(relation, select_sql, dialect, replace=True)], 0
    aside = renamed(relation, relation.identifier + TMP_SUFFIX)
    return [
        create_table_as(aside, select_sql, dialect),
        drop_relation(relation, existing, dialect),
        rename_relation(aside, "table", relation.identifier, dialect),
    ], 0


def replace_table(ctx: BuildContext, node: ModelNode, select_sql: str) -> int | None:
    """Build `node.relation` as a table of `select_sql` with the node's hooks; the rows it holds."""
    adapter = ctx.adapter
    statements, rows_from = table_statements(
        node.relation,
        select_sql,
        existing=ctx.relations.get(node.relation),
        dialect=adapter.dialect,
        replace_atomically=adapter.replace_table_atomically,
    )
    statements = keeping_dependents(ctx, node.relation, statements) if len(statements) > 1 else statements
    rows = run_steps(ctx, node, statements, rows_from=rows_from)
    ctx.relations.set(node.relation, "table")
    return rows


def build_table(node: ModelNode, ctx: BuildContext) -> BuildResult:
    rows = replace_table(ctx, node, compiled_sql(node))
    return BuildResult(rows, with_rows("CREATE TABLE", rows))
