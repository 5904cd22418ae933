"""Builders for the materialization tests: real ModelNode objects and a DuckDB target in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlflow.adapters import Adapter
from sqlflow.manifest import ModelNode, NodeConfig, Relation
from sqlflow.materializations import BuildContext, RelationCache
from sqlflow.project.types import Target


def duckdb_target(path: Path) -> Target:
    return Target(
        name="dev",
        profile_name="test",
        type="duckdb",
        schema="main",
        database=path.stem,
        settings={"path": str(path)},
    )


def make_model(
    name: str,
    sql: str,
    *,
    materialized: str = "table",
    schema: str = "main",
    incremental_sql: str | None = None,
    resource_type: str = "model",
    path: str | None = None,
    **config: Any,
) -> ModelNode:
    return ModelNode(
        unique_id=f"{resource_type}.test.{name}",
        name=name,
        resource_type=resource_type,  # type: ignore[arg-type]
        package_name="test",
        path=path or f"models/{name}.sql",
        fqn=("test", name),
        raw_sql=sql,
        checksum="0",
        config=NodeConfig(materialized=materialized, **config),
        relation=Relation(database="db", schema=schema, identifier=name),
        compiled_sql=sql,
        incremental_sql=incremental_sql,
    )


def context(adapter: Adapter, root: Path, *, full_refresh: bool = False) -> BuildContext:
    """A fresh context, as a run starts: one catalog query."""
    return BuildContext(
        adapter=adapter, relations=RelationCache.of(adapter), project_root=root, full_refresh=full_refresh
    )


def rows(adapter: Adapter, sql: str) -> list[tuple[Any, ...]]:
    return adapter.fetch(sql)[1]
