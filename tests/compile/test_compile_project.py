"""compile_project on the small shop project: relations, configs, seeds, columns, golden compiled SQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sqlflow.artifacts import manifest_document
from sqlflow.manifest import ModelNode, Relation

from .conftest import SHOP


def test_models_get_relations_configs_and_dependencies(compile_files) -> None:
    manifest = compile_files(SHOP)
    orders = manifest.nodes["model.shop.orders"]
    assert isinstance(orders, ModelNode)
    assert orders.relation == Relation(database="shop", schema="main_marts", identifier="fct_orders")
    assert orders.config.materialized == "table"  # from the marts folder
    assert orders.fqn == ("shop", "marts", "orders")
    assert orders.depends_on == ("model.shop.stg_customers", "model.shop.stg_orders")
    assert orders.refs == ("stg_orders",)
    assert orders.description == "one row per order"
    assert [c.name for c in orders.columns] == ["order_id", "status", "customer_id"]
    assert orders.patch_path == "models/marts/schema.yml"
    stg = manifest.nodes["model.shop.stg_orders"]
    assert stg.config.materialized == "view"
    assert stg.sources == (("raw", "orders"),)
    assert stg.depends_on == ("source.shop.raw.orders",)
    assert manifest.nodes["model.shop.stg_customers"].config.materialized == "ephemeral"


def test_seeds_are_nodes_without_sql(compile_files) -> None:
    seed = compile_files(SHOP).nodes["seed.shop.country_codes"]
    assert isinstance(seed, ModelNode)
    assert seed.resource_type == "seed"
    assert seed.config.materialized == "seed"
    assert seed.raw_sql == "" and seed.compiled_sql is None
    assert seed.relation == Relation(database="shop", schema="main", identifier="country_codes")


def test_seed_config_comes_from_the_seeds_tree_and_properties(compile_files) -> None:
    manifest = compile_files(
        {
            "sqlflow.yml": "name: shop\nseeds:\n  shop:\n    +schema: raw\n    +delimiter: ';'\n",
            "seeds/codes.csv": "a;b\n1;2\n",
            "seeds/props.yml": "version: 2\nseeds:\n  - name: codes\n    config:\n      column_types: {a: int}\n",  # noqa: E501
        }
    )
    seed = manifest.nodes["seed.shop.codes"]
    assert seed.config.delimiter == ";"
    assert dict(seed.config.column_types) == {"a": "int"}
    assert seed.relation.schema == "main_raw"


def test_sources_become_source_nodes(compile_files) -> None:
    manifest = compile_files(SHOP)
    customers = manifest.sources["source.shop.raw.customers"]
    assert customers.relation == Relation(database="shop", schema="raw", identifier="customers_v2")
    assert customers.path == "models/staging/sources.yml"


def test_inferred_columns_follow_stars_through_ctes_and_models(compile_files) -> None:
    manifest = compile_files(
        {
            **SHOP,
            "models/marts/wide.sql": """\
                with x as (select * from {{ ref('orders') }})
                select x.*, 1 as one from x
                """,
            "models/marts/unknown.sql": "select * from some_external_table\n",
            "models/marts/excluded.sql": "select * exclude (status) from orders\n",
        }
    )
    columns = {m.name: m.inferred_columns for m in manifest.models()}
    assert columns["stg_orders"] == ("order_id", "customer_id", "amount", "status")
    assert columns["orders"] == ("order_id", "customer_id", "name", "amount", "status")
    assert columns["wide"] == ("order_id", "customer_id", "name", "amount", "status", "one")
    assert columns["unknown"] == ("*",)
    assert columns["excluded"] == ("order_id", "customer_id", "name", "amount")


def test_metadata(compile_files) -> None:
    started = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    manifest = compile_files(SHOP, invocation_id="abc", run_started_at=started)
    assert manifest.metadata == {
        "invocation_id": "abc",
        "generated_at": "2024-05-01T12:00:00+00:00",
        "run_started_at": "2024-05-01T12:00:00+00:00",
        "sqlflow_version": "0.1.0",
        "target_name": "default",
        "target_type": "duckdb",
        "adapter_type": "duckdb",
    }
    assert manifest.project_name == "shop"
    assert (manifest.dialect, manifest.target_dialect) == ("duckdb", "duckdb")
    assert manifest_document(manifest)["nodes"]["model.shop.orders"]["compiled_code"]


def test_sql_without_rewrites_is_kept_as_written(compile_files) -> None:
    text = "select  id,   -- the key\n  amount\nfrom raw.orders;\n"
    manifest = compile_files({"models/a.sql": text})
    assert (
        manifest.nodes["model.shop.a"].compiled_sql == "select  id,   -- the key\n  amount\nfrom raw.orders"
    )
    assert manifest.nodes["model.shop.a"].external_tables == ("raw.orders",)


def test_plain_names_are_rewritten_in_place_keeping_the_rest_of_the_text(compile_files) -> None:
    manifest = compile_files(
        {
            "models/a.sql": "{{ config(alias='a_v2', schema='s') }}\nselect 1 as id\n",
            "models/b.sql": "select a.id -- comment\nfrom a\njoin a as other on other.id = a.id\n",
        }
    )
    assert manifest.nodes["model.shop.b"].compiled_sql == (
        'select a.id -- comment\nfrom "main_s"."a_v2" AS a\njoin "main_s"."a_v2" as other on other.id = a.id'
    )


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_golden_compiled_sql(compile_files, golden, dialect: str) -> None:
    manifest = compile_files(SHOP, target_dialect=dialect)
    for node in manifest.nodes.values():
        if node.compiled_sql is not None:
            golden(f"shop_{dialect}/{node.name}.sql", node.compiled_sql)


def test_incremental_model_gets_incremental_sql(compile_files, golden) -> None:
    manifest = compile_files(
        {
            "models/events.sql": "select 1 as id, now() as ts\n",
            "models/users.sql": "select 1 as id\n",
            "models/inc.sql": """\
                {{ config(materialized='incremental', unique_key='id') }}
                select e.id, e.ts from {{ ref('events') }} as e
                {% if is_incremental() %}
                where e.ts > (select max(ts) from {{ this }})
                  and e.id in (select id from {{ ref('users') }})
                {% endif %}
                """,
        }
    )
    inc = manifest.nodes["model.shop.inc"]
    assert inc.depends_on == ("model.shop.events", "model.shop.users")
    assert inc.refs == ("events", "users")
    golden("incremental/compiled.sql", inc.compiled_sql)
    golden("incremental/incremental.sql", inc.incremental_sql)
    assert manifest.nodes["model.shop.users"].incremental_sql is None


def test_incremental_model_without_jinja_has_the_same_incremental_sql(compile_files) -> None:
    manifest = compile_files(
        {
            "sqlflow.yml": "name: shop\nmodels:\n  shop:\n    +materialized: incremental\n",
            "models/a.sql": "select 1 as id\n",
        }
    )
    node = manifest.nodes["model.shop.a"]
    assert node.compiled_sql == node.incremental_sql == "select 1 as id"


def test_disabled_models_are_dropped(compile_files) -> None:
    manifest = compile_files(
        {
            "models/a.sql": "{{ config(enabled=false) }}\nselect 1\n",
            "models/b.sql": "select 1\n",
            "models/props.yml": "version: 2\nmodels:\n  - name: b\n    config: {enabled: false}\n"
            "  - name: c\n    columns: [{name: id, data_tests: [not_null]}]\n",
            "models/c.sql": "select 1 as id\n",
            "sqlflow.yml": "name: shop\nmodels:\n  shop:\n    off:\n      +enabled: false\n",
            "models/off/d.sql": "select {{ var('not_set') }}\n",  # not rendered at all
        }
    )
    assert [n.name for n in manifest.nodes.values()] == ["c", "not_null_c_id"]


def test_postgres_target_transpiles(compile_files) -> None:
    files = {"models/a.sql": "select list_value(1, 2) as xs, 7 // 2 as half\n"}
    manifest = compile_files(files, target_dialect="postgres")
    assert manifest.nodes["model.shop.a"].compiled_sql == "SELECT ARRAY[1, 2] AS xs, DIV(7, 2) AS half"


def test_a_model_can_be_written_in_another_dialect(compile_files) -> None:
    files = {
        "models/a.sql": "{{ config(dialect='postgres') }}select 'a' ~ 'b' as m\n",
        "models/b.sql": "select 1 as x",
    }
    manifest = compile_files(files)
    assert manifest.nodes["model.shop.a"].compiled_sql == "SELECT REGEXP_MATCHES('a', 'b') AS m"
    assert manifest.nodes["model.shop.b"].compiled_sql == "select 1 as x"
