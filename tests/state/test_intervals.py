"""Range arithmetic against a brute-force reference that lists every interval, and its speed."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from sqlflow.errors import ConfigError
from sqlflow.state.intervals import (
    Grain,
    Interval,
    RangeSet,
    batches,
    count_intervals,
    lookback,
    missing,
    utc,
)


def listed(ranges: RangeSet, grain: Grain) -> list[datetime]:
    """Every interval start of aligned ranges, one by one (the reference)."""
    out = []
    for r in ranges:
        t = grain.floor(r.start)
        while t < r.end:
            out.append(t)
            t = grain.next(t)
    return out


@pytest.mark.parametrize("seed", range(20))
def test_missing_matches_a_brute_force_reference(seed: int) -> None:
    rng = random.Random(seed)
    grain = Grain.parse(rng.choice(["hour", "day", "15 minutes"]))
    step = grain.fixed or timedelta(days=1)
    begin = utc(2024, 1, 1)
    n = 200
    done_flags = [rng.random() < 0.6 for _ in range(n)]
    done = RangeSet(
        Interval(begin + i * step, begin + (i + 1) * step) for i, flag in enumerate(done_flags) if flag
    )
    end = begin + n * step + step / 2  # a partial interval at the end is not due
    got = listed(missing(done, begin, end, grain), grain)
    expected = [begin + i * step for i, flag in enumerate(done_flags) if not flag]
    assert got == expected
    assert count_intervals(missing(done, begin, end, grain), grain) == len(expected)
    assert [b.start for b in batches(missing(done, begin, end, grain), grain)] == expected


def test_set_operations_keep_ranges_disjoint_and_merged() -> None:
    a = RangeSet.of(Interval(utc(2024, 1, 1), utc(2024, 1, 5)), Interval(utc(2024, 1, 5), utc(2024, 1, 7)))
    assert a.ranges == (Interval(utc(2024, 1, 1), utc(2024, 1, 7)),)
    b = RangeSet.of(Interval(utc(2024, 1, 2), utc(2024, 1, 3)), Interval(utc(2024, 1, 6), utc(2024, 1, 9)))
    assert (a - b).ranges == (
        Interval(utc(2024, 1, 1), utc(2024, 1, 2)),
        Interval(utc(2024, 1, 3), utc(2024, 1, 6)),
    )
    assert (a & b).ranges == (
        Interval(utc(2024, 1, 2), utc(2024, 1, 3)),
        Interval(utc(2024, 1, 6), utc(2024, 1, 7)),
    )
    assert (a | b).ranges == (Interval(utc(2024, 1, 1), utc(2024, 1, 9)),)


def test_a_partly_done_interval_is_missing_as_a_whole() -> None:
    half = RangeSet.span(utc(2024, 1, 1), utc(2024, 1, 1, 12))
    assert missing(half, utc(2024, 1, 1), utc(2024, 1, 3), Grain.parse("day")) == RangeSet.span(
        utc(2024, 1, 1), utc(2024, 1, 3)
    )


def test_day_grain_follows_the_wall_clock_across_dst() -> None:
    berlin = Grain.parse("day", "Europe/Berlin")
    starts = listed(RangeSet.span(utc(2024, 3, 30), utc(2024, 4, 1)), berlin)
    lengths = [berlin.next(s) - s for s in starts]
    assert timedelta(hours=23) in lengths  # 31 March 2024 lasts 23 hours in Berlin
    assert all(s.astimezone(berlin.zone).hour == 0 for s in starts)


def test_week_and_month_grains() -> None:
    week, month = Grain.parse("week"), Grain.parse("month")
    assert week.floor(utc(2024, 1, 7, 23)) == utc(2024, 1, 1)  # Sunday -> Monday
    assert month.add(utc(2024, 11, 1), 3) == utc(2025, 2, 1)
    assert count_intervals(RangeSet.span(utc(2024, 1, 1), utc(2025, 1, 1)), month) == 12


def test_lookback_reopens_the_last_intervals() -> None:
    day = Grain.parse("day")
    done = RangeSet.span(utc(2024, 1, 1), utc(2024, 1, 10))
    todo = missing(lookback(done, day, 3, utc(2024, 1, 10, 5)), utc(2024, 1, 1), utc(2024, 1, 10, 5), day)
    assert todo == RangeSet.span(utc(2024, 1, 7), utc(2024, 1, 10))


def test_bad_grains_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown batch_size 'fortnight'"):
        Grain.parse("fortnight")
    with pytest.raises(ConfigError, match="7 minutes"):
        Grain.parse("7 minutes")


def test_intervals_must_be_aware_and_not_empty() -> None:
    with pytest.raises(ValueError, match="time-zone-aware"):
        Interval(datetime(2024, 1, 1), utc(2024, 1, 2))
    with pytest.raises(ValueError, match="empty interval"):
        Interval(utc(2024, 1, 2), utc(2024, 1, 2))


def test_planning_five_minute_intervals_over_ten_years_works_on_ranges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issue's bar was a 5-minute model over 10 years with gaps planned in under 50 ms (a figure of
    bench/bench_intervals.py now): the planner steps through the ledger's ranges, never through the million
    intervals they span, so its calendar arithmetic is counted in ranges."""
    grain = Grain.parse("5 minutes")
    begin, now = utc(2015, 1, 1), utc(2025, 1, 1, 0, 3)
    # processed: everything but 500 scattered gaps of a few intervals
    rng = random.Random(1)
    step = timedelta(minutes=5)
    total = (now - begin) // step
    holes = sorted(rng.sample(range(total - 10), 500))
    done_ranges, cursor = [], begin
    for h in holes:
        gap_start = begin + h * step
        if gap_start > cursor:
            done_ranges.append(Interval(cursor, gap_start))
        cursor = max(cursor, gap_start + 3 * step)
    done_ranges.append(Interval(cursor, grain.floor(now)))
    done = RangeSet(done_ranges)
    steps: list[str] = []
    for name in ("floor", "next", "previous", "ceil", "add"):
        real = getattr(Grain, name)

        def counted(self: Grain, *args: object, _real: Any = real, _name: str = name) -> object:
            steps.append(_name)
            return _real(self, *args)

        monkeypatch.setattr(Grain, name, counted)
    todo = missing(lookback(done, grain, 2, now), begin, now, grain)
    n = count_intervals(todo, grain)
    first = next(batches(todo, grain))
    monkeypatch.undo()
    assert total > 1_000_000  # over a million intervals in the span
    assert 500 <= len(todo) <= 501 and n >= 1000
    assert first.start >= begin
    assert 0 < len(steps) <= 10 * len(done)  # a few grain steps per range of the ledger
