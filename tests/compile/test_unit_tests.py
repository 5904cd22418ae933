"""dbt unit tests: the test nodes, the errors of their YAML, their pass and fail output on DuckDB, and their
place in a build (before the model they test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqlflow import manifest as m
from sqlflow.adapters import open_adapter
from sqlflow.checks.data_tests import run_test
from sqlflow.checks.unit_tests import describe_diff
from sqlflow.compile import compile_project
from sqlflow.compile.nodes.unit_tests import csv_rows, literal, rows_select
from sqlflow.errors import ConfigError, NodeFailedError, UnknownRefError
from sqlflow.graph import build_dag
from sqlflow.project import load_project
from sqlflow.runner.plan import build_plan

MODELS = {
    "models/stg_orders.sql": "select 1 as order_id, 1 as customer_id, 10.5 as amount, 'placed' as status\n",
    "models/customers.sql": """\
        select customer_id, count(*) as n_orders, sum(amount) as total
        from {{ ref('stg_orders') }}
        where status != '{{ var("skip_status", "returned") }}'
        group by customer_id
        """,
}
UNIT = """\
    version: 2
    unit_tests:
      - name: counts_orders
        model: customers
        given:
          - input: ref('stg_orders')
            rows:
              - {order_id: 1, customer_id: 1, amount: 10, status: placed}
              - {order_id: 2, customer_id: 1, amount: 5.5, status: shipped}
              - {order_id: 3, customer_id: 2, amount: 1, status: returned}
        expect:
          rows:
            - {customer_id: 1, n_orders: 2, total: 15.5}
    """


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


def unit(manifest: m.Manifest, name: str = "counts_orders", model: str = "customers") -> m.TestNode:
    node = manifest.nodes[f"unit_test.shop.{model}.{name}"]
    assert isinstance(node, m.TestNode)
    return node


# -- the nodes ----------------------------------------------------------------------------------------------


def test_a_unit_test_is_a_test_node_attached_to_its_model(compile_files) -> None:
    node = unit(compile_files({**MODELS, "models/unit.yml": UNIT}))
    assert (node.test_type, node.attached_node, node.depends_on) == (
        "unit",
        "model.shop.customers",
        ("model.shop.customers",),
    )
    assert node.refs == ("stg_orders",)
    assert node.kwargs["expect"]["columns"] == ["customer_id", "n_orders", "total"]
    assert node.kwargs["fixtures"][0]["relation"] == '"main"."stg_orders"'
    assert "from __dbt__cte__stg_orders" in node.kwargs["model_sql"]
    assert node.compiled_sql.startswith(
        "with __dbt__cte__stg_orders as (\n"
        'select 1 as "order_id", 1 as "customer_id", 10 as "amount", \'placed\' as "status"\nunion all\n'
    )
    assert node.compiled_sql.endswith(
        "select '+' as diff, * from (select * from dbt_internal_unit_test_actual except all "
        "select * from dbt_internal_unit_test_expected) as a\nunion all\n"
        "select '-' as diff, * from (select * from dbt_internal_unit_test_expected except all "
        "select * from dbt_internal_unit_test_actual) as e"
    )


def test_fixture_values_as_sql() -> None:
    assert rows_select([{"a": 1}, {"b": "x"}], ["a", "b"], {"a": "INTEGER"}) == (
        'select cast(1 as INTEGER) as "a", null as "b"\nunion all\n'
        'select cast(null as INTEGER) as "a", \'x\' as "b"'
    )
    assert rows_select([], ["a"]) == 'select null as "a"\nlimit 0'
    assert literal([1, 2]) == "'[1, 2]'"
    assert csv_rows("a,b\n1,\n") == [{"a": "1", "b": None}]


def test_overrides_of_vars_and_is_incremental(compile_files) -> None:
    files = {
        **MODELS,
        "models/inc.sql": """\
            {{ config(materialized='incremental') }}
            select * from {{ ref('stg_orders') }}
            {% if is_incremental() %}where order_id > (select max(order_id) from {{ this }}){% endif %}
            """,
        "models/unit.yml": """\
            version: 2
            unit_tests:
              - name: new_rows
                model: inc
                overrides:
                  macros: {is_incremental: true}
                given:
                  - {input: ref('stg_orders'), rows: [{order_id: 1}, {order_id: 2}]}
                  - {input: this, rows: [{order_id: 1}]}
                expect: {rows: [{order_id: 2}]}
              - name: skip_status
                model: customers
                overrides:
                  vars: {skip_status: placed}
                given: [{input: ref('stg_orders'), format: csv, rows: "customer_id,status\\n1,placed\\n"}]
                expect: {rows: []}
            """,
    }
    manifest = compile_files(files)
    inc = unit(manifest, "new_rows", "inc")
    assert "(select max(order_id) from __dbt__cte__inc)" in inc.kwargs["model_sql"]
    assert "status != 'placed'" in unit(manifest, "skip_status").kwargs["model_sql"]


ERRORS = [
    ("unit_tests: [{name: t, model: custmers, given: [], expect: {rows: []}}]",
     "models/unit.yml:1: unit test 't' tests unknown model 'custmers' (did you mean 'customers'?)"),
    ("unit_tests: [{name: t, model: customers, given: [], expect: {rows: []}}]",
     "models/unit.yml:1: unit test 't' gives no rows for ref('stg_orders'), which model 'customers' reads "
     "(add '- input: ref('stg_orders')' with 'rows: []' (or the rows it needs) under given:)"),
    ("unit_tests: [{name: t, model: customers, given: [{input: stg_orders, rows: []}], expect: {rows: []}}]",
     "models/unit.yml:1: an input of unit test 't' must name ref('model'), source('source', 'table') or this "
     "(write 'input: ref(\"stg_orders\")')"),
    ("unit_tests: [{name: t, model: customers, given: [{input: \"ref('stg_orders')\", rows: {a: 1}}], "
     "expect: {rows: []}}]",
     "models/unit.yml:1: the rows of input ref('stg_orders') of unit test 't' must be a list of mappings "
     "(format dict) (write 'rows: [{id: 1, status: placed}]', or set format: csv / sql)"),
    ("unit_tests: [{name: t, model: customers, given: []}]",
     "models/unit.yml:1: unit test 't' needs 'expect: {rows: [...]}'"),
    ("unit_tests: [{name: t, model: customers, given: [{input: \"ref('nope')\", rows: []}], "
     "expect: {rows: []}}]",
     "models/unit.yml:1: unknown ref 'nope'"),
    ("unit_tests: [{name: t, model: customers, expect: {rows: []}, giving: []}]",
     "models/unit.yml:1: unknown key 'giving' under unit test 't' (did you mean 'given'?)"),
]  # fmt: skip


@pytest.mark.parametrize(("yaml", "message"), ERRORS)
def test_unit_test_errors_name_the_yaml_line(compile_files, yaml: str, message: str) -> None:
    with pytest.raises((ConfigError, UnknownRefError), match=exactly(message)):
        compile_files({**MODELS, "models/unit.yml": yaml})


def test_two_unit_tests_of_one_name_are_an_error(compile_files) -> None:
    entry = "  - {name: t, model: customers, given: [], expect: {rows: []}}\n"
    with pytest.raises(
        ConfigError,
        match=exactly(
            "models/b.yml:2: unit test 't' is already declared in models/a.yml:2 "
            "(unit test names are unique in a project; rename one of them)"
        ),
    ):
        compile_files(
            {**MODELS, "models/a.yml": "unit_tests:\n" + entry, "models/b.yml": "unit_tests:\n" + entry}
        )


# -- running them on DuckDB ---------------------------------------------------------------------------------


def run_unit(
    tmp_path: Path, write, files: dict[str, str], name: str = "counts_orders", model: str = "customers"
):
    root = write({**MODELS, **files})
    project = load_project(root)
    manifest = compile_project(project, target_dialect="duckdb")
    adapter = open_adapter(project.target)
    try:
        for uid in build_dag(manifest).topological_order():  # the inputs' relations type the fixtures
            node = manifest.nodes[uid]
            if node.resource_type == "model":
                adapter.execute(f"create or replace view {node.relation} as {node.compiled_sql}")
        return run_test(unit(manifest, name, model), adapter)
    finally:
        adapter.close()


def test_a_passing_unit_test(tmp_path: Path, write) -> None:
    outcome = run_unit(tmp_path, write, {"models/unit.yml": UNIT})
    assert (outcome.status, outcome.failures, outcome.message) == ("pass", 0, None)


def test_a_failing_unit_test_shows_each_differing_row(tmp_path: Path, write) -> None:
    yaml = UNIT.replace(
        "{customer_id: 1, n_orders: 2, total: 15.5}",
        "{customer_id: 1, n_orders: 3, total: 15.5}\n            - {customer_id: 9, n_orders: 1, total: 0}",
    )
    outcome = run_unit(tmp_path, write, {"models/unit.yml": yaml})
    assert (outcome.status, outcome.failures) == ("fail", 3)
    assert outcome.message == (
        "actual differs from expected: 1 unexpected row, 2 missing rows\n"
        "  + actual   {customer_id: 1, n_orders: 2, total: 15.5}\n"
        "  - expected {customer_id: 1, n_orders: 3, total: 15.5}\n"
        "  - expected {customer_id: 9, n_orders: 1, total: 0.0}"
    )


def test_rows_compare_as_a_multiset(tmp_path: Path, write) -> None:
    yaml = UNIT.replace(
        "            - {customer_id: 1, n_orders: 2, total: 15.5}",
        "            - {customer_id: 1}\n            - {customer_id: 1}",
    )
    outcome = run_unit(tmp_path, write, {"models/unit.yml": yaml})
    assert outcome.message == "actual differs from expected: 1 missing row\n  - expected {customer_id: 1}"


def test_fixture_values_take_the_inputs_column_types(tmp_path: Path, write) -> None:
    files = {
        "models/stg_orders.sql": "select 1 as order_id, date '2024-01-05' as ordered_on\n",
        "models/customers.sql": "select 1 as customer_id\n",
        "models/months.sql": "select date_trunc('month', ordered_on) as month from {{ ref('stg_orders') }}",
        "models/unit.yml": """\
            unit_tests:
              - name: month_of_order
                model: months
                given: [{input: ref('stg_orders'), rows: [{ordered_on: 2024-03-09}]}]
                expect: {rows: [{month: 2024-03-01}]}
            """,
    }
    outcome = run_unit(tmp_path, write, files, "month_of_order", "months")
    assert outcome.status == "pass", outcome.message


def test_expect_naming_a_column_the_model_lacks_is_an_error(tmp_path: Path, write) -> None:
    yaml = UNIT.replace("{customer_id: 1, n_orders: 2, total: 15.5}", "{customer: 1}")
    with pytest.raises(
        NodeFailedError, match="expect names column 'customer', which model customers does not return"
    ):
        run_unit(tmp_path, write, {"models/unit.yml": yaml})


def test_describe_diff_caps_the_rows_shown() -> None:
    rows = [("+", i) for i in range(25)]
    text = describe_diff(["diff", "id"], rows)
    assert text.splitlines()[0] == "actual differs from expected: 25 unexpected rows"
    assert text.splitlines()[-1] == "  ... and 5 more"


# -- in a build ---------------------------------------------------------------------------------------------


def test_build_runs_a_unit_test_before_its_model_and_after_the_models_parents(compile_files) -> None:
    manifest = compile_files({**MODELS, "models/unit.yml": UNIT})
    plan = build_plan(manifest, build_dag(manifest), set(manifest.nodes), command="build")
    steps = plan.by_id()
    test = steps["unit_test.shop.customers.counts_orders"]
    assert test.waits_for == ("model.shop.stg_orders",) and test.audit_of is None
    assert "unit_test.shop.customers.counts_orders" in steps["model.shop.customers"].waits_for
    run = build_plan(manifest, build_dag(manifest), set(manifest.nodes), command="run")
    assert "unit_test.shop.customers.counts_orders" not in run.by_id()
