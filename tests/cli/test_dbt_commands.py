"""dbt's command semantics through click's runner on the template project: `run` runs no tests unless
asked to (`--audit`, `flags: {run_audits: true}`), while `build` keeps write-audit-publish."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from click.testing import CliRunner

from sqlflow.cli.main import cli

# a singular test on orders that fails whenever orders has rows
FAILING_TEST = "select * from {{ ref('orders') }} where order_id is not null\n"


def invoke(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--no-color", *args], catch_exceptions=False, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def statuses(shop: Path) -> dict[str, str]:
    doc = json.loads((shop / "target" / "run_results.json").read_text())
    return {r["unique_id"]: r["status"] for r in doc["results"]}


def orders_exist(shop: Path) -> bool:
    with duckdb.connect(str(shop / "shop.duckdb"), read_only=True) as con:
        found = "select count(*) from information_schema.tables where table_name = 'orders'"
        return con.sql(found).fetchall() == [(1,)]


def planned_kinds(out: str) -> list[tuple[str, str]]:
    """(resource type, name) of each line of a --dry-run plan."""
    return [(line.split()[1], line.split()[2]) for line in out.splitlines() if "/" in line.split()[0]]


def test_run_plans_models_and_sensors_only(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "run", "--dry-run")
    assert code == 0, out
    kinds = {kind for kind, _ in planned_kinds(out)}
    assert kinds == {"model", "sensor"}
    assert "audit of" not in out
    code, audited = invoke(runner, "run", "--audit", "--dry-run")
    assert code == 0, audited
    assert "test   not_null_orders_order_id" in audited
    assert any(line.endswith("audit of orders") for line in audited.splitlines())
    # build keeps its audits with or without a flag
    assert "audit of orders" in invoke(runner, "build", "--dry-run")[1]


def test_run_builds_past_a_failing_test_and_run_audit_keeps_the_old_data(
    shop: Path, runner: CliRunner
) -> None:
    (shop / "tests" / "orders_are_empty.sql").write_text(FAILING_TEST)
    code, out = invoke(runner, "seed")
    assert code == 0, out
    code, out = invoke(runner, "run", "-s", "+orders")
    assert code == 0, out  # as `dbt run`: the test is not run, orders is built
    assert orders_exist(shop)
    results = statuses(shop)
    assert results["model.shop.orders"] == "success"
    assert not any(uid.startswith("test.") for uid in results)
    code, out = invoke(runner, "run", "--audit", "-s", "orders")
    assert code == 1, out
    results = statuses(shop)
    assert results["model.shop.orders"] == "error"
    assert results["test.shop.orders_are_empty"] == "fail"
    args = json.loads((shop / "target" / "run_results.json").read_text())["args"]
    assert args["audit"] is True  # recorded, so `sqlflow retry` audits again
    code, out = invoke(runner, "retry", "--dry-run")
    assert code == 0, out
    assert "audit of orders" in out


def test_the_project_flag_makes_run_audit(shop: Path, runner: CliRunner) -> None:
    project_file = shop / "sqlflow.yml"
    original = project_file.read_text()
    project_file.write_text(original + "flags:\n  run_audits: true\n")
    code, out = invoke(runner, "run", "--dry-run")
    assert code == 0, out
    assert "audit of orders" in out
    project_file.write_text(original + "flags:\n  run_audits: false\n  send_anonymous_usage_stats: false\n")
    assert "audit of" not in invoke(runner, "run", "--dry-run")[1]


def test_a_bad_run_audits_flag_names_its_line(shop: Path, runner: CliRunner) -> None:
    project_file = shop / "sqlflow.yml"
    original = project_file.read_text()
    line = len(original.splitlines()) + 2
    project_file.write_text(original + "flags:\n  run_audits: sometimes\n")
    code, out = invoke(runner, "run", "--dry-run")
    assert code != 0
    assert f"sqlflow.yml:{line}: 'run_audits' under flags must be true or false, not a string" in out
    project_file.write_text(original + "flags:\n  run-audits: true\n")
    code, out = invoke(runner, "run", "--dry-run")
    assert code != 0
    assert f"sqlflow.yml:{line}: unknown flag 'run-audits' under flags" in out
    assert "did you mean 'run_audits'?" in out


def dry_run_names(runner: CliRunner, *args: str) -> list[str]:
    code, out = invoke(runner, *args, "--dry-run")
    assert code == 0, out
    return [name for _, name in planned_kinds(out)]


def test_select_and_exclude_take_several_values_after_one_flag(shop: Path, runner: CliRunner) -> None:
    # as dbt: `-s a b` is `-s a -s b` is `-s 'a b'`
    several = dry_run_names(runner, "run", "-s", "stg_orders", "orders", "customers")
    assert several == ["stg_orders", "orders", "customers"]
    assert dry_run_names(runner, "run", "-s", "stg_orders", "-s", "orders customers") == several
    assert dry_run_names(runner, "run", "--select", "+customers", "--exclude", "stg_orders", "orders") == [
        "stg_customers",
        "stg_payments",
        "customers",
    ]
    # the values end at the next option, whichever it is
    assert dry_run_names(runner, "run", "-s", "orders", "customers", "--threads", "1") == [
        "orders",
        "customers",
    ]
    code, out = invoke(runner, "ls", "-s", "orders", "customers", "--resource-type", "model", "-o", "name")
    assert code == 0, out
    assert out.split() == ["orders", "customers"]
    seeds = dry_run_names(runner, "seed", "-s", "raw_orders", "raw_customers")
    assert sorted(seeds) == ["raw_customers", "raw_orders"]
    tests = dry_run_names(runner, "test", "-s", "stg_orders", "stg_payments", "--exclude", "tag:none")
    assert "not_null_stg_orders_order_id" in tests and "not_null_stg_payments_payment_id" in tests
    assert set(dry_run_names(runner, "build", "-s", "raw_orders", "stg_orders")) >= {
        "raw_orders",
        "stg_orders",
        "not_null_stg_orders_order_id",
    }


def test_a_command_that_takes_no_values_still_rejects_extra_arguments(shop: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["run", "--dry-run", "orders"])
    assert result.exit_code == 2
    assert "Got unexpected extra argument (orders)" in result.output


def test_compile_select_prints_the_compiled_sql(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "compile", "-s", "stg_orders")
    assert code == 0, out
    # one node: its SQL alone (as dbt prints it), refs resolved; its tests are compiled, not printed
    assert (
        out == "select\n    id as order_id,\n    customer_id,\n    cast(ordered_at as date) as ordered_at,"
        '\n    status\nfrom "main"."raw_orders"\n'
    )
    code, out = invoke(runner, "compile", "-s", "stg_orders", "stg_customers")
    assert code == 0, out
    headers = [line for line in out.splitlines() if line.startswith("-- model ")]
    assert headers == [
        "-- model stg_customers (models/staging/stg_customers.sql)",
        "-- model stg_orders (models/staging/stg_orders.sql)",
    ]
    assert 'from "main"."raw_orders"' in out and "{{" not in out
    # tests are printed when the selection names only tests
    code, out = invoke(runner, "compile", "-s", "test_name:unique", "--exclude", "staging")
    assert code == 0, out
    assert "-- test unique_orders_order_id (models/marts/schema.yml)" in out.splitlines()
    assert "-- model" not in out
    # without --select, the summary line as before
    code, out = invoke(runner, "compile")
    assert code == 0 and out.startswith("Compiled ")


def test_indirect_selection_decides_which_tests_come_with_a_model(shop: Path, runner: CliRunner) -> None:
    # the relationships test of stg_orders also reads stg_customers: eager (dbt's default) keeps it
    eager = dry_run_names(runner, "test", "-s", "stg_orders")
    assert any(name.startswith("relationships_stg_orders") for name in eager)
    assert dry_run_names(runner, "test", "-s", "stg_orders", "--indirect-selection", "eager") == eager
    cautious = dry_run_names(runner, "test", "-s", "stg_orders", "--indirect-selection", "cautious")
    assert cautious == [name for name in eager if not name.startswith("relationships_")]
    assert dry_run_names(runner, "test", "-s", "stg_orders", "--indirect-selection", "empty") == []
    # buildable: orders' tests whose other inputs are upstream of orders (the singular test reads payments)
    code, out = invoke(runner, "ls", "-s", "orders", "--indirect-selection", "buildable", "-o", "name")
    assert code == 0, out
    assert "assert_order_amounts_match_payments" in out.split()
    code, out = invoke(runner, "ls", "-s", "orders", "--indirect-selection", "cautious", "-o", "name")
    assert "assert_order_amounts_match_payments" not in out.split()
    # build and compile take it too; a wrong value is a usage error
    assert "not_null_orders_order_id" not in dry_run_names(
        runner, "build", "-s", "orders", "--indirect-selection", "empty"
    )
    assert invoke(runner, "compile", "-s", "orders", "--indirect-selection", "empty")[0] == 0
    code, out = invoke(runner, "test", "-s", "orders", "--indirect-selection", "eagre")
    assert code == 2 and "'eagre' is not one of" in out


def test_show_select_previews_one_model(shop: Path, runner: CliRunner) -> None:
    assert invoke(runner, "seed")[0] == 0
    assert invoke(runner, "run", "-s", "+customers")[0] == 0
    code, out = invoke(runner, "show", "-s", "customers", "--limit", "2")
    assert code == 0, out
    assert "lifetime_value" in out and out.endswith("2 rows (--limit reached)\n")
    code, out = invoke(runner, "show", "-s", "tag:marts")
    assert code == 2 and "show -s takes one model name" in out
