"""Source freshness: how long ago each source table was last loaded, judged by its `freshness` config.

`check_freshness` runs `select max(<loaded_at_field>) from <source>` for every source that has a
`loaded_at_field` and a `freshness: {warn_after, error_after}` (each `{count, period}`, period minute | hour
| day; an optional `filter` is a WHERE condition), and compares the age with `now`. A timestamp without a
time zone is taken as UTC. `freshness_json` shapes the results like dbt's `target/sources.json`.
Reads no clock (`now` is an argument); imports no driver.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlflow.adapters import Adapter
from sqlflow.adapters.sql import relation_sql
from sqlflow.checks.sensors import describe_duration
from sqlflow.errors import SqlflowError
from sqlflow.manifest import SourceNode

SOURCES_SCHEMA = "https://schemas.getdbt.com/dbt/sources/v3.json"
PERIODS: Mapping[str, int] = {"minute": 60, "hour": 3600, "day": 86400}
STATUSES = ("pass", "warn", "error", "runtime error")


@dataclass(frozen=True, slots=True, kw_only=True)
class FreshnessResult:
    unique_id: str
    source_name: str
    name: str
    status: str  # pass | warn | error | runtime error (the query or the config failed)
    max_loaded_at: datetime | None  # UTC; None when the table is empty or the query failed
    snapshotted_at: datetime  # `now`, in UTC
    age: float | None  # seconds between max_loaded_at and now
    criteria: Mapping[str, Any] = field(default_factory=dict)  # warn_after, error_after, filter as configured
    message: str | None = None
    execution_time: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in ("error", "runtime error")


def has_freshness(source: SourceNode) -> bool:
    """Whether a source can be checked: a loaded_at_field and at least one of warn_after / error_after."""
    config = source.freshness or {}
    return bool(source.loaded_at_field) and any(config.get(k) for k in ("warn_after", "error_after"))


def threshold(rule: Any) -> float | None:
    """Seconds of a `{count, period}` rule; None when the rule is absent or its count is null.

    >>> threshold({"count": 12, "period": "hour"}), threshold(None), threshold({"count": None})
    (43200, None, None)
    """
    if not rule or not isinstance(rule, Mapping) or rule.get("count") is None:
        return None
    period = str(rule.get("period", "")).lower().rstrip("s")
    if period not in PERIODS:
        raise ValueError(f"unknown freshness period '{rule.get('period')}' (use minute, hour or day)")
    count = rule["count"]
    if isinstance(count, bool) or not isinstance(count, int | float) or count < 0:
        raise ValueError(f"freshness count must be a non-negative number, not {count!r}")
    return count * PERIODS[period]


def as_utc(value: Any) -> datetime | None:
    """A loaded-at value as an aware UTC datetime: naive timestamps are taken as UTC, dates as midnight.

    >>> as_utc(datetime(2024, 5, 1, 12, 0)).isoformat(), as_utc("2024-05-01T14:00:00+02:00").isoformat()
    ('2024-05-01T12:00:00+00:00', '2024-05-01T12:00:00+00:00')
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise ValueError(f"the loaded_at_field is not a timestamp: {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def judge_age(age: float | None, warn_after: float | None, error_after: float | None) -> str:
    """pass, warn or error for an age in seconds (None: nothing loaded, the worst configured status).

    >>> judge_age(10, 60, 120), judge_age(90, 60, 120), judge_age(150, 60, 120), judge_age(None, 60, None)
    ('pass', 'warn', 'error', 'warn')
    """
    if age is None:
        return "error" if error_after is not None else "warn"
    if error_after is not None and age > error_after:
        return "error"
    if warn_after is not None and age > warn_after:
        return "warn"
    return "pass"


def freshness_sql(source: SourceNode, dialect: str) -> str:
    """The query of one source's newest load time (`loaded_at_field` may be an expression, as in dbt)."""
    sql = (
        f"select max({source.loaded_at_field}) as max_loaded_at from {relation_sql(source.relation, dialect)}"
    )
    condition = (source.freshness or {}).get("filter")
    if condition:
        sql += f" where {condition}"
    return sql


def check_freshness(
    adapter: Adapter, sources: Iterable[SourceNode], *, now: datetime
) -> list[FreshnessResult]:
    """The freshness of every source that has a loaded_at_field and a freshness config, in the given order.

    A failing query (or a bad config) gives that source the status "runtime error"; the others go on.
    """
    snapshotted_at = as_utc(now)
    assert snapshotted_at is not None
    results = []
    for source in sources:
        if not has_freshness(source):
            continue
        config = source.freshness or {}
        criteria = {
            "warn_after": dict(config.get("warn_after") or {}),
            "error_after": dict(config.get("error_after") or {}),
            "filter": config.get("filter"),
        }
        started = time.perf_counter()
        max_loaded_at = age = None
        try:
            warn_after = threshold(config.get("warn_after"))
            error_after = threshold(config.get("error_after"))
            _, rows = adapter.fetch(freshness_sql(source, adapter.dialect))
            max_loaded_at = as_utc(rows[0][0] if rows else None)
            if max_loaded_at is not None:
                age = (snapshotted_at - max_loaded_at).total_seconds()
            status = judge_age(age, warn_after, error_after)
            message = _message(status, age, warn_after, error_after)
        except (SqlflowError, ValueError, TypeError) as exc:
            status, message = "runtime error", str(exc)
        results.append(
            FreshnessResult(
                unique_id=source.unique_id,
                source_name=source.source_name,
                name=source.name,
                status=status,
                max_loaded_at=max_loaded_at,
                snapshotted_at=snapshotted_at,
                age=age,
                criteria=criteria,
                message=message,
                execution_time=time.perf_counter() - started,
            )
        )
    return results


def freshness_json(
    results: Sequence[FreshnessResult],
    *,
    invocation_id: str = "",
    elapsed: float | None = None,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """The target/sources.json document, shaped like dbt's."""
    from sqlflow import __version__

    generated = generated_at or (results[0].snapshotted_at if results else None)
    entries: list[dict[str, Any]] = []
    for r in results:
        if r.status == "runtime error":
            entries.append({"unique_id": r.unique_id, "error": r.message, "status": r.status})
            continue
        entries.append(
            {
                "unique_id": r.unique_id,
                "max_loaded_at": _iso(r.max_loaded_at),
                "snapshotted_at": _iso(r.snapshotted_at),
                "max_loaded_at_time_ago_in_s": r.age,
                "status": r.status,
                "criteria": {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in r.criteria.items()},
                "adapter_response": {},
                "timing": [],
                "thread_id": None,
                "execution_time": round(r.execution_time, 6),
            }
        )
    return {
        "metadata": {
            "dbt_schema_version": SOURCES_SCHEMA,
            "sqlflow_version": __version__,
            "generated_at": _iso(generated),
            "invocation_id": invocation_id,
        },
        "results": entries,
        "elapsed_time": round(elapsed if elapsed is not None else sum(r.execution_time for r in results), 6),
    }


def _message(status: str, age: float | None, warn_after: float | None, error_after: float | None) -> str:
    if age is None:
        return "no rows: nothing has been loaded"
    limit = {"error": error_after, "warn": warn_after}.get(status)
    text = f"last loaded {_ago(age)} ago"
    if limit is not None:
        text += f", more than {_ago(limit)}"
    return text


def _ago(seconds: float) -> str:
    return describe_duration(max(seconds, 0.0))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
