"""Generic tests from property YAML: dbt-style names and ids, SQL returning the failing rows, config."""

from __future__ import annotations

import re

FILES = {
    "models/orders.sql": "select 1 as order_id, 2 as customer_id, 'placed' as status, 3 as \"Order Total\"\n",
    "models/customers.sql": "select 2 as id\n",
    "models/sources.yml": """\
        version: 2
        sources:
          - name: raw
            tables:
              - name: payments
                columns:
                  - name: id
                    data_tests: [unique]
        """,
}


def generic_tests(compile_files, schema: str, *, with_sources: bool = False, **kwargs):
    """The tests of `schema` by name (and of the sources, when asked)."""
    manifest = compile_files({**FILES, "models/schema.yml": schema}, **kwargs)
    return {t.name: t for t in manifest.tests() if with_sources or not t.name.startswith("source_")}


SCHEMA = """\
    version: 2
    models:
      - name: orders
        columns:
          - name: order_id
            data_tests:
              - not_null
              - unique:
                  config: {where: "status <> 'test'", limit: 10}
          - name: status
            data_tests:
              - accepted_values:
                  values: [placed, shipped]
                  config: {severity: warn}
              - accepted_values:
                  name: status_numbers
                  arguments: {values: [1, 2], quote: false}
          - name: customer_id
            data_tests:
              - relationships: {to: "ref('customers')", field: id}
              - relationships: {to: "source('raw', 'payments')", field: id}
          - name: Order Total
            data_tests: [not_null]
    """


def test_names_ids_and_dependencies(compile_files) -> None:
    tests = generic_tests(compile_files, SCHEMA, with_sources=True)
    assert sorted(tests) == [
        "accepted_values_orders_status__placed__shipped",
        "not_null_orders_Order_Total",
        "not_null_orders_order_id",
        "relationships_orders_customer_id__id__ref_customers_",
        "relationships_orders_customer_id__id__source_raw_payments_",
        "source_unique_raw_payments_id",
        "status_numbers",
        "unique_orders_order_id",
    ]
    not_null = tests["not_null_orders_order_id"]
    assert re.fullmatch(r"test\.shop\.not_null_orders_order_id\.[0-9a-f]{10}", not_null.unique_id)
    assert (not_null.test_type, not_null.test_name, not_null.column_name) == (
        "generic",
        "not_null",
        "order_id",
    )
    assert not_null.attached_node == "model.shop.orders"
    assert (not_null.path, not_null.line) == ("models/schema.yml", 7)
    assert not_null.depends_on == ("model.shop.orders",)
    rel = tests["relationships_orders_customer_id__id__ref_customers_"]
    assert rel.depends_on == ("model.shop.customers", "model.shop.orders")
    assert rel.refs == ("customers",)
    rel_source = tests["relationships_orders_customer_id__id__source_raw_payments_"]
    assert rel_source.depends_on == ("model.shop.orders", "source.shop.raw.payments")
    assert rel_source.sources == (("raw", "payments"),)
    assert tests["source_unique_raw_payments_id"].attached_node == "source.shop.raw.payments"
    assert tests["accepted_values_orders_status__placed__shipped"].config.severity == "warn"
    assert tests["status_numbers"].config.materialized == "test"


def test_ids_are_stable_and_distinct(compile_files) -> None:
    first = generic_tests(compile_files, SCHEMA)
    assert len({t.unique_id for t in first.values()}) == len(first)
    again = generic_tests(compile_files, SCHEMA)
    assert [t.unique_id for t in first.values()] == [t.unique_id for t in again.values()]


def test_long_names_are_shortened_like_dbt(compile_files) -> None:
    schema = """\
        version: 2
        models:
          - name: orders
            columns:
              - name: status
                data_tests:
                  - accepted_values: {values: [placed, shipped, returned, cancelled, lost_in_transit]}
        """
    (name,) = generic_tests(compile_files, schema)
    assert re.fullmatch(r"accepted_values_orders_[0-9a-f]{32}", name)


def test_golden_test_sql(compile_files, golden) -> None:
    for dialect in ("duckdb", "postgres"):
        found = generic_tests(compile_files, SCHEMA, with_sources=True, target_dialect=dialect)
        for name, test in sorted(found.items()):
            golden(f"generic_tests_{dialect}/{name}.sql", test.compiled_sql)


def test_where_and_limit(compile_files) -> None:
    tests = generic_tests(compile_files, SCHEMA)
    assert tests["unique_orders_order_id"].compiled_sql == (
        "select order_id as unique_field, count(*) as n_records\n"
        'from (select * from "main"."orders" where status <> \'test\') as dbt_subquery\n'
        "where order_id is not null\ngroup by order_id\nhaving count(*) > 1\nlimit 10"
    )


def test_where_can_use_jinja(compile_files) -> None:
    schema = """\
        version: 2
        models:
          - name: orders
            columns:
              - name: order_id
                data_tests:
                  - not_null: {config: {where: "customer_id in (select id from {{ ref('customers') }})"}}
        """
    (test,) = generic_tests(compile_files, schema).values()
    assert 'customer_id in (select id from "main"."customers")' in test.compiled_sql


def test_tests_of_disabled_models_are_dropped(compile_files) -> None:
    manifest = compile_files(
        {
            **FILES,
            "models/orders.sql": "{{ config(enabled=false) }}select 1 as order_id",
            "models/schema.yml": SCHEMA,
            "models/customers.sql": "select 2 as id\n",
        }
    )
    assert [t.name for t in manifest.tests()] == ["source_unique_raw_payments_id"]


def test_a_disabled_test_is_dropped(compile_files) -> None:
    schema = """\
        version: 2
        models:
          - name: orders
            columns:
              - name: order_id
                data_tests: [{not_null: {config: {enabled: false}}}, unique]
        """
    assert list(generic_tests(compile_files, schema)) == ["unique_orders_order_id"]
