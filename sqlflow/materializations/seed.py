"""seed: load a CSV file of the project into a table, built like a table model (atomic replace or swap).

The file is `node.path` under the project root; `delimiter` and `column_types` come from the seed's config,
the types of the other columns are detected by the engine.
"""

from __future__ import annotations

from pathlib import Path

from sqlflow.adapters.sql import read_csv_select
from sqlflow.errors import NodeFailedError, SourceLocation
from sqlflow.manifest import ModelNode
from sqlflow.materializations.context import BuildContext, BuildResult, with_rows
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


def build_seed(node: ModelNode, ctx: BuildContext) -> BuildResult:
    adapter = ctx.adapter
    if not adapter.reads_csv_in_sql:
        raise NodeFailedError(f"loading seeds is not supported on {adapter.type} yet")
    rows = replace_table(ctx, node, seed_select(node, ctx.project_root, adapter.dialect))
    return BuildResult(rows, with_rows("INSERT", rows))
