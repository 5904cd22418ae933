"""Durations and sizes as users write them in YAML: "30s", "10m", "1h", "1d" or a number of seconds;
"10KB", "5 MB" or a number of bytes; dbt's `{count: 12, period: hour}`.

Pure functions raising ValueError (the caller adds file:line). Imports nothing from sqlflow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DURATION_HINT = "write a number of seconds or a duration like 30s, 10m, 1h or 1d"
SIZE_HINT = "write a number of bytes or a size like 500B, 10KB, 5MB or 1GB"
PERIODS: Mapping[str, int] = {"minute": 60, "hour": 3600, "day": 86400}

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*$")
_SECONDS: Mapping[str, int] = {
    **dict.fromkeys(("", "s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_BYTES: Mapping[str, int] = {
    **dict.fromkeys(("", "b", "byte", "bytes"), 1),
    **dict.fromkeys(("kb", "kib", "k"), 1024),
    **dict.fromkeys(("mb", "mib", "m"), 1024**2),
    **dict.fromkeys(("gb", "gib", "g"), 1024**3),
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def parse_duration(value: Any) -> float:
    """Seconds from a duration: a number (seconds), "30s", "10m", "1.5h", "2d", "90 seconds", or dbt's
    `{count: 12, period: hour}`. Raises ValueError for anything else, or a negative amount.

    >>> [parse_duration(v) for v in (45, "30s", "10m", "1.5h", "2d", "90", {"count": 12, "period": "hour"})]
    [45.0, 30.0, 600.0, 5400.0, 172800.0, 90.0, 43200.0]
    """
    number = _number(value)
    if number is not None:
        if number < 0:
            raise ValueError("negative")
        return number
    if isinstance(value, Mapping):
        if set(value) != {"count", "period"}:
            raise ValueError("a mapping needs exactly count and period")
        count, period = _number(value["count"]), value["period"]
        if count is None or count < 0 or period not in PERIODS:
            raise ValueError("bad count or period")
        return count * PERIODS[period]
    if isinstance(value, str):
        found = _AMOUNT.match(value)
        if found and found.group(2).lower() in _SECONDS:
            return float(found.group(1)) * _SECONDS[found.group(2).lower()]
    raise ValueError("not a duration")


def parse_size(value: Any) -> int:
    """Bytes from a size: a whole number (bytes), "500B", "10KB", "1.5 MB", "2GiB" (K = 1024).

    >>> [parse_size(v) for v in (0, 2048, "10KB", "1.5MB", "2 gib")]
    [0, 2048, 10240, 1572864, 2147483648]
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("negative")
        return value
    if isinstance(value, str):
        found = _AMOUNT.match(value)
        if found and found.group(2).lower() in _BYTES:
            return int(float(found.group(1)) * _BYTES[found.group(2).lower()])
    raise ValueError("not a size")


def describe_seconds(seconds: float) -> str:
    """A duration in the largest unit that divides it: 600 -> "10m", 5400 -> "90m", 45.5 -> "45.5s".

    >>> [describe_seconds(s) for s in (30, 600, 5400, 7200, 86400, 45.5)]
    ['30s', '10m', '90m', '2h', '1d', '45.5s']
    """
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds) if float(seconds).is_integer() else seconds}s"
