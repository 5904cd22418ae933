"""Builders for the runner tests: real Manifest objects with compiled SQL, and a DuckDB target."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlflow.graph import Dag, build_dag
from sqlflow.manifest import Manifest, ModelNode, NodeConfig, Relation, TestNode
from sqlflow.project.types import Target
from sqlflow.runner.plan import Command, Plan, build_plan

PROJECT = "shop"


def duckdb_target(path: Path) -> Target:
    return Target(
        name="dev",
        profile_name=PROJECT,
        type="duckdb",
        schema="main",
        database=path.stem,
        settings={"path": str(path)},
    )


def uid(name: str) -> str:
    """model.shop.<name>, seed.shop.<name> (names starting raw_) or test.shop.<name> (names with a __)."""
    if "__" in name:
        return f"test.{PROJECT}.{name}"
    if name.startswith("raw_"):
        return f"seed.{PROJECT}.{name}"
    return f"model.{PROJECT}.{name}"


def model(
    name: str, sql: str, deps: Iterable[str] = (), *, materialized: str = "table", **config: Any
) -> ModelNode:
    seed = name.startswith("raw_")
    return ModelNode(
        unique_id=uid(name),
        name=name,
        resource_type="seed" if seed else "model",
        package_name=PROJECT,
        path=f"seeds/{name}.csv" if seed else f"models/{name}.sql",
        fqn=(PROJECT, name),
        raw_sql=sql,
        checksum="0",
        config=NodeConfig(materialized="seed" if seed else materialized, **config),
        relation=Relation(database="db", schema=config.get("schema") or "main", identifier=name),
        compiled_sql=None if seed else sql,
        depends_on=tuple(sorted(uid(d) for d in deps)),
    )


def data_test(name: str, sql: str, deps: Iterable[str], **config: Any) -> TestNode:
    deps = tuple(deps)
    return TestNode(
        unique_id=uid(name),
        name=name,
        package_name=PROJECT,
        path="models/schema.yml",
        fqn=(PROJECT, name),
        test_type="generic",
        test_name=name.split("__")[0],
        raw_sql=sql,
        checksum="0",
        config=NodeConfig(**config),
        attached_node=uid(deps[0]),
        compiled_sql=sql,
        depends_on=tuple(sorted(uid(d) for d in deps)),
    )


def manifest(*nodes: ModelNode | TestNode) -> Manifest:
    return Manifest(
        project_name=PROJECT,
        dialect="duckdb",
        target_dialect="duckdb",
        nodes={n.unique_id: n for n in nodes},
    )


def plan_all(m: Manifest, command: Command = "build", *, full_refresh: bool = False) -> tuple[Dag, Plan]:
    dag = build_dag(m)
    return dag, build_plan(m, dag, frozenset(m.nodes), command=command, full_refresh=full_refresh)
