"""Time-range incremental models end to end on a real DuckDB file: gap-aware runs, failed intervals,
lookback, cron, filtered refs, audits per batch, backfills (restating, idempotent, concurrent), status."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from sqlflow import api
from sqlflow.errors import ConfigError, SelectionError
from sqlflow.runner.events import ListReporter
from sqlflow.state.intervals import Interval, RangeSet

EVENTS = """
{{ config(materialized='table', time_column='ts') }}
select i as id, timestamp '2024-01-01' + i * interval 6 hour as ts, i % 3 as kind
from range(0, 60) t(i)
"""
DAILY_CONFIG = {
    "materialized": "'incremental'",
    "incremental_strategy": "'time_range'",
    "time_column": "'day'",
    "batch_size": "'day'",
    "begin": "'2024-01-01'",
}
DAILY = """
{{ config(%s) }}
select date_trunc('day', ts) as day, count(*) as n, sum(kind) as kinds
  {%% if var('fail_on', none) %%}
  , case when '{{ start }}' = '{{ var("fail_on") }} 00:00:00+00:00' then error('boom') else 1 end as guard
  {%% else %%}, 1 as guard{%% endif %%}
from {{ ref('events') }}
group by 1
"""


def at(day: int, hour: int = 3) -> datetime:
    return datetime(2024, 1, day, hour, tzinfo=UTC)


def write_project(
    root: Path, daily: dict[str, str] | None = None, files: dict[str, str] | None = None
) -> Path:
    """A project with `events` (a table with a time_column) and `daily` (a time-range model over it, its
    config keys overridden by `daily`: Jinja expressions as text)."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "sqlflow.yml").write_text("name: tr\n")
    (root / "models" / "events.sql").write_text(textwrap.dedent(EVENTS))
    config = ", ".join(f"{k}={v}" for k, v in {**DAILY_CONFIG, **(daily or {})}.items())
    (root / "models" / "daily.sql").write_text(textwrap.dedent(DAILY % config))
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "tr")


def options(root: Path, **vars: object) -> api.Options:
    return api.Options(project_dir=root, vars=vars)


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "tr.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def days(root: Path) -> list[int]:
    return [r[0].day for r in query(root, "select day from main.daily order by day")]


def ledger(root: Path) -> RangeSet:
    rows = query(
        root, "select start, \"end\" from sqlflow_state.intervals where unique_id = 'model.tr.daily'"
    )
    return RangeSet(Interval(s.astimezone(UTC), e.astimezone(UTC)) for s, e in rows)


def span(d1: int, d2: int) -> RangeSet:
    return RangeSet.span(at(d1, 0), at(d2, 0))


def checksum(root: Path) -> str:
    return query(root, "select md5(string_agg(cast(d as varchar), '|' order by day)) from main.daily d")[0][0]


def intervals_of(reporter: ListReporter) -> list[str]:
    return [e.message or "" for e in reporter.events if e.kind == "interval_finished"]


def test_a_run_processes_whole_intervals_up_to_now_and_a_later_run_fills_exactly_the_gap(
    project: Path,
) -> None:
    out = api.run("run", options(project), now=at(5))
    assert not out.failed
    assert days(project) == [1, 2, 3, 4]  # the 5th is not complete at 03:00
    assert ledger(project) == span(1, 5)
    assert query(project, "select n from main.daily order by day") == [(4,), (4,), (4,), (4,)]
    reporter = ListReporter()
    out = api.run("run", options(project), now=at(8, 0), reporter=reporter)
    assert intervals_of(reporter) == [
        "2024-01-05 00:00 .. 2024-01-06 00:00",
        "2024-01-06 00:00 .. 2024-01-07 00:00",
        "2024-01-07 00:00 .. 2024-01-08 00:00",
    ]
    assert days(project) == [1, 2, 3, 4, 5, 6, 7]
    assert ledger(project) == span(1, 8)
    again = ListReporter()
    out = api.run("run", options(project), now=at(8, 0), reporter=again)
    assert intervals_of(again) == []
    assert out.result is not None and "up to date" in (out.result.results[-1].message or "")


def test_a_failed_interval_stays_missing_and_the_next_run_picks_it_up(project: Path) -> None:
    out = api.run("run", options(project, fail_on="2024-01-03"), now=at(6))
    assert out.failed
    daily = next(r for r in out.result.results if r.name == "daily")  # type: ignore[union-attr]
    assert "interval [2024-01-03" in (daily.message or "") and "after 2 of 5 intervals" in (
        daily.message or ""
    )
    assert days(project) == [1, 2]
    assert ledger(project) == span(1, 3)
    status = query(project, "select status from sqlflow_state.node_runs where unique_id = 'model.tr.daily'")
    assert status == [("error",)]
    reporter = ListReporter()
    out = api.run("run", options(project), now=at(6), reporter=reporter)
    assert not out.failed
    assert [m[:10] for m in intervals_of(reporter)] == ["2024-01-03", "2024-01-04", "2024-01-05"]
    assert days(project) == [1, 2, 3, 4, 5]


def test_backfilling_the_same_range_twice_gives_identical_content(project: Path) -> None:
    api.run("run", options(project), now=at(9))
    before = checksum(project)
    reporter = ListReporter()
    out = api.backfill(options(project), start="2024-01-03", end="2024-01-06", reporter=reporter)
    assert not out.failed
    assert len(intervals_of(reporter)) == 3
    first = checksum(project)
    out = api.backfill(options(project), start="2024-01-03", end="2024-01-06")
    assert checksum(project) == first == before
    assert ledger(project) == span(1, 9)
    assert query(project, "select count(*) from main.daily") == [(8,)]
    assert query(project, "select status from sqlflow_state.backfills") == [("done",), ("done",)]


def test_a_backfill_restates_changed_upstream_data_only_inside_its_window(project: Path) -> None:
    api.run("run", options(project), now=at(6))
    with duckdb.connect(str(project / "tr.duckdb")) as con:
        con.execute("update main.events set kind = 100")  # upstream changed everywhere
    api.backfill(options(project), start="2024-01-02", end="2024-01-04")
    kinds = dict(query(project, "select day::date::varchar, kinds from main.daily"))
    assert kinds["2024-01-02"] == kinds["2024-01-03"] == 400
    assert kinds["2024-01-01"] < 400 and kinds["2024-01-05"] < 400


def test_a_backfill_dry_run_lists_the_intervals_and_changes_nothing(project: Path) -> None:
    api.run("run", options(project), now=at(4))
    out = api.backfill(options(project), start="2024-01-02", end="2024-01-03T12:00", dry_run=True)
    assert out.result is None
    assert out.preview["model.tr.daily"] == [
        "2 intervals",
        "2024-01-02 00:00 .. 2024-01-03 00:00",
        "2024-01-03 00:00 .. 2024-01-04 00:00",
    ]
    assert ledger(project) == span(1, 4)


def test_only_the_missing_part_of_a_window_is_processed_when_a_backfill_resumes(project: Path) -> None:
    api.run("run", options(project), select_=["events"])
    out = api.backfill(options(project, fail_on="2024-01-04"), start="2024-01-01", end="2024-01-07")
    assert out.failed
    assert ledger(project) == span(1, 4)
    preview = api.backfill(options(project), start="2024-01-01", end="2024-01-07", dry_run=True).preview
    assert preview["model.tr.daily"][0] == "3 intervals (resuming an interrupted backfill)"
    reporter = ListReporter()
    out = api.backfill(options(project), start="2024-01-01", end="2024-01-07", reporter=reporter)
    assert not out.failed
    assert [m[:10] for m in intervals_of(reporter)] == ["2024-01-04", "2024-01-05", "2024-01-06"]
    assert days(project) == [1, 2, 3, 4, 5, 6]


def test_concurrent_batches_give_the_same_content(tmp_path: Path) -> None:
    serial = write_project(tmp_path / "serial")
    parallel = write_project(tmp_path / "parallel", {"concurrent_batches": "true"})
    api.run("run", options(serial), now=at(14))
    api.run("run", options(parallel), select_=["events"], now=at(14))
    out = api.backfill(options(parallel), start="2024-01-01", end="2024-01-14", concurrency=4)
    assert not out.failed
    assert checksum(serial) == checksum(parallel)
    assert ledger(parallel) == span(1, 14)
    assert query(parallel, "select count(*) from sqlflow_state.intervals") == [(1,)]


def test_lookback_reprocesses_the_last_intervals(tmp_path: Path) -> None:
    root = write_project(tmp_path / "tr", {"lookback": "2"})
    api.run("run", options(root), now=at(5))
    reporter = ListReporter()
    api.run("run", options(root), now=at(6), reporter=reporter)
    assert [m[:10] for m in intervals_of(reporter)] == ["2024-01-03", "2024-01-04", "2024-01-05"]
    assert days(root) == [1, 2, 3, 4, 5]


def test_cron_limits_the_due_intervals_to_its_latest_tick(tmp_path: Path) -> None:
    root = write_project(tmp_path / "tr", {"cron": "'0 6 * * *'"})
    api.run("run", options(root), now=at(5, 3))  # the latest tick is Jan 4 06:00
    assert days(root) == [1, 2, 3]
    api.run("run", options(root), now=at(5, 7))
    assert days(root) == [1, 2, 3, 4]


def test_refs_are_filtered_to_the_interval_unless_unfiltered(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "tr",
        files={
            "models/totals.sql": """
            {{ config(materialized='incremental', incremental_strategy='microbatch', time_column='day',
                      batch_size='day', begin='2024-01-01') }}
            select cast('{{ start }}' as timestamp) as day,
                   (select count(*) from {{ ref('events') }}) as in_batch,
                   (select count(*) from {{ ref('events').unfiltered() }}) as everything
            """
        },
    )
    api.run("run", options(root), now=at(3))
    assert query(root, "select day::date::varchar, in_batch, everything from main.totals order by 1") == [
        ("2024-01-01", 4, 60),
        ("2024-01-02", 4, 60),
    ]


def test_rows_outside_the_interval_are_never_written(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "tr",
        files={
            "models/sloppy.sql": """
            {{ config(materialized='incremental', incremental_strategy='time_range', time_column='ts',
                      batch_size='day', begin='2024-01-01') }}
            select * from {{ ref('events').unfiltered() }}
            """
        },
    )
    api.run("run", options(root), now=at(3))
    assert query(root, "select count(*), max(ts)::varchar from main.sloppy") == [(8, "2024-01-02 18:00:00")]
    api.run("run", options(root), now=at(3))
    assert query(root, "select count(*) from main.sloppy") == [(8,)]


def test_a_blocking_test_rolls_back_the_failing_batch(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "tr",
        files={
            "models/schema.yml": """
            version: 2
            models:
              - name: daily
                columns:
                  - name: n
                    data_tests:
                      - accepted_values: {values: [4]}
            """
        },
    )
    with duckdb.connect(str(root / "tr.duckdb")) as con:
        con.execute("create table main.extra as select 1")
    api.run("run", options(root), select_=["events"], now=at(2))
    with duckdb.connect(str(root / "tr.duckdb")) as con:  # a fifth event on Jan 3
        con.execute("insert into main.events values (999, timestamp '2024-01-03 01:00', 0)")
    out = api.run("run", options(root), select_=["daily"], now=at(6), audit=True)  # run --audit
    assert out.failed
    assert days(root) == [1, 2]  # Jan 3 failed its audit: rolled back, later intervals not run
    assert ledger(root) == span(1, 3)


def test_full_refresh_rebuilds_table_and_ledger(project: Path) -> None:
    api.run("run", options(project), now=at(4))
    with duckdb.connect(str(project / "tr.duckdb")) as con:
        con.execute("delete from main.daily where day = '2024-01-02'")
    api.run("run", options(project), now=at(4), full_refresh=True)
    assert days(project) == [1, 2, 3]
    assert query(project, "select count(*) from sqlflow_state.intervals") == [(1,)]


def test_status_shows_ranges_gaps_and_the_last_run(project: Path) -> None:
    api.run("run", options(project, fail_on="2024-01-03"), now=at(5))
    models = api.incremental_status(options(project), now=at(6))
    (daily,) = models
    assert daily.strategy == "time_range" and daily.batch_size == "day"
    assert daily.done == ("2024-01-01 .. 2024-01-03 (2 intervals)",)
    assert daily.gaps == ("2024-01-03 .. 2024-01-06 (3 intervals)",)
    assert daily.missing == 3
    assert daily.last_run is not None and daily.last_run.status == "error"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"time_column": "none"}, "has no time_column"),
        ({"batch_size": "'fortnight'"}, "unknown batch_size 'fortnight'"),
        ({"begin": "'yesterday'"}, "begin of daily is not a date"),
        ({"cron": "'61 * * * *'"}, "not a valid cron expression"),
    ],
)
def test_bad_settings_are_errors_naming_the_model_before_anything_runs(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    root = write_project(tmp_path / "tr", extra)
    with pytest.raises(ConfigError, match=message) as info:
        api.run("run", options(root), now=at(3))
    assert "models/daily.sql" in str(info.value)
    assert not (root / "tr.duckdb").exists() or query(
        root, "select count(*) from information_schema.tables where table_name = 'daily'"
    ) == [(0,)]


def test_backfill_needs_a_time_range_model(project: Path) -> None:
    with pytest.raises(SelectionError, match="no time-range model is selected"):
        api.backfill(options(project), select_=["events"], start="2024-01-01", end="2024-01-02")
    with pytest.raises(ConfigError, match="is not before"):
        api.backfill(options(project), start="2024-01-05", end="2024-01-02")


def test_cascade_backfills_the_time_range_models_downstream(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "tr",
        files={
            "models/weekly.sql": """
            {{ config(materialized='incremental', incremental_strategy='time_range', time_column='week',
                      batch_size='week', begin='2024-01-01') }}
            select cast('{{ start }}' as timestamp) as week, sum(kinds) as kinds from {{ ref('daily') }}
            """
        },
    )
    api.run("run", options(root), now=at(15))
    with duckdb.connect(str(root / "tr.duckdb")) as con:
        con.execute("update main.events set kind = 10")
    alone = api.backfill(options(root), select_=["daily"], start="2024-01-01", end="2024-01-08")
    assert [r.name for r in alone.result.results] == ["daily"]  # type: ignore[union-attr]
    assert query(root, "select kinds from main.weekly order by week") == [(27,), (28,)]  # stale
    both = api.backfill(options(root), select_=["daily"], start="2024-01-01", end="2024-01-08", cascade=True)
    assert [r.name for r in both.result.results] == ["daily", "weekly"]  # type: ignore[union-attr]
    assert query(root, "select kinds from main.weekly order by week") == [(280,), (28,)]
