"""The newer built-in generic tests (dbt_utils' and sqlflow's own): names, SQL per dialect, errors."""

from __future__ import annotations

import re

import duckdb
import pytest

from sqlflow.errors import ConfigError

FILES = {
    "models/orders.sql": (
        "select 1 as order_id, 2 as customer_id, 10 as amount, 'placed' as status, "
        'current_timestamp as loaded_at, 3 as "Order Total"\n'
    ),
    "models/customers.sql": "select 2 as id\n",
}

SCHEMA = """\
    version: 2
    models:
      - name: orders
        data_tests:
          - dbt_utils.unique_combination_of_columns:
              combination_of_columns: [order_id, Order Total]
          - dbt_utils.expression_is_true:
              expression: "amount >= 0"
              config: {where: "status <> 'test'"}
          - row_count: {min: 1, max: 1000}
          - row_count: {max: 0, name: empty_orders, config: {severity: warn}}
          - freshness: {column: loaded_at, max_age: 24h}
        columns:
          - name: amount
            data_tests:
              - accepted_range: {min_value: 0, max_value: 100}
              - dbt_utils.accepted_range: {min_value: 0, inclusive: false, name: amount_positive}
              - expression_is_true: {expression: "< 1000", config: {limit: 5}}
          - name: loaded_at
            data_tests:
              - freshness: {max_age: {count: 12, period: hour}}
    """


def compiled_tests(compile_files, schema: str = SCHEMA, **kwargs):
    manifest = compile_files({**FILES, "models/schema.yml": schema}, **kwargs)
    return {t.name: t for t in manifest.tests()}


def test_names_and_dbt_utils_prefix(compile_files) -> None:
    tests = compiled_tests(compile_files)
    assert sorted(tests) == [
        "accepted_range_orders_amount__100__0",
        "amount_positive",
        "empty_orders",
        "expression_is_true_orders_amount_0",
        "expression_is_true_orders_amount___1000",
        "freshness_orders_loaded_at__12__hour",
        "freshness_orders_loaded_at__24h",
        "row_count_orders_1000__1",
        "unique_combination_of_columns_orders_order_id__Order_Total",
    ]
    unique = tests["unique_combination_of_columns_orders_order_id__Order_Total"]
    assert (unique.test_type, unique.test_name, unique.column_name) == (
        "generic",
        "unique_combination_of_columns",
        None,
    )
    assert unique.kwargs == {"combination_of_columns": ["order_id", "Order Total"]}
    assert re.fullmatch(
        r"test\.shop\.unique_combination_of_columns_orders_order_id__Order_Total\.\w{10}", unique.unique_id
    )
    assert tests["amount_positive"].test_name == "accepted_range"
    assert all(t.depends_on == ("model.shop.orders",) for t in tests.values())


def test_golden_sql(compile_files, golden) -> None:
    for dialect in ("duckdb", "postgres"):
        for name, test in sorted(compiled_tests(compile_files, target_dialect=dialect).items()):
            golden(f"builtin_tests_{dialect}/{name}.sql", test.compiled_sql)


def test_the_sql_runs_and_finds_the_failing_rows(compile_files) -> None:
    tests = compiled_tests(compile_files)
    con = duckdb.connect()
    con.execute(
        "create table main.orders as select * from (values "
        "(1, 2, 10, 'placed', now() - interval 1 hour, 3), "
        "(1, 2, -5, 'test', now() - interval 2 day, 3), "
        "(2, 2, 500, 'placed', now() - interval 3 day, 4)) "
        't(order_id, customer_id, amount, status, loaded_at, "Order Total")'
    )

    def failing(name: str) -> list[tuple]:
        return con.execute(tests[name].compiled_sql).fetchall()

    assert failing("unique_combination_of_columns_orders_order_id__Order_Total") == [(1, 3, 2)]
    assert failing("expression_is_true_orders_amount_0") == []  # the negative row is filtered out by where
    assert [row[2] for row in failing("accepted_range_orders_amount__100__0")] == [-5, 500]
    assert [row[2] for row in failing("amount_positive")] == [-5]
    assert failing("row_count_orders_1000__1") == []
    assert failing("empty_orders") == [(3,)]
    assert failing("freshness_orders_loaded_at__24h") == []
    con.execute("update main.orders set loaded_at = now() - interval 2 day")
    assert len(failing("freshness_orders_loaded_at__24h")) == 1
    con.execute("delete from main.orders")
    assert failing("row_count_orders_1000__1") == [(0,)]
    ((latest, _),) = failing("freshness_orders_loaded_at__12__hour")
    assert latest is None  # an empty table is never fresh


def test_jinja_in_an_expression_adds_its_dependencies(compile_files) -> None:
    schema = """\
        version: 2
        models:
          - name: orders
            data_tests:
              - expression_is_true:
                  expression: "customer_id in (select id from {{ ref('customers') }})"
                  config: {where: "order_id in (select id from {{ ref('customers') }})"}
        """
    (test,) = compiled_tests(compile_files, schema).values()
    assert test.compiled_sql == (
        'select *\nfrom (select * from "main"."orders" where order_id in (select id from "main"."customers"))'
        ' as dbt_subquery\nwhere not (customer_id in (select id from "main"."customers"))'
    )
    assert test.depends_on == ("model.shop.customers", "model.shop.orders")
    assert test.refs == ("customers",)


def test_custom_test_blocks_still_work_beside_them(compile_files) -> None:
    files = {
        **FILES,
        "tests/generic/positive.sql": (
            "{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0"
            "{% endtest %}\n"
        ),
        "models/schema.yml": """\
            version: 2
            models:
              - name: orders
                columns:
                  - name: amount
                    data_tests: [positive, {row_count: {min: 1}}]
            """,
    }
    tests = {t.test_name: t for t in compile_files(files).tests()}
    assert tests["positive"].compiled_sql == 'select * from "main"."orders" where amount <= 0'
    assert "count(*) as row_count" in tests["row_count"].compiled_sql


ERRORS = [
    (
        "- unique_combination_of_columns: {}",
        "test 'unique_combination_of_columns' needs combination_of_columns: a list of column "
        "names (like 'unique_combination_of_columns: {combination_of_columns: [a, b]}')",
    ),
    (
        "- unique_combination_of_columns: {combination_of_columns: [a], columns: [b]}",
        "unknown argument 'columns' of test 'unique_combination_of_columns' (did you mean 'quote_columns'?)",
    ),
    (
        "- accepted_range: {column_name: amount}",
        "test 'accepted_range' needs min_value or max_value (like 'accepted_range: {min_value: "
        "0, max_value: 100}')",
    ),
    (
        "- accepted_range: {min: 0, column_name: amount}",
        "unknown argument 'min' of test 'accepted_range' (it takes min_value, max_value, inclusive)",
    ),
    (
        "- accepted_range: {min_value: 0}",
        "test 'accepted_range' needs a column (declare it under a column, or give column_name)",
    ),
    (
        "- accepted_range: {min_value: true, column_name: amount}",
        "'min_value' of test 'accepted_range' must be a number or a SQL expression, not a boolean",
    ),
    (
        "- accepted_range: {min_value: 0, inclusive: maybe, column_name: amount}",
        "'inclusive' of test 'accepted_range' must be true or false, not 'maybe'",
    ),
    (
        "- expression_is_true: {}",
        "test 'expression_is_true' needs expression (like 'expression_is_true: {expression: "
        '"amount >= 0"}\')',
    ),
    (
        "- row_count: {}",
        "test 'row_count' needs min or max (like 'row_count: {min: 1, max: 1000000}')",
    ),
    (
        "- row_count: {min: -1}",
        "'min' of test 'row_count' must be a whole number of 0 or more, not a number",
    ),
    (
        "- row_count: {min: 5, max: 1}",
        "'min' of test 'row_count' (5) is more than its 'max' (1)",
    ),
    (
        "- row_count: {mni: 5}",
        "unknown argument 'mni' of test 'row_count' (did you mean 'min'?)",
    ),
    (
        "- freshness: {max_age: 1d}",
        "test 'freshness' needs a column (declare it under a column, or give column_name or column)",
    ),
    (
        "- freshness: {column: loaded_at}",
        "test 'freshness' needs max_age (like 'freshness: {max_age: 24h}' or 'max_age: {count: "
        "12, period: hour}')",
    ),
    (
        "- freshness: {column: loaded_at, max_age: yesterday}",
        "'max_age' of test 'freshness' must be a duration, not 'yesterday' (write a number of "
        "seconds or a duration like 30s, 10m, 1h or 1d)",
    ),
    (
        "- freshness: {column: loaded_at, max_age: {count: 2, period: week}}",
        "'max_age' of test 'freshness' must be a duration, not a mapping (write a number of "
        "seconds or a duration like 30s, 10m, 1h or 1d)",
    ),
    (
        "- dbt_utils.recency: {}",
        "unknown test 'dbt_utils.recency' (packages are not installed; sqlflow has dbt_utils' "
        "unique_combination_of_columns, accepted_range, expression_is_true built in, and {% test "
        "recency(model) %} defines your own)",
    ),
    (
        "- row_cuont: {min: 1}",
        "unknown test 'row_cuont' (did you mean 'row_count'?)",
    ),
]


@pytest.mark.parametrize(("entry", "message"), ERRORS, ids=[m for _, m in ERRORS])
def test_bad_arguments(compile_files, entry: str, message: str) -> None:
    schema = f"version: 2\nmodels:\n  - name: orders\n    data_tests:\n      {entry}\n"
    with pytest.raises(ConfigError, match=f"^{re.escape('models/schema.yml:5: ' + message)}$"):
        compiled_tests(compile_files, schema)


def test_a_misspelt_dbt_utils_test_is_suggested(compile_files) -> None:
    schema = (
        "version: 2\nmodels:\n  - name: orders\n    data_tests:\n      - dbt_utils.expresion_is_true: {}\n"
    )
    message = (
        "models/schema.yml:5: unknown test 'dbt_utils.expresion_is_true' "
        "(did you mean 'dbt_utils.expression_is_true'?)"
    )
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        compiled_tests(compile_files, schema)


def test_a_project_test_block_replaces_a_newer_builtin(compile_files) -> None:
    files = {
        **FILES,
        "macros/vendored.sql": (
            "{% test expression_is_true(model, expression) %}"
            "select 'mine' as source from {{ model }} where not ({{ expression }}){% endtest %}\n"
        ),
        "models/schema.yml": """\
            version: 2
            models:
              - name: orders
                data_tests:
                  - dbt_utils.expression_is_true: {expression: "amount > 0"}
                  - row_count: {min: 1}
            """,
    }
    tests = {t.test_name: t for t in compile_files(files).tests()}
    assert tests["expression_is_true"].compiled_sql == (
        'select \'mine\' as source from "main"."orders" where not (amount > 0)'
    )
    assert "count(*) as row_count" in tests["row_count"].compiled_sql
