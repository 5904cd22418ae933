"""execute_plan on a real DuckDB file: statuses, skips, fail-fast, tests, threads, cleanup, results JSON."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from sqlflow.adapters import Adapter
from sqlflow.artifacts import result_document, run_results_document
from sqlflow.manifest import Manifest
from sqlflow.runner.events import ListReporter, NullReporter, RunEvent
from sqlflow.runner.execute import execute_plan
from sqlflow.runner.plan import Plan
from sqlflow.runner.results import RunResult

from .helpers import data_test, manifest, model, plan_all, uid

LONG_QUERY = "select sum(i * i) as x from range(100000000000) t(i)"


def run(
    m: Manifest,
    adapter: Adapter,
    root: Path,
    *,
    command: str = "build",
    threads: int = 1,
    fail_fast: bool = False,
    full_refresh: bool = False,
    reporter: object | None = None,
    plan: Plan | None = None,
) -> RunResult:
    plan = plan or plan_all(m, command, full_refresh=full_refresh)[1]  # type: ignore[arg-type]
    return execute_plan(
        plan,
        m,
        adapter,
        threads=threads,
        fail_fast=fail_fast,
        reporter=reporter or NullReporter(),  # type: ignore[arg-type]
        project_root=root,
        full_refresh=full_refresh,
    )


def statuses(result: RunResult) -> dict[str, str]:
    return {r.name: r.status for r in result.results}


def messages(result: RunResult) -> dict[str, str | None]:
    return {r.name: r.message for r in result.results}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "raw_orders.csv").write_text("id,customer,amount\n1,10,5.5\n2,10,7\n3,20,1\n")
    return tmp_path


def shop() -> Manifest:
    return manifest(
        model("raw_orders", "", column_types={"amount": "decimal(10,2)"}),
        model("stg_orders", "select * from main.raw_orders", ["raw_orders"], materialized="view"),
        model(
            "customers",
            "select customer, sum(amount) as total from main.stg_orders group by customer",
            ["stg_orders"],
        ),
        model(
            "big_orders",
            "select * from main.stg_orders where amount > 2",
            ["stg_orders"],
            materialized="incremental",
            unique_key=("id",),
        ),
        data_test(
            "not_null__customers_total", "select * from main.customers where total is null", ["customers"]
        ),
        data_test(
            "unique__big_orders_id",
            "select id from main.big_orders group by id having count(*) > 1",
            ["big_orders"],
        ),
    )


def test_build_runs_every_kind(adapter: Adapter, project: Path) -> None:
    reporter = ListReporter()
    result = run(shop(), adapter, project, reporter=reporter)
    assert statuses(result) == {
        "raw_orders": "success",
        "stg_orders": "success",
        "big_orders": "success",
        "customers": "success",
        "unique__big_orders_id": "pass",
        "not_null__customers_total": "pass",
    }
    assert not result.failed
    by_name = {r.name: r for r in result.results}
    assert by_name["raw_orders"].rows_affected == 3 and by_name["raw_orders"].message == "INSERT 3"
    assert by_name["customers"].rows_affected == 2
    assert by_name["unique__big_orders_id"].failures == 0
    assert adapter.fetch("select customer, total from main.customers order by 1")[1] == [
        (10, pytest.approx(12.5)),
        (20, pytest.approx(1)),
    ]
    kinds = [e.kind for e in reporter.events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert reporter.events[0].total == 6
    finished = [e for e in reporter.events if e.kind == "node_finished"]
    assert sorted(e.index for e in finished) == list(range(1, 7))
    assert finished[0] == RunEvent(
        kind="node_finished",
        unique_id=uid("raw_orders"),
        name="raw_orders",
        resource_type="seed",
        materialized="seed",
        status="success",
        rows=3,
        seconds=finished[0].seconds,
        message="INSERT 3",
        index=1,
        total=6,
    )
    # the second build takes the incremental path
    second = run(shop(), adapter, project)
    assert {r.name: r.message for r in second.results}["big_orders"] == "MERGE 2"


def test_failure_skips_descendants_and_independent_branch_goes_on(adapter: Adapter, project: Path) -> None:
    m = manifest(
        model("a", "select 1 as id"),
        model("b", "select id, cast('x' as integer) as broken from main.a", ["a"]),
        model("c", "select * from main.b", ["b"]),
        model("d", "select * from main.c", ["c"], materialized="view"),
        model("e", "select id from main.a", ["a"]),
        data_test("t__b", "select 1", ["b"]),
    )
    result = run(m, adapter, project)
    assert statuses(result) == {
        "a": "success",
        "b": "error",
        "e": "success",
        "c": "skipped",
        "t__b": "skipped",
        "d": "skipped",
    }
    assert messages(result)["b"] == "Conversion Error: Could not convert string 'x' to INT32"
    assert messages(result)["d"] == "skipped: upstream b failed"
    assert result.failed
    skipped = result.get(uid("d"))
    assert skipped.started_at is None and result_document(skipped)["timing"] == []


@pytest.mark.parametrize("threads", [1, 2])
def test_fail_fast_skips_what_has_not_started(adapter: Adapter, project: Path, threads: int) -> None:
    m = manifest(
        model("a", "select cast('x' as integer) as broken"),
        # b is still running when a fails, so no worker is free to start c before the failure is seen
        model("b", "select count(*) as x from range(100000000) t(i) where i % 7 = 3"),
        model("c", "select 1 as x"),
        model("d", "select 1 as x"),
    )
    result = run(m, adapter, project, threads=threads, fail_fast=True)
    expected = {"a": "error", "b": "skipped", "c": "skipped", "d": "skipped"}
    if threads == 2:
        expected["b"] = "success"  # already running with a: it finishes
    assert statuses(result) == expected
    assert messages(result)["c"] == "skipped: fail-fast after a failed"
    without = run(m, adapter, project, threads=threads, fail_fast=False)
    assert statuses(without) == {"a": "error", "b": "success", "c": "success", "d": "success"}


def test_tests_pass_fail_warn_with_counts_and_samples(adapter: Adapter, project: Path) -> None:
    m = manifest(
        model("nums", "select i as n from range(12) t(i)"),
        data_test("pass__nums", "select * from main.nums where n < 0", ["nums"]),
        data_test("fail__nums", "select n, 'odd' as why from main.nums where n % 2 = 1", ["nums"]),
        data_test("warn__nums", "select * from main.nums where n > 9", ["nums"], severity="warn"),
        data_test("limit__nums", "select * from main.nums where n > 2", ["nums"], limit=4, severity="warn"),
        data_test(
            "error_if__nums", "select * from main.nums where n > 7", ["nums"], error_if="> 10", warn_if="> 1"
        ),
        data_test("broken__nums", "select * from main.nope", ["nums"]),
        model("child", "select * from main.nums", ["nums"]),
    )
    built = manifest(m.nodes[uid("nums")], m.nodes[uid("child")])  # no audits: `test` checks what is there
    assert statuses(run(built, adapter, project, command="run")) == {"nums": "success", "child": "success"}
    result = run(m, adapter, project, command="test")
    by_name = {r.name: r for r in result.results}
    assert statuses(result) == {
        "broken__nums": "error",
        "error_if__nums": "warn",
        "fail__nums": "fail",
        "limit__nums": "warn",
        "pass__nums": "pass",
        "warn__nums": "warn",
    }
    fail = by_name["fail__nums"]
    assert fail.failures == 6 and fail.message == "Got 6 results, configured to fail if != 0"
    assert list(fail.sample_rows) == [{"n": n, "why": "odd"} for n in (1, 3, 5, 7, 9)]
    assert by_name["warn__nums"].failures == 2
    assert by_name["warn__nums"].message == "Got 2 results, configured to warn if != 0"
    assert by_name["limit__nums"].failures == 4
    assert by_name["pass__nums"].failures == 0 and by_name["pass__nums"].sample_rows == ()
    assert by_name["broken__nums"].message.startswith("Catalog Error: Table with name nope does not exist!")
    doc = run_results_document(result)
    fail_doc = next(r for r in doc["results"] if r["unique_id"] == uid("fail__nums"))
    assert fail_doc["failures"] == 6 and len(fail_doc["adapter_response"]["sample_rows"]) == 5
    # a warning does not fail a build nor skip what is downstream; a failure does (here as an audit of nums)
    build = run(m, adapter, project, command="build")
    assert statuses(build)["nums"] == "error" and statuses(build)["child"] == "skipped"
    assert build.get(uid("child")).message == "skipped: upstream nums failed"
    only_warn = manifest(*[n for n in m.nodes.values() if n.name in {"nums", "warn__nums", "child"}])
    warned = run(only_warn, adapter, project, command="build")
    assert statuses(warned) == {"nums": "success", "warn__nums": "warn", "child": "success"}
    assert not warned.failed


def wide_manifest(width: int = 6, depth: int = 5) -> Manifest:
    nodes = []
    for level in range(depth):
        for i in range(width):
            name = f"m{level}_{i}"
            if level == 0:
                nodes.append(model(name, f"select {i} as id, {i} * 10 as v"))
                continue
            left, right = f"m{level - 1}_{i}", f"m{level - 1}_{(i + 1) % width}"
            sql = f"select a.id, a.v + b.v as v from main.{left} a cross join main.{right} b"
            if (level, i) in {(2, 2), (2, 4)}:  # two failing tables, some nodes downstream of both
                sql = "select cast('boom' as integer) as id"
            nodes.append(model(name, sql, [left, right], materialized="view" if i % 2 else "table"))
        nodes.append(data_test(f"t__{level}", f"select * from main.m{level}_0 where v < 0", [f"m{level}_0"]))
    return manifest(*nodes)


def test_one_or_four_threads_give_the_same_results(adapter: Adapter, project: Path) -> None:
    m = wide_manifest()
    one = run(m, adapter, project, threads=1)
    four = run(m, adapter, project, threads=4)

    def essence(result: RunResult) -> list[tuple[object, ...]]:
        return [(r.unique_id, r.status, r.message, r.rows_affected, r.failures) for r in result.results]

    assert essence(one) == essence(four)
    assert messages(one)["m4_2"] == "skipped: upstream m2_2 failed"  # m2_2 comes before m2_4 in the plan
    assert {"success", "error", "skipped", "pass"} <= set(statuses(one).values())
    assert [r.unique_id for r in one.results] == [s.unique_id for s in plan_all(m)[1].steps]


def test_leftovers_of_a_killed_run_are_dropped(adapter: Adapter, project: Path) -> None:
    adapter.execute("create schema staging")
    adapter.execute('create table main."orders__sqlflow_tmp" as select 1 as x')
    adapter.execute('create view staging."v__sqlflow_tmp" as select 1 as x')
    adapter.execute("create table main.keep_me as select 1 as x")
    result = run(manifest(model("orders", "select 2 as x")), adapter, project, command="run")
    assert statuses(result) == {"orders": "success"}
    names = {name for (_, name) in adapter.list_relations().relations}
    assert names == {"orders", "keep_me"}


def test_missing_schemas_are_created(adapter: Adapter, project: Path) -> None:
    m = manifest(
        model("a", "select 1 as x", schema="main_marts"), model("b", "select 1 as x", schema="main_marts")
    )
    assert statuses(run(m, adapter, project, command="run")) == {"a": "success", "b": "success"}
    assert adapter.fetch("select x from main_marts.b")[1] == [(1,)]


def test_empty_plan(adapter: Adapter, project: Path) -> None:
    result = run(manifest(), adapter, project)
    assert result.results == () and not result.failed


def test_run_results_json_shape(adapter: Adapter, project: Path) -> None:
    result = run(shop(), adapter, project)
    doc = json.loads(json.dumps(run_results_document(result)))
    assert set(doc) == {"metadata", "results", "elapsed_time", "args"}
    assert doc["metadata"]["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/run-results/v6.json"
    assert doc["metadata"]["generated_at"].endswith("Z")
    assert doc["args"] == {"which": "build"}
    assert doc["elapsed_time"] >= 0
    first = doc["results"][0]
    assert set(first) == {
        "unique_id",
        "status",
        "timing",
        "thread_id",
        "execution_time",
        "message",
        "failures",
        "adapter_response",
        "compiled",
        "compiled_code",
        "relation_name",
        "batch_results",
    }
    assert first["unique_id"] == uid("raw_orders") and first["status"] == "success"
    assert [t["name"] for t in first["timing"]] == ["compile", "execute"]
    assert first["timing"][1]["started_at"] <= first["timing"][1]["completed_at"]
    assert first["adapter_response"] == {"_message": "INSERT 3", "code": "INSERT", "rows_affected": 3}
    test = next(r for r in doc["results"] if r["unique_id"].startswith("test."))
    assert test["status"] == "pass" and test["failures"] == 0
    assert test["adapter_response"] == {"_message": "OK", "code": "OK", "rows_affected": -1}


class InterruptAt:
    """A reporter that presses Ctrl-C when a given node starts (the runner emits from its own thread)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[RunEvent] = []

    def emit(self, event: RunEvent) -> None:
        self.events.append(event)
        if event.kind == "node_started" and event.name == self.name:
            raise KeyboardInterrupt


def test_ctrl_c_interrupts_running_statements_and_skips_the_rest(adapter: Adapter, project: Path) -> None:
    m = manifest(
        model("a_long", LONG_QUERY),
        model("b", "select 1 as x"),
        model("c", "select 1 as x"),
        model("d", "select * from main.a_long", ["a_long"]),
    )
    result = run(m, adapter, project, command="run", threads=2, reporter=InterruptAt("b"))
    assert result.interrupted and result.failed
    assert statuses(result) == {"a_long": "error", "b": "skipped", "c": "skipped", "d": "skipped"}
    assert messages(result)["a_long"] == "interrupted"
    # the statement itself ended, cancelled by the engine (its own result, timed from its start), and the
    # rest never started
    long = result.get(uid("a_long"))
    assert long.started_at is not None and long.completed_at is not None
    assert all(r.started_at is None for r in result.results if r.name != "a_long")
    assert messages(result)["c"] == "skipped: interrupted"
    assert adapter.fetch("select 1")[1] == [(1,)]  # the adapter is still usable


def test_sigint_during_a_statement_on_one_thread(adapter: Adapter, project: Path) -> None:
    m = manifest(model("a_long", LONG_QUERY), model("b", "select 1 as x"))
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        result = run(m, adapter, project, command="run", threads=1)
    finally:
        timer.cancel()
    assert result.interrupted
    assert statuses(result) == {"a_long": "error", "b": "skipped"}
    assert messages(result) == {"a_long": "interrupted", "b": "skipped: interrupted"}
    assert not adapter.relation_exists(m.nodes[uid("a_long")].relation)
