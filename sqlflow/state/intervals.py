"""Range arithmetic on time: half-open intervals, merged range sets, grains, missing intervals and batches.

Pure code, no database and no clock (`now` is a parameter). Work is proportional to the number of ranges
(gaps), never to the number of grain intervals they span: a 5-minute grain over ten years with a few gaps
plans in microseconds, and `batches` yields lazily. Imports nothing from sqlflow but the error tree and
`project.orchestration` (the batch_size grammar).

>>> g = Grain.parse("day")
>>> done = RangeSet.of(Interval(utc(2024, 1, 1), utc(2024, 1, 3)),
...                    Interval(utc(2024, 1, 4), utc(2024, 1, 5)))
>>> [(r.start.day, r.end.day) for r in missing(done, utc(2024, 1, 1), utc(2024, 1, 7), g)]
[(3, 4), (5, 7)]
>>> [b.start.day for b in batches(missing(done, utc(2024, 1, 1), utc(2024, 1, 7), g), g)]
[3, 5, 6]
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlflow.errors import ConfigError
from sqlflow.project.orchestration import parse_batch_size

Unit = Literal["minute", "hour", "day", "week", "month"]
UNITS: tuple[Unit, ...] = ("minute", "hour", "day", "week", "month")


def utc(year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC datetime, for tests and doctests."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a time-zone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """[start, end): tz-aware, stored in UTC, start < end.

    >>> Interval(datetime(2024, 1, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")), utc(2024, 1, 2)).start
    datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> Interval(utc(2024, 1, 2), utc(2024, 1, 1))
    Traceback (most recent call last):
    ...
    ValueError: empty interval: 2024-01-02T00:00:00+00:00 is not before 2024-01-01T00:00:00+00:00
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = _aware(self.start, "start"), _aware(self.end, "end")
        if not start < end:
            raise ValueError(f"empty interval: {start.isoformat()} is not before {end.isoformat()}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


class RangeSet:
    """An immutable set of instants: a sorted tuple of disjoint, non-adjacent half-open intervals.

    >>> a = RangeSet.of(Interval(utc(2024, 1, 1), utc(2024, 1, 2)),
    ...                 Interval(utc(2024, 1, 2), utc(2024, 1, 4)))
    >>> len(a), a.ranges[0] == Interval(utc(2024, 1, 1), utc(2024, 1, 4))
    (1, True)
    >>> b = a - RangeSet.of(Interval(utc(2024, 1, 2), utc(2024, 1, 3)))
    >>> [(r.start.day, r.end.day) for r in b]
    [(1, 2), (3, 4)]
    >>> utc(2024, 1, 2) in b, utc(2024, 1, 3) in b
    (False, True)
    """

    __slots__ = ("_starts", "ranges")

    def __init__(self, ranges: Iterable[Interval] = ()) -> None:
        merged: list[Interval] = []
        for r in sorted(ranges):
            if merged and r.start <= merged[-1].end:
                if r.end > merged[-1].end:
                    merged[-1] = Interval(merged[-1].start, r.end)
            else:
                merged.append(r)
        self.ranges: tuple[Interval, ...] = tuple(merged)
        self._starts = [r.start for r in merged]

    @classmethod
    def of(cls, *ranges: Interval) -> RangeSet:
        return cls(ranges)

    @classmethod
    def span(cls, start: datetime, end: datetime) -> RangeSet:
        """The one range [start, end), or the empty set when end <= start."""
        s, e = _aware(start, "start"), _aware(end, "end")
        return cls((Interval(s, e),)) if s < e else cls()

    def __iter__(self) -> Iterator[Interval]:
        return iter(self.ranges)

    def __len__(self) -> int:
        return len(self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RangeSet) and self.ranges == other.ranges

    def __hash__(self) -> int:
        return hash(self.ranges)

    def __repr__(self) -> str:
        return "RangeSet(" + ", ".join(str(r) for r in self.ranges) + ")"

    def __contains__(self, item: object) -> bool:
        """An instant or an Interval wholly inside one range."""
        if isinstance(item, Interval):
            start, end = item.start, item.end
        elif isinstance(item, datetime):
            start = _aware(item, "instant")
            end = start
        else:
            return False
        i = bisect.bisect_right(self._starts, start) - 1
        if i < 0:
            return False
        r = self.ranges[i]
        return r.start <= start and (end < r.end or (end == r.end and end > start))

    def contains(self, item: Interval | datetime) -> bool:
        return item in self

    def union(self, other: RangeSet) -> RangeSet:
        return RangeSet((*self.ranges, *other.ranges))

    def intersection(self, other: RangeSet) -> RangeSet:
        out: list[Interval] = []
        a, b = self.ranges, other.ranges
        i = j = 0
        while i < len(a) and j < len(b):
            start, end = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
            if start < end:
                out.append(Interval(start, end))
            if a[i].end < b[j].end:
                i += 1
            else:
                j += 1
        return RangeSet(out)

    def difference(self, other: RangeSet) -> RangeSet:
        out: list[Interval] = []
        b = other.ranges
        j = 0
        for r in self.ranges:
            start = r.start
            while j < len(b) and b[j].end <= start:
                j += 1
            k = j
            while k < len(b) and b[k].start < r.end:
                if b[k].start > start:
                    out.append(Interval(start, b[k].start))
                start = max(start, b[k].end)
                k += 1
            if start < r.end:
                out.append(Interval(start, r.end))
        return RangeSet(out)

    __or__ = union
    __and__ = intersection
    __sub__ = difference


@dataclass(frozen=True, slots=True)
class Grain:
    """The length of one interval: `count` minutes (count divides 60), an hour, a day, an ISO week (from
    Monday) or `count` calendar months (count divides 12), aligned on the wall clock of `tz`.

    Day, week and month boundaries are local midnights (a DST day in Berlin lasts 23 or 25 hours).
    Minute and hour grains step in absolute time from a local boundary, so an hour is 60 minutes on a DST
    day too (correct for every zone whose offsets are whole hours).

    >>> Grain.parse("5 minutes"), Grain.parse("month", "Europe/Berlin").tz
    (Grain(unit='minute', count=5, tz='UTC'), 'Europe/Berlin')
    >>> Grain.parse("fortnight")
    Traceback (most recent call last):
    ...
    sqlflow.errors.ConfigError: unknown batch_size 'fortnight' (use hour, day, week or month)
    """

    unit: Unit
    count: int = 1
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ConfigError(f"unknown grain unit '{self.unit}'", hint="use " + ", ".join(UNITS))
        ok = {"minute": 60 % self.count == 0, "month": 12 % self.count == 0}.get(self.unit, self.count == 1)
        if self.count < 1 or not ok:
            raise ConfigError(f"a grain of {self.count} {self.unit}s is not supported")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone '{self.tz}'") from exc

    @classmethod
    def parse(cls, text: str, tz: str = "UTC") -> Grain:
        unit, count = parse_batch_size(text)
        return cls(unit=unit, count=count, tz=tz)

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.tz)

    @property
    def fixed(self) -> timedelta | None:
        """The absolute length of sub-day grains; None for calendar grains."""
        if self.unit == "minute":
            return timedelta(minutes=self.count)
        if self.unit == "hour":
            return timedelta(hours=self.count)
        return None

    def floor(self, instant: datetime) -> datetime:
        """The start (UTC) of the interval holding `instant`.

        >>> Grain.parse("week").floor(utc(2024, 1, 4, 13))  # a Thursday -> Monday
        datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
        >>> Grain.parse("day", "Europe/Berlin").floor(utc(2024, 3, 31, 12))
        datetime.datetime(2024, 3, 30, 23, 0, tzinfo=datetime.timezone.utc)
        """
        local = _aware(instant, "instant").astimezone(self.zone)
        if self.fixed is not None:
            minutes = local.hour * 60 + local.minute
            step = self.count if self.unit == "minute" else 60 * self.count
            minutes -= minutes % step
            wall = local.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)
            return wall.astimezone(UTC)
        day = local.date()
        if self.unit == "week":
            day -= timedelta(days=day.weekday())
        elif self.unit == "month":
            day = date(day.year, day.month - (day.month - 1) % self.count, 1)
        return self._midnight(day)

    def next(self, boundary: datetime) -> datetime:
        """The boundary after `boundary` (itself a boundary)."""
        if (step := self.fixed) is not None:
            return _aware(boundary, "boundary") + step
        day = _aware(boundary, "boundary").astimezone(self.zone).date()
        if self.unit == "day":
            return self._midnight(day + timedelta(days=1))
        if self.unit == "week":
            return self._midnight(day + timedelta(days=7))
        months = day.year * 12 + day.month - 1 + self.count
        return self._midnight(date(months // 12, months % 12 + 1, 1))

    def previous(self, boundary: datetime) -> datetime:
        """The boundary before `boundary` (itself a boundary)."""
        if (step := self.fixed) is not None:
            return _aware(boundary, "boundary") - step
        return self.floor(_aware(boundary, "boundary") - timedelta(microseconds=1))

    def ceil(self, instant: datetime) -> datetime:
        start = self.floor(instant)
        return start if start == _aware(instant, "instant") else self.next(start)

    def add(self, boundary: datetime, n: int) -> datetime:
        """`n` grains after (n < 0: before) a boundary; O(1) for sub-day grains and months."""
        if (step := self.fixed) is not None:
            return _aware(boundary, "boundary") + step * n
        if self.unit == "month":
            day = _aware(boundary, "boundary").astimezone(self.zone).date()
            months = day.year * 12 + day.month - 1 + self.count * n
            return self._midnight(date(months // 12, months % 12 + 1, 1))
        day = _aware(boundary, "boundary").astimezone(self.zone).date()
        return self._midnight(day + timedelta(days=n * (7 if self.unit == "week" else 1)))

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=self.zone).astimezone(UTC)


def align(ranges: RangeSet, grain: Grain) -> RangeSet:
    """Each range widened outward to whole grain intervals.

    >>> [str(r) for r in align(RangeSet.span(utc(2024, 1, 1, 5), utc(2024, 1, 2, 1)), Grain.parse("day"))]
    ['[2024-01-01T00:00:00+00:00, 2024-01-03T00:00:00+00:00)']
    """
    return RangeSet(Interval(grain.floor(r.start), grain.ceil(r.end)) for r in ranges)


def missing(done: RangeSet, begin: datetime, end: datetime, grain: Grain) -> RangeSet:
    """The whole grain intervals from the one holding `begin` up to `end` (only intervals complete by `end`)
    that are not entirely in `done`; a partly done interval is missing as a whole.

    >>> half = RangeSet.span(utc(2024, 1, 1), utc(2024, 1, 1, 12))
    >>> [str(r) for r in missing(half, utc(2024, 1, 1), utc(2024, 1, 2, 6), Grain.parse("day"))]
    ['[2024-01-01T00:00:00+00:00, 2024-01-02T00:00:00+00:00)']
    """
    wanted = RangeSet.span(grain.floor(begin), grain.floor(end))
    return align(wanted - done, grain) & wanted


def batches(ranges: RangeSet, grain: Grain, size: int = 1) -> Iterator[Interval]:
    """Consecutive batches of `size` grains covering each (grain-aligned) range, yielded lazily; the last
    batch of a range may be shorter.

    >>> [(b.start.day, b.end.day) for b in batches(RangeSet.span(utc(2024, 1, 1), utc(2024, 1, 4)),
    ...                                             Grain.parse("day"), 2)]
    [(1, 3), (3, 4)]
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    for r in ranges:
        start = grain.floor(r.start)
        while start < r.end:
            end = min(grain.add(start, size), r.end)
            yield Interval(start, end)
            start = end


def lookback(ranges: RangeSet, grain: Grain, n: int, now: datetime) -> RangeSet:
    """`ranges` without its last `n` grain intervals before `now`, so they are processed again.

    >>> done = RangeSet.span(utc(2024, 1, 1), utc(2024, 1, 10))
    >>> kept = lookback(done, Grain.parse("day"), 2, utc(2024, 1, 10, 9))
    >>> kept == RangeSet.span(utc(2024, 1, 1), utc(2024, 1, 8))
    True
    """
    if n <= 0:
        return ranges
    edge = grain.add(grain.floor(now), -n)
    return ranges - RangeSet.span(edge, max(ranges.ranges[-1].end, now) if ranges else now)


def count_intervals(ranges: RangeSet, grain: Grain) -> int:
    """How many grain intervals the (aligned) ranges hold, without listing them for sub-day grains."""
    total = 0
    for r in ranges:
        if (step := grain.fixed) is not None:
            total += -(-(r.end - grain.floor(r.start)) // step)
        else:
            total += sum(1 for _ in batches(RangeSet.of(r), grain))
    return total


__all__ = [
    "UNITS",
    "Grain",
    "Interval",
    "RangeSet",
    "Unit",
    "align",
    "batches",
    "count_intervals",
    "lookback",
    "missing",
    "utc",
]
