"""Sensors in the manifest, what depends on them (`depends_on` config, files read), sensor-tests, and the
Great Expectations tests; every error with its exact message."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sqlflow.artifacts import manifest_document
from sqlflow.compile import compile_project
from sqlflow.compile.context import CompileTools
from sqlflow.errors import ConfigError, CycleError, SqlSyntaxError, UnknownRefError
from sqlflow.graph import build_dag
from sqlflow.manifest import ModelNode, SensorNode
from sqlflow.project import load_project


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


SENSORS = """\
    version: 2
    sensors:
      - name: landing_orders
        type: file
        path: landing/orders_*.csv
        min_size: 1KB
        timeout: 2h
        on_timeout: skip
        tags: [landing]
      - name: api_ready
        type: http
        url: "{{ var('api') }}/health"
        json_path: ready
      - name: morning
        type: time
        at: "06:30"
        timezone: Europe/Berlin
      - name: orders_loaded
        type: sql
        description: Orders arrived today.
        sql: |
          select count(*) > 0
          from {{ ref('stg_orders') }} join customers using (customer_id)
        backoff: true
        max_poke_interval: 5m
    """
FILES = {
    "sqlflow.yml": "name: shop\nvars: {api: 'http://127.0.0.1:9'}\n",
    "models/sensors.yml": SENSORS,
    "models/staging/stg_orders.sql": "select * from read_csv('landing/orders_2024.csv', header = true)\n",
    "models/customers.sql": "select 1 as customer_id\n",
}


def test_sensor_nodes(compile_files) -> None:
    manifest = compile_files(FILES)
    sensors = {s.name: s for s in manifest.sensors()}
    assert sensors["landing_orders"] == SensorNode(
        unique_id="sensor.shop.landing_orders",
        name="landing_orders",
        package_name="shop",
        path="models/sensors.yml",
        line=3,
        fqn=("shop", "landing_orders"),
        kind="file",
        params={"path": "landing/orders_*.csv", "min_size": 1024, "stable": False},
        poke_interval=30.0,
        timeout=7200.0,
        on_timeout="skip",
        tags=("landing",),
    )
    assert sensors["api_ready"].params["url"] == "http://127.0.0.1:9/health"
    assert sensors["morning"].params == {"at": "06:30:00", "timezone": "Europe/Berlin", "delay": None}
    sql = sensors["orders_loaded"]
    assert sql.params == {
        "sql": 'select count(*) > 0\nfrom "main"."stg_orders" join "main"."customers" AS customers '
        "using (customer_id)"
    }
    assert sql.depends_on == ("model.shop.customers", "model.shop.stg_orders")
    assert (sql.backoff, sql.max_poke_interval, sql.description) == (True, 300.0, "Orders arrived today.")
    doc = manifest_document(manifest)["nodes"]["sensor.shop.orders_loaded"]
    assert doc["resource_type"] == "sensor"
    assert doc["depends_on"] == {"macros": [], "nodes": ["model.shop.customers", "model.shop.stg_orders"]}
    json.dumps(manifest_document(manifest))


def test_a_model_reading_a_file_waits_for_the_file_sensor_covering_it(compile_files) -> None:
    manifest = compile_files(
        {
            **FILES,
            "models/raw_all.sql": "select * from read_parquet(['landing/*.csv', 'other/x.parquet'])\n",
            "models/raw_literal.sql": "select * from 'landing/orders_1.csv'\n",
            "models/raw_other.sql": "select * from read_csv_auto('elsewhere/orders_1.csv')\n",
        },
    )
    nodes = {n.name: n for n in manifest.models()}
    landing = "sensor.shop.landing_orders"
    assert nodes["stg_orders"].file_reads == ("landing/orders_2024.csv",)
    assert nodes["stg_orders"].depends_on == (landing,)
    assert nodes["raw_all"].file_reads == ("landing/*.csv", "other/x.parquet")
    assert nodes["raw_all"].depends_on == (landing,)  # the read glob covers the sensor's path
    assert nodes["raw_literal"].depends_on == (landing,)
    assert nodes["raw_other"].depends_on == ()
    assert nodes["customers"].file_reads == ()
    assert build_dag(manifest).ancestors("model.shop.stg_orders") == {landing}


def test_absolute_paths_under_the_project_root_match(write, tmp_path: Path) -> None:
    root = write({"models/a.sql": "select 1\n"})
    files = {
        "models/sensors.yml": (
            f"version: 2\nsensors:\n  - {{name: f, type: file, path: '{root}/landing/*.csv'}}\n"
        ),
        "models/a.sql": "select * from read_csv('./landing/../landing/x.csv')\n",
    }
    manifest = compile_project(load_project(write(files)), target_dialect="duckdb")
    assert manifest.nodes["model.shop.a"].depends_on == ("sensor.shop.f",)


def test_depends_on_config_from_every_place(compile_files) -> None:
    manifest = compile_files(
        {
            **FILES,
            "sqlflow.yml": (
                "name: shop\nvars: {api: 'http://x'}\nmodels:\n  shop:\n    marts:\n"
                "      +depends_on: ['sensor:morning']\n"
            ),
            "models/marts/orders.sql": (
                "{{ config(depends_on=['sensor:api_ready', 'customers']) }}\n"
                "select * from {{ ref('stg_orders') }}\n"
            ),
            "models/marts/schema.yml": """\
                version: 2
                models:
                  - name: orders
                    config: {depends_on: ['source:raw.payments']}
                    data_tests:
                      - row_count: {min: 1, config: {depends_on: ['sensor:orders_loaded']}}
                sources:
                  - name: raw
                    tables: [{name: payments}]
                """,
            "tests/assert_orders.sql": (
                "{{ config(depends_on=['sensor:morning']) }}select 1 from {{ ref('orders') }}\n"
            ),
        }
    )
    orders = manifest.nodes["model.shop.orders"]
    assert orders.config.depends_on == (
        "sensor:morning",
        "source:raw.payments",
        "sensor:api_ready",
        "customers",
    )
    assert orders.depends_on == (
        "model.shop.customers",
        "model.shop.stg_orders",
        "sensor.shop.api_ready",
        "sensor.shop.morning",
        "source.shop.raw.payments",
    )
    (row_count,) = [t for t in manifest.tests() if t.test_name == "row_count"]
    assert row_count.depends_on == ("model.shop.orders", "sensor.shop.orders_loaded")
    assert manifest.nodes["test.shop.assert_orders"].depends_on == (
        "model.shop.orders",
        "sensor.shop.morning",
    )


DEPENDS_ERRORS = [
    (
        {"models/a.sql": "{{ config(depends_on=['sensor:landing_ordrs']) }}\nselect 1\n"},
        UnknownRefError,
        "models/a.sql:1: unknown sensor 'landing_ordrs' in depends_on (did you mean 'landing_orders'?)",
    ),
    (
        {"models/a.sql": "select 1\n", "models/a.yml": "version: 2\nmodels:\n  - name: a\n    config:\n"
         "      depends_on: [custmers]\n"},
        UnknownRefError,
        "models/a.yml:5: unknown node 'custmers' in depends_on (did you mean 'customers'?)",
    ),
    (
        {"models/a.sql": "{{ config(depends_on='landing_orders') }}select 1\n"},
        UnknownRefError,
        "models/a.sql:1: unknown node 'landing_orders' in depends_on "
        "(did you mean 'sensor:landing_orders' or 'stg_orders'?)",
    ),
    (
        {"models/a.sql": "{{ config(depends_on=['snesor:x']) }}select 1\n"},
        ConfigError,
        "models/a.sql:1: unknown kind 'snesor' in depends_on item 'snesor:x' (did you mean 'sensor'?)",
    ),
    (
        {"models/a.sql": "{{ config(depends_on=['source:raw']) }}select 1\n"},
        ConfigError,
        "models/a.sql:1: bad depends_on item 'source:raw' (write source:<source>.<table>)",
    ),
    (
        {"sqlflow.yml": "name: shop\nvars: {api: x}\nmodels:\n  +depends_on: ['sensor:nope']\n",
         "models/a.sql": "select 1\n"},
        UnknownRefError,
        "sqlflow.yml:4: unknown sensor 'nope' in depends_on",
    ),
    (
        {"models/b.yml": "version: 2\nmodels:\n  - name: customers\n    data_tests:\n"
         "      - row_count: {min: 1, config: {depends_on: ['sensor:mornin']}}\n"},
        UnknownRefError,
        "models/b.yml:5: unknown sensor 'mornin' in depends_on (did you mean 'morning'?)",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("files", "error", "message"), DEPENDS_ERRORS, ids=[m for _, _, m in DEPENDS_ERRORS])
def test_depends_on_errors(compile_files, files, error, message) -> None:
    with pytest.raises(error, match=exactly(message)):
        compile_files({**FILES, **files})


def test_unknown_sensor_without_any_sensor(compile_files) -> None:
    message = (
        "models/a.sql:1: unknown sensor 'x' in depends_on "
        "(no sensor is declared; declare one under sensors: in a property file)"
    )
    with pytest.raises(UnknownRefError, match=exactly(message)):
        compile_files({"models/a.sql": "{{ config(depends_on=['sensor:x']) }}select 1\n"})


def test_a_sensor_reading_what_waits_for_it_is_a_cycle(compile_files) -> None:
    files = {
        **FILES,
        "models/customers.sql": "{{ config(depends_on=['sensor:orders_loaded']) }}select 1 as customer_id\n",
    }
    message = (
        "models/customers.sql: cycle: customers (models/customers.sql) -> orders_loaded (models/sensors.yml) "
        "-> customers (models/customers.sql)"
    )
    with pytest.raises(CycleError, match=exactly(message)):
        compile_files(files)


def test_sql_sensor_errors_point_at_its_sql(compile_files) -> None:
    broken = SENSORS.replace("join customers using (customer_id)", "join customers using (customer_id")
    with pytest.raises(SqlSyntaxError) as caught:
        compile_files({**FILES, "models/sensors.yml": broken})
    assert str(caught.value).startswith("models/sensors.yml:21: syntax error")
    assert str(caught.value).endswith("line 2 in the sql of sensor 'orders_loaded')")
    unknown = SENSORS.replace("ref('stg_orders')", "ref('stg_ordrs')")
    message = "models/sensors.yml:21: unknown ref 'stg_ordrs' (did you mean 'stg_orders'?)"
    with pytest.raises(UnknownRefError, match=exactly(message)):
        compile_files({**FILES, "models/sensors.yml": unknown})


def test_a_sql_sensor_reading_an_ephemeral_model_inlines_it(compile_files) -> None:
    files = {
        **FILES,
        "models/customers.sql": "{{ config(materialized='ephemeral') }}select 1 as customer_id\n",
    }
    sensor = compile_files(files, target_dialect="postgres").nodes["sensor.shop.orders_loaded"]
    assert sensor.params["sql"].startswith("WITH __sqlflow_ephemeral_customers AS (SELECT 1 AS customer_id)")
    assert sensor.depends_on == ("model.shop.customers", "model.shop.stg_orders")


def test_sensors_come_from_the_cache(write, tmp_path: Path, monkeypatch) -> None:
    root = write(FILES)
    cache = tmp_path / "cache"
    first = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)

    def refuse(self):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(CompileTools, "sql_tools", refuse)
    monkeypatch.setattr(CompileTools, "renderer", refuse)
    files_only = {**FILES, "models/sensors.yml": SENSORS.replace("{{ var('api') }}", "http://x")}
    write(files_only)
    second = compile_project(load_project(root), target_dialect="duckdb", cache_dir=cache)
    assert second.nodes["sensor.shop.orders_loaded"] == first.nodes["sensor.shop.orders_loaded"]
    assert second.nodes["model.shop.stg_orders"] == first.nodes["model.shop.stg_orders"]


# -- sensor-tests ---------------------------------------------------------------------------------------


def test_tests_carry_their_sensor_config(compile_files) -> None:
    manifest = compile_files(
        {
            "sqlflow.yml": "name: shop\ndata_tests:\n  +sensor: {timeout: 1h}\n",
            "models/sources.yml": """\
                version: 2
                sources:
                  - name: raw
                    tables:
                      - name: orders
                        config:
                          sensor: {poke_interval: 1m, on_timeout: skip}
                        data_tests: [{row_count: {min: 1}}]
                """,
            "models/a.sql": "select 1 as id\n",
            "models/a.yml": "version: 2\nmodels:\n  - name: a\n    data_tests: [{row_count: {min: 1}}]\n",
        }
    )
    tests = {t.attached_node: t for t in manifest.tests()}
    # the table's settings go on top of sqlflow.yml's (timeout 1h), not on top of the defaults again
    assert tests["source.shop.raw.orders"].config.sensor == {
        "poke_interval": 60.0,
        "timeout": 3600.0,
        "on_timeout": "skip",
        "backoff": False,
        "max_poke_interval": None,
    }
    assert tests["model.shop.a"].config.sensor["timeout"] == 3600.0


def test_sensor_config_on_a_model_is_an_error(compile_files) -> None:
    message = (
        "models/a.sql: 'sensor' is a test config; model 'a' cannot wait (put sensor: on a test of it, or "
        "declare a sensor under sensors: and add depends_on: ['sensor:<name>'] to it)"
    )
    with pytest.raises(ConfigError, match=exactly(message)):
        compile_files({"models/a.sql": "{{ config(sensor=true) }}select 1\n"})


# -- Great Expectations ---------------------------------------------------------------------------------


def test_expectations_become_tests_without_sql(compile_files) -> None:
    suite = {"expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}]}
    manifest = compile_files(
        {
            "models/orders.sql": "select 1 as id\n",
            "gx/orders.json": json.dumps(suite),
            "models/schema.yml": """\
                version: 2
                models:
                  - name: orders
                    expectation_suite: gx/orders.json
                    columns:
                      - name: id
                        expectations:
                          - expect_column_values_to_not_be_null: {config: {severity: warn}}
                          - expect_column_values_to_be_between: {min_value: 0, mostly: 0.9}
                sources:
                  - name: raw
                    tables:
                      - name: events
                        sensor: true
                        expectations: [expect_table_row_count_to_be_between: {min_value: 1}]
                """,
        }
    )
    tests = {t.name: t for t in manifest.tests()}
    assert sorted(tests) == [
        "gx_expect_column_values_to_be_between_orders_id",
        "gx_expect_column_values_to_not_be_null_orders_id",
        "gx_expect_table_row_count_to_be_between_orders",
        "gx_expect_table_row_count_to_be_between_source_raw_events",
    ]
    not_null = tests["gx_expect_column_values_to_not_be_null_orders_id"]
    assert re.fullmatch(
        r"test\.shop\.gx_expect_column_values_to_not_be_null_orders_id\.[0-9a-f]{10}", not_null.unique_id
    )
    assert (not_null.test_type, not_null.test_name, not_null.column_name, not_null.kwargs) == (
        "expectation",
        "expect_column_values_to_not_be_null",
        "id",
        {"column": "id"},
    )
    assert (not_null.attached_node, not_null.depends_on, not_null.compiled_sql) == (
        "model.shop.orders",
        ("model.shop.orders",),
        None,
    )
    assert (not_null.config.severity, not_null.path, not_null.line) == ("warn", "models/schema.yml", 8)
    between = tests["gx_expect_column_values_to_be_between_orders_id"]
    assert between.kwargs == {"min_value": 0, "mostly": 0.9, "column": "id"}
    assert between.raw_sql == "expect_column_values_to_be_between(min_value=0, mostly=0.9, column='id')"
    events = tests["gx_expect_table_row_count_to_be_between_source_raw_events"]
    assert events.depends_on == ("source.shop.raw.events",)
    assert events.config.sensor["poke_interval"] == 30.0
    assert not any(isinstance(n, ModelNode) and n.name.startswith("gx_") for n in manifest.nodes.values())
