"""build_plan's rules for audits (write-audit-publish), warn tests, source tests and sensors."""

from __future__ import annotations

from sqlflow.graph import build_dag
from sqlflow.runner.plan import build_plan, describe_plan, upstream_sensors

from .helpers import data_test, manifest, model, plan_all, poke_config, sensor, source, uid

M = manifest(
    source("src_orders"),
    sensor("wait_landing", "file", path="landing/*.csv"),
    model("raw_codes", ""),
    model("stg", "select * from landing.src_orders", ["src_orders", "wait_landing"], materialized="view"),
    model("eph", "select 1", ["stg"], materialized="ephemeral"),
    model("orders", "select 1", ["stg", "eph"], materialized="incremental"),
    model("customers", "select 1", ["orders"]),
    model("other", "select 1"),
    data_test("not_null__orders_id", "select 1", ["orders"]),
    data_test("warn__orders", "select 1", ["orders"], severity="warn"),
    data_test("rel__orders_codes", "select 1", ["orders", "raw_codes"]),
    data_test("rel__orders_customers", "select 1", ["orders", "customers"]),
    data_test("unique__codes", "select 1", ["raw_codes"]),
    data_test("unique__eph", "select 1", ["eph"]),
    data_test("rows__src_orders", "select 1", ["src_orders"]),
    data_test("arrived__src_orders", "select 1", ["src_orders"], sensor=poke_config()),
)


def step(plan, name: str):
    return plan.by_id()[uid(name)]


def names(plan) -> list[str]:
    return [s.name for s in plan.steps]


def waits(plan, name: str) -> set[str]:
    return {w.split(".")[-1] for w in step(plan, name).waits_for}


def test_run_runs_no_tests_but_waits_for_sensors() -> None:
    # as dbt's run: models only; a test gates nothing unless it is a sensor, which waits for data
    _, plan = plan_all(M, "run")
    assert describe_plan(plan) == [
        '1/6 model  other               table       "main"."other"',
        "2/6 sensor wait_landing        sensor      -",
        "3/6 test   arrived__src_orders sensor      -",
        '4/6 model  stg                 view        "main"."stg"       waits for: wait_landing, '
        "arrived__src_orders",
        '5/6 model  orders              incremental "main"."orders"    waits for: stg',
        '6/6 model  customers           table       "main"."customers" waits for: orders',
    ]
    assert all(not s.audits and s.audit_of is None for s in plan.steps)


def test_run_with_audit_audits_each_model_with_its_blocking_tests() -> None:
    _, plan = plan_all(M, "run", audit=True)
    assert step(plan, "orders").audits == (uid("not_null__orders_id"), uid("rel__orders_codes"))
    # its other input customers comes after orders: customers audits it
    assert step(plan, "customers").audits == (uid("rel__orders_customers"),)
    assert step(plan, "not_null__orders_id").audit_of == uid("orders")
    assert step(plan, "rel__orders_customers").audit_of == uid("customers")
    assert waits(plan, "rel__orders_customers") == {"orders", "customers"}
    # run: warn tests, tests of seeds (not in a run), tests of ephemeral models and source tests stay out;
    # the sensor test on a source and the sensor are in
    planned = set(names(plan))
    assert planned.isdisjoint(
        {"warn__orders", "unique__codes", "unique__eph", "rows__src_orders", "raw_codes"}
    )
    assert {"arrived__src_orders", "wait_landing"} <= planned
    assert step(plan, "wait_landing").resource_type == "sensor"
    assert step(plan, "wait_landing").waits and step(plan, "arrived__src_orders").waits
    assert step(plan, "arrived__src_orders").materialized == "sensor"
    # what reads the source waits for the sensor test; what reads the file waits for the sensor
    assert waits(plan, "stg") == {"arrived__src_orders", "wait_landing"}
    assert not step(plan, "other").waits_for


def test_build_audits_selected_tests_and_warn_tests_do_not_gate() -> None:
    _, plan = plan_all(M, "build")
    assert step(plan, "raw_codes").audits == (uid("unique__codes"),)
    # raw_codes is planned now, and neither of orders and raw_codes is upstream of the other: a plain test
    assert step(plan, "orders").audits == (uid("not_null__orders_id"),)
    assert step(plan, "rel__orders_codes").audit_of is None
    assert step(plan, "warn__orders").audit_of is None and not step(plan, "warn__orders").waits
    # customers waits for the blocking tests of orders, not for its warn test
    assert waits(plan, "customers") == {"orders", "not_null__orders_id", "rel__orders_codes"}
    # an ephemeral model is no relation: its test is a plain one, gating what reads the model
    assert step(plan, "unique__eph").audit_of is None
    assert waits(plan, "orders") == {"stg", "unique__eph"}
    # in build a source test gates what reads the source, like a sensor test
    assert waits(plan, "stg") == {"arrived__src_orders", "rows__src_orders", "wait_landing"}
    assert step(plan, "rows__src_orders").materialized == "test"


def test_test_command_has_no_audits_and_no_sensors() -> None:
    _, plan = plan_all(M, "test")
    assert all(s.resource_type == "test" and not s.audits and s.audit_of is None for s in plan.steps)
    assert step(plan, "arrived__src_orders").materialized == "test"  # run once, no re-poke
    assert "wait_landing" not in names(plan)


def test_sensors_are_planned_when_selected_and_upstream_sensors_finds_them() -> None:
    dag = build_dag(M)
    only = build_plan(M, dag, {uid("orders")}, command="run", audit=True)
    assert [s.name for s in only.steps if s.audit_of is None] == ["orders"]
    assert [s.name for s in build_plan(M, dag, {uid("orders")}, command="run").steps] == ["orders"]
    extra = upstream_sensors(M, dag, {uid("orders")})
    assert extra == {uid("wait_landing"), uid("arrived__src_orders")}
    plan = build_plan(M, dag, {uid("orders"), *extra}, command="run")
    assert waits(plan, "orders") == {"arrived__src_orders", "wait_landing"}
    assert upstream_sensors(M, dag, {uid("other")}) == frozenset()


def test_describe_plan_names_audits_and_sensors() -> None:
    _, plan = plan_all(M, "run", audit=True)
    lines = {line.split()[2]: line for line in describe_plan(plan)}
    assert lines["not_null__orders_id"].endswith("audit of orders")
    assert lines["rel__orders_customers"].endswith("audit of customers, waits for: orders")
    assert lines["wait_landing"].split()[1:4] == ["sensor", "wait_landing", "sensor"]
    assert lines["arrived__src_orders"].split()[1:5] == ["test", "arrived__src_orders", "sensor", "-"]
