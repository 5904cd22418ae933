"""The template project (`sqlflow init`) built with `sqlflow build` on DuckDB and on PostgreSQL gives the
same rows in every model, seed and snapshot, and the same test results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sqlflow import api
from sqlflow.errors import SqlflowError
from sqlflow.manifest import ModelNode
from tests.postgres import need_postgres

from .engines import Engine


def build_template(engine: Engine, parent: Path) -> tuple[dict[str, int], dict[str, str]]:
    """`sqlflow init shop` + `sqlflow build` on the engine: rows per relation, status per node."""
    root = api.init_project("shop", parent)
    engine.root = root
    (root / "profiles.yml").write_text(
        "shop:\n  target: x\n  outputs:\n    x: " + _flow(engine.output()) + "\n"
    )
    out = api.run("build", api.Options(project_dir=root))
    assert out.result is not None
    counts = {}
    adapter = api.connect(out.compiled.project)  # as sqlflow opens it (DuckDB: files found from the project)
    try:
        for node in out.compiled.manifest.nodes.values():
            if not isinstance(node, ModelNode) or node.config.materialized == "ephemeral":
                continue
            relation = f'"{node.relation.schema}"."{node.relation.identifier}"'
            try:
                counts[node.name] = int(adapter.fetch(f"select count(*) from {relation}")[1][0][0])
            except SqlflowError:  # a relation the build did not make
                counts[node.name] = -1
    finally:
        adapter.close()
    return counts, {r.name: r.status for r in out.result.results}


def _flow(mapping: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in mapping.items()) + "}"


@pytest.mark.slow
def test_the_template_builds_the_same_on_duckdb_and_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_postgres()
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    duck = Engine.create("duckdb", tmp_path / "duckdb")
    pg = Engine.create("postgres", tmp_path / "postgres")
    try:
        duck_rows, duck_results = build_template(duck, tmp_path / "duckdb")
        pg_rows, pg_results = build_template(pg, tmp_path / "postgres")
    finally:
        pg.drop()
    assert set(duck_results.values()) <= {"success", "pass"}, duck_results
    assert all(n > 0 for n in duck_rows.values()), duck_rows
    assert pg_rows == duck_rows
    assert pg_results == duck_results
