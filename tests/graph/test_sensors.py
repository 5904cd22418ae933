"""Sensors in the graph: ancestors of what waits for them, `sensor:` and `resource_type:sensor` selectors,
`config.*:` never matching them, and expectation tests selected like other tests (the `shop_sensors`
manifest of conftest.py)."""

from __future__ import annotations

import pytest

from sqlflow.graph import build_dag, select_nodes, unmatched_terms
from sqlflow.manifest import Manifest

LANDING = "sensor.shop.landing"
LOADED = "sensor.shop.orders_loaded"


@pytest.fixture
def manifest(shop_sensors: Manifest) -> Manifest:
    return shop_sensors


def selected(manifest: Manifest, select=(), exclude=(), **kwargs) -> set[str]:
    dag = build_dag(manifest)
    return {manifest.get(uid).name for uid in select_nodes(manifest, dag, select, exclude, **kwargs)}


def test_a_sensor_is_an_ancestor_of_what_waits_for_it(manifest: Manifest) -> None:
    dag = build_dag(manifest)
    assert LANDING in dag.ancestors("model.shop.customer_ltv")
    assert dag.children(LANDING) == {"model.shop.stg_orders", "test.shop.rows_raw_orders"}
    assert dag.parents(LOADED) == {"model.shop.orders"}
    order = dag.topological_order()
    assert order.index(LANDING) < order.index("model.shop.stg_orders")


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        (("sensor:landing",), {"landing"}),
        (("sensor:*",), {"landing", "orders_loaded"}),
        (("sensor:shop.orders_*",), {"orders_loaded"}),
        (("sensor:land*+1",), {"landing", "stg_orders", "rows_raw_orders", "not_null_stg_orders_order_id"}),
        (("resource_type:sensor",), {"landing", "orders_loaded"}),
        (("landing",), {"landing"}),
        (("tag:landing",), {"landing"}),
        (("path:models/staging/sensors.yml",), {"landing", "orders_loaded"}),
        (
            ("+stg_orders",),
            {
                *("stg_orders", "raw_orders", "landing", "rows_raw_orders"),
                *("not_null_stg_orders_order_id", "source_not_null_shop_raw_orders_id"),
            },
        ),
        (
            ("1+orders_loaded",),  # eager: the relationships test goes with orders, one of its parents
            {"orders_loaded", "orders", "gx_expect_orders_id", "unique_orders_order_id"}
            | {"relationships_orders_customer_id"},
        ),
        (("test_type:expectation",), {"gx_expect_orders_id"}),
        (("test_name:expect_*",), {"gx_expect_orders_id"}),
        (("config.materialized:view",), {"stg_orders", "stg_customers", "not_null_stg_orders_order_id"}),
        (("config.tags:landing",), set()),
    ],
)
def test_selectors(manifest: Manifest, select: tuple[str, ...], expected: set[str]) -> None:
    assert selected(manifest, select) == expected


def test_a_test_waiting_on_a_sensor_follows_the_data_it_tests(manifest: Manifest) -> None:
    assert "rows_raw_orders" in selected(manifest, ("source:shop.raw_orders",))
    assert "rows_raw_orders" in selected(manifest, ("source:shop.raw_orders",), ("sensor:landing",))
    assert "rows_raw_orders" not in selected(manifest, (), ("source:shop.raw_orders",))
    assert "gx_expect_orders_id" in selected(manifest, ("orders",))


def test_resource_types_and_unmatched_terms(manifest: Manifest) -> None:
    assert selected(manifest, resource_types=("sensor",)) == {"landing", "orders_loaded"}
    terms = ["sensor:nope", "sensor:landing"]
    assert unmatched_terms(manifest, build_dag(manifest), terms) == ("sensor:nope",)
