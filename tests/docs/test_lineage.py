"""Column lineage on real manifest nodes: CTEs, subqueries, joins, `select *`, unions, scalar subqueries,
ephemeral models, sources, external relations, and the walks up and down across models."""

from __future__ import annotations

import pytest

from sqlflow.docs.lineage import Lineage
from sqlflow.docs.tracing import ColumnRef, RelationIndex, model_lineage
from sqlflow.manifest import ColumnInfo, Manifest, ModelNode, NodeConfig, Relation, SourceNode


def node(
    name: str, sql: str | None, *deps: str, kind: str = "model", columns: tuple[str, ...] = (), **config
) -> ModelNode:
    return ModelNode(
        unique_id=f"{kind}.p.{name}",
        name=name,
        resource_type=kind,  # type: ignore[arg-type]
        package_name="p",
        path=f"models/{name}.sql",
        fqn=("p", name),
        raw_sql=sql or "",
        checksum="",
        config=NodeConfig(**{"materialized": "seed" if kind == "seed" else "view", **config}),
        relation=Relation(database="db", schema="main", identifier=name),
        compiled_sql=sql,
        depends_on=tuple(deps),
        inferred_columns=columns,
    )


def ref(name: str, column: str, kind: str = "model") -> ColumnRef:
    return ColumnRef(f"{kind}.p.{name}", column)


SOURCE = SourceNode(
    unique_id="source.p.raw.events",
    source_name="raw",
    name="events",
    package_name="p",
    path="models/sources.yml",
    line=1,
    fqn=("p", "raw", "events"),
    relation=Relation(database="db", schema="landing", identifier="events"),
    columns=(ColumnInfo(name="event_id"), ColumnInfo(name="customer_id"), ColumnInfo(name="kind")),
)


@pytest.fixture
def manifest() -> Manifest:
    nodes = [
        node("customers", None, kind="seed"),
        node("payments", None, kind="seed"),
        node(
            "stg_customers",
            'select id as customer_id, upper(name) as name from "main"."customers"',
            "seed.p.customers",
        ),
        node(
            "stg_payments",
            "select id as payment_id, order_id, amount_cents / 100.0 as amount, method "
            'from "main"."payments"',
            "seed.p.payments",
        ),
        node(
            "order_totals",
            "select order_id, sum(amount) as total, sum(case when method = 'card' then amount end) as card "
            'from "main"."stg_payments" group by order_id',
            "model.p.stg_payments",
            materialized="ephemeral",
        ),
        node(
            "orders",
            # an inlined ephemeral CTE, a CTE with select *, a join with unqualified columns
            "with __sqlflow_ephemeral_order_totals as (select order_id, sum(amount) as total, "
            "sum(case when method = 'card' then amount end) as card "
            'from "main"."stg_payments" group by order_id), '
            "t as (select * from __sqlflow_ephemeral_order_totals) "
            'select p.order_id, customer_id, total as amount, card from t join "main"."stg_payments" as p '
            "using (order_id)",
            "model.p.stg_payments",
            "model.p.order_totals",
        ),
        node(
            "customer_value",
            # a subquery in FROM, a scalar subquery, a CASE over two tables
            "select c.customer_id, o.amount as value, "
            '(select max(amount) from "main"."orders") as top, '
            "case when o.amount > 10 then c.name else 'small' end as label "
            'from "main"."stg_customers" as c '
            'left join (select customer_id, sum(amount) as amount from "main"."orders" group by 1) as o '
            "on o.customer_id = c.customer_id",
            "model.p.stg_customers",
            "model.p.orders",
        ),
        node(
            "everything",
            'select * from "main"."stg_customers" '
            'union all select customer_id, label from "main"."customer_value"',
            "model.p.stg_customers",
            "model.p.customer_value",
        ),
        node(
            "events",
            'SELECT Event_Id, "Kind" AS "Kind", customer_id FROM "landing"."events" '
            "JOIN read_csv('x.csv') AS x USING (customer_id)",
            "source.p.raw.events",
        ),
    ]
    return Manifest(
        project_name="p",
        dialect="duckdb",
        target_dialect="duckdb",
        nodes={n.unique_id: n for n in nodes},
        sources={SOURCE.unique_id: SOURCE},
    )


@pytest.fixture
def lineage(manifest: Manifest) -> Lineage:
    return Lineage(
        manifest,
        {"seed.p.customers": ("id", "name"), "seed.p.payments": ("id", "order_id", "amount_cents", "method")},
    )


def edges(lineage: Lineage, name: str) -> dict[str, list[str]]:
    lin = lineage.of(f"model.p.{name}")
    assert lin.error is None
    return {col: [f"{r.node.split('.')[-1]}.{r.column}" for r in refs] for col, refs in lin.edges.items()}


def test_renames_and_expressions(lineage: Lineage) -> None:
    assert edges(lineage, "stg_payments") == {
        "payment_id": ["payments.id"],
        "order_id": ["payments.order_id"],
        "amount": ["payments.amount_cents"],
        "method": ["payments.method"],
    }


def test_through_an_ephemeral_cte_a_star_and_a_using_join(lineage: Lineage) -> None:
    assert edges(lineage, "orders") == {
        "order_id": ["stg_payments.order_id"],
        # unqualified and in both sides of USING: sqlglot's qualify makes it coalesce(t.x, p.x)
        "customer_id": [],
        "amount": ["order_totals.total"],
        "card": ["order_totals.card"],
    }


def test_subquery_in_from_scalar_subquery_and_case(lineage: Lineage) -> None:
    assert edges(lineage, "customer_value") == {
        "customer_id": ["stg_customers.customer_id"],
        "value": ["orders.amount"],
        "top": ["orders.amount"],
        "label": ["orders.amount", "stg_customers.name"],
    }


def test_union_and_star_expanded_from_the_parent(lineage: Lineage) -> None:
    assert lineage.columns("model.p.everything") == ("customer_id", "name")
    assert edges(lineage, "everything") == {
        "customer_id": ["customer_value.customer_id", "stg_customers.customer_id"],
        "name": ["customer_value.label", "stg_customers.name"],
    }


def test_sources_external_relations_and_case_folding(lineage: Lineage) -> None:
    lin = lineage.of("model.p.events")
    assert lin.columns == ("event_id", "kind", "customer_id")  # DuckDB ignores case, quoted or not
    assert lin.edges["event_id"] == (ColumnRef("source.p.raw.events", "event_id"),)
    assert lin.edges["kind"] == (ColumnRef("source.p.raw.events", "kind"),)
    assert ColumnRef("external:READ_CSV('x.csv')", "customer_id") in lin.edges["customer_id"]


def test_upstream_walks_across_models(lineage: Lineage) -> None:
    hops = lineage.upstream(ref("customer_value", "value"))
    assert [(h.depth, h.source) for h in hops] == [
        (1, ref("orders", "amount")),
        (2, ref("order_totals", "total")),
        (3, ref("stg_payments", "amount")),
        (4, ref("payments", "amount_cents", "seed")),
    ]
    assert len(lineage.upstream(ref("customer_value", "value"), depth=2)) == 2


def test_downstream_impact(lineage: Lineage) -> None:
    hops = lineage.downstream(ref("payments", "amount_cents", "seed"))
    reached = {h.column for h in hops}
    assert {
        ref("stg_payments", "amount"),
        ref("order_totals", "total"),
        ref("orders", "amount"),
        ref("customer_value", "value"),
        ref("customer_value", "top"),
        ref("customer_value", "label"),
        ref("everything", "name"),
    } <= reached
    assert ref("customers", "name") not in reached


def test_unparseable_sql_is_an_error_not_a_crash(manifest: Manifest) -> None:
    lin = model_lineage(
        "model.p.bad",
        "select from where",
        dialect="duckdb",
        relations=RelationIndex(manifest),
        columns_of=dict().get,
    )
    assert lin.error and lin.edges == {}


def test_cache_answers_without_parsing(manifest: Manifest) -> None:
    store: dict = {}
    first = Lineage(manifest, cache=store).of("model.p.orders")
    assert store
    poisoned = {k: (v[0], (), None) for k, v in store.items()}  # edges removed: only a hit would show this
    again = Lineage(manifest, cache=poisoned).of("model.p.orders")
    assert again.columns == first.columns and all(not refs for refs in again.edges.values())
