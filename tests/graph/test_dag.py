"""build_dag and Dag: neighbours, walks with depth, the deterministic order, cycles, a graph of bench size."""

from __future__ import annotations

import random

import pytest

from sqlflow.errors import CycleError, SourceLocation, SqlflowError
from sqlflow.graph import Dag, build_dag, find_cycle
from sqlflow.manifest import Manifest

ORDERS = "model.shop.orders"
CUSTOMERS = "model.shop.customers"
LTV = "model.shop.customer_ltv"
STG_ORDERS = "model.shop.stg_orders"
RAW_ORDERS = "source.shop.shop.raw_orders"


def test_every_node_is_in_the_graph(shop: Manifest, shop_dag: Dag) -> None:
    assert len(shop_dag) == 14
    assert set(shop_dag) == {n.unique_id for n in shop.all_nodes()}
    assert RAW_ORDERS in shop_dag
    assert "model.shop.nope" not in shop_dag


def test_topological_order_is_by_generation_then_id(shop_dag: Dag) -> None:
    assert shop_dag.topological_order() == [
        "seed.shop.country_codes",
        "source.shop.shop.raw_customers",
        "source.shop.shop.raw_orders",
        "model.shop.stg_countries",
        "model.shop.stg_customers",
        "model.shop.stg_orders",
        "test.shop.source_not_null_shop_raw_orders_id",
        "model.shop.customers",
        "model.shop.orders",
        "test.shop.not_null_stg_orders_order_id",
        "model.shop.customer_ltv",
        "test.shop.relationships_orders_customer_id",
        "test.shop.unique_orders_order_id",
        "test.shop.assert_ltv_positive",
    ]
    assert list(shop_dag) == shop_dag.topological_order()


def test_order_does_not_depend_on_insertion_order() -> None:
    edges = {"d": ["b", "c"], "c": ["a"], "b": ["a"], "a": [], "e": []}
    forward = Dag(edges).topological_order()
    backward = Dag(dict(reversed(edges.items()))).topological_order()
    assert forward == backward == ["a", "e", "b", "c", "d"]


def test_parents_and_children(shop_dag: Dag) -> None:
    assert shop_dag.parents(CUSTOMERS) == {
        "model.shop.stg_customers",
        "model.shop.stg_countries",
        STG_ORDERS,
    }
    assert shop_dag.children(ORDERS) == {
        LTV,
        "test.shop.unique_orders_order_id",
        "test.shop.relationships_orders_customer_id",
    }
    assert shop_dag.parents(RAW_ORDERS) == frozenset()
    assert shop_dag.children("test.shop.assert_ltv_positive") == frozenset()


def test_ancestors_with_and_without_depth(shop_dag: Dag) -> None:
    assert shop_dag.ancestors(LTV, depth=1) == {CUSTOMERS, ORDERS}
    assert shop_dag.ancestors(LTV, depth=2) == {
        CUSTOMERS,
        ORDERS,
        STG_ORDERS,
        "model.shop.stg_customers",
        "model.shop.stg_countries",
    }
    assert (
        shop_dag.ancestors(LTV)
        == shop_dag.ancestors(LTV, depth=99)
        == {
            CUSTOMERS,
            ORDERS,
            STG_ORDERS,
            "model.shop.stg_customers",
            "model.shop.stg_countries",
            "seed.shop.country_codes",
            "source.shop.shop.raw_customers",
            RAW_ORDERS,
        }
    )
    assert shop_dag.ancestors(LTV, depth=0) == frozenset()


def test_descendants_with_and_without_depth(shop_dag: Dag) -> None:
    assert shop_dag.descendants(RAW_ORDERS, depth=1) == {
        STG_ORDERS,
        "test.shop.source_not_null_shop_raw_orders_id",
    }
    assert shop_dag.descendants(STG_ORDERS) == {
        ORDERS,
        CUSTOMERS,
        LTV,
        "test.shop.not_null_stg_orders_order_id",
        "test.shop.unique_orders_order_id",
        "test.shop.relationships_orders_customer_id",
        "test.shop.assert_ltv_positive",
    }


def test_walks_from_a_set(shop_dag: Dag) -> None:
    assert shop_dag.upstream([ORDERS, STG_ORDERS], depth=1) == {RAW_ORDERS}
    assert shop_dag.downstream([CUSTOMERS, ORDERS], depth=1) == {
        LTV,
        "test.shop.unique_orders_order_id",
        "test.shop.relationships_orders_customer_id",
    }


def test_bad_queries(shop_dag: Dag) -> None:
    with pytest.raises(KeyError):
        shop_dag.parents("model.shop.nope")
    with pytest.raises(KeyError):
        shop_dag.ancestors("model.shop.nope")
    with pytest.raises(ValueError, match="depth must be 0 or more, not -1"):
        shop_dag.descendants(ORDERS, depth=-1)


def test_subgraph_keeps_order_through_removed_nodes(shop_dag: Dag) -> None:
    sub = shop_dag.subgraph({RAW_ORDERS, ORDERS, LTV, "test.shop.assert_ltv_positive"})
    assert sub.parents(ORDERS) == {RAW_ORDERS}
    assert sub.parents(LTV) == {ORDERS, RAW_ORDERS}  # also through customers and stg_orders
    assert sub.topological_order() == [RAW_ORDERS, ORDERS, LTV, "test.shop.assert_ltv_positive"]
    with pytest.raises(KeyError):
        shop_dag.subgraph({"model.shop.nope"})


def test_a_cycle_names_the_whole_path_with_files(chain) -> None:
    manifest = chain({"a": ["b"], "b": ["a"], "c": ["a"]})
    with pytest.raises(CycleError) as caught:
        build_dag(manifest)
    assert (
        str(caught.value) == "models/a.sql: cycle: a (models/a.sql) -> b (models/b.sql) -> a (models/a.sql)"
    )
    assert caught.value.location == SourceLocation("models/a.sql")


def test_a_cycle_starts_at_its_smallest_id_and_reads_downstream(chain) -> None:
    # data flows a -> c -> b -> a: c selects from a, b from c, a from b
    manifest = chain({"b": ["c"], "c": ["a"], "a": ["b"], "z": []})
    with pytest.raises(
        CycleError, match=r"^models/a\.sql: cycle: a \(models/a\.sql\) -> c \(models/c\.sql\)"
    ):
        build_dag(manifest)


def test_the_reported_cycle_is_a_shortest_one(chain) -> None:
    # a -> b -> c -> d -> a, with a shortcut c -> a
    manifest = chain({"a": ["d", "c"], "b": ["a"], "c": ["b"], "d": ["c"]})
    with pytest.raises(CycleError) as caught:
        build_dag(manifest)
    assert (
        caught.value.message
        == "cycle: a (models/a.sql) -> b (models/b.sql) -> c (models/c.sql) -> a (models/a.sql)"
    )


def test_a_model_selecting_from_itself(chain) -> None:
    with pytest.raises(
        CycleError, match=r"^models/x\.sql: cycle: x \(models/x\.sql\) -> x \(models/x\.sql\)$"
    ):
        build_dag(chain({"x": ["x"]}))


def test_cycle_in_a_plain_dag_uses_ids() -> None:
    with pytest.raises(CycleError, match=r"^cycle: m -> n -> m$"):
        Dag({"n": ["m"], "m": ["n"], "a": []})
    assert find_cycle({"a": ["b"], "b": []}) is None
    assert find_cycle({"n": ["m"], "m": ["n"]}) == ["m", "n", "m"]


def test_unknown_dependency(chain) -> None:
    with pytest.raises(SqlflowError) as caught:
        build_dag(chain({"orders": ["custmers"], "customers": []}))
    assert str(caught.value) == (
        "models/orders.sql: model.shop.orders depends on unknown node 'model.shop.custmers' "
        "(did you mean 'model.shop.customers'?)"
    )
    with pytest.raises(ValueError, match="b depends on x, which is not a node of the graph"):
        Dag({"b": ["x"]})


def random_parents(nodes: int, edges: int, seed: int = 7) -> dict[str, list[str]]:
    """A random DAG: each edge goes from a lower to a higher index."""
    rng = random.Random(seed)
    names = [f"model.big.n{i:05d}" for i in range(nodes)]
    parents: dict[str, list[str]] = {name: [] for name in names}
    for _ in range(edges):
        low, high = sorted(rng.sample(range(nodes), 2))
        parents[names[high]].append(names[low])
    return parents


def reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    """Everything reached from `start` along `edges`, the slow obvious way (a reference for the Dag)."""
    seen: set[str] = set()
    todo = list(edges[start])
    while todo:
        uid = todo.pop()
        if uid not in seen:
            seen.add(uid)
            todo.extend(edges[uid])
    return seen


def test_ten_thousand_nodes() -> None:
    """A graph of bench size gives the same answers as a plain search (its speed: bench/bench_graph.py)."""
    parents = random_parents(10_000, 20_000)
    dag = Dag(parents)
    order = dag.topological_order()
    assert sorted(order) == sorted(parents)
    position = {uid: i for i, uid in enumerate(order)}
    assert all(position[p] < position[uid] for uid, deps in parents.items() for p in deps)
    children: dict[str, list[str]] = {uid: [] for uid in parents}
    for uid, deps in parents.items():
        for dep in deps:
            children[dep].append(uid)
    for uid in order[:: len(order) // 20]:
        assert dag.ancestors(uid) == reachable(uid, parents)
        assert dag.descendants(uid) == reachable(uid, children)


def test_long_chain_walks_and_cycle() -> None:
    names = [f"n{i:05d}" for i in range(10_000)]
    parents = {name: [names[i - 1]] if i else [] for i, name in enumerate(names)}
    dag = Dag(parents)
    assert len(dag.ancestors(names[-1])) == 9_999
    assert dag.descendants(names[0], depth=3) == {names[1], names[2], names[3]}
    parents[names[0]] = [names[-1]]
    path = find_cycle(parents)
    assert path is not None and len(path) == 10_001 and path[0] == path[-1] == names[0]
