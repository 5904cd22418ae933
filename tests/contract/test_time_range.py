"""Time-range models and their interval ledger on every engine: a run fills exactly the gaps, a failed
interval stays missing until the next run, a backfill run twice (and with concurrent batches) gives the
same content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlflow.adapters import open_adapter
from sqlflow.runner.events import ListReporter
from sqlflow.state.intervals import RangeSet
from sqlflow.state.store import StateStore

from .engines import Engine, messages, statuses

START = datetime(2024, 1, 1)
EVENTS_CSV = "id,ts,kind\n" + "".join(
    f"{i},{(START + timedelta(hours=6 * i)).isoformat(sep=' ')},{i % 3}\n" for i in range(40)
)  # four rows a day, 2024-01-01 .. 2024-01-10
DAILY = """
{{ config(materialized='incremental', incremental_strategy='time_range', time_column='day',
          batch_size='day', begin='2024-01-01', concurrent_batches=true) }}
select date_trunc('day', ts) as day, count(*) as n, sum(kind) as kinds,
  {% if var('fail_on', none) %}
  cast(case when '{{ start }}' = '{{ var("fail_on") }} 00:00:00+00:00' then 'boom' else '1' end as integer)
  {% else %} 1 {% endif %} as guard
from {{ ref('events') }}
group by 1
"""
DAILY_ID = "model.contract.daily"


def at(day: int, hour: int = 3) -> datetime:
    return datetime(2024, 1, day, hour, tzinfo=UTC)


def span(d1: int, d2: int) -> RangeSet:
    return RangeSet.span(at(d1, 0), at(d2, 0))


def project(engine: Engine) -> None:
    engine.write(
        {
            "seeds/raw_events.csv": EVENTS_CSV,
            "models/events.sql": "{{ config(materialized='table', time_column='ts') }} "
            "select * from {{ ref('raw_events') }}",
            "models/daily.sql": DAILY,
        }
    )
    out = engine.run("build", select_=["raw_events", "events"])
    assert set(statuses(out).values()) == {"success"}


def ledger(engine: Engine) -> RangeSet:
    adapter = open_adapter(engine.target())
    try:
        return StateStore(adapter, engine.state_schema).done(DAILY_ID)
    finally:
        adapter.close()


def days(engine: Engine) -> list[int]:
    return [r[0].day for r in engine.rows("daily", "day")]


def intervals_of(reporter: ListReporter) -> list[str]:
    return [(e.message or "")[:10] for e in reporter.events if e.kind == "interval_finished"]


def test_a_run_fills_exactly_the_missing_intervals(engine: Engine) -> None:
    project(engine)
    out = engine.backfill("2024-01-03", "2024-01-04")  # a hole on either side of this day
    assert not out.failed
    assert ledger(engine) == span(3, 4)
    reporter = ListReporter()
    out = engine.run("run", now=at(6), reporter=reporter)
    assert not out.failed, messages(out)
    assert intervals_of(reporter) == ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05"]
    assert days(engine) == [1, 2, 3, 4, 5]
    assert ledger(engine) == span(1, 6)
    assert engine.rows("daily", "n, kinds, guard", order="day") == [
        (4, 3, 1),
        (4, 4, 1),
        (4, 5, 1),
        (4, 3, 1),
        (4, 4, 1),
    ]
    again = engine.run("run", now=at(6))
    assert "up to date" in (messages(again)["daily"] or "")


def test_a_failed_interval_stays_missing_and_the_next_run_picks_it_up(engine: Engine) -> None:
    project(engine)
    out = engine.run("run", vars={"fail_on": "2024-01-03"}, now=at(6))
    assert out.failed
    message = messages(out)["daily"] or ""
    assert "interval [2024-01-03" in message and "after 2 of 5 intervals" in message
    assert days(engine) == [1, 2]
    assert ledger(engine) == span(1, 3)
    recorded = engine.query(
        f"select status from {engine.rel('node_runs', engine.state_schema)} where unique_id = '{DAILY_ID}'"
    )
    assert recorded == [("error",)]
    reporter = ListReporter()
    out = engine.run("run", now=at(6), reporter=reporter)
    assert not out.failed
    assert intervals_of(reporter) == ["2024-01-03", "2024-01-04", "2024-01-05"]
    assert days(engine) == [1, 2, 3, 4, 5]
    assert ledger(engine) == span(1, 6)


def test_backfilling_the_same_range_twice_gives_identical_content(engine: Engine) -> None:
    project(engine)
    engine.run("run", now=at(9))
    before = engine.rows("daily")
    reporter = ListReporter()
    out = engine.backfill("2024-01-03", "2024-01-06", reporter=reporter)
    assert not out.failed
    assert intervals_of(reporter) == ["2024-01-03", "2024-01-04", "2024-01-05"]
    first = engine.rows("daily")
    out = engine.backfill("2024-01-03", "2024-01-06", concurrency=3)  # batches on three sessions
    assert not out.failed
    assert engine.rows("daily") == first == before
    assert len(before) == 8
    assert ledger(engine) == span(1, 9)
    assert engine.count("intervals", engine.state_schema) == 1  # merged into one ledger row
    backfills = engine.query(f"select status from {engine.rel('backfills', engine.state_schema)}")
    assert backfills == [("done",), ("done",)]
