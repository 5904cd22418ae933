"""The main flows through click's runner on the template project, on a real DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from sqlflow.cli.main import cli


def invoke(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--no-color", *args], catch_exceptions=False, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def rows(shop: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(shop / "shop.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def statuses(shop: Path) -> dict[str, str]:
    doc = json.loads((shop / "target" / "run_results.json").read_text())
    return {r["unique_id"]: r["status"] for r in doc["results"]}


def test_build_the_template(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "build")
    assert code == 0, out
    assert "ERROR" not in out and "FAIL" not in out
    results = statuses(shop)
    assert results["model.shop.orders"] == "success"
    assert results["seed.shop.raw_orders"] == "success"
    assert "model.shop.order_payments" not in results  # ephemeral: inlined, never run
    tests = [s for uid, s in results.items() if uid.startswith("test.")]
    assert len(tests) >= 10 and set(tests) == {"pass"}
    assert rows(shop, "select count(*) from main.orders") == [(50,)]
    # every order's amount equals its payments (the ephemeral CTE and the plain-name dependency worked)
    assert rows(shop, "select count(*) from main.orders o where amount <= 0") == [(0,)]
    assert (shop / "target" / "manifest.json").exists()
    assert (shop / "target" / "compiled" / "shop" / "models" / "marts" / "orders.sql").exists()


def test_second_build_runs_incremental_path(shop: Path, runner: CliRunner) -> None:
    assert invoke(runner, "build")[0] == 0
    before = rows(shop, "select * from main.daily_revenue order by ordered_at")
    code, out = invoke(runner, "build")
    assert code == 0, out
    assert rows(shop, "select * from main.daily_revenue order by ordered_at") == before


def test_failed_model_skips_descendants_and_prints_resume(shop: Path, runner: CliRunner) -> None:
    assert invoke(runner, "build")[0] == 0
    (shop / "models" / "marts" / "orders.sql").write_text(
        "select order_id, customer_id, ordered_at, status, 1 / 0 as amount, "
        "cast('x' as integer) as broken from stg_orders"
    )
    code, out = invoke(runner, "run")
    assert code == 1
    results = statuses(shop)
    assert results["model.shop.orders"] == "error"
    assert results["model.shop.customers"] == "skipped"
    assert results["model.shop.stg_customers"] == "success"  # independent branch went on
    assert "To resume: sqlflow retry" in out
    # the previous table is untouched
    assert rows(shop, "select count(*) from main.orders") == [(50,)]


def test_selection(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "ls", "-o", "name", "--select", "+customers", "--resource-type", "model")
    assert code == 0, out
    names = out.split()
    assert set(names) == {
        "stg_customers",
        "stg_orders",
        "stg_payments",
        "order_payments",
        "orders",
        "customers",
    }
    assert names.index("stg_orders") < names.index("orders") < names.index("customers")
    code, out = invoke(runner, "ls", "-o", "name", "-s", "tag:staging", "--exclude", "stg_payments")
    assert code == 0
    assert {"stg_customers", "stg_orders"} <= set(out.split())
    assert "stg_payments" not in out.split()


def test_bad_selector_is_a_usage_error(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "ls", "-s", "tga:staging")
    assert code == 2
    assert "tag" in out  # did-you-mean


def test_show_model_and_inline(shop: Path, runner: CliRunner) -> None:
    assert invoke(runner, "seed")[0] == 0
    assert invoke(runner, "run")[0] == 0
    code, out = invoke(runner, "show", "customers", "--limit", "3")
    assert code == 0, out
    assert "lifetime_value" in out
    code, out = invoke(runner, "show", "--inline", "select count(*) as n from {{ ref('orders') }}")
    assert code == 0, out
    assert "50" in out


def test_unknown_ref_is_one_line_with_file_and_hint(shop: Path, runner: CliRunner) -> None:
    (shop / "models" / "marts" / "broken.sql").write_text("select *\nfrom {{ ref('stg_custmers') }}\n")
    result = runner.invoke(cli, ["--no-color", "compile"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "models/marts/broken.sql:2: unknown ref 'stg_custmers' (did you mean 'stg_customers'" in (
        result.output
    )
    assert len(result.output.strip().splitlines()) == 1


def test_bad_vars_is_one_line(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "compile", "--vars", "{unclosed")
    assert code == 1
    assert "--vars is not valid YAML" in out


def test_dry_run_prints_plan_and_runs_nothing(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "build", "--dry-run")
    assert code == 0, out
    assert "orders" in out
    assert not (shop / "shop.duckdb").exists()


def test_debug_and_clean(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "debug")
    assert code == 0, out
    assert "connection" in out and "embedded DuckDB" in out
    assert invoke(runner, "compile")[0] == 0
    code, out = invoke(runner, "clean")
    assert code == 0 and not (shop / "target").exists()


def test_json_log_format(shop: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--log-format", "json", "seed"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    finished = [e for e in events if e["kind"] == "node_finished"]
    assert {e["name"] for e in finished} == {"raw_customers", "raw_orders", "raw_payments"}
    assert all(e["status"] == "success" for e in finished)


def test_init_refuses_existing_and_bad_names(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = invoke(runner, "init", "acme")
    assert code == 0, out
    assert "name: acme" in (tmp_path / "acme" / "sqlflow.yml").read_text()
    code, out = invoke(runner, "init", "acme")
    assert code == 1 and "already exists" in out
    code, out = invoke(runner, "init", "9bad-name")
    assert code == 1 and "not a valid project name" in out
