"""snapshot on a real DuckDB file: versions over several runs of a changing source, both strategies, the
three hard-delete modes, new columns, write-audit-publish, and what a full refresh must not do."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sqlflow.adapters import Adapter
from sqlflow.errors import NodeFailedError
from sqlflow.manifest import ModelNode
from sqlflow.materializations import AuditFailedError, BuildResult, materialize, materialize_audited
from sqlflow.materializations.snapshot import snapshot_time_sql

from .helpers import context, make_model, rows

JAN = [datetime(2024, 1, d) for d in range(1, 32)]
T1, T2, T3, T4 = (datetime(2024, 2, d, 6) for d in (1, 2, 3, 4))
SELECT = "select * from main.src"


def snapshot(**config: Any) -> ModelNode:
    config = {"unique_key": ("id",), "strategy": "timestamp", "updated_at": "updated_at", **config}
    return make_model(
        "snap", SELECT, materialized="snapshot", resource_type="snapshot", path="snapshots/snap.sql", **config
    )


COLUMNS = "id int, name varchar, updated_at timestamp"


def load(adapter: Adapter, *values: tuple[Any, ...], columns: str = COLUMNS) -> None:
    """Replace the source table by these rows."""
    adapter.execute(f"create or replace table main.src ({columns})")
    for row in values:
        adapter.execute(f"insert into main.src values ({', '.join(_literal(v) for v in row)})")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def build(adapter: Adapter, root: Path, node: ModelNode, at: datetime | None, **kwargs: Any) -> BuildResult:
    ctx = dataclasses.replace(context(adapter, root, **kwargs), snapshot_time=at)
    return materialize(node, ctx)


def versions(adapter: Adapter, *extra: str) -> list[tuple[Any, ...]]:
    cols = ", ".join(["id", "name", "dbt_valid_from", "dbt_valid_to", *extra])
    return rows(adapter, f"select {cols} from main.snap order by id, dbt_valid_from")


def md5(*parts: str) -> str:
    return hashlib.md5("|".join(parts).encode()).hexdigest()


# -- timestamp strategy -----------------------------------------------------------------------------------


def test_timestamp_strategy_over_three_runs_of_a_changing_source(adapter: Adapter, tmp_path: Path) -> None:
    node = snapshot()
    load(adapter, (1, "ann", JAN[0]), (2, "bob", JAN[0]))
    first = build(adapter, tmp_path, node, T1)
    assert first == BuildResult(2, "CREATE TABLE 2")
    assert versions(adapter) == [(1, "ann", JAN[0], None), (2, "bob", JAN[0], None)]
    scd = rows(adapter, "select dbt_scd_id, dbt_updated_at from main.snap where id = 1")
    assert scd == [(md5("1", "2024-01-01 00:00:00"), JAN[0])]

    # run 2: ann renamed (later updated_at), bob touched without a later updated_at, carl new
    load(adapter, (1, "anna", JAN[4]), (2, "bobby", JAN[0]), (3, "carl", JAN[3]))
    second = build(adapter, tmp_path, node, T2)
    assert second == BuildResult(3, "SNAPSHOT 3")  # one version closed, two inserted
    assert versions(adapter) == [
        (1, "ann", JAN[0], JAN[4]),
        (1, "anna", JAN[4], None),
        (2, "bob", JAN[0], None),
        (3, "carl", JAN[3], None),
    ]

    # run 3: anna and carl change again, bob is gone (hard_deletes ignore: stays current)
    load(adapter, (1, "annie", JAN[9]), (3, "carlos", JAN[7]))
    third = build(adapter, tmp_path, node, T3)
    assert third.rows_affected == 4
    assert versions(adapter) == [
        (1, "ann", JAN[0], JAN[4]),
        (1, "anna", JAN[4], JAN[9]),
        (1, "annie", JAN[9], None),
        (2, "bob", JAN[0], None),
        (3, "carl", JAN[3], JAN[7]),
        (3, "carlos", JAN[7], None),
    ]
    before = rows(adapter, "select * from main.snap order by dbt_scd_id")

    # run 4: nothing changed: nothing written
    assert build(adapter, tmp_path, node, T4) == BuildResult(0, "SNAPSHOT 0")
    assert rows(adapter, "select * from main.snap order by dbt_scd_id") == before


def test_a_full_refresh_keeps_the_history(adapter: Adapter, tmp_path: Path) -> None:
    node = snapshot()
    load(adapter, (1, "ann", JAN[0]))
    build(adapter, tmp_path, node, T1)
    load(adapter, (1, "anna", JAN[1]))
    result = build(adapter, tmp_path, node, T2, full_refresh=True)
    assert result.message == "SNAPSHOT 2"
    assert versions(adapter) == [(1, "ann", JAN[0], JAN[1]), (1, "anna", JAN[1], None)]


# -- check strategy ---------------------------------------------------------------------------------------


def test_check_strategy_compares_the_check_cols_null_safely(adapter: Adapter, tmp_path: Path) -> None:
    node = snapshot(strategy="check", updated_at=None, check_cols=("name",))
    load(adapter, (1, "ann", JAN[0]), (2, None, JAN[0]), (3, None, JAN[0]))
    assert build(adapter, tmp_path, node, T1).rows_affected == 3
    assert versions(adapter, "dbt_updated_at") == [
        (1, "ann", T1, None, T1),
        (2, None, T1, None, T1),
        (3, None, T1, None, T1),
    ]
    scd_id = rows(adapter, "select dbt_scd_id from main.snap where id = 1")
    assert scd_id == [(md5("1", "2024-02-01 06:00:00"),)]

    # run 2: only updated_at moves for 1 (not checked); 2 goes from NULL to a name; 3 stays NULL; 4 is new
    load(adapter, (1, "ann", JAN[5]), (2, "bea", JAN[0]), (3, None, JAN[0]), (4, "dan", JAN[0]))
    assert build(adapter, tmp_path, node, T2).rows_affected == 3
    assert versions(adapter) == [
        (1, "ann", T1, None),
        (2, None, T1, T2),
        (2, "bea", T2, None),
        (3, None, T1, None),
        (4, "dan", T2, None),
    ]

    # run 3: 2 back to NULL, 4 renamed
    load(adapter, (1, "ann", JAN[5]), (2, None, JAN[0]), (3, None, JAN[0]), (4, "dave", JAN[0]))
    assert build(adapter, tmp_path, node, T3).rows_affected == 4
    assert versions(adapter) == [
        (1, "ann", T1, None),
        (2, None, T1, T2),
        (2, "bea", T2, T3),
        (2, None, T3, None),
        (3, None, T1, None),
        (4, "dan", T2, T3),
        (4, "dave", T3, None),
    ]
    assert build(adapter, tmp_path, node, T4) == BuildResult(0, "SNAPSHOT 0")


def test_check_cols_all_compares_every_column_but_the_key(adapter: Adapter, tmp_path: Path) -> None:
    node = snapshot(strategy="check", updated_at=None, check_cols=("all",))
    load(adapter, (1, "ann", JAN[0]), (2, "bob", JAN[0]))
    build(adapter, tmp_path, node, T1)
    load(adapter, (1, "ann", JAN[1]), (2, "bob", JAN[0]))
    assert build(adapter, tmp_path, node, T2).rows_affected == 2
    sql = "select id, updated_at, dbt_valid_from, dbt_valid_to from main.snap order by 1, 3"
    assert rows(adapter, sql) == [
        (1, JAN[0], T1, T2),
        (1, JAN[1], T2, None),
        (2, JAN[0], T1, None),
    ]


def test_without_a_snapshot_time_the_database_clock_is_used(adapter: Adapter, tmp_path: Path) -> None:
    node = snapshot(strategy="check", updated_at=None, check_cols=("name",))
    load(adapter, (1, "ann", JAN[0]))
    build(adapter, tmp_path, node, None)
    [(valid_from, valid_to)] = rows(adapter, "select dbt_valid_from, dbt_valid_to from main.snap")
    assert isinstance(valid_from, datetime) and valid_from.year >= 2024 and valid_to is None


# -- hard deletes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [{"hard_deletes": "invalidate"}, {"invalidate_hard_deletes": True}],
    ids=["invalidate", "legacy"],
)
def test_invalidate_closes_deleted_keys_and_a_returning_key_starts_again(
    adapter: Adapter, tmp_path: Path, config: dict[str, Any]
) -> None:
    node = snapshot(**config)
    load(adapter, (1, "ann", JAN[0]), (2, "bob", JAN[0]), (3, "cy", JAN[0]))
    build(adapter, tmp_path, node, T1)
    load(adapter, (1, "ann", JAN[0]))  # 2 and 3 deleted
    assert build(adapter, tmp_path, node, T2).rows_affected == 2
    assert versions(adapter) == [(1, "ann", JAN[0], None), (2, "bob", JAN[0], T2), (3, "cy", JAN[0], T2)]
    # run 3: 2 comes back as it was (its updated_at is older than its deletion: starts at the snapshot
    # time), 3 comes back updated after its deletion (starts at its updated_at)
    later = datetime(2024, 2, 2, 18)
    load(adapter, (1, "ann", JAN[0]), (2, "bob", JAN[0]), (3, "cyd", later))
    assert build(adapter, tmp_path, node, T3).rows_affected == 2
    assert versions(adapter) == [
        (1, "ann", JAN[0], None),
        (2, "bob", JAN[0], T2),
        (2, "bob", T3, None),
        (3, "cy", JAN[0], T2),
        (3, "cyd", later, None),
    ]
    assert build(adapter, tmp_path, node, T4).rows_affected == 0
    scd_ids = rows(adapter, "select count(distinct dbt_scd_id), count(*) from main.snap")
    assert scd_ids == [(5, 5)]


def test_new_record_adds_deletion_records_and_a_returning_key_gets_a_fresh_version(
    adapter: Adapter, tmp_path: Path
) -> None:
    node = snapshot(hard_deletes="new_record")
    load(adapter, (1, "ann", JAN[0]), (2, "bob", JAN[0]))
    build(adapter, tmp_path, node, T1)
    assert versions(adapter, "dbt_is_deleted") == [
        (1, "ann", JAN[0], None, "False"),
        (2, "bob", JAN[0], None, "False"),
    ]
    load(adapter, (1, "ann", JAN[0]))
    assert build(adapter, tmp_path, node, T2).rows_affected == 2  # bob closed, his deletion record added
    assert versions(adapter, "dbt_is_deleted", "dbt_updated_at") == [
        (1, "ann", JAN[0], None, "False", JAN[0]),
        (2, "bob", JAN[0], T2, "False", JAN[0]),
        (2, "bob", T2, None, "True", T2),
    ]
    assert build(adapter, tmp_path, node, T3).rows_affected == 0  # still deleted: no second record
    load(adapter, (1, "ann", JAN[0]), (2, "bob", JAN[0]))
    assert build(adapter, tmp_path, node, T4).rows_affected == 2  # deletion record closed, bob back
    assert versions(adapter, "dbt_is_deleted") == [
        (1, "ann", JAN[0], None, "False"),
        (2, "bob", JAN[0], T2, "False"),
        (2, "bob", T2, T4, "True"),
        (2, "bob", T4, None, "False"),
    ]
    assert rows(adapter, "select dbt_scd_id from main.snap where id = 2 and dbt_is_deleted = 'True'") == [
        (md5("2", "2024-02-02 06:00:00"),)
    ]
    assert build(adapter, tmp_path, node, datetime(2024, 2, 5)).rows_affected == 0


def test_switching_to_new_record_adds_the_deleted_column(adapter: Adapter, tmp_path: Path) -> None:
    load(adapter, (1, "ann", JAN[0]), (2, "bob", JAN[0]))
    build(adapter, tmp_path, snapshot(), T1)
    load(adapter, (1, "ann", JAN[0]))
    build(adapter, tmp_path, snapshot(hard_deletes="new_record"), T2)
    assert versions(adapter, "dbt_is_deleted") == [
        (1, "ann", JAN[0], None, "False"),
        (2, "bob", JAN[0], T2, "False"),
        (2, "bob", T2, None, "True"),
    ]


# -- columns, errors, transactions ------------------------------------------------------------------------


def test_new_source_columns_are_added_and_none_is_dropped(adapter: Adapter, tmp_path: Path) -> None:
    node = snapshot()
    load(adapter, (1, "ann", JAN[0]))
    build(adapter, tmp_path, node, T1)
    # `name` leaves the select, `tier` joins it
    load(adapter, (1, JAN[1], "gold"), columns="id int, updated_at timestamp, tier varchar")
    assert build(adapter, tmp_path, node, T2).rows_affected == 2
    columns, data = adapter.fetch("select * from main.snap order by dbt_valid_from")
    assert columns == [
        "id", "name", "updated_at", "dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "tier",
    ]  # fmt: skip
    assert [(r[0], r[1], r[5], r[6], r[7]) for r in data] == [
        (1, "ann", JAN[0], JAN[1], None),
        (1, None, JAN[1], None, "gold"),
    ]


def test_date_updated_at_and_a_composite_key(adapter: Adapter, tmp_path: Path) -> None:
    node = snapshot(unique_key=("region", "id"))
    columns = "region varchar, id int, name varchar, updated_at date"
    adapter.execute(f"create table main.src ({columns})")
    adapter.execute("insert into main.src values ('eu', 1, 'a', '2024-01-01'), ('us', 1, 'b', '2024-01-01')")
    build(adapter, tmp_path, node, T1)
    adapter.execute("update main.src set name = 'b2', updated_at = '2024-01-03' where region = 'us'")
    assert build(adapter, tmp_path, node, T2).rows_affected == 2
    sql = "select region, name, dbt_valid_from, dbt_valid_to from main.snap order by 1, 3"
    assert rows(adapter, sql) == [
        ("eu", "a", date(2024, 1, 1), None),
        ("us", "b", date(2024, 1, 1), date(2024, 1, 3)),
        ("us", "b2", date(2024, 1, 3), None),
    ]


def test_repeated_or_null_keys_fail_and_change_nothing(adapter: Adapter, tmp_path: Path) -> None:
    node = snapshot()
    load(adapter, (1, "ann", JAN[0]))
    build(adapter, tmp_path, node, T1)
    load(adapter, (1, "ann", JAN[1]), (1, "anna", JAN[2]))
    with pytest.raises(
        NodeFailedError,
        match=r"^the unique_key \(id\) of snapshot snap is not unique in its select: 1 key appears more "
        r"than once \(fix the select, or choose a unique_key that names one row\)$",
    ):
        build(adapter, tmp_path, node, T2)
    load(adapter, (None, "nobody", JAN[1]))
    with pytest.raises(NodeFailedError, match=r"^1 row of the select of snapshot snap has a null unique_key"):
        build(adapter, tmp_path, node, T2)
    assert versions(adapter) == [(1, "ann", JAN[0], None)]


def test_a_config_column_missing_from_the_select_is_named(adapter: Adapter, tmp_path: Path) -> None:
    load(adapter, (1, "ann", JAN[0]))
    with pytest.raises(
        NodeFailedError,
        match=r"^updated_at 'updatedat' of snapshot snap is not a column of its select "
        r"\(did you mean 'updated_at'\?\)$",
    ):
        build(adapter, tmp_path, snapshot(updated_at="updatedat"), T1)
    assert "snap" not in {name for (_, name) in adapter.list_relations().relations}


def test_a_failed_audit_rolls_the_snapshot_back(adapter: Adapter, tmp_path: Path) -> None:
    node = snapshot(hard_deletes="invalidate")
    load(adapter, (1, "ann", JAN[0]), (2, "bob", JAN[0]))
    build(adapter, tmp_path, node, T1)
    load(adapter, (1, "anna", JAN[1]))
    ctx = dataclasses.replace(context(adapter, tmp_path), snapshot_time=T2)
    seen: list[Any] = []

    def audit() -> str | None:
        seen.append(rows(adapter, "select count(*) from main.snap"))
        return "no"

    with pytest.raises(AuditFailedError):
        materialize_audited(node, ctx, audit)
    assert seen == [[(3,)]]  # the audit saw the staged versions
    assert versions(adapter) == [(1, "ann", JAN[0], None), (2, "bob", JAN[0], None)]
    assert materialize_audited(node, ctx, lambda: None).rows_affected == 3
    assert versions(adapter) == [
        (1, "ann", JAN[0], JAN[1]),
        (1, "anna", JAN[1], None),
        (2, "bob", JAN[0], T2),
    ]


def test_an_aware_snapshot_time_is_written_in_utc(adapter: Adapter, tmp_path: Path) -> None:
    berlin_summer = timezone(timedelta(hours=2))
    assert snapshot_time_sql(datetime(2024, 5, 1, 14, 30, tzinfo=berlin_summer), "duckdb") == (
        "CAST('2024-05-01 12:30:00' AS TIMESTAMP)"
    )
    node = snapshot(strategy="check", updated_at=None, check_cols=("name",))
    load(adapter, (1, "ann", JAN[0]))
    build(adapter, tmp_path, node, datetime(2024, 5, 1, 14, 30, tzinfo=berlin_summer))
    assert versions(adapter) == [(1, "ann", datetime(2024, 5, 1, 12, 30), None)]
