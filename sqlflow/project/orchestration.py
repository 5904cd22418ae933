"""A model's orchestration and time-range settings, parsed once into typed records with the file:line where
each key is written: the retry policy (durations in seconds, retry_on's classes and patterns checked), the
timeout in seconds, the pool checked against sqlflow.yml's `pools:`, and a time-range model's TimeRange
(batch_size, batch_timezone, begin, lookback, cron).

The compile calls `orchestration_settings` for every model with `locate(key)` telling where a key is set
(a `{{ config() }}` call, its property YAML, sqlflow.yml); the runner only reads the records. Imports
`sqlflow.errors`, `sqlflow.manifest`, this package and, for a model with a `cron`, croniter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlflow.errors import ConfigError, SourceLocation, did_you_mean
from sqlflow.manifest import TIME_RANGE_STRATEGIES, NodeConfig
from sqlflow.policies import ERROR_CLASSES, NO_RETRY, RetryPolicy, TimeRange
from sqlflow.project.durations import parse_duration

Locate = Callable[[str], SourceLocation]
Unit = Literal["minute", "hour", "day", "week", "month"]
_GRAIN = re.compile(r"^\s*(?:(\d+)\s*)?(minute|hour|day|week|month)s?\s*$")
RETRY_ON_HINT = "use transient, connection, lock, timeout, any, or a pattern of the error message"
CRON_HINT = "five fields 'minute hour day month weekday' (e.g. '0 6 * * *') or @hourly, @daily ..."


@dataclass(frozen=True, slots=True)
class Orchestration:
    """What the runner reads of a model: its retry policy, timeout (seconds) and time-range settings."""

    retry: RetryPolicy = NO_RETRY
    timeout_seconds: float | None = None
    time_range: TimeRange | None = None


def orchestration_settings(
    config: NodeConfig, *, name: str, pools: Mapping[str, int], locate: Locate
) -> Orchestration:
    """The typed settings of model `name`; ConfigError at the line of the key that is wrong."""
    if config.pool is not None and config.pool not in pools:
        raise ConfigError(
            f"{name} runs in pool '{config.pool}', which sqlflow.yml does not declare",
            location=locate("pool"),
            hint=did_you_mean(config.pool, list(pools)) or f"add pools: {{{config.pool}: 1}} to sqlflow.yml",
        )
    time_range = None
    if config.materialized == "incremental" and config.incremental_strategy in TIME_RANGE_STRATEGIES:
        time_range = time_range_settings(config, name=name, locate=locate)
    return Orchestration(
        retry=retry_settings(config, name=name, locate=locate),
        timeout_seconds=_seconds(config.timeout, f"timeout of {name}", locate("timeout"), "30s, 10m or 1h"),
        time_range=time_range,
    )


def retry_settings(config: NodeConfig, *, name: str, locate: Locate) -> RetryPolicy:
    """The retry policy of `config` (NO_RETRY without retries; its other keys are checked all the same)."""
    what = f"retries of {name}"
    delay = _seconds(config.retry_delay, what, locate("retry_delay"), "10s, 2m or 1h")
    cap = _seconds(config.max_retry_delay, what, locate("max_retry_delay"), "10s, 2m or 1h")
    patterns = retry_patterns(config.retry_on, name=name, location=locate("retry_on"))
    if not config.retries:
        return NO_RETRY
    return RetryPolicy(
        retries=config.retries,
        delay=NO_RETRY.delay if delay is None else delay,
        backoff=config.retry_backoff is not False,
        max_delay=NO_RETRY.max_delay if cap is None else cap,
        patterns=patterns,
    )


def retry_patterns(entries: tuple[str, ...], *, name: str, location: SourceLocation) -> tuple[str, ...]:
    """retry_on's error classes and regular expressions as patterns; () (any error) for `any`.

    >>> retry_patterns(("timeout", "quota exceeded"), name="m", location=SourceLocation("m.sql"))
    ('timed out', 'timeout', 'canceling statement due to', 'quota exceeded')
    """
    patterns: list[str] = []
    for entry in entries or ("transient",):
        key = entry.strip().lower()
        if key in ("any", "all"):
            return ()
        if key in ERROR_CLASSES:
            patterns.extend(ERROR_CLASSES[key])
            continue
        try:
            re.compile(entry)
        except re.error as exc:
            raise ConfigError(
                f"retry_on of {name}: '{entry}' is not an error class or a regular expression ({exc})",
                location=location,
                hint=RETRY_ON_HINT,
            ) from None
        patterns.append(entry)
    return tuple(patterns)


def time_range_settings(config: NodeConfig, *, name: str, locate: Locate) -> TimeRange:
    """The TimeRange of a time-range model; ConfigError when a setting is missing or bad."""
    if not config.time_column:
        raise ConfigError(
            f"time-range model {name} has no time_column",
            location=locate("incremental_strategy"),
            hint="set time_column to the timestamp column its rows are sliced by",
        )
    if not config.batch_size:
        raise ConfigError(
            f"time-range model {name} has no batch_size",
            location=locate("incremental_strategy"),
            hint="set batch_size to the length of one interval: hour, day, week, month or '15 minutes'",
        )
    try:
        unit, count = parse_batch_size(config.batch_size)
    except ConfigError as exc:
        raise ConfigError(f"{exc.message} in {name}", location=locate("batch_size"), hint=exc.hint) from None
    tz = config.batch_timezone or "UTC"
    check_zone(tz, location=locate("batch_timezone"))
    begin = None
    if config.begin is not None:
        begin = parse_instant(config.begin, tz, what=f"begin of {name}", location=locate("begin"))
    if config.cron is not None:
        check_cron(config.cron, tz=tz, location=locate("cron"))
    return TimeRange(
        time_column=config.time_column,
        unit=unit,
        count=count,
        timezone=tz,
        begin=begin,
        lookback=max(0, config.lookback or 0),
        cron=config.cron,
        concurrent=bool(config.concurrent_batches),
    )


def parse_batch_size(text: str) -> tuple[Unit, int]:
    """A batch_size as (unit, count): `count` minutes (dividing 60), an hour, a day, a week, or `count`
    months (dividing 12).

    >>> parse_batch_size("15 minutes"), parse_batch_size("day")
    (('minute', 15), ('day', 1))
    >>> parse_batch_size("fortnight")
    Traceback (most recent call last):
    ...
    sqlflow.errors.ConfigError: unknown batch_size 'fortnight' (use hour, day, week or month)
    """
    match = _GRAIN.match(str(text).lower())
    if not match:
        raise ConfigError(f"unknown batch_size '{text}'", hint="use hour, day, week or month")
    unit, count = cast(Unit, match[2]), int(match[1] or 1)
    ok = {"minute": 60 % count == 0 if count else False, "month": 12 % count == 0 if count else False}
    if not ok.get(unit, count == 1):
        raise ConfigError(
            f"a batch_size of {count} {unit}s is not supported",
            hint="minutes that divide an hour, months that divide a year, or one hour, day or week",
        )
    return unit, count


def parse_instant(text: Any, tz: str, *, what: str, location: SourceLocation | None = None) -> datetime:
    """An ISO date or datetime as aware UTC; a value without an offset is read on the wall clock of `tz`.

    >>> parse_instant("2024-03-01", "Europe/Berlin", what="begin")
    datetime.datetime(2024, 2, 29, 23, 0, tzinfo=datetime.timezone.utc)
    """
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise ConfigError(
            f"{what} is not a date or datetime: '{text}'",
            location=location,
            hint="write it as 2024-01-31 or 2024-01-31T06:00:00",
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)


def check_zone(tz: str, *, location: SourceLocation | None = None) -> None:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone '{tz}'", location=location, hint="an IANA name such as Europe/Berlin"
        ) from None


def check_cron(expression: str, *, tz: str = "UTC", location: SourceLocation | None = None) -> None:
    """ConfigError naming `location` when croniter cannot read the expression or the zone is unknown."""
    from croniter import croniter

    if not croniter.is_valid(expression):
        raise ConfigError(f"not a valid cron expression: '{expression}'", location=location, hint=CRON_HINT)
    check_zone(tz, location=location)


def _seconds(value: str | None, what: str, location: SourceLocation, examples: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError:
        raise ConfigError(
            f"'{value}' is not a duration ({what})",
            location=location,
            hint=f"write a duration such as {examples}",
        ) from None


__all__ = [
    "Orchestration",
    "check_cron",
    "check_zone",
    "orchestration_settings",
    "parse_batch_size",
    "parse_instant",
    "retry_patterns",
    "retry_settings",
    "time_range_settings",
]
