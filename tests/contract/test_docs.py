"""The docs on every engine through `sqlflow.api`: column types from information_schema, the last runs and
test statuses from the state store, and column lineage through the target dialect's compiled SQL."""

from __future__ import annotations

import json

from sqlflow import api

from .engines import Engine


def test_docs_read_types_runs_and_lineage(engine: Engine) -> None:
    engine.write(
        {
            "models/orders.sql": "{{ config(materialized='table') }} "
            "select 1 as id, cast(10.5 as decimal(10, 2)) as amount, 'a' as label",
            "models/totals.sql": "with o as (select * from {{ ref('orders') }}) "
            "select label, sum(amount) as total from o group by label",
            "models/schema.yml": "models:\n  - name: orders\n    columns:\n      - name: id\n"
            "        description: The key.\n        data_tests: [unique]\n",
        }
    )
    assert engine.run("build").result is not None
    summary = api.docs_generate(engine.options())
    chunk = (summary.out / "nodes" / "0.js").read_text().strip()
    details = {d["id"]: d for d in json.loads(chunk[len("sqlflow.register(") : -2])}
    orders = details["model.contract.orders"]
    types = {c["name"]: (c["type"] or "").lower() for c in orders["columns"]}
    assert types["id"] in ("integer", "int4")
    assert types["amount"].startswith(("decimal", "numeric"))
    assert orders["runs"][0]["status"] == "success" and orders["runs"][0]["rows"] == 1
    assert orders["tests"][0]["status"] == "pass"
    totals = {c["name"]: c for c in details["model.contract.totals"]["columns"]}
    assert totals["total"]["up"] == [["model.contract.orders", "amount"]]

    lineage = api.column_lineage(engine.options(), "orders.amount", downstream=True)
    assert [(h.column.node, h.column.column) for h in lineage.hops] == [("model.contract.totals", "total")]
