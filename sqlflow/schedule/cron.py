"""Cron arithmetic with croniter: pure functions of an expression, a time zone and `now` (never the clock).

Ticks are computed on the wall clock of the time zone, so `0 2 * * *` in Europe/Berlin fires at 02:00
local time on both sides of a DST change. Imports only croniter, the stdlib and `sqlflow.errors`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from sqlflow.errors import ConfigError, SourceLocation


def check_cron(expression: str, *, tz: str = "UTC", location: SourceLocation | None = None) -> None:
    """ConfigError naming `location` when the expression or the time zone is not valid.

    >>> check_cron("0 25 * * *")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sqlflow.errors.ConfigError: not a valid cron expression: '0 25 * * *' (five fields ...)
    >>> check_cron("@daily", tz="Europe/Berlin")
    """
    if not croniter.is_valid(expression):
        raise ConfigError(
            f"not a valid cron expression: '{expression}'",
            location=location,
            hint="five fields 'minute hour day month weekday' (e.g. '0 6 * * *') or @hourly, @daily ...",
        )
    _zone(tz, location)


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


__all__ = ["check_cron", "previous_tick"]
