"""Runs on every engine through `sqlflow.api`: tests as gates (write-audit-publish), stored failures, a sql
sensor, the run history in the state store, selection, `show` and `debug`."""

from __future__ import annotations

from sqlflow import api

from .engines import Engine, messages, statuses

ORDERS = """
{{ config(materialized='table') }}
select 1 as id, 10 as amount union all select 2, 20
{% if var('bad', false) %} union all select 2, 21 union all select 3, 30 {% endif %}
"""
SCHEMA = """
models:
  - name: orders
    columns:
      - name: id
        data_tests:
          - unique:
              config: {store_failures: true}
          - not_null
"""


def shop(engine: Engine) -> None:
    engine.write(
        {
            "models/orders.sql": ORDERS,
            "models/totals.sql": "{{ config(materialized='table') }} "
            "select count(*) as n, sum(amount) as total from {{ ref('orders') }}",
            "models/report.sql": "select * from {{ ref('totals') }}",
            "models/other.sql": "{{ config(materialized='table') }} select 1 as x",
            "models/schema.yml": SCHEMA,
        }
    )


def test_a_failing_blocking_test_keeps_the_old_table_and_skips_descendants(engine: Engine) -> None:
    shop(engine)
    out = engine.run("build")
    assert set(statuses(out).values()) <= {"success", "pass"}, messages(out)
    out = engine.run("build", vars={"bad": True})
    assert out.failed
    got = statuses(out)
    assert got["orders"] == "error" and got["unique_orders_id"] == "fail"
    assert (got["totals"], got["report"]) == ("skipped", "skipped")
    assert got["other"] == "success"  # a branch that does not depend on orders goes on
    assert messages(out)["orders"] == "audit failed: unique_orders_id (1 failing row)"
    assert engine.rows("orders") == [(1, 10), (2, 20)]  # the previous table, untouched
    assert engine.rows("totals") == [(2, 30)]
    # store_failures: the failing rows stay in the audit schema although the build rolled back
    audit = f"{engine.schema}_dbt_test__audit"
    assert engine.query(f"select * from {engine.rel('unique_orders_id', audit)}") == [(2, 2)]
    # and a good build publishes again, replacing the stored failures
    out = engine.run("build")
    assert not out.failed, messages(out)
    assert engine.count("unique_orders_id", audit) == 0


def test_sqlflow_test_stores_failures_and_changes_nothing(engine: Engine) -> None:
    shop(engine)
    engine.run("run")
    engine.execute(f"insert into {engine.rel('orders')} values (1, 11)")
    out = engine.run("test")
    assert statuses(out) == {"unique_orders_id": "fail", "not_null_orders_id": "pass"}
    audit = f"{engine.schema}_dbt_test__audit"
    assert engine.query(f"select * from {engine.rel('unique_orders_id', audit)}") == [(1, 2)]
    engine.run("test")  # stored again: replaced, not appended
    assert engine.count("unique_orders_id", audit) == 1


def test_a_sql_sensor_waits_for_its_table(engine: Engine) -> None:
    engine.write(
        {
            "models/sources.yml": f"""
                sources:
                  - name: landing
                    schema: {engine.schema}
                    tables:
                      - name: batches
                sensors:
                  - name: batches_ready
                    type: sql
                    sql: select count(*) > 0 from {{{{ source('landing', 'batches') }}}}
                    poke_interval: 0.1s
                    timeout: 0.5s
            """,
            "models/loaded.sql": """
                {{ config(materialized='table', depends_on=['sensor:batches_ready']) }}
                select count(*) as n from {{ source('landing', 'batches') }}
            """,
        }
    )
    engine.execute(f'create schema if not exists "{engine.schema}"')
    out = engine.run("build")
    assert statuses(out) == {"batches_ready": "error", "loaded": "skipped"}
    assert "sensor timed out after" in (messages(out)["batches_ready"] or "")
    engine.execute(f"create table {engine.rel('batches')} (id int)")
    out = engine.run("build")
    assert statuses(out) == {"batches_ready": "error", "loaded": "skipped"}  # still empty
    engine.execute(f"insert into {engine.rel('batches')} values (1), (2)")
    out = engine.run("build")
    assert statuses(out) == {"batches_ready": "success", "loaded": "success"}
    assert engine.rows("loaded") == [(2,)]


def test_the_run_history_is_kept_in_the_state_store(engine: Engine) -> None:
    shop(engine)
    first = engine.run("build")
    second = engine.run("build", select_=["orders"], vars={"bad": True})  # a failing audit
    assert second.failed
    runs = engine.query(
        "select run_id, command, status, ended_at is not null "
        f"from {engine.rel('runs', engine.state_schema)} order by started_at"
    )
    assert runs == [
        (first.result.invocation_id, "build", "success", True),
        (second.result.invocation_id, "build", "error", True),
    ]
    recorded = dict(
        engine.query(
            f"select unique_id, status from {engine.rel('node_runs', engine.state_schema)} "
            f"where run_id = '{first.result.invocation_id}'"
        )
    )
    assert recorded == {r.unique_id: r.status for r in first.result.results}
    failed = engine.query(
        f"select unique_id, status, message from {engine.rel('node_runs', engine.state_schema)} "
        f"where run_id = '{second.result.invocation_id}' order by unique_id"
    )
    assert failed[0][:2] == ("model.contract.orders", "error")
    rows = engine.query(
        f"select rows_affected from {engine.rel('node_runs', engine.state_schema)} "
        f"where run_id = '{first.result.invocation_id}' and unique_id = 'model.contract.orders'"
    )
    assert rows == [(2,)]


def test_selection(engine: Engine) -> None:
    shop(engine)
    out = engine.run("build", select_=["+totals"], exclude=["report"])
    assert statuses(out) == {
        "orders": "success",
        "totals": "success",
        "unique_orders_id": "pass",
        "not_null_orders_id": "pass",
    }
    assert engine.kind("report") is None and engine.kind("other") is None
    out = engine.run("build", select_=["orders+"])
    assert set(statuses(out)) == {"orders", "totals", "report", "unique_orders_id", "not_null_orders_id"}
    out = engine.run("run", select_=["config.materialized:view"])
    assert statuses(out) == {"report": "success"}


def test_show_and_debug(engine: Engine) -> None:
    shop(engine)
    engine.run("run")
    columns, rows = api.show(engine.options(), model="orders", inline=None, limit=1)
    assert columns == ["id", "amount"] and len(rows) == 1
    columns, rows = api.show(
        engine.options(), model=None, inline="select sum(amount) as s from {{ ref('orders') }}"
    )
    assert columns == ["s"] and [tuple(int(v) for v in r) for r in rows] == [(30,)]
    checks = {what: (detail, ok) for what, detail, ok in api.debug(engine.options())}
    assert all(ok for _, ok in checks.values()), checks
    assert checks["connection"] == ("ok", True)
    assert f"({engine.name})" in checks["target"][0] and f"schema={engine.schema}" in checks["target"][0]
