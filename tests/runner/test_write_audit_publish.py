"""Write-audit-publish through execute_plan on a real DuckDB file: blocking tests gate what becomes visible,
warn tests only report, thresholds, stored failures and samples."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sqlflow.adapters import Adapter
from sqlflow.artifacts import run_results_document
from sqlflow.manifest import Manifest
from sqlflow.runner.events import ListReporter, NullReporter, Reporter
from sqlflow.runner.execute import execute_plan
from sqlflow.runner.results import RunResult

from .helpers import data_test, manifest, model, plan_all, uid

GOOD = "select * from (values (1, 10, 5.0), (2, 10, 7.0), (3, 20, 1.0)) t(id, customer, amount)"
# ids 1, 2 and 3 twice each, 4 once: three duplicated ids
BAD = (
    "select * from (values (1, 10, 5.0), (1, 10, 5.0), (2, 10, 7.0), (2, 11, 7.0), (3, 20, 1.0), "
    "(3, 20, 1.5), (4, 30, 2.0)) t(id, customer, amount)"
)
UNIQUE = "select id, count(*) as n from main.orders group by id having count(*) > 1"


def shop(orders_sql: str, *, severity: str = "error", view: bool = False, **test_config: object) -> Manifest:
    return manifest(
        model("orders", orders_sql, materialized="view" if view else "table"),
        model("totals", "select customer, sum(amount) as total from main.orders group by 1", ["orders"]),
        model("report", "select * from main.totals", ["totals"], materialized="view"),
        model("customers", "select * from range(3) r(id)"),
        model("customer_report", "select count(*) as n from main.customers", ["customers"]),
        data_test("unique__orders_id", UNIQUE, ["orders"], severity=severity, **test_config),
        data_test("not_null__orders_id", "select * from main.orders where id is null", ["orders"]),
    )


def run(
    m: Manifest,
    adapter: Adapter,
    root: Path,
    command: str = "build",
    *,
    threads: int = 1,
    reporter: Reporter | None = None,
) -> RunResult:
    name, _, flag = command.partition(" ")  # "run --audit": run with audits, as build has them
    _, plan = plan_all(m, name, audit=flag == "--audit")  # type: ignore[arg-type]
    return execute_plan(
        plan,
        m,
        adapter,
        threads=threads,
        fail_fast=False,
        reporter=reporter or NullReporter(),
        project_root=root,
        target_schema="main",
    )


def statuses(result: RunResult) -> dict[str, str]:
    return {r.name: r.status for r in result.results}


def orders(adapter: Adapter) -> list[tuple[object, ...]]:
    return adapter.fetch("select * from main.orders order by all")[1]


@pytest.mark.parametrize("command", ["build", "run --audit"])
@pytest.mark.parametrize("threads", [1, 4])
def test_failing_blocking_test_keeps_the_old_table_and_skips_descendants(
    adapter: Adapter, tmp_path: Path, command: str, threads: int
) -> None:
    assert not run(shop(GOOD), adapter, tmp_path, command, threads=threads).failed
    before = orders(adapter)
    totals_before = adapter.fetch("select * from main.totals order by all")[1]
    reporter = ListReporter()
    result = run(shop(BAD), adapter, tmp_path, command, threads=threads, reporter=reporter)
    assert result.failed
    assert statuses(result) == {
        "orders": "error",
        "not_null__orders_id": "pass",
        "unique__orders_id": "fail",
        "totals": "skipped",
        "report": "skipped",
        "customers": "success",
        "customer_report": "success",
    }
    by_name = {r.name: r for r in result.results}
    assert by_name["orders"].message == "audit failed: unique__orders_id (3 failing rows)"
    assert by_name["totals"].message == "skipped: upstream orders failed"
    assert by_name["report"].message == "skipped: upstream orders failed"
    failing = by_name["unique__orders_id"]
    assert failing.failures == 3
    assert failing.message == "Got 3 results, configured to fail if != 0"
    assert list(failing.sample_rows) == [{"id": 1, "n": 2}, {"id": 2, "n": 2}, {"id": 3, "n": 2}]
    assert failing.started_at is not None and by_name["not_null__orders_id"].failures == 0
    # the previous data is there, untouched, and so is what was built from it
    assert orders(adapter) == before
    assert adapter.fetch("select * from main.totals order by all")[1] == totals_before
    # the event carries the sample for the CLI
    event = next(e for e in reporter.events if e.kind == "node_finished" and e.name == "unique__orders_id")
    assert event.status == "fail" and event.rows == 3
    assert event.sample == (("id", "n"), ((1, 2), (2, 2), (3, 2)))
    doc = run_results_document(result)
    entry = next(r for r in doc["results"] if r["unique_id"] == uid("unique__orders_id"))
    assert entry["failures"] == 3 and len(entry["adapter_response"]["sample_rows"]) == 3


def test_run_without_audit_publishes_and_runs_no_test(adapter: Adapter, tmp_path: Path) -> None:
    # as dbt's run: the failing test is not run, the new rows are published, nothing is skipped
    run(shop(GOOD), adapter, tmp_path, "build")
    result = run(shop(BAD), adapter, tmp_path, "run")
    assert not result.failed
    assert statuses(result) == {
        "orders": "success",
        "totals": "success",
        "report": "success",
        "customers": "success",
        "customer_report": "success",
    }
    assert len(orders(adapter)) == 7


def test_passing_audits_publish_and_run_once_in_build(adapter: Adapter, tmp_path: Path) -> None:
    adapter.execute("create sequence audit_calls")
    counted = "select * from (select nextval('audit_calls') as call) as c where call < 0"
    m = manifest(
        model("orders", GOOD),
        model("totals", "select count(*) as n from main.orders", ["orders"]),
        data_test("counted__orders", counted, ["orders"]),
    )
    reporter = ListReporter()
    result = run(m, adapter, tmp_path, "build", reporter=reporter)
    assert statuses(result) == {"orders": "success", "counted__orders": "pass", "totals": "success"}
    assert adapter.fetch("select currval('audit_calls')")[1] == [(1,)]  # ran once, as the audit
    started = [e.name for e in reporter.events if e.kind == "node_started"]
    assert started == ["orders", "counted__orders", "totals"]
    assert [e.index for e in reporter.events if e.kind == "node_finished"] == [1, 2, 3]


def test_warn_tests_never_gate(adapter: Adapter, tmp_path: Path) -> None:
    run(shop(GOOD), adapter, tmp_path, "build")
    result = run(shop(BAD, severity="warn"), adapter, tmp_path, "build")
    assert not result.failed
    assert statuses(result)["orders"] == "success" and statuses(result)["unique__orders_id"] == "warn"
    assert statuses(result)["report"] == "success"
    assert len(orders(adapter)) == 7  # published
    # in `run --audit` a warn test does not run at all
    result = run(shop(GOOD, severity="warn"), adapter, tmp_path, "run --audit")
    assert "unique__orders_id" not in statuses(result) and not result.failed


def test_thresholds_decide_between_fail_and_warn(adapter: Adapter, tmp_path: Path) -> None:
    run(shop(GOOD), adapter, tmp_path, "build")
    lenient = run(shop(BAD, error_if="> 3", warn_if=">= 2"), adapter, tmp_path, "build")
    assert statuses(lenient)["orders"] == "success" and statuses(lenient)["unique__orders_id"] == "warn"
    assert lenient.get(uid("unique__orders_id")).message == "Got 3 results, configured to warn if >= 2"
    strict = run(shop(GOOD + " union all " + GOOD, error_if=">= 3"), adapter, tmp_path, "build")
    assert statuses(strict)["orders"] == "error" and statuses(strict)["unique__orders_id"] == "fail"
    assert strict.get(uid("unique__orders_id")).message == "Got 3 results, configured to fail if >= 3"
    quiet = run(shop(BAD, error_if="> 5", warn_if="> 5"), adapter, tmp_path, "build")
    assert statuses(quiet)["unique__orders_id"] == "pass" and not quiet.failed


def test_store_failures_keeps_the_rows_through_the_rollback(adapter: Adapter, tmp_path: Path) -> None:
    run(shop(GOOD), adapter, tmp_path, "build")
    result = run(shop(BAD, store_failures=True), adapter, tmp_path, "build")
    failing = result.get(uid("unique__orders_id"))
    assert failing.message == (
        "Got 3 results, configured to fail if != 0; "
        'failing rows in "main_dbt_test__audit"."unique__orders_id"'
    )
    stored = 'select * from main_dbt_test__audit."unique__orders_id" order by id'
    assert adapter.fetch(stored)[1] == [(1, 2), (2, 2), (3, 2)]
    assert len(orders(adapter)) == 3  # rolled back all the same
    # replaced on each run: a passing run leaves an empty table
    result = run(shop(GOOD, store_failures=True), adapter, tmp_path, "build")
    assert statuses(result)["unique__orders_id"] == "pass"
    assert adapter.fetch(stored)[1] == []


def test_store_failures_of_a_plain_test(adapter: Adapter, tmp_path: Path) -> None:
    run(shop(BAD, severity="warn"), adapter, tmp_path, "build")
    m = shop(BAD, severity="warn", store_failures=True)
    result = run(m, adapter, tmp_path, "test")
    assert statuses(result)["unique__orders_id"] == "warn"
    assert adapter.fetch('select count(*) from main_dbt_test__audit."unique__orders_id"')[1] == [(3,)]


def test_a_view_keeps_its_previous_definition(adapter: Adapter, tmp_path: Path) -> None:
    run(shop(GOOD, view=True), adapter, tmp_path, "build")
    definition = adapter.fetch("select sql from duckdb_views() where view_name = 'orders'")[1]
    result = run(shop(BAD, view=True), adapter, tmp_path, "run --audit")
    assert statuses(result)["orders"] == "error" and statuses(result)["report"] == "skipped"
    assert adapter.fetch("select sql from duckdb_views() where view_name = 'orders'")[1] == definition
    assert len(orders(adapter)) == 3


def test_an_incremental_model_keeps_its_rows(adapter: Adapter, tmp_path: Path) -> None:
    def m(new_rows: str) -> Manifest:
        orders = model("orders", GOOD, materialized="incremental", unique_key=("id", "customer"))
        return manifest(
            dataclasses.replace(orders, incremental_sql=new_rows),
            data_test("unique__orders_id", UNIQUE, ["orders"]),
        )

    run(m(GOOD), adapter, tmp_path, "run --audit")
    result = run(m("select 1 as id, 99 as customer, 0.5 as amount"), adapter, tmp_path, "run --audit")
    assert statuses(result) == {"orders": "error", "unique__orders_id": "fail"}
    assert len(orders(adapter)) == 3
    result = run(m("select 4 as id, 99 as customer, 0.5 as amount"), adapter, tmp_path, "run --audit")
    assert statuses(result) == {"orders": "success", "unique__orders_id": "pass"}
    assert result.get(uid("orders")).message == "MERGE 1" and len(orders(adapter)) == 4


def test_an_audit_that_errors_fails_the_model(adapter: Adapter, tmp_path: Path) -> None:
    m = manifest(
        model("orders", GOOD),
        data_test("a_broken__orders", "select * from main.nope", ["orders"]),
        data_test("b_fine__orders", "select 1 where false", ["orders"]),
    )
    result = run(m, adapter, tmp_path, "run --audit")
    assert statuses(result) == {"orders": "error", "a_broken__orders": "error", "b_fine__orders": "skipped"}
    message = result.get(uid("orders")).message
    assert message.startswith("audit failed: a_broken__orders (error: Catalog Error: Table with name nope")
    assert not adapter.relation_exists(m.nodes[uid("orders")].relation)


def test_a_test_reading_a_later_model_audits_that_model(adapter: Adapter, tmp_path: Path) -> None:
    m = manifest(
        model("customers", "select * from range(3) r(id)"),
        model("orders", "select 1 as id, 7 as customer_id", ["customers"]),
        data_test(
            "rel__orders_customer_id",
            "select * from main.orders where customer_id not in (select id from main.customers)",
            ["orders", "customers"],
        ),
    )
    result = run(m, adapter, tmp_path, "run --audit")
    assert statuses(result) == {"customers": "success", "orders": "error", "rel__orders_customer_id": "fail"}
    assert not adapter.relation_exists(m.nodes[uid("orders")].relation)
