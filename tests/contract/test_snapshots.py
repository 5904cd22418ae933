"""Snapshots (SCD type 2) on every engine, through the materialization with fixed snapshot times: the
timestamp and check strategies over several runs, hard deletes (invalidate, new_record), new columns,
and a failed audit that rolls a snapshot back; and one `sqlflow snapshot` run through the API."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from typing import Any

import pytest

from sqlflow.adapters import Adapter
from sqlflow.manifest import ModelNode, NodeConfig, Relation
from sqlflow.materializations import (
    AuditFailedError,
    BuildContext,
    BuildResult,
    RelationCache,
    materialize,
    materialize_audited,
)

from .engines import Engine, plain, statuses

JAN = [datetime(2024, 1, d) for d in range(1, 32)]
T1, T2, T3, T4 = (datetime(2024, 2, d, 6) for d in (1, 2, 3, 4))
COLUMNS = "id int, name varchar, updated_at timestamp"


def snapshot(engine: Engine, **config: Any) -> ModelNode:
    config = {"unique_key": ("id",), "strategy": "timestamp", "updated_at": "updated_at", **config}
    sql = f"select * from {engine.rel('src')}"
    return ModelNode(
        unique_id="snapshot.contract.snap",
        name="snap",
        resource_type="snapshot",
        package_name="contract",
        path="snapshots/snap.sql",
        fqn=("contract", "snap"),
        raw_sql=sql,
        checksum="0",
        config=NodeConfig(materialized="snapshot", **config),
        relation=Relation(database=None, schema=engine.schema, identifier="snap"),
        compiled_sql=sql,
    )


def load(adapter: Adapter, engine: Engine, *values: tuple[Any, ...], columns: str = COLUMNS) -> None:
    """Replace the source table by these rows."""
    adapter.execute(f"drop table if exists {engine.rel('src')}")
    adapter.execute(f"create table {engine.rel('src')} ({columns})")
    for row in values:
        adapter.execute(f"insert into {engine.rel('src')} values ({', '.join(_literal(v) for v in row)})")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def build(adapter: Adapter, engine: Engine, node: ModelNode, at: datetime | None) -> BuildResult:
    return materialize(node, context(adapter, engine, at))


def context(adapter: Adapter, engine: Engine, at: datetime | None) -> BuildContext:
    return BuildContext(
        adapter=adapter, relations=RelationCache.of(adapter), project_root=engine.root, snapshot_time=at
    )


def versions(adapter: Adapter, engine: Engine, *extra: str) -> list[tuple[Any, ...]]:
    cols = ", ".join(["id", "name", "dbt_valid_from", "dbt_valid_to", *extra])
    rows = adapter.fetch(f"select {cols} from {engine.rel('snap')} order by id, dbt_valid_from")[1]
    return [tuple(plain(v) for v in row) for row in rows]


def md5(*parts: str) -> str:
    return hashlib.md5("|".join(parts).encode()).hexdigest()


def test_timestamp_strategy_over_several_runs(engine: Engine, adapter: Adapter) -> None:
    node = snapshot(engine)
    load(adapter, engine, (1, "ann", JAN[0]), (2, "bob", JAN[0]))
    assert build(adapter, engine, node, T1) == BuildResult(2, "CREATE TABLE 2")
    scd = adapter.fetch(f"select dbt_scd_id, dbt_updated_at from {engine.rel('snap')} where id = 1")[1]
    assert scd == [(md5("1", "2024-01-01 00:00:00"), JAN[0])]
    # ann renamed (later updated_at), bob touched without a later updated_at, carl new
    load(adapter, engine, (1, "anna", JAN[4]), (2, "bobby", JAN[0]), (3, "carl", JAN[3]))
    assert build(adapter, engine, node, T2) == BuildResult(3, "SNAPSHOT 3")
    assert versions(adapter, engine) == [
        (1, "ann", JAN[0], JAN[4]),
        (1, "anna", JAN[4], None),
        (2, "bob", JAN[0], None),
        (3, "carl", JAN[3], None),
    ]
    assert build(adapter, engine, node, T3) == BuildResult(0, "SNAPSHOT 0")


def test_check_strategy_compares_null_safely(engine: Engine, adapter: Adapter) -> None:
    node = snapshot(engine, strategy="check", updated_at=None, check_cols=("name",))
    load(adapter, engine, (1, "ann", JAN[0]), (2, None, JAN[0]), (3, None, JAN[0]))
    assert build(adapter, engine, node, T1).rows_affected == 3
    scd = adapter.fetch(f"select dbt_scd_id from {engine.rel('snap')} where id = 1")[1]
    assert scd == [(md5("1", "2024-02-01 06:00:00"),)]
    # only updated_at moves for 1 (not checked); 2 goes from NULL to a name; 3 stays NULL; 4 is new
    load(adapter, engine, (1, "ann", JAN[5]), (2, "bea", JAN[0]), (3, None, JAN[0]), (4, "dan", JAN[0]))
    assert build(adapter, engine, node, T2).rows_affected == 3
    assert versions(adapter, engine) == [
        (1, "ann", T1, None),
        (2, None, T1, T2),
        (2, "bea", T2, None),
        (3, None, T1, None),
        (4, "dan", T2, None),
    ]
    assert build(adapter, engine, node, T3) == BuildResult(0, "SNAPSHOT 0")


def test_invalidate_closes_deleted_keys_and_a_returning_key_starts_again(
    engine: Engine, adapter: Adapter
) -> None:
    node = snapshot(engine, hard_deletes="invalidate")
    load(adapter, engine, (1, "ann", JAN[0]), (2, "bob", JAN[0]), (3, "cy", JAN[0]))
    build(adapter, engine, node, T1)
    load(adapter, engine, (1, "ann", JAN[0]))  # 2 and 3 deleted
    assert build(adapter, engine, node, T2).rows_affected == 2
    later = datetime(2024, 2, 2, 18)
    load(adapter, engine, (1, "ann", JAN[0]), (2, "bob", JAN[0]), (3, "cyd", later))
    assert build(adapter, engine, node, T3).rows_affected == 2
    assert versions(adapter, engine) == [
        (1, "ann", JAN[0], None),
        (2, "bob", JAN[0], T2),
        (2, "bob", T3, None),
        (3, "cy", JAN[0], T2),
        (3, "cyd", later, None),
    ]


def test_new_record_adds_deletion_records(engine: Engine, adapter: Adapter) -> None:
    node = snapshot(engine, hard_deletes="new_record")
    load(adapter, engine, (1, "ann", JAN[0]), (2, "bob", JAN[0]))
    build(adapter, engine, node, T1)
    load(adapter, engine, (1, "ann", JAN[0]))
    assert build(adapter, engine, node, T2).rows_affected == 2  # bob closed, his deletion record added
    assert versions(adapter, engine, "dbt_is_deleted", "dbt_updated_at") == [
        (1, "ann", JAN[0], None, "False", JAN[0]),
        (2, "bob", JAN[0], T2, "False", JAN[0]),
        (2, "bob", T2, None, "True", T2),
    ]
    assert build(adapter, engine, node, T3).rows_affected == 0  # still deleted: no second record
    load(adapter, engine, (1, "ann", JAN[0]), (2, "bob", JAN[0]))
    assert build(adapter, engine, node, T4).rows_affected == 2  # deletion record closed, bob back
    assert versions(adapter, engine, "dbt_is_deleted") == [
        (1, "ann", JAN[0], None, "False"),
        (2, "bob", JAN[0], T2, "False"),
        (2, "bob", T2, T4, "True"),
        (2, "bob", T4, None, "False"),
    ]


def test_new_columns_are_added_and_a_failed_audit_rolls_back(engine: Engine, adapter: Adapter) -> None:
    node = snapshot(engine)
    load(adapter, engine, (1, "ann", JAN[0]))
    build(adapter, engine, node, T1)
    load(adapter, engine, (1, JAN[1], "gold"), columns="id int, updated_at timestamp, tier varchar")
    with pytest.raises(AuditFailedError):
        materialize_audited(node, context(adapter, engine, T2), lambda: "no")
    assert engine.columns("snap") == [
        "id", "name", "updated_at", "dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to",
    ]  # fmt: skip
    assert versions(adapter, engine) == [(1, "ann", JAN[0], None)]
    ctx = dataclasses.replace(context(adapter, engine, T2))
    assert materialize_audited(node, ctx, lambda: None).rows_affected == 2
    assert engine.columns("snap")[-1] == "tier"
    assert versions(adapter, engine, "tier") == [
        (1, "ann", JAN[0], JAN[1], None),
        (1, None, JAN[1], None, "gold"),
    ]


def test_sqlflow_snapshot_through_the_api(engine: Engine) -> None:
    engine.write(
        {
            "models/people.sql": "{{ config(materialized='table') }} "
            "select 1 as id, 'ann' as name union all select 2, 'bob'",
            "snapshots/people_snapshot.sql": """
                {% snapshot people_snapshot %}
                {{ config(unique_key='id', strategy='check', check_cols=['name'],
                          hard_deletes='invalidate') }}
                select * from {{ ref('people') }}
                {% endsnapshot %}
            """,
        }
    )
    assert set(statuses(engine.run("build")).values()) == {"success"}
    engine.write({"models/people.sql": "{{ config(materialized='table') }} select 1 as id, 'anna' as name"})
    assert set(statuses(engine.run("build")).values()) == {"success"}
    rows = engine.rows("people_snapshot", "id, name, dbt_valid_to is null", order="1, dbt_valid_from")
    assert rows == [(1, "ann", False), (1, "anna", True), (2, "bob", False)]
