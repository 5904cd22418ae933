"""view: CREATE OR REPLACE VIEW; a table of the same name is dropped first, in the same transaction."""

from __future__ import annotations

from sqlflow.adapters import RelationType
from sqlflow.adapters.sql import create_view_as, drop_relation
from sqlflow.manifest import ModelNode, Relation
from sqlflow.materializations.context import (
    BuildContext,
    BuildResult,
    compiled_sql,
    keeping_dependents,
    run_steps,
)


def view_statements(
    relation: Relation, select_sql: str, *, existing: RelationType | None, dialect: str, replace_view: bool
) -> list[str]:
    """The statements making `relation` (now `existing`) a view of `select_sql`.

    >>> rel = Relation(database=None, schema="main", identifier="v")
    >>> view_statements(rel, "select 1", existing="table", dialect="duckdb", replace_view=True)
    ['DROP TABLE IF EXISTS "main"."v"', 'CREATE OR REPLACE VIEW "main"."v" AS\\nselect 1']
    """
    statements = []
    if existing == "table" or (existing == "view" and not replace_view):
        statements.append(drop_relation(relation, existing, dialect))
    statements.append(create_view_as(relation, select_sql, dialect, replace=replace_view))
    return statements


def build_view(node: ModelNode, ctx: BuildContext) -> BuildResult:
    adapter = ctx.adapter
    statements = view_statements(
        node.relation,
        compiled_sql(node),
        existing=ctx.relations.get(node.relation),
        dialect=adapter.dialect,
        replace_view=adapter.replace_view,
    )
    if len(statements) > 1:
        statements = keeping_dependents(ctx, node.relation, statements)
    run_steps(ctx, node, statements, rows_from=None)
    ctx.relations.set(node.relation, "view")
    return BuildResult(None, "CREATE VIEW")
