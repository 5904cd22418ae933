"""Tick arithmetic with fixed times: due ticks with and without catch-up, the first start, the bound,
second-level crons, and the DST nights of Europe/Berlin and America/New_York."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sqlflow.schedule.cron import MAX_CATCHUP, due_ticks, latest_tick, next_ticks, ticks_after


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def iso(ticks: list[datetime]) -> list[str]:
    return [t.isoformat() for t in ticks]


HOURLY = "0 * * * *"


@pytest.mark.parametrize(
    ("last", "catchup", "expected"),
    [
        (utc(2024, 1, 1, 7), True, [8, 9, 10]),  # down for three ticks: all three, oldest first
        (utc(2024, 1, 1, 7), False, [10]),  # only the latest
        (utc(2024, 1, 1, 10), True, []),  # already handled
        (utc(2024, 1, 1, 10), False, []),
        (utc(2024, 1, 1, 9, 59, 59), False, [10]),
    ],
)
def test_due_after_the_last_handled_tick(last: datetime, catchup: bool, expected: list[int]) -> None:
    due = due_ticks(HOURLY, now=utc(2024, 1, 1, 10, 30), last=last, catchup=catchup)
    assert [t.hour for t in due] == expected
    assert all(t.tzinfo is UTC for t in due)


def test_a_tick_exactly_at_now_is_due() -> None:
    assert due_ticks(HOURLY, now=utc(2024, 1, 1, 10), last=utc(2024, 1, 1, 9)) == [utc(2024, 1, 1, 10)]


@pytest.mark.parametrize("catchup", [True, False])
def test_first_start_fires_only_ticks_at_or_after_the_start(catchup: bool) -> None:
    start = utc(2024, 1, 1, 9, 30)
    assert due_ticks(HOURLY, now=utc(2024, 1, 1, 9, 59), since=start, catchup=catchup) == []
    assert due_ticks(HOURLY, now=utc(2024, 1, 1, 11, 5), since=start, catchup=catchup) == (
        [utc(2024, 1, 1, 10), utc(2024, 1, 1, 11)] if catchup else [utc(2024, 1, 1, 11)]
    )
    # a start exactly on a tick includes it; a start a microsecond later does not
    assert due_ticks(HOURLY, now=utc(2024, 1, 1, 10, 0, 1), since=utc(2024, 1, 1, 10)) == [
        utc(2024, 1, 1, 10)
    ]
    late = utc(2024, 1, 1, 10).replace(microsecond=1)
    assert due_ticks(HOURLY, now=utc(2024, 1, 1, 10, 0, 1), since=late, catchup=catchup) == []


def test_once_without_history_fires_the_latest_tick() -> None:
    assert due_ticks(HOURLY, now=utc(2024, 1, 1, 10, 30), catchup=True) == [utc(2024, 1, 1, 10)]


def test_catchup_is_bounded_and_oldest_first() -> None:
    due = due_ticks("* * * * *", now=utc(2024, 1, 10), last=utc(2024, 1, 1), catchup=True)
    assert len(due) == MAX_CATCHUP
    assert due[0] == utc(2024, 1, 1, 0, 1)
    assert due == sorted(due)
    rest = due_ticks("* * * * *", now=utc(2024, 1, 10), last=due[-1], catchup=True, limit=3)
    assert iso(rest) == [
        "2024-01-01T16:41:00+00:00",
        "2024-01-01T16:42:00+00:00",
        "2024-01-01T16:43:00+00:00",
    ]


def test_second_level_cron() -> None:
    assert [t.second for t in next_ticks("* * * * * */2", utc(2024, 1, 1, 0, 0, 1), 3)] == [2, 4, 6]
    due = due_ticks(
        "* * * * * */2", now=utc(2024, 1, 1, 0, 0, 7), last=utc(2024, 1, 1, 0, 0, 2), catchup=True
    )
    assert [t.second for t in due] == [4, 6]


def test_presets_and_time_zones() -> None:
    assert iso(next_ticks("@daily", utc(2024, 1, 1, 12), 2, tz="Europe/Berlin")) == [
        "2024-01-01T23:00:00+00:00",
        "2024-01-02T23:00:00+00:00",
    ]
    assert latest_tick("@hourly", utc(2024, 1, 1, 12, 59)) == utc(2024, 1, 1, 12)


# -- DST: ticks follow the wall clock of the job's time zone ---------------------------------------------

BERLIN = "Europe/Berlin"


def test_spring_forward_a_daily_0230_job_fires_once_at_0300() -> None:
    # 2024-03-31 in Berlin: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that night
    ticks = due_ticks(
        "30 2 * * *", now=utc(2024, 4, 1, 12), last=utc(2024, 3, 30, 1, 30), tz=BERLIN, catchup=True
    )
    assert iso(ticks) == [
        "2024-03-31T01:00:00+00:00",  # 03:00 CEST, the end of the gap
        "2024-04-01T00:30:00+00:00",  # 02:30 CEST again the day after
    ]
    assert latest_tick("30 2 * * *", utc(2024, 3, 31, 12), tz=BERLIN) == utc(2024, 3, 31, 1)


def test_spring_forward_an_hourly_job_skips_the_missing_hour() -> None:
    ticks = due_ticks(HOURLY, now=utc(2024, 3, 31, 2), last=utc(2024, 3, 30, 23), tz=BERLIN, catchup=True)
    # local 01:00 CET, then 03:00 and 04:00 CEST: one hour of real time apart each
    assert iso(ticks) == [
        "2024-03-31T00:00:00+00:00",
        "2024-03-31T01:00:00+00:00",
        "2024-03-31T02:00:00+00:00",
    ]


def test_fall_back_a_daily_0230_job_fires_once() -> None:
    # 2024-10-27 in Berlin: 03:00 CEST goes back to 02:00 CET, so 02:30 happens twice (00:30Z and 01:30Z)
    ticks = due_ticks(
        "30 2 * * *", now=utc(2024, 10, 28, 12), last=utc(2024, 10, 26, 0, 30), tz=BERLIN, catchup=True
    )
    assert iso(ticks) == ["2024-10-27T00:30:00+00:00", "2024-10-28T01:30:00+00:00"]
    # between the two 02:30s, and after the second one, the latest tick is the first
    assert latest_tick("30 2 * * *", utc(2024, 10, 27, 1, 0), tz=BERLIN) == utc(2024, 10, 27, 0, 30)
    assert latest_tick("30 2 * * *", utc(2024, 10, 27, 1, 45), tz=BERLIN) == utc(2024, 10, 27, 0, 30)
    # handled at its first occurrence, the second one is not due
    assert (
        due_ticks("30 2 * * *", now=utc(2024, 10, 27, 1, 45), last=utc(2024, 10, 27, 0, 30), tz=BERLIN) == []
    )


def test_fall_back_new_york_0130_fires_once() -> None:
    # 2024-11-03 in New York: 02:00 EDT goes back to 01:00 EST, so 01:30 happens twice
    ticks = due_ticks(
        "30 1 * * *",
        now=utc(2024, 11, 4, 12),
        last=utc(2024, 11, 2, 5, 30),
        tz="America/New_York",
        catchup=True,
    )
    assert iso(ticks) == ["2024-11-03T05:30:00+00:00", "2024-11-04T06:30:00+00:00"]


def test_fall_back_an_hourly_job_fires_every_real_hour() -> None:
    # a wildcard hour field: 02:00 CEST and 02:00 CET are both ticks, an hour apart
    ticks = due_ticks(HOURLY, now=utc(2024, 10, 27, 2), last=utc(2024, 10, 26, 23), tz=BERLIN, catchup=True)
    assert iso(ticks) == [
        "2024-10-27T00:00:00+00:00",
        "2024-10-27T01:00:00+00:00",
        "2024-10-27T02:00:00+00:00",
    ]


def test_ticks_after_is_strict_and_ignores_microseconds() -> None:
    it = ticks_after("* * * * * *", utc(2024, 1, 1).replace(microsecond=500))
    assert next(it) == utc(2024, 1, 1, 0, 0, 1)
