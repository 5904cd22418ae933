"""Snapshots in plans and runs: the `snapshot` command, snapshots in `build` (audited like tables), never in
`run`, never full-refreshed, and one snapshot time per run."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from sqlflow.adapters import Adapter
from sqlflow.manifest import ModelNode, NodeConfig, Relation
from sqlflow.runner.events import NullReporter
from sqlflow.runner.execute import execute_plan
from sqlflow.runner.plan import describe_plan

from .helpers import data_test, manifest, model, plan_all, uid

SNAP_ID = "snapshot.shop.customers_snapshot"


def snapshot_node(**config: object) -> ModelNode:
    settings = {"unique_key": ("id",), "strategy": "check", "check_cols": ("name",), **config}
    return ModelNode(
        unique_id=SNAP_ID,
        name="customers_snapshot",
        resource_type="snapshot",
        package_name="shop",
        path="snapshots/customers.sql",
        fqn=("shop", "customers_snapshot"),
        raw_sql="select * from main.stg_customers",
        checksum="0",
        config=NodeConfig(materialized="snapshot", **settings),  # type: ignore[arg-type]
        relation=Relation(database="db", schema="main", identifier="customers_snapshot"),
        compiled_sql="select * from main.stg_customers",
        depends_on=(uid("stg_customers"),),
    )


def shop(**config: object):
    """stg_customers -> customers_snapshot (with a not_null test) -> current_customers."""
    sql = "select * from main.customers_snapshot where id is null"
    not_null = data_test("not_null__snapshot_id", sql, ["stg_customers"])
    current = model("current_customers", "select * from main.customers_snapshot where dbt_valid_to is null")
    return manifest(
        model("stg_customers", "select 1 as id, 'ann' as name", materialized="view"),
        snapshot_node(**config),
        dataclasses.replace(current, depends_on=(SNAP_ID,)),
        dataclasses.replace(not_null, attached_node=SNAP_ID, depends_on=(SNAP_ID,)),
    )


def test_build_plans_snapshots_with_their_audits_and_run_does_not() -> None:
    m = shop()
    _, plan = plan_all(m, "build")
    steps = plan.by_id()
    snap = steps[SNAP_ID]
    assert (snap.resource_type, snap.materialized) == ("snapshot", "snapshot")
    assert snap.waits_for == (uid("stg_customers"),)
    assert snap.audits == ("test.shop.not_null__snapshot_id",)
    assert steps[uid("current_customers")].waits_for == (SNAP_ID, "test.shop.not_null__snapshot_id")
    _, plan = plan_all(m, "run")
    assert SNAP_ID not in plan.by_id()


def test_the_snapshot_command_plans_snapshots_only() -> None:
    _, plan = plan_all(shop(), "snapshot", full_refresh=True)
    assert [s.unique_id for s in plan.steps] == [SNAP_ID]
    assert describe_plan(plan) == ['1/1 snapshot customers_snapshot snapshot "main"."customers_snapshot"']


def test_a_run_records_its_scheduled_time_and_a_full_refresh_keeps_history(
    adapter: Adapter, tmp_path: Path
) -> None:
    m = shop()

    def build(at: datetime, *, full_refresh: bool = False) -> dict[str, str]:
        _, plan = plan_all(m, "build", full_refresh=full_refresh)
        result = execute_plan(
            plan,
            m,
            adapter,
            threads=2,
            fail_fast=False,
            reporter=NullReporter(),
            project_root=tmp_path,
            full_refresh=full_refresh,
            scheduled_at=at,
        )
        return {r.name: r.status for r in result.results}

    first = datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert build(first) == {
        "stg_customers": "success",
        "customers_snapshot": "success",
        "not_null__snapshot_id": "pass",
        "current_customers": "success",
    }
    second = datetime(2024, 3, 2, 8, tzinfo=UTC)
    m = dataclasses.replace(
        m,
        nodes={
            **m.nodes,
            uid("stg_customers"): dataclasses.replace(
                m.nodes[uid("stg_customers")], compiled_sql="select 1 as id, 'anna' as name"
            ),
        },
    )
    assert build(second, full_refresh=True)["customers_snapshot"] == "success"
    sql = "select name, dbt_valid_from, dbt_valid_to from main.customers_snapshot order by 2"
    assert adapter.fetch(sql)[1] == [
        ("ann", datetime(2024, 3, 1, 8), datetime(2024, 3, 2, 8)),
        ("anna", datetime(2024, 3, 2, 8), None),
    ]
