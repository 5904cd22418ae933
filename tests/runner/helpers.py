"""Builders for the runner tests: real Manifest objects (models, seeds, tests, sources, sensors) with compiled
SQL, and a DuckDB target."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlflow.graph import Dag, build_dag
from sqlflow.manifest import Manifest, ModelNode, NodeConfig, Relation, SensorNode, SourceNode, TestNode
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
    """model.shop.<name>, seed.shop.<name> (names starting raw_), test.shop.<name> (names with a __),
    source.shop.landing.<name> (names starting src_) or sensor.shop.<name> (names starting wait_)."""
    if "__" in name:
        return f"test.{PROJECT}.{name}"
    if name.startswith("raw_"):
        return f"seed.{PROJECT}.{name}"
    if name.startswith("src_"):
        return f"source.{PROJECT}.landing.{name}"
    if name.startswith("wait_"):
        return f"sensor.{PROJECT}.{name}"
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


def source(
    name: str, *, schema: str = "landing", loaded_at_field: str | None = None, freshness: Any = None
) -> SourceNode:
    return SourceNode(
        unique_id=uid(name),
        source_name="landing",
        name=name,
        package_name=PROJECT,
        path="models/sources.yml",
        line=1,
        fqn=(PROJECT, "landing", name),
        relation=Relation(database="db", schema=schema, identifier=name),
        loaded_at_field=loaded_at_field,
        freshness=freshness or {},
    )


def sensor(
    name: str,
    kind: str,
    deps: Iterable[str] = (),
    *,
    poke_interval: float = 0.05,
    timeout: float = 1.0,
    on_timeout: str = "fail",
    backoff: bool = False,
    **params: Any,
) -> SensorNode:
    return SensorNode(
        unique_id=uid(name),
        name=name,
        package_name=PROJECT,
        path="models/sensors.yml",
        line=1,
        fqn=(PROJECT, name),
        kind=kind,  # type: ignore[arg-type]
        params=params,
        poke_interval=poke_interval,
        timeout=timeout,
        on_timeout=on_timeout,  # type: ignore[arg-type]
        backoff=backoff,
        depends_on=tuple(sorted(uid(d) for d in deps)),
    )


def poke_config(
    *, poke_interval: float = 0.05, timeout: float = 1.0, on_timeout: str = "fail"
) -> dict[str, Any]:
    """A test's normalised `sensor` config."""
    return {
        "poke_interval": poke_interval,
        "timeout": timeout,
        "on_timeout": on_timeout,
        "backoff": False,
        "max_poke_interval": None,
    }


def manifest(*nodes: ModelNode | TestNode | SensorNode | SourceNode) -> Manifest:
    return Manifest(
        project_name=PROJECT,
        dialect="duckdb",
        target_dialect="duckdb",
        nodes={n.unique_id: n for n in nodes if not isinstance(n, SourceNode)},
        sources={n.unique_id: n for n in nodes if isinstance(n, SourceNode)},
    )


def plan_all(
    m: Manifest, command: Command = "build", *, full_refresh: bool = False, audit: bool = False
) -> tuple[Dag, Plan]:
    dag = build_dag(m)
    selected = frozenset([*m.nodes, *m.sources])
    return dag, build_plan(m, dag, selected, command=command, full_refresh=full_refresh, audit=audit)
