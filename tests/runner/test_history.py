"""Every run is recorded in the state store: the run, and each node's result, a model's success in the
transaction of its data."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from sqlflow import api
from sqlflow.api import template_dir


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "shop"
    shutil.copytree(template_dir(), dest)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    return dest


def fetch(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "shop.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_build_is_recorded_with_every_node(shop: Path) -> None:
    out = api.run("build", api.Options(project_dir=shop))
    assert out.result is not None and not out.failed
    runs = fetch(shop, "select run_id, command, status, ended_at is not null from sqlflow_state.runs")
    assert runs == [(out.result.invocation_id, "build", "success", True)]
    recorded = dict(fetch(shop, "select unique_id, status from sqlflow_state.node_runs"))
    assert recorded == {r.unique_id: r.status for r in out.result.results}
    rows = dict(fetch(shop, "select unique_id, rows_affected from sqlflow_state.node_runs"))
    assert rows["seed.shop.raw_orders"] == 50


def test_a_failed_model_is_recorded_as_failed_and_leaves_no_success(shop: Path) -> None:
    api.run("build", api.Options(project_dir=shop))
    model = shop / "models" / "marts" / "customers.sql"
    model.write_text(model.read_text() + "\n{{ config(post_hook='select * from no_such_table') }}\n")
    out = api.run("run", api.Options(project_dir=shop), select_=["customers"])
    assert out.failed
    last = fetch(
        shop,
        "select n.status from sqlflow_state.node_runs n join sqlflow_state.runs r using (run_id) "
        "where r.command = 'run' and n.unique_id = 'model.shop.customers'",
    )
    assert last == [("error",)]
    assert fetch(shop, "select status from sqlflow_state.runs where command = 'run'") == [("error",)]


def test_the_state_schema_can_be_moved(shop: Path) -> None:
    (shop / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: shop.duckdb, state_schema: ops}\n"
    )
    api.run("seed", api.Options(project_dir=shop))
    assert fetch(shop, "select count(*) from ops.runs") == [(1,)]
    assert fetch(
        shop, "select count(*) from information_schema.schemata where schema_name = 'sqlflow_state'"
    ) == [(0,)]
