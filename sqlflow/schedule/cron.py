"""Cron arithmetic with croniter: pure functions of an expression, a time zone and `now` (never the clock).

Ticks are computed on the wall clock of the time zone, so `0 2 * * *` in Europe/Berlin fires at 02:00
local time on both sides of a DST change. On the night the clocks go forward, a time inside the skipped
hour (02:30) fires once at the end of the gap (03:00). On the night they go back, a wall-clock time that
happens twice fires once (its first occurrence) when the hour field is fixed (`30 2 * * *`, `@daily`);
with a wildcard hour field (`*/15 * * * *`, `@hourly`) it fires at both, which are an hour apart.
Ticks are returned as aware UTC datetimes. Imports only croniter, the stdlib, `sqlflow.errors` and
`sqlflow.project.orchestration` (where an expression is checked: `check_cron`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from sqlflow.errors import ConfigError, SourceLocation
from sqlflow.project.orchestration import check_cron


def _zone(tz: str, location: SourceLocation | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone '{tz}'", location=location, hint="an IANA name such as Europe/Berlin"
        ) from None


def previous_tick(expression: str, now: datetime, *, tz: str = "UTC") -> datetime:
    """The latest tick at or before `now` (UTC).

    >>> previous_tick("0 6 * * *", datetime(2024, 1, 2, 5, 0, tzinfo=UTC))
    datetime.datetime(2024, 1, 1, 6, 0, tzinfo=datetime.timezone.utc)
    >>> previous_tick("0 6 * * *", datetime(2024, 1, 2, 6, 0, tzinfo=UTC))
    datetime.datetime(2024, 1, 2, 6, 0, tzinfo=datetime.timezone.utc)
    """
    local = now.astimezone(_zone(tz, None))
    it = croniter(expression, local)
    if croniter.match(expression, local):
        return local.replace(second=0, microsecond=0).astimezone(UTC)
    return it.get_prev(datetime).astimezone(UTC)


MAX_CATCHUP = 1000  # the most ticks `due_ticks` returns at once (more come on the next call)
_SECOND = timedelta(seconds=1)
_PRESETS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def ticks_after(expression: str, after: datetime, *, tz: str = "UTC") -> Iterator[datetime]:
    """The ticks strictly after `after`, oldest first, as UTC (endless; croniter's errors propagate).

    >>> it = ticks_after("30 2 * * *", datetime(2024, 3, 30, 12, tzinfo=UTC), tz="Europe/Berlin")
    >>> [t.isoformat() for t in (next(it), next(it))]  # 02:30 does not exist on 31 March: 03:00 CEST
    ['2024-03-31T01:00:00+00:00', '2024-04-01T00:30:00+00:00']
    """
    zone = _zone(tz, None)
    once_when_repeated = _fixed_hour(expression)
    # croniter drops sub-seconds: start at the whole second, and never yield `after` itself
    start = after.astimezone(zone).replace(microsecond=0)
    it = croniter(expression, start)
    while True:
        local: datetime = it.get_next(datetime)
        if local.astimezone(UTC) <= after:
            continue
        if once_when_repeated and _second_occurrence(local, zone):
            continue
        yield local.astimezone(UTC)


def next_ticks(expression: str, after: datetime, count: int, *, tz: str = "UTC") -> list[datetime]:
    """The next `count` ticks strictly after `after` (for `sqlflow schedule --list`).

    >>> [t.isoformat() for t in next_ticks("@daily", datetime(2024, 1, 1, 6, tzinfo=UTC), 2)]
    ['2024-01-02T00:00:00+00:00', '2024-01-03T00:00:00+00:00']
    """
    it = ticks_after(expression, after, tz=tz)
    return [next(it) for _ in range(count)]


def latest_tick(expression: str, at: datetime, *, tz: str = "UTC") -> datetime | None:
    """The latest tick at or before `at`; None when there is none (croniter cannot find one).

    >>> latest_tick("0 * * * *", datetime(2024, 1, 1, 10, 59, 59, tzinfo=UTC)).isoformat()
    '2024-01-01T10:00:00+00:00'
    >>> latest_tick("0 * * * *", datetime(2024, 1, 1, 10, 0, tzinfo=UTC)).isoformat()
    '2024-01-01T10:00:00+00:00'
    """
    zone = _zone(tz, None)
    local = at.astimezone(zone).replace(microsecond=0) + _SECOND
    try:
        it = croniter(expression, local)
        it.get_prev(datetime)
        earlier: datetime = it.get_prev(datetime)  # two back: the walk below sees both DST occurrences
    except (CroniterError, ValueError):
        return None
    latest = None
    for tick in ticks_after(expression, earlier.astimezone(UTC) - _SECOND, tz=tz):
        if tick > at:
            return latest
        latest = tick
    return latest  # pragma: no cover - ticks_after is endless


def due_ticks(
    expression: str,
    *,
    now: datetime,
    tz: str = "UTC",
    last: datetime | None = None,
    since: datetime | None = None,
    catchup: bool = False,
    limit: int = MAX_CATCHUP,
) -> list[datetime]:
    """The ticks of a job due at `now`, oldest first.

    `last` is the latest tick already handled (by any scheduler). A job with no such tick starts at
    `since` (the scheduler's start: its ticks at or after it), or, when `since` is None (`--once`,
    an external cron calling in), at its latest tick at or before `now`. With `catchup` every tick
    after that point up to `now` is due (at most `limit`, the oldest; the rest on the next call),
    without it only the latest one.

    >>> t = lambda h: datetime(2024, 1, 1, h, tzinfo=UTC)
    >>> [d.hour for d in due_ticks("0 * * * *", now=t(10), last=t(6), catchup=True)]
    [7, 8, 9, 10]
    >>> [d.hour for d in due_ticks("0 * * * *", now=t(10), last=t(6))]
    [10]
    >>> due_ticks("0 * * * *", now=t(10), last=t(10))
    []
    >>> due_ticks("0 * * * *", now=datetime(2024, 1, 1, 10, 30, tzinfo=UTC), since=t(10))
    [datetime.datetime(2024, 1, 1, 10, 0, tzinfo=datetime.timezone.utc)]
    """
    if last is None and since is None:
        latest = latest_tick(expression, now, tz=tz)
        return [] if latest is None else [latest]
    floor = last if last is not None else since
    assert floor is not None
    if not catchup:
        latest = latest_tick(expression, now, tz=tz)
        if latest is None or latest < floor or (last is not None and latest <= last):
            return []
        return [latest]
    # ticks strictly after `last`, or at or after `since`
    after = last if last is not None else floor - timedelta(microseconds=1)
    due: list[datetime] = []
    for tick in ticks_after(expression, after, tz=tz):
        if tick > now or len(due) >= limit:
            break
        due.append(tick)
    return due


def _fixed_hour(expression: str) -> bool:
    """True when the hour field is fixed: a wall-clock time that happens twice then fires once."""
    fields = _PRESETS.get(expression.strip().lower(), expression).split()
    return len(fields) > 1 and not fields[1].startswith("*")


def _second_occurrence(local: datetime, zone: ZoneInfo) -> bool:
    """True for the second of two instants with the same wall-clock time (the night clocks go back)."""
    first = local.replace(tzinfo=None).replace(tzinfo=zone, fold=0)
    return first.utcoffset() != local.utcoffset()


__all__ = [
    "MAX_CATCHUP",
    "check_cron",
    "due_ticks",
    "latest_tick",
    "next_ticks",
    "previous_tick",
    "ticks_after",
]
