"""seed: load a CSV file of the project into a table, built like a table model (atomic replace or swap).

The file is `node.path` under the project root; `delimiter` and `column_types` come from the seed's config,
the types of the other columns are detected by the engine. An engine that cannot read a CSV file in SQL
(PostgreSQL) gets the rows read by pyarrow and loaded with COPY into a table built aside, which is then
retyped per `column_types` and swapped in, all in one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlflow.adapters import TMP_SUFFIX
from sqlflow.adapters.sql import drop_relation, quote, read_csv_select, relation_sql, rename_relation, renamed
from sqlflow.errors import NodeFailedError, SourceLocation
from sqlflow.manifest import ModelNode
from sqlflow.materializations.context import (
    BuildContext,
    BuildResult,
    keeping_dependents,
    transaction,
    with_rows,
)
from sqlflow.materializations.table import replace_table


def seed_select(node: ModelNode, project_root: Path, dialect: str) -> str:
    """The SELECT reading the seed's CSV file."""
    path = (project_root / node.path).resolve()
    if not path.is_file():
        raise NodeFailedError(
            f"seed file {node.path} not found",
            location=SourceLocation(node.path),
            hint=f"looked in {project_root}",
        )
    return read_csv_select(
        path.as_posix(), dialect, delimiter=node.config.delimiter, column_types=node.config.column_types
    )


def seed_path(node: ModelNode, project_root: Path) -> Path:
    path = (project_root / node.path).resolve()
    if not path.is_file():
        raise NodeFailedError(
            f"seed file {node.path} not found",
            location=SourceLocation(node.path),
            hint=f"looked in {project_root}",
        )
    return path


def read_seed(node: ModelNode, project_root: Path) -> Any:
    """The seed's rows as a pyarrow.Table: types detected by pyarrow, except the `column_types` columns,
    read as text (the caller casts them, so '007' stays '007'); an empty field is NULL, as DuckDB reads it."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = seed_path(node, project_root)
    convert = pacsv.ConvertOptions(
        column_types={column: pa.string() for column in node.config.column_types}, strings_can_be_null=True
    )
    try:
        return pacsv.read_csv(
            path, parse_options=pacsv.ParseOptions(delimiter=node.config.delimiter), convert_options=convert
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise NodeFailedError(
            f"cannot read seed {node.path}: {str(exc).splitlines()[0]}", location=SourceLocation(node.path)
        ) from exc


def build_seed(node: ModelNode, ctx: BuildContext) -> BuildResult:
    adapter = ctx.adapter
    if adapter.reads_csv_in_sql:
        rows = replace_table(ctx, node, seed_select(node, ctx.project_root, adapter.dialect))
        return BuildResult(rows, with_rows("INSERT", rows))
    data = read_seed(node, ctx.project_root)
    dialect = adapter.dialect
    aside = renamed(node.relation, node.relation.identifier + TMP_SUFFIX)
    existing = ctx.relations.get(node.relation)
    with transaction(ctx):
        rows = adapter.load_arrow(aside, data)
        for column, kind in node.config.column_types.items():
            name = quote(column, dialect)
            adapter.execute(
                f"ALTER TABLE {relation_sql(aside, dialect)} ALTER COLUMN {name} TYPE {kind} "
                f"USING CAST({name} AS {kind})"
            )
        swap = [rename_relation(aside, "table", node.relation.identifier, dialect)]
        if existing is not None:
            swap.insert(0, drop_relation(node.relation, existing, dialect))
        for statement in keeping_dependents(ctx, node.relation, swap):
            adapter.execute(statement)
    ctx.relations.set(node.relation, "table")
    return BuildResult(rows, with_rows("INSERT", rows))
