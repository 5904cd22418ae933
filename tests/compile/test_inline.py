"""compile_inline: `sqlflow show --inline "..."` against a compiled manifest."""

from __future__ import annotations

import re

import pytest

from sqlflow.compile import compile_inline, compile_project
from sqlflow.errors import SqlSyntaxError, UnknownRefError
from sqlflow.project import load_project

from .conftest import SHOP


@pytest.fixture
def shop(write):
    project = load_project(write(SHOP))
    return compile_project(project, target_dialect="duckdb"), project


def test_ref_and_source_are_rendered(shop) -> None:
    manifest, project = shop
    sql = "select * from {{ ref('orders') }} join {{ source('raw', 'orders') }} using (order_id)"
    assert compile_inline(manifest, project, sql, target_dialect="duckdb") == (
        'select * from "main_marts"."fct_orders" join "raw"."orders" using (order_id)'
    )


def test_plain_names_macros_and_ephemeral_models(shop) -> None:
    manifest, project = shop
    sql = "select {{ cents('amount') }} as a from stg_orders join stg_customers using (customer_id)"
    assert compile_inline(manifest, project, sql, target_dialect="postgres") == (
        'WITH __sqlflow_ephemeral_stg_customers AS (SELECT id AS customer_id, name FROM "raw"."customers_v2") '  # noqa: E501
        'SELECT (CAST(amount AS DOUBLE PRECISION) / 100.0) AS a FROM "main"."stg_orders" AS stg_orders '
        "JOIN __sqlflow_ephemeral_stg_customers AS stg_customers USING (customer_id)"
    )


def test_plain_sql_is_kept(shop) -> None:
    manifest, project = shop
    assert compile_inline(manifest, project, "select 1 as one;", target_dialect="duckdb") == "select 1 as one"


def test_errors_are_located_at_inline(shop) -> None:
    manifest, project = shop
    with pytest.raises(
        UnknownRefError,
        match=re.escape("<inline>:1: unknown ref 'ordrs' (did you mean 'orders' or 'stg_orders'?)"),
    ):
        compile_inline(manifest, project, "select * from {{ ref('ordrs') }}", target_dialect="duckdb")
    with pytest.raises(SqlSyntaxError, match=re.escape("<inline>:1: syntax error:")):
        compile_inline(manifest, project, "select * from where", target_dialect="duckdb")
