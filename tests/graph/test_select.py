"""select_nodes and unmatched_terms over the shop manifest (see conftest.py for its shape)."""

from __future__ import annotations

import re

import pytest

from sqlflow.errors import SelectionError
from sqlflow.graph import Dag, build_dag, select_nodes, unmatched_terms
from sqlflow.manifest import Manifest

SOURCES = {"raw_orders", "raw_customers"}
STAGING = {"stg_orders", "stg_customers", "stg_countries"}
MARTS = {"orders", "customers", "customer_ltv"}
T_STG = "not_null_stg_orders_order_id"  # <- stg_orders
T_SRC = "source_not_null_shop_raw_orders_id"  # <- raw_orders
T_UNIQUE = "unique_orders_order_id"  # <- orders, severity warn
T_REL = "relationships_orders_customer_id"  # <- orders, customers
T_LTV = "assert_ltv_positive"  # <- customer_ltv, singular, tag finance
TESTS = {T_STG, T_SRC, T_UNIQUE, T_REL, T_LTV}
EVERYTHING = SOURCES | {"country_codes"} | STAGING | MARTS | TESTS


def names(manifest: Manifest, uids: frozenset[str]) -> set[str]:
    return {manifest.get(uid).name for uid in uids}


CASES: list[tuple[tuple[str, ...], tuple[str, ...], set[str]]] = [
    # everything, names, unions
    ((), (), EVERYTHING),
    (("orders",), (), {"orders", T_UNIQUE}),  # T_REL also needs customers
    (("orders customers",), (), {"orders", "customers", T_UNIQUE, T_REL}),
    (("orders", "customers"), (), {"orders", "customers", T_UNIQUE, T_REL}),
    (("name:orders",), (), {"orders", T_UNIQUE}),
    (("model.shop.orders",), (), {"orders", T_UNIQUE}),
    (("stg_*",), (), STAGING | {T_STG}),
    (("nope",), (), set()),
    (("nope orders",), (), {"orders", T_UNIQUE}),
    # fqn paths, packages, files
    (("staging.*",), (), STAGING | SOURCES | {T_STG, T_SRC}),
    (("shop.marts.finance.customer_ltv",), (), {"customer_ltv", T_LTV}),
    (("marts.finance",), (), {"customer_ltv", T_LTV}),
    (("shop",), (), EVERYTHING),
    (("package:shop",), (), EVERYTHING),
    (("file:orders.sql",), (), {"orders", T_UNIQUE}),
    (("file:stg_cust*",), (), {"stg_customers"}),
    # graph operators
    (("+orders",), (), {"orders", "stg_orders", "raw_orders", T_STG, T_SRC, T_UNIQUE}),
    (("1+orders",), (), {"orders", "stg_orders", T_STG, T_UNIQUE}),
    (("stg_orders+",), (), {"stg_orders", *MARTS, T_STG, T_UNIQUE, T_REL, T_LTV}),
    (("stg_orders+1",), (), {"stg_orders", "orders", "customers", T_STG, T_UNIQUE, T_REL}),
    (("1+stg_countries+1",), (), {"country_codes", "stg_countries", "customers"}),
    (("@stg_countries",), (), EVERYTHING),
    (("@unique_orders_order_id",), (), {T_UNIQUE, "orders", "stg_orders", "raw_orders", T_STG, T_SRC}),
    # intersections
    (("tag:nightly,tag:pii",), (), {"customers"}),
    (("tag:nightly,config.materialized:table",), (), {"customers"}),
    (("+customer_ltv,tag:staging",), (), STAGING | {T_STG}),
    (("orders,nope",), (), set()),
    # tags and paths
    (("tag:nightly",), (), {"orders", "customers", T_UNIQUE, T_REL}),
    (("tag:raw",), (), SOURCES | {T_SRC}),
    (("tag:fin*",), (), {"customer_ltv", T_LTV}),
    (("path:models/staging",), (), STAGING | SOURCES | {T_STG, T_SRC}),
    (("models/marts",), (), MARTS | {T_UNIQUE, T_REL, T_LTV}),
    (("path:models/marts/*.sql",), (), {"orders", "customers", T_UNIQUE, T_REL}),
    (("models/staging/stg_orders.sql",), (), {"stg_orders", T_STG}),
    (("./models/staging/stg_orders.sql",), (), {"stg_orders", T_STG}),
    (("tests/assert_ltv_positive.sql",), (), {T_LTV}),
    (("seeds/country_codes.csv",), (), {"country_codes"}),
    # config
    (("config.materialized:view",), (), {"stg_orders", "stg_customers", T_STG}),
    (("config.materialized:test",), (), TESTS),
    (("config.materialized:incremental",), (), {"orders", T_UNIQUE}),
    (("config.incremental_strategy:delete+insert",), (), {"orders", T_UNIQUE}),
    (("config.unique_key:order_id",), (), {"orders", T_UNIQUE}),
    (("config.meta.owner:sales",), (), {"orders", T_UNIQUE}),
    (("config.meta:owner",), (), {"orders", T_UNIQUE}),
    (("config.full_refresh:false",), (), {"customer_ltv", T_LTV}),
    (("config.tags:pii",), (), {"customers"}),
    (("config.severity:warn",), (), {T_UNIQUE}),
    # resource types, sources, tests
    (("resource_type:seed",), (), {"country_codes"}),
    (("resource_type:source",), (), SOURCES | {T_SRC}),
    (("resource_type:test",), (), TESTS),
    (("source:shop",), (), SOURCES | {T_SRC}),
    (("source:shop.raw_orders+",), (), {"raw_orders", "stg_orders", *MARTS} | TESTS),
    (("source:*.raw_c*",), (), {"raw_customers"}),
    (("source:shop.shop.raw_customers",), (), {"raw_customers"}),
    (("source:other",), (), set()),
    (("test_type:singular",), (), {T_LTV}),
    (("test_type:generic",), (), TESTS - {T_LTV}),
    (("test_type:data",), (), {T_LTV}),
    (("test_name:not_null",), (), {T_STG, T_SRC}),
    (("test_name:relation*",), (), {T_REL}),
    # exclusion; a test goes with any excluded parent
    ((), ("tag:nightly",), EVERYTHING - {"orders", "customers", T_UNIQUE, T_REL}),
    (("stg_orders+",), ("customers",), {"stg_orders", "orders", "customer_ltv", T_STG, T_UNIQUE, T_LTV}),
    (
        ("+customer_ltv",),
        ("resource_type:source", "resource_type:seed"),
        STAGING | MARTS | {T_STG, T_UNIQUE, T_REL, T_LTV},
    ),
    (("tag:nightly",), ("unique_orders_order_id",), {"orders", "customers", T_REL}),
    (("tag:nightly",), ("tag:nightly",), set()),
    ((), ("nope",), EVERYTHING),
]


@pytest.mark.parametrize(("select", "exclude", "expected"), CASES, ids=lambda v: repr(v)[:60])
def test_selection(
    shop: Manifest, shop_dag: Dag, select: tuple[str, ...], exclude: tuple[str, ...], expected: set[str]
) -> None:
    # these cases add a test when all its parents are selected: dbt's cautious indirect selection
    assert names(shop, select_nodes(shop, shop_dag, select, exclude, indirect="cautious")) == expected


BOTH = {"customer_ltv", "orders", T_LTV, T_UNIQUE}  # T_REL tests orders and customers, an ancestor of ltv
INDIRECT_CASES: list[tuple[tuple[str, ...], tuple[str, ...], str | None, set[str]]] = [
    # the default is dbt's: eager, a test goes with any of its parents
    (("orders",), (), None, {"orders", T_UNIQUE, T_REL}),
    (("orders",), (), "eager", {"orders", T_UNIQUE, T_REL}),
    (("orders",), (), "cautious", {"orders", T_UNIQUE}),
    (("orders",), (), "buildable", {"orders", T_UNIQUE}),  # customers is not upstream of orders
    (("orders",), (), "empty", {"orders"}),
    (("customer_ltv orders",), (), "eager", BOTH | {T_REL}),
    (("customer_ltv orders",), (), "cautious", BOTH),
    (("customer_ltv orders",), (), "buildable", BOTH | {T_REL}),
    (("customer_ltv orders",), (), "empty", BOTH - {T_LTV, T_UNIQUE}),
    # buildable still wants a selected parent: T_REL's are both upstream of customer_ltv, neither selected
    (("customer_ltv",), (), "buildable", {"customer_ltv", T_LTV}),
    (("+stg_orders",), (), "buildable", {"stg_orders", "raw_orders", T_STG, T_SRC}),
    (("stg_orders",), (), "eager", {"stg_orders", T_STG}),  # the source test's parent is not selected
    # a test named is selected in every mode; no selection is everything
    (("orders", T_REL), (), "empty", {"orders", T_REL}),
    (("test_name:unique",), (), "empty", {T_UNIQUE}),
    ((), (), "empty", EVERYTHING),
    # in every mode a test with an excluded parent goes
    (("tag:nightly",), ("customers",), "eager", {"orders", T_UNIQUE}),
    (("tag:nightly",), ("customers",), "buildable", {"orders", T_UNIQUE}),
    (("orders",), ("customers",), "eager", {"orders", T_UNIQUE}),
    ((), ("orders",), "eager", EVERYTHING - {"orders", T_UNIQUE, T_REL}),
]


@pytest.mark.parametrize(
    ("select", "exclude", "mode", "expected"), INDIRECT_CASES, ids=lambda v: repr(v)[:60]
)
def test_indirect_selection(
    shop: Manifest,
    shop_dag: Dag,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    mode: str | None,
    expected: set[str],
) -> None:
    how = {} if mode is None else {"indirect": mode}
    assert names(shop, select_nodes(shop, shop_dag, select, exclude, **how)) == expected  # type: ignore[arg-type]


def test_an_unknown_indirect_selection_suggests_the_closest(shop: Manifest, shop_dag: Dag) -> None:
    with pytest.raises(
        SelectionError, match=r"unknown indirect selection 'eagre' \(did you mean 'eager'\?\)"
    ):
        select_nodes(shop, shop_dag, ("orders",), indirect="eagre")  # type: ignore[arg-type]


RESOURCE_CASES: list[tuple[tuple[str, ...], set[str], set[str]]] = [
    (("stg_orders+",), {"model"}, {"stg_orders", *MARTS}),
    (("stg_orders",), {"test"}, {T_STG}),
    ((), {"seed"}, {"country_codes"}),
    (("source:shop+",), {"model", "seed", "test"}, STAGING - {"stg_countries"} | MARTS | TESTS),
    (("source:shop",), {"model"}, set()),
]


@pytest.mark.parametrize(("select", "types", "expected"), RESOURCE_CASES, ids=lambda v: repr(v)[:60])
def test_resource_types_restrict_the_answer(
    shop: Manifest, shop_dag: Dag, select: tuple[str, ...], types: set[str], expected: set[str]
) -> None:
    assert names(shop, select_nodes(shop, shop_dag, select, resource_types=types)) == expected


def test_result_method(shop: Manifest, shop_dag: Dag) -> None:
    previous = {
        "model.shop.orders": "error",
        "model.shop.customer_ltv": "skipped",
        "test.shop.unique_orders_order_id": "fail",
        "model.shop.stg_orders": "success",
    }

    def pick(*select: str) -> set[str]:
        return names(shop, select_nodes(shop, shop_dag, select, previous_results=previous))

    assert pick("result:error+") == {"orders", "customer_ltv", T_UNIQUE, T_REL, T_LTV}
    assert pick("result:fail") == {T_UNIQUE}
    # eager indirect selection: T_REL goes with orders
    assert pick("result:error result:skipped") == {"orders", "customer_ltv", T_UNIQUE, T_REL, T_LTV}
    assert pick("result:*") == {"orders", "customer_ltv", "stg_orders", T_UNIQUE, T_REL, T_STG, T_LTV}
    assert select_nodes(shop, shop_dag, ["result:error"], previous_results={}) == frozenset()


def test_at_adds_the_ancestors_of_descendants(chain) -> None:
    # a -> b <- c, b -> d, e apart
    manifest = chain({"a": [], "c": [], "b": ["a", "c"], "d": ["b"], "e": []})
    dag = build_dag(manifest)

    def pick(*select: str) -> set[str]:
        return names(manifest, select_nodes(manifest, dag, select))

    assert pick("@a") == pick("@a+") == {"a", "b", "c", "d"}
    assert pick("+a+") == {"a", "b", "d"}
    assert pick("@d") == {"a", "b", "c", "d"}
    assert pick("2+d") == {"b", "a", "c", "d"}
    assert pick("1+d") == {"b", "d"}
    assert pick("a+0") == {"a"}


ERRORS: list[tuple[str, str]] = [
    ("tga:nightly", "unknown selector method 'tga' in 'tga:nightly' (did you mean 'tag'?)"),
    ("state:modified", "unknown selector method 'state' in 'state:modified' (methods: fqn, name, tag, "),
    ("tag:", "empty value in selector 'tag:'"),
    ("+", "empty value in selector '+'"),
    ("@+orders", "'@' and a '+' prefix cannot be combined in '@+orders' ('@' already adds ancestors)"),
    ("orders++", "bad '+' in selector 'orders++' (write +x, 2+x, x+ or x+2)"),
    ("++orders", "bad '+' in selector '++orders' (write +x, 2+x, x+ or x+2)"),
    ("orders,,customers", "empty part in selector 'orders,,customers' (remove the extra comma)"),
    ("orders,", "empty part in selector 'orders,' (remove the extra comma)"),
    ("", "empty selector '' (give a node name, tag:x, path:y ...)"),
    ("config:view", "selector method 'config' needs a key in 'config:view' (like config.materialized:table)"),
    (
        "config.materialised:view",
        "unknown config key 'materialised' in 'config.materialised:view' (did you mean 'materialized'?)",
    ),
    ("config..x:y", "empty key in selector 'config..x:y' (like config.materialized:table)"),
    ("tag.x:y", "selector method 'tag' takes no key in 'tag.x:y' (write tag:y)"),
    (
        "resource_type:modle",
        "unknown resource type 'modle' in 'resource_type:modle' (did you mean 'model'?)",
    ),
    (
        "test_type:integration",
        "unknown test type 'integration' in 'test_type:integration' "
        "(one of: generic, singular, expectation, unit, schema, data)",
    ),
    (
        "source:a.b.c.d",
        "bad source selector 'source:a.b.c.d' (write source:<source>, source:<source>.<table>)",
    ),
    ("result:error", "'result:error' needs the results of a previous run (run a command first)"),
]


@pytest.mark.parametrize(("select", "message"), ERRORS, ids=[s or "empty" for s, _ in ERRORS])
def test_bad_selectors(shop: Manifest, shop_dag: Dag, select: str, message: str) -> None:
    with pytest.raises(SelectionError, match="^" + re.escape(message)) as caught:
        select_nodes(shop, shop_dag, [select])
    assert caught.value.exit_code == 2
    with pytest.raises(SelectionError):  # the same in --exclude, and whatever else is selected
        select_nodes(shop, shop_dag, ["orders"], ["orders " + select if select else select])


def test_unknown_result_status(shop: Manifest, shop_dag: Dag) -> None:
    with pytest.raises(
        SelectionError, match=r"^unknown result status 'eror' in 'result:eror' \(did you mean 'error'\?\)$"
    ):
        select_nodes(shop, shop_dag, ["result:eror"], previous_results={})


def test_programming_errors(shop: Manifest, shop_dag: Dag) -> None:
    with pytest.raises(TypeError, match="not one string"):
        select_nodes(shop, shop_dag, "orders")
    with pytest.raises(ValueError, match=r"unknown resource types \['models'\]"):
        select_nodes(shop, shop_dag, resource_types={"models"})


def test_unmatched_terms(shop: Manifest, shop_dag: Dag) -> None:
    specs = ["orders nope", "tag:zzz,orders source:shop", "nope", "path:models/nowhere"]
    assert unmatched_terms(shop, shop_dag, specs) == ("nope", "tag:zzz,orders", "path:models/nowhere")
    assert unmatched_terms(shop, shop_dag, []) == ()
    with pytest.raises(SelectionError, match="unknown selector method 'tga'"):
        unmatched_terms(shop, shop_dag, ["tga:x"])


def test_selection_is_deterministic(shop: Manifest, shop_dag: Dag) -> None:
    first = select_nodes(shop, shop_dag, ["+customers tag:finance"], ["resource_type:source"])
    again = select_nodes(shop, build_dag(shop), ["tag:finance +customers"], ["resource_type:source"])
    assert first == again
