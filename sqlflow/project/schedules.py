"""`schedules:` of sqlflow.yml -> validated `ScheduleJob`s, every error naming file:line.

    schedules:
      - name: nightly
        cron: "0 2 * * *"          # croniter syntax (5 fields, a 6th for seconds) or @hourly, @daily ...
        timezone: Europe/Berlin    # IANA name; default UTC
        command: build             # run | build | seed | test | snapshot; default build
        select: tag:nightly        # a string or a list, as --select
        vars: {region: eu}
        catchup: false             # run every missed tick, or only the latest (default)
        max_active_runs: 1
        overlap: skip              # skip | queue: a tick that comes while the job still runs
        full_refresh: false

Imports `sqlflow.errors`, this package and, to check an expression, croniter (only when a project has
schedules; the cron arithmetic itself lives in `sqlflow.schedule.cron`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlflow.errors import ConfigError
from sqlflow.project.types import ScheduleJob
from sqlflow.project.yamlfile import (
    YamlList,
    YamlMap,
    check_keys,
    expect_list,
    expect_map,
    expect_str,
    expect_str_list,
    item_location,
    key_location,
    kind,
    plain,
    wrong_type,
)

JOB_KEYS = (
    "name", "cron", "timezone", "command", "select", "exclude", "vars", "catchup", "max_active_runs",
    "overlap", "full_refresh", "description",
)  # fmt: skip
COMMANDS = ("run", "build", "seed", "test", "snapshot")
OVERLAPS = ("skip", "queue")
_JOB_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def read_schedules(shown: str, doc: Mapping[str, Any]) -> tuple[ScheduleJob, ...]:
    """The jobs of `schedules:` in the project file `shown` (none when the key is missing)."""
    jobs = expect_list(shown, doc, "schedules", "")
    out: list[ScheduleJob] = []
    seen: dict[str, int | None] = {}
    for index, raw in enumerate(jobs):
        if not isinstance(raw, dict):
            raise ConfigError(
                f"each entry of 'schedules' must be a mapping with name and cron, not {kind(raw)}",
                location=item_location(shown, jobs, index),
                hint="write '- name: nightly' and 'cron: \"0 2 * * *\"' on the next line",
            )
        job = _read_job(shown, raw if isinstance(raw, YamlMap) else YamlMap(raw), jobs, index)
        if job.name in seen:
            raise ConfigError(
                f"duplicate schedule name '{job.name}' (first at line {seen[job.name]})",
                location=key_location(shown, raw, "name"),
                hint="give every schedule its own name",
            )
        seen[job.name] = job.line
        out.append(job)
    return tuple(out)


def _read_job(shown: str, raw: YamlMap, jobs: YamlList, index: int) -> ScheduleJob:
    name = expect_str(shown, raw, "name", "schedules")
    if name is None:
        raise ConfigError(
            "a schedule needs a 'name'",
            location=item_location(shown, jobs, index),
            hint="add 'name: nightly'",
        )
    if not _JOB_NAME.fullmatch(name):
        raise ConfigError(
            f"schedule name '{name}' may hold only letters, digits, '_', '-' and '.'",
            location=key_location(shown, raw, "name"),
        )
    context = f"schedule '{name}'"
    check_keys(shown, raw, JOB_KEYS, context)

    cron = expect_str(shown, raw, "cron", context)
    if cron is None:
        raise ConfigError(
            f"schedule '{name}' needs a 'cron' expression",
            location=key_location(shown, raw, "name"),
            hint="add 'cron: \"0 2 * * *\"' (or @hourly, @daily ...)",
        )
    timezone = expect_str(shown, raw, "timezone", context, default="UTC")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone '{timezone}' in schedule '{name}'",
            location=key_location(shown, raw, "timezone"),
            hint="an IANA name such as Europe/Berlin or America/New_York",
        ) from None
    _check_cron(cron.strip(), zone, name, key_location(shown, raw, "cron"))

    command = expect_str(shown, raw, "command", context, default="build")
    if command not in COMMANDS:
        raise ConfigError(
            f"unknown command '{command}' in schedule '{name}'",
            location=key_location(shown, raw, "command"),
            hint="one of " + ", ".join(COMMANDS),
        )
    overlap = expect_str(shown, raw, "overlap", context, default="skip")
    if overlap not in OVERLAPS:
        raise ConfigError(
            f"'overlap' in schedule '{name}' must be skip or queue, not '{overlap}'",
            location=key_location(shown, raw, "overlap"),
            hint="skip: a tick that comes while the job still runs is recorded as skipped; queue: it waits",
        )
    max_active = raw.get("max_active_runs", 1)
    if isinstance(max_active, bool) or not isinstance(max_active, int) or max_active < 1:
        raise ConfigError(
            f"'max_active_runs' in schedule '{name}' must be a whole number of at least 1, "
            f"not {max_active!r}",
            location=key_location(shown, raw, "max_active_runs"),
        )
    vars_ = expect_map(shown, raw, "vars", context)
    return ScheduleJob(
        name=name,
        cron=cron.strip(),
        timezone=timezone,
        command=command,
        select=_terms(shown, raw, "select", context),
        exclude=_terms(shown, raw, "exclude", context),
        vars=plain(vars_),
        catchup=_flag(shown, raw, "catchup", context),
        max_active_runs=max_active,
        overlap=overlap,
        full_refresh=_flag(shown, raw, "full_refresh", context),
        description=expect_str(shown, raw, "description", context, default=""),
        path=shown,
        line=key_location(shown, raw, "name").line,
    )


def _check_cron(expression: str, zone: ZoneInfo, name: str, location: Any) -> None:
    """ConfigError when croniter cannot read `expression` or it never fires."""
    from croniter import CroniterError, croniter

    hint = (
        "five fields 'minute hour day month weekday' (e.g. '0 6 * * *'), a sixth for seconds "
        "('* * * * * */10'), or @hourly, @daily, @weekly, @monthly, @yearly"
    )
    if not croniter.is_valid(expression):
        raise ConfigError(
            f"not a valid cron expression in schedule '{name}': '{expression}'", location=location, hint=hint
        )
    try:  # from a fixed day: validation never reads the clock
        croniter(expression, datetime(2000, 1, 1, tzinfo=UTC).astimezone(zone)).get_next(datetime)
    except (CroniterError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"the cron expression of schedule '{name}' never fires: '{expression}'",
            location=location,
            hint="check the day and month fields",
        ) from exc


def _flag(shown: str, raw: YamlMap, key: str, context: str) -> bool:
    value = raw.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise wrong_type(shown, raw, key, "true or false", context)
    return value


def _terms(shown: str, raw: YamlMap, key: str, context: str) -> tuple[str, ...]:
    """`select:` / `exclude:` as selector terms (a value may hold several, space-separated, as on the CLI)."""
    values = expect_str_list(shown, raw, key, context) or ()
    return tuple(term for value in values for term in value.split())


__all__ = ["COMMANDS", "OVERLAPS", "read_schedules"]
