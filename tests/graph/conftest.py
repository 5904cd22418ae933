"""Fixtures for the graph tests: real Manifest objects, built without compiling anything.

`shop` is a small project of 14 nodes::

    sources  shop.raw_orders, shop.raw_customers               models/staging/sources.yml, tag raw
    seed     country_codes                                     seeds/country_codes.csv
    staging  stg_orders <- raw_orders                          models/staging/, view, tag staging
             stg_customers <- raw_customers
             stg_countries <- country_codes                    ephemeral
    marts    orders <- stg_orders                              models/marts/, incremental, tag nightly
             customers <- stg_customers, stg_countries, stg_orders     table, tags nightly, pii
             customer_ltv <- customers, orders                 models/marts/finance/, table, tag finance
    tests    not_null_stg_orders_order_id <- stg_orders        generic, models/staging/schema.yml
             source_not_null_shop_raw_orders_id <- raw_orders  generic, models/staging/sources.yml
             unique_orders_order_id <- orders                  generic, models/marts/schema.yml
             relationships_orders_customer_id <- orders, customers     generic, two parents
             assert_ltv_positive <- customer_ltv               singular, tests/, tag finance

`shop_sensors` adds two sensors and two tests::

    sensors  landing (file, tag landing), orders_loaded (sql) <- orders   models/staging/sensors.yml
             stg_orders also depends on landing
    tests    rows_raw_orders <- raw_orders, landing              a source test waiting on a sensor
             gx_expect_orders_id <- orders                        test_type expectation
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import pytest

from sqlflow.graph import Dag, build_dag
from sqlflow.manifest import Manifest, ModelNode, NodeConfig, Relation, SensorNode, SourceNode, TestNode

PROJECT = "shop"


def model(
    name: str,
    *deps: str,
    folder: str = "models/staging",
    resource_type: str = "model",
    **config: Any,
) -> ModelNode:
    """A model (or seed) named `name` in `folder`, depending on the unique ids `deps`."""
    ext = ".csv" if resource_type == "seed" else ".sql"
    folders = tuple(folder.split("/")[1:])
    return ModelNode(
        unique_id=f"{resource_type}.{PROJECT}.{name}",
        name=name,
        resource_type=resource_type,  # type: ignore[arg-type]
        package_name=PROJECT,
        path=f"{folder}/{name}{ext}",
        fqn=(PROJECT, *folders, name),
        raw_sql="select 1",
        checksum="0" * 64,
        config=NodeConfig(**config),
        relation=Relation(database=PROJECT, schema="main", identifier=name),
        depends_on=tuple(sorted(deps)),
    )


def source(source_name: str, name: str, *, tags: tuple[str, ...] = ()) -> SourceNode:
    return SourceNode(
        unique_id=f"source.{PROJECT}.{source_name}.{name}",
        source_name=source_name,
        name=name,
        package_name=PROJECT,
        path="models/staging/sources.yml",
        line=4,
        fqn=(PROJECT, "staging", source_name, name),
        relation=Relation(database=PROJECT, schema="raw", identifier=name),
        tags=tags,
    )


def make_test(
    name: str,
    *deps: str,
    test_name: str,
    path: str,
    test_type: str = "generic",
    **config: Any,
) -> TestNode:
    folders = tuple(path.split("/")[1:-1])
    return TestNode(
        unique_id=f"test.{PROJECT}.{name}",
        name=name,
        package_name=PROJECT,
        path=path,
        fqn=(PROJECT, *folders, name),
        test_type=test_type,  # type: ignore[arg-type]
        test_name=test_name,
        raw_sql="select 1 where false",
        checksum="0" * 64,
        config=NodeConfig(**config),
        attached_node=deps[0] if test_type == "generic" else None,
        depends_on=tuple(sorted(deps)),
        line=7 if test_type == "generic" else None,
    )


def manifest_of(*nodes: ModelNode | TestNode | SourceNode | SensorNode) -> Manifest:
    return Manifest(
        project_name=PROJECT,
        dialect="duckdb",
        target_dialect="duckdb",
        nodes={n.unique_id: n for n in nodes if not isinstance(n, SourceNode)},
        sources={n.unique_id: n for n in nodes if isinstance(n, SourceNode)},
    )


def chain_manifest(edges: Mapping[str, Iterable[str]]) -> Manifest:
    """Views `models/<name>.sql` depending on each other by name: {"b": ["a"]} means b selects from a."""
    return manifest_of(
        *(
            model(name, *(f"model.{PROJECT}.{dep}" for dep in deps), folder="models")
            for name, deps in edges.items()
        )
    )


def shop_manifest() -> Manifest:
    raw_orders = "source.shop.shop.raw_orders"
    raw_customers = "source.shop.shop.raw_customers"
    mart = "models/marts"
    return manifest_of(
        source("shop", "raw_orders", tags=("raw",)),
        source("shop", "raw_customers", tags=("raw",)),
        model("country_codes", folder="seeds", resource_type="seed", materialized="seed"),
        model("stg_orders", raw_orders, tags=("staging",)),
        model("stg_customers", raw_customers, tags=("staging",)),
        model("stg_countries", "seed.shop.country_codes", tags=("staging",), materialized="ephemeral"),
        model(
            "orders",
            "model.shop.stg_orders",
            folder=mart,
            tags=("nightly",),
            materialized="incremental",
            unique_key=("order_id",),
            incremental_strategy="delete+insert",
            meta={"owner": "sales"},
        ),
        model(
            "customers",
            "model.shop.stg_customers",
            "model.shop.stg_countries",
            "model.shop.stg_orders",
            folder=mart,
            tags=("nightly", "pii"),
            materialized="table",
        ),
        model(
            "customer_ltv",
            "model.shop.customers",
            "model.shop.orders",
            folder=f"{mart}/finance",
            tags=("finance",),
            materialized="table",
            full_refresh=False,
        ),
        make_test(
            "not_null_stg_orders_order_id",
            "model.shop.stg_orders",
            test_name="not_null",
            path="models/staging/schema.yml",
        ),
        make_test(
            "source_not_null_shop_raw_orders_id",
            raw_orders,
            test_name="not_null",
            path="models/staging/sources.yml",
        ),
        make_test(
            "unique_orders_order_id",
            "model.shop.orders",
            test_name="unique",
            path="models/marts/schema.yml",
            severity="warn",
        ),
        make_test(
            "relationships_orders_customer_id",
            "model.shop.orders",
            "model.shop.customers",
            test_name="relationships",
            path="models/marts/schema.yml",
        ),
        make_test(
            "assert_ltv_positive",
            "model.shop.customer_ltv",
            test_name="assert_ltv_positive",
            path="tests/assert_ltv_positive.sql",
            test_type="singular",
            tags=("finance",),
        ),
    )


@pytest.fixture
def shop() -> Manifest:
    return shop_manifest()


@pytest.fixture
def shop_dag(shop: Manifest) -> Dag:
    return build_dag(shop)


@pytest.fixture
def chain() -> Callable[[Mapping[str, Iterable[str]]], Manifest]:
    """A builder of small all-model manifests, for cycles and odd shapes."""
    return chain_manifest


LANDING = "sensor.shop.landing"


def sensor(name: str, kind: str, *deps: str, tags: tuple[str, ...] = ()) -> SensorNode:
    return SensorNode(
        unique_id=f"sensor.{PROJECT}.{name}",
        name=name,
        package_name=PROJECT,
        path="models/staging/sensors.yml",
        line=3,
        fqn=(PROJECT, "staging", name),
        kind=kind,  # type: ignore[arg-type]
        params={"path": "landing/*.csv"} if kind == "file" else {"sql": "select 1"},
        tags=tags,
        depends_on=tuple(sorted(deps)),
    )


def with_sensors() -> Manifest:
    shop = shop_manifest()
    nodes = dict(shop.nodes)
    stg = nodes["model.shop.stg_orders"]
    nodes["model.shop.stg_orders"] = replace(stg, depends_on=tuple(sorted({*stg.depends_on, LANDING})))
    extra = [
        sensor("landing", "file", tags=("landing",)),
        sensor("orders_loaded", "sql", "model.shop.orders"),
        make_test(
            "rows_raw_orders",
            "source.shop.shop.raw_orders",
            LANDING,
            test_name="row_count",
            path="models/staging/sources.yml",
        ),
        make_test(
            "gx_expect_orders_id",
            "model.shop.orders",
            test_name="expect_column_values_to_not_be_null",
            path="models/marts/schema.yml",
            test_type="expectation",
        ),
    ]
    return manifest_of(*shop.sources.values(), *nodes.values(), *extra)


@pytest.fixture
def shop_sensors() -> Manifest:
    return with_sensors()
