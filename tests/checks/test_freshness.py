"""Source freshness on a real DuckDB file: pass, warn, error, runtime error, time zones, sources.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sqlflow.adapters import Adapter, open_adapter
from sqlflow.checks.freshness import FreshnessResult, check_freshness, freshness_json, has_freshness
from sqlflow.manifest import Relation, SourceNode
from sqlflow.project.types import Target

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
RULES = {"warn_after": {"count": 1, "period": "hour"}, "error_after": {"count": 1, "period": "day"}}


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[Adapter]:
    target = Target(
        name="dev",
        profile_name="p",
        type="duckdb",
        schema="main",
        database="db",
        settings={"path": str(tmp_path / "db.duckdb")},
    )
    adapter = open_adapter(target)
    adapter.execute("create schema raw")
    yield adapter
    adapter.close()


def src(name: str, *, loaded_at_field: str | None = "_loaded_at", freshness: Any = RULES) -> SourceNode:
    return SourceNode(
        unique_id=f"source.shop.raw.{name}",
        source_name="raw",
        name=name,
        package_name="shop",
        path="models/sources.yml",
        line=4,
        fqn=("shop", "raw", name),
        relation=Relation(database="db", schema="raw", identifier=name),
        loaded_at_field=loaded_at_field,
        freshness=freshness or {},
    )


def load(adapter: Adapter, name: str, column_type: str, *values: str) -> None:
    adapter.execute(f"create table raw.{name} (id integer, _loaded_at {column_type})")
    for i, value in enumerate(values):
        adapter.execute(f"insert into raw.{name} values ({i}, {value})")


def by_name(results: list[FreshnessResult]) -> dict[str, FreshnessResult]:
    return {r.name: r for r in results}


def test_pass_warn_error_by_age(adapter: Adapter) -> None:
    load(adapter, "fresh", "timestamp", "timestamp '2024-06-01 11:30:00'", "timestamp '2024-05-01 00:00:00'")
    load(adapter, "stale", "timestamp", "timestamp '2024-06-01 09:00:00'")
    load(adapter, "dead", "timestamp", "timestamp '2024-05-30 12:00:00'")
    results = by_name(check_freshness(adapter, [src("fresh"), src("stale"), src("dead")], now=NOW))
    assert {n: r.status for n, r in results.items()} == {"fresh": "pass", "stale": "warn", "dead": "error"}
    assert results["fresh"].max_loaded_at == datetime(2024, 6, 1, 11, 30, tzinfo=UTC)
    assert results["fresh"].age == 1800
    assert results["stale"].message == "last loaded 3h ago, more than 1h"
    assert results["dead"].message == "last loaded 2d ago, more than 1d"
    assert results["dead"].failed and not results["stale"].failed


def test_time_zones_naive_as_utc_and_dates(adapter: Adapter) -> None:
    adapter.execute("set TimeZone = 'America/New_York'")
    load(adapter, "zoned", "timestamptz", "timestamptz '2024-06-01 07:00:00-04:00'")  # 11:00 UTC
    load(adapter, "naive", "timestamp", "timestamp '2024-06-01 11:00:00'")
    load(adapter, "daily", "date", "date '2024-06-01'")
    berlin_now = NOW.astimezone(timezone(timedelta(hours=2)))
    results = by_name(check_freshness(adapter, [src("zoned"), src("naive"), src("daily")], now=berlin_now))
    assert results["zoned"].age == results["naive"].age == 3600
    assert results["zoned"].max_loaded_at == datetime(2024, 6, 1, 11, tzinfo=UTC)
    assert results["daily"].age == 12 * 3600 and results["daily"].status == "warn"
    assert results["zoned"].snapshotted_at == NOW


def test_filters_empty_tables_errors_and_unchecked_sources(adapter: Adapter) -> None:
    load(adapter, "events", "timestamp", "timestamp '2024-06-01 11:59:00'", "timestamp '2024-01-01 00:00:00'")
    load(adapter, "empty", "timestamp")
    filtered = src("events", freshness={**RULES, "filter": "id = 1"})
    warn_only = src("empty", freshness={"warn_after": {"count": 2, "period": "minute"}})
    sources = [
        filtered,
        warn_only,
        src("missing"),
        src("events", loaded_at_field=None),
        src("events", freshness={}),
        src("events", freshness={"warn_after": {"count": 1, "period": "fortnight"}}),
    ]
    assert [has_freshness(s) for s in sources] == [True, True, True, False, False, True]
    results = check_freshness(adapter, sources, now=NOW)
    assert [r.status for r in results] == ["error", "warn", "runtime error", "runtime error"]
    assert results[0].max_loaded_at == datetime(2024, 1, 1, tzinfo=UTC)  # only the filtered row
    assert results[1].message == "no rows: nothing has been loaded" and results[1].max_loaded_at is None
    assert results[2].message is not None and "Table with name missing does not exist" in results[2].message
    assert results[3].message == "unknown freshness period 'fortnight' (use minute, hour or day)"


def test_sources_json_is_shaped_like_dbt(adapter: Adapter) -> None:
    load(adapter, "fresh", "timestamp", "timestamp '2024-06-01 11:30:00'")
    results = check_freshness(adapter, [src("fresh"), src("missing")], now=NOW)
    doc = json.loads(json.dumps(freshness_json(results, invocation_id="abc", elapsed=0.5)))
    assert doc["metadata"]["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/sources/v3.json"
    assert doc["metadata"]["generated_at"] == "2024-06-01T12:00:00Z"
    assert doc["metadata"]["invocation_id"] == "abc" and doc["elapsed_time"] == 0.5
    fresh, missing = doc["results"]
    assert fresh == {
        "unique_id": "source.shop.raw.fresh",
        "max_loaded_at": "2024-06-01T11:30:00Z",
        "snapshotted_at": "2024-06-01T12:00:00Z",
        "max_loaded_at_time_ago_in_s": 1800.0,
        "status": "pass",
        "criteria": {**RULES, "filter": None},
        "adapter_response": {},
        "timing": [],
        "thread_id": None,
        "execution_time": fresh["execution_time"],
    }
    assert missing["status"] == "runtime error" and missing["unique_id"] == "source.shop.raw.missing"
    assert "does not exist" in missing["error"]
