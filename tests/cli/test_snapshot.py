"""`sqlflow snapshot` and snapshots in `sqlflow build`, through click's runner on the template project."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from click.testing import CliRunner

from sqlflow.cli.main import cli

SNAP = "snapshot.shop.customers_snapshot"
EMAIL_20 = "yuki.berg@example.com"


def invoke(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--no-color", *args], catch_exceptions=False, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def rows(shop: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(shop / "shop.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def results(shop: Path) -> dict[str, dict]:
    doc = json.loads((shop / "target" / "run_results.json").read_text())
    return {r["unique_id"]: r for r in doc["results"]}


def edit_customers(shop: Path) -> None:
    """Ava (id 1) changes her email, customer 20 (no orders) leaves."""
    path = shop / "seeds" / "raw_customers.csv"
    lines = path.read_text().splitlines()
    lines = [line.replace("ava.jensen@", "ava@") for line in lines if not line.startswith("20,")]
    path.write_text("\n".join(lines) + "\n")


def test_snapshot_command_records_changes_and_deletes(shop: Path, runner: CliRunner) -> None:
    assert invoke(runner, "seed")[0] == 0
    assert invoke(runner, "run")[0] == 0
    code, out = invoke(runner, "snapshot")
    assert code == 0, out
    assert "customers_snapshot" in out
    assert list(results(shop)) == [SNAP]
    assert results(shop)[SNAP]["status"] == "success"
    assert rows(shop, "select count(*), count(dbt_valid_to) from main.customers_snapshot") == [(20, 0)]

    edit_customers(shop)
    assert invoke(runner, "seed")[0] == 0  # stg_customers is a view over the seed
    code, out = invoke(runner, "snapshot")
    assert code == 0, out
    assert results(shop)[SNAP]["adapter_response"]["rows_affected"] == 3  # 2 closed, 1 new version
    history = rows(
        shop,
        "select customer_id, email, dbt_valid_to is null from main.customers_snapshot "
        "where customer_id in (1, 20) order by customer_id, dbt_valid_from",
    )
    assert history == [
        (1, "ava.jensen@example.com", False),
        (1, "ava@example.com", True),
        (20, EMAIL_20, False),  # invalidated: the template uses hard_deletes invalidate
    ]

    assert invoke(runner, "snapshot")[0] == 0
    assert results(shop)[SNAP]["adapter_response"]["rows_affected"] == 0
    assert invoke(runner, "build", "--full-refresh")[0] == 0  # never rebuilds a snapshot
    assert rows(shop, "select count(*), count(dbt_valid_to) from main.customers_snapshot") == [(21, 2)]


def test_build_includes_snapshots_and_selection_finds_them(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "snapshot", "--dry-run")
    assert code == 0, out
    assert out.strip() == '1/1 snapshot customers_snapshot snapshot "main"."customers_snapshot"'
    code, out = invoke(runner, "build")
    assert code == 0, out
    assert results(shop)[SNAP]["status"] == "success"
    assert rows(shop, "select count(*) from main.customers_snapshot where dbt_valid_to is null") == [(20,)]
    code, out = invoke(runner, "ls", "--resource-type", "snapshot", "-o", "path")
    assert (code, out) == (0, "snapshots/customers_snapshot.sql\n")
    code, out = invoke(runner, "ls", "-o", "name", "-s", "stg_customers+", "--resource-type", "snapshot")
    assert (code, out) == (0, "customers_snapshot\n")
    code, out = invoke(runner, "snapshot", "--select", "path:snapshots", "--exclude", "customers_snapshot")
    assert code == 0 and "Nothing to do" in out
    manifest = json.loads((shop / "target" / "manifest.json").read_text())
    assert manifest["nodes"][SNAP]["resource_type"] == "snapshot"
    assert manifest["nodes"][SNAP]["depends_on"] == {"macros": [], "nodes": ["model.shop.stg_customers"]}
    compiled = shop / "target" / "compiled" / "shop" / "snapshots" / "customers_snapshot.sql"
    assert compiled.read_text() == 'select * from "main"."stg_customers"'
