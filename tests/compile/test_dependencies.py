"""Dependencies found in the SQL: ref(), source(), plain names of models, seeds and sources, and what is
not one."""

from __future__ import annotations

import pytest

BASE = {
    "models/orders.sql": "select 1 as id, 2 as customer_id\n",
    "models/customers.sql": "{{ config(schema='crm') }}\nselect 2 as id\n",
    "seeds/codes.csv": "code\nDE\n",
    "models/sources.yml": """\
        version: 2
        sources:
          - name: raw
            schema: landing
            tables:
              - name: payments
                identifier: payments_v1
        """,
}


def deps_of(compile_files, sql: str, **files: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    manifest = compile_files({**BASE, **files, "models/x.sql": sql})
    node = manifest.nodes["model.shop.x"]
    return node.depends_on, node.external_tables


@pytest.mark.parametrize(
    ("sql", "depends_on", "external"),
    [
        ("select * from orders", ["model.shop.orders"], []),
        ("select * from ORDERS as o", ["model.shop.orders"], []),
        ("select * from codes", ["seed.shop.codes"], []),
        ("select * from main_crm.customers", ["model.shop.customers"], []),  # schema.name of its relation
        ('select * from "main_crm"."customers"', ["model.shop.customers"], []),
        ("select * from shop.main_crm.customers", ["model.shop.customers"], []),  # database.schema.name
        ("select * from main.customers", [], ["main.customers"]),  # not its relation
        ("select * from landing.payments_v1", ["source.shop.raw.payments"], []),  # a declared source
        ("select * from raw.payments", [], ["raw.payments"]),
        ("with orders as (select 1 as id) select * from orders", [], []),  # a CTE shadows the model
        ("with o as (select * from orders) select * from o", ["model.shop.orders"], []),
        ("select * from (with orders as (select 1) select * from orders) s join orders using (id)", ["model.shop.orders"], []),  # noqa: E501
        ("select * from read_csv('x.csv') as r, range(10) as g, read_parquet('y')", [], []),
        ("select * from 'data.csv'", [], ["data.csv"]),
        ("select * from orders o, o.items", ["model.shop.orders"], []),  # an alias, not a table
        ("select * from unknown_table join other.thing using (id)", [], ["other.thing", "unknown_table"]),
        ("select * from orders union all select * from customers", ["model.shop.customers", "model.shop.orders"], []),  # noqa: E501
        ("select (select max(id) from codes) as m from orders", ["model.shop.orders", "seed.shop.codes"], []),
        ("select * from {{ ref('orders') }} join {{ source('raw', 'payments') }} using (id)",
         ["model.shop.orders", "source.shop.raw.payments"], []),
        ("{% set unused = ref('customers') %}select 1", ["model.shop.customers"], []),  # every ref() counts
    ],
)  # fmt: skip
def test_dependencies(compile_files, sql: str, depends_on: list[str], external: list[str]) -> None:
    assert deps_of(compile_files, sql) == (tuple(depends_on), tuple(external))


def test_this_is_not_a_dependency(compile_files) -> None:
    sql = "{{ config(materialized='incremental') }}select * from orders where id > (select max(id) from {{ this }})"  # noqa: E501
    assert deps_of(compile_files, sql) == (("model.shop.orders",), ())


def test_own_plain_name_is_not_a_dependency(compile_files) -> None:
    sql = "{{ config(materialized='incremental') }}select * from orders where id > (select max(id) from x)"
    manifest = compile_files({**BASE, "models/x.sql": sql})
    node = manifest.nodes["model.shop.x"]
    assert node.depends_on == ("model.shop.orders",)
    assert node.compiled_sql == (
        'select * from "main"."orders" AS orders where id > (select max(id) from "main"."x" AS x)'
    )


def test_refs_inside_is_incremental_count(compile_files) -> None:
    sql = """\
        {{ config(materialized='incremental') }}
        select * from {{ ref('orders') }}
        {% if is_incremental() %}where customer_id in (select id from {{ ref('customers') }}){% endif %}
        """
    manifest = compile_files({**BASE, "models/x.sql": sql})
    node = manifest.nodes["model.shop.x"]
    assert node.depends_on == ("model.shop.customers", "model.shop.orders")
    assert node.refs == ("customers", "orders")
    assert '"main_crm"."customers"' not in node.compiled_sql
    assert '"main_crm"."customers"' in node.incremental_sql


def test_plain_names_inside_is_incremental_count(compile_files) -> None:
    sql = """\
        {{ config(materialized='incremental') }}
        select * from orders
        {% if is_incremental() %}where customer_id in (select id from main_crm.customers){% endif %}
        """
    assert deps_of(compile_files, sql) == (("model.shop.customers", "model.shop.orders"), ())


def test_singular_tests_depend_on_what_they_read(compile_files) -> None:
    manifest = compile_files(
        {**BASE, "tests/check.sql": "select * from orders join {{ ref('customers') }} using (id)"}
    )
    test = manifest.nodes["test.shop.check"]
    assert test.depends_on == ("model.shop.customers", "model.shop.orders")
    assert (
        test.compiled_sql == 'select * from "main"."orders" AS orders join "main_crm"."customers" using (id)'
    )
    assert test.test_type == "singular"
