"""build_plan and describe_plan: which steps, in which order, waiting for what."""

from __future__ import annotations

import dataclasses

import pytest

from sqlflow.errors import SelectionError
from sqlflow.graph import build_dag
from sqlflow.runner.plan import build_plan, describe_plan

from .helpers import data_test, manifest, model, plan_all, uid

SHOP = manifest(
    model("raw_orders", ""),
    model("raw_customers", ""),
    model("stg_orders", "select * from main.raw_orders", ["raw_orders"], materialized="view"),
    model("stg_customers", "select * from main.raw_customers", ["raw_customers"], materialized="view"),
    model("payments", "select 1", ["stg_orders"], materialized="ephemeral"),
    model("orders", "select 1", ["stg_orders", "payments"], materialized="incremental"),
    model("customers", "select 1", ["stg_customers", "orders"]),
    data_test("not_null__orders_id", "select 1", ["orders"]),
    data_test("relationships__orders_customer_id", "select 1", ["orders", "customers"]),
    data_test("unique__customers_id", "select 1", ["customers"]),
)


def waits(plan, name: str) -> set[str]:
    step = plan.by_id()[uid(name)]
    return {w.split(".")[-1] for w in step.waits_for}


def names(plan) -> list[str]:
    return [step.name for step in plan.steps]


def models_of(plan) -> list[str]:
    return [step.name for step in plan.steps if step.resource_type != "test"]


def test_run_plans_models_only_without_ephemeral() -> None:
    _, plan = plan_all(SHOP, "run")
    assert models_of(plan) == ["stg_customers", "stg_orders", "orders", "customers"]
    assert waits(plan, "orders") == {"stg_orders"}  # through the ephemeral model
    assert waits(plan, "stg_orders") == set()  # the seed is not part of a run
    assert plan.by_id()[uid("orders")].materialized == "incremental"
    assert plan.by_id()[uid("orders")].relation == SHOP.nodes[uid("orders")].relation


def test_seed_and_test_commands() -> None:
    _, plan = plan_all(SHOP, "seed")
    assert names(plan) == ["raw_customers", "raw_orders"]
    assert {s.materialized for s in plan.steps} == {"seed"}
    _, plan = plan_all(SHOP, "test")
    assert names(plan) == [
        "not_null__orders_id",
        "relationships__orders_customer_id",
        "unique__customers_id",
    ]
    assert all(step.waits_for == () and step.relation is None for step in plan.steps)


def test_build_gates_children_on_tests_without_cycles() -> None:
    _, plan = plan_all(SHOP, "build")
    # customers waits for the test of orders, not for the relationships test that depends on customers
    assert waits(plan, "customers") == {"stg_customers", "orders", "not_null__orders_id"}
    assert waits(plan, "relationships__orders_customer_id") == {"orders", "customers"}
    order = names(plan)
    assert order.index("not_null__orders_id") < order.index("customers")
    assert order.index("customers") < order.index("relationships__orders_customer_id")
    assert len(plan) == 9  # everything but the ephemeral model


def test_multi_parent_tests_gate_when_no_cycle_follows() -> None:
    # a -> b; d -> c; t1 tests (a, c); t2 tests (b, d): t1 -> b and t2 -> c together would close a cycle
    m = manifest(
        model("a", "select 1"),
        model("b", "select 1", ["a"]),
        model("d", "select 1"),
        model("c", "select 1", ["d"]),
        data_test("t1__x", "select 1", ["a", "c"]),
        data_test("t2__x", "select 1", ["b", "d"]),
    )
    _, plan = plan_all(m, "build")  # Dag() would raise CycleError if the plan had one
    assert waits(plan, "b") == {"a", "t1__x"}
    assert waits(plan, "c") == {"d"}


def test_a_step_waits_only_for_selected_steps() -> None:
    dag = build_dag(SHOP)
    selected = frozenset({uid("stg_orders"), uid("customers")})
    plan = build_plan(SHOP, dag, selected, command="run")
    assert models_of(plan) == ["stg_orders", "customers"]
    assert waits(plan, "customers") == {"stg_orders"}  # through orders, not selected: order is kept
    plan = build_plan(SHOP, dag, frozenset({uid("customers"), uid("raw_orders")}), command="run")
    assert models_of(plan) == ["customers"] and waits(plan, "customers") == set()


def test_disabled_nodes_and_unknown_ids_are_left_out() -> None:
    off = dataclasses.replace(
        SHOP.nodes[uid("customers")],
        config=dataclasses.replace(SHOP.nodes[uid("customers")].config, enabled=False),
    )
    m = manifest(*[off if n.unique_id == off.unique_id else n for n in SHOP.nodes.values()])
    plan = build_plan(
        m,
        build_dag(m),
        frozenset({uid("customers"), uid("orders"), "source.x.y"}),
        command="run",
        audit=True,
    )
    # and the audits of orders; its relationships test reads customers, which the plan does not build (it
    # may not exist): no gate of orders, as in dbt
    assert names(plan) == ["orders", "not_null__orders_id"]
    assert plan.by_id()[uid("orders")].audits == (uid("not_null__orders_id"),)


def test_plan_is_deterministic_and_frozen() -> None:
    first = plan_all(SHOP, "build")[1]
    reordered = manifest(*reversed(list(SHOP.nodes.values())))
    assert plan_all(reordered, "build")[1] == first
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.steps[0].name = "x"  # type: ignore[misc]


def test_unknown_command() -> None:
    with pytest.raises(SelectionError, match="unknown command 'deploy'"):
        build_plan(SHOP, build_dag(SHOP), frozenset(), command="deploy")  # type: ignore[arg-type]


def test_describe_plan() -> None:
    _, plan = plan_all(SHOP, "build", full_refresh=True)
    lines = describe_plan(plan)
    assert len(lines) == len(plan)
    assert lines[0].split() == ["1/9", "seed", "raw_customers", "seed", '"main"."raw_customers"']
    orders = next(line for line in lines if " orders " in line)
    assert orders.split()[1:4] == ["model", "orders", "incremental"]
    assert "(full refresh)" in orders and orders.endswith("waits for: stg_orders")
    customers = next(line for line in lines if " customers " in line)
    assert customers.endswith("waits for: orders, stg_customers, not_null__orders_id")
    test = next(line for line in lines if "unique__customers_id" in line)
    assert test.split()[1:5] == ["test", "unique__customers_id", "test", "-"]
    assert describe_plan(build_plan(SHOP, build_dag(SHOP), frozenset(), command="run")) == []
