"""The `sensors:` entries of property YAML -> SensorSpec: a name, a type (sql, file, http, time), the type's
parameters and the re-poke settings, each checked with file:line and did-you-mean.

    sensors:
      - name: landing_orders
        type: file
        path: landing/orders_*.csv
        min_size: 1KB
        poke_interval: 30s
        timeout: 2h
        on_timeout: skip

Imports only `sqlflow.errors` and this package (zoneinfo from the stdlib to check time zones).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation, did_you_mean
from sqlflow.project.durations import DURATION_HINT, SIZE_HINT, parse_duration, parse_size
from sqlflow.project.poke import POKE_KEYS, poke_settings
from sqlflow.project.types import SensorSpec
from sqlflow.project.yamlfile import (
    YamlMap,
    expect_map,
    expect_str,
    expect_str_list,
    item_location,
    key_location,
    kind,
    plain,
    wrong_type,
)

KINDS = ("sql", "file", "http", "time")
COMMON_KEYS = ("name", "type", "description", *POKE_KEYS, "tags", "meta")
KIND_KEYS: Mapping[str, tuple[str, ...]] = {
    "sql": ("sql",),
    "file": ("path", "min_size", "stable"),
    "http": ("url", "method", "status", "json_path", "equals", "truthy", "headers"),
    "time": ("at", "timezone", "delay"),
}
REQUIRED: Mapping[str, str] = {"sql": "sql", "file": "path", "http": "url"}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_STATUS = tuple(range(200, 300))
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_STATUS_CLASS = re.compile(r"^([1-5])xx$", re.IGNORECASE)


def parse_sensors(shown: str, items: list[Any]) -> list[SensorSpec]:
    """The sensors of one property file's `sensors:` list."""
    return [_sensor(shown, items, index) for index in range(len(items))]


def _sensor(shown: str, items: list[Any], index: int) -> SensorSpec:
    entry = items[index]
    location = item_location(shown, items, index)
    if not isinstance(entry, dict) or entry.get("name") is None:
        raise ConfigError(
            "a sensor needs a 'name'", location=location, hint="like '- name: landing_file' with 'type: file'"
        )
    name = expect_str(shown, entry, "name", "sensors")
    if not _NAME.match(name):
        raise ConfigError(
            f"sensor name '{name}' may only hold letters, digits, '_' and '-'",
            location=key_location(shown, entry, "name"),
        )
    owner = f"sensor '{name}'"
    sensor_kind = entry.get("type")
    if sensor_kind is None:
        raise ConfigError(f"{owner} needs a 'type'", location=location, hint="one of " + ", ".join(KINDS))
    if sensor_kind not in KINDS:
        raise ConfigError(
            f"unknown sensor type {_shown(sensor_kind)} of {owner}",
            location=key_location(shown, entry, "type"),
            hint=did_you_mean(str(sensor_kind), KINDS) or "one of " + ", ".join(KINDS),
        )
    _check_keys(shown, entry, sensor_kind, owner)
    missing = REQUIRED.get(sensor_kind)
    if missing is not None and entry.get(missing) is None:
        raise ConfigError(
            f"{owner} needs '{missing}'", location=location, hint=f"a {sensor_kind} sensor checks it"
        )
    params = _PARAMS[sensor_kind](shown, entry, owner)
    lines = entry.key_lines if isinstance(entry, YamlMap) else {}
    return SensorSpec(
        name=name,
        kind=sensor_kind,
        path=shown,
        line=location.line,
        params=params,
        poke=poke_settings(entry, path=shown, line=location.line, owner=owner),
        description=expect_str(shown, entry, "description", owner, default=""),
        tags=expect_str_list(shown, entry, "tags", owner) or (),
        meta=plain(expect_map(shown, entry, "meta", owner)),
        param_lines={k: v for k, v in lines.items() if k in KIND_KEYS[sensor_kind]},
    )


def _check_keys(shown: str, entry: Mapping[str, Any], sensor_kind: str, owner: str) -> None:
    allowed = (*COMMON_KEYS, *KIND_KEYS[sensor_kind])
    for key in entry:
        if key in allowed:
            continue
        other = [k for k, keys in KIND_KEYS.items() if key in keys]
        if other:
            raise ConfigError(
                f"'{key}' does not apply to a {sensor_kind} sensor ({owner})",
                location=key_location(shown, entry, key),
                hint=f"it belongs to a {other[0]} sensor; a {sensor_kind} sensor takes "
                + ", ".join(KIND_KEYS[sensor_kind]),
            )
        raise ConfigError(
            f"unknown key '{key}' of {owner}",
            location=key_location(shown, entry, key),
            hint=did_you_mean(str(key), allowed) or "keys: " + ", ".join(allowed),
        )


def _sql(shown: str, entry: Mapping[str, Any], owner: str) -> dict[str, Any]:
    sql = entry["sql"]
    if not isinstance(sql, str) or not sql.strip():
        raise ConfigError(
            f"'sql' of {owner} must be a query, not {_shown(sql)}",
            location=key_location(shown, entry, "sql"),
            hint="a query whose first value is truthy, or that returns a row, when the data is there",
        )
    return {"sql": sql}


def _file(shown: str, entry: Mapping[str, Any], owner: str) -> dict[str, Any]:
    path = expect_str(shown, entry, "path", owner)
    if not path.strip():
        raise ConfigError(f"'path' of {owner} is empty", location=key_location(shown, entry, "path"))
    min_size = entry.get("min_size")
    if min_size is not None:
        try:
            min_size = parse_size(min_size)
        except ValueError:
            raise ConfigError(
                f"'min_size' of {owner} must be a size, not {_shown(min_size)}",
                location=key_location(shown, entry, "min_size"),
                hint=SIZE_HINT,
            ) from None
    return {"path": path, "min_size": min_size, "stable": _bool(shown, entry, "stable", owner)}


def _http(shown: str, entry: Mapping[str, Any], owner: str) -> dict[str, Any]:
    url = expect_str(shown, entry, "url", owner)
    if not url.lower().startswith(("http://", "https://")) and not url.lstrip().startswith("{{"):
        raise ConfigError(
            f"'url' of {owner} must start with http:// or https://, not {url!r}",
            location=key_location(shown, entry, "url"),
        )
    method = str(expect_str(shown, entry, "method", owner, default="GET")).upper()
    if method not in METHODS:
        raise ConfigError(
            f"'method' of {owner} must be one of {', '.join(METHODS)}, not {entry['method']!r}",
            location=key_location(shown, entry, "method"),
            hint=did_you_mean(method, METHODS),
        )
    json_path = expect_str(shown, entry, "json_path", owner)
    for key in ("equals", "truthy"):
        if key in entry and json_path is None:
            raise ConfigError(
                f"'{key}' of {owner} needs 'json_path'",
                location=key_location(shown, entry, key),
                hint="json_path names the field of the JSON answer to check, like data.ready",
            )
    if "equals" in entry and "truthy" in entry:
        raise ConfigError(
            f"{owner} takes 'equals' or 'truthy', not both", location=key_location(shown, entry, "truthy")
        )
    headers = expect_map(shown, entry, "headers", owner)
    for key, value in headers.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise wrong_type(shown, headers, key, "a string", f"headers of {owner}")
    truthy = _bool(shown, entry, "truthy", owner) if "truthy" in entry else "equals" not in entry
    if "truthy" in entry and not truthy:
        raise ConfigError(
            f"'truthy: false' of {owner} checks nothing",
            location=key_location(shown, entry, "truthy"),
            hint="write equals: <value> to compare the field with a value",
        )
    return {
        "url": url,
        "method": method,
        "status": _status(shown, entry, owner),
        "json_path": json_path,
        "equals": plain(entry.get("equals")),
        "truthy": truthy and json_path is not None,
        "headers": {str(k): str(v) for k, v in headers.items()},
    }


def _status(shown: str, entry: Mapping[str, Any], owner: str) -> tuple[int, ...]:
    """The accepted status codes: a code, "2xx", or a list of them; 200-299 when not given."""
    value = entry.get("status")
    if value is None:
        return DEFAULT_STATUS
    codes: list[int] = []
    for item in value if isinstance(value, list) else [value]:
        found = _STATUS_CLASS.match(item) if isinstance(item, str) else None
        if found:
            base = int(found.group(1)) * 100
            codes.extend(range(base, base + 100))
        elif isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
            codes.append(item)
        else:
            raise ConfigError(
                f"'status' of {owner} must be HTTP status codes, not {_shown(item)}",
                location=key_location(shown, entry, "status"),
                hint="like status: 200, status: [200, 204] or status: 2xx",
            )
    return tuple(sorted(set(codes)))


def _time(shown: str, entry: Mapping[str, Any], owner: str) -> dict[str, Any]:
    at, delay = entry.get("at"), entry.get("delay")
    if (at is None) == (delay is None):
        raise ConfigError(
            f"{owner} needs either 'at' or 'delay'"
            if at is None
            else f"{owner} takes 'at' or 'delay', not both",
            location=key_location(shown, entry, "delay" if at is not None else "type"),
            hint="at: a time of day like '06:30' (with timezone:); delay: a duration after the run's "
            "scheduled time",
        )
    timezone = expect_str(shown, entry, "timezone", owner, default="UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {timezone!r} of {owner}",
            location=key_location(shown, entry, "timezone"),
            hint=did_you_mean(timezone, zoneinfo.available_timezones()) or "an IANA name like Europe/Berlin",
        ) from None
    out: dict[str, Any] = {"at": None, "timezone": timezone, "delay": None}
    if at is not None:
        found = _TIME_OF_DAY.match(at) if isinstance(at, str) else None
        if not found:
            raise ConfigError(
                f"'at' of {owner} must be a time of day like '06:30' or '06:30:00', not {_shown(at)}",
                location=key_location(shown, entry, "at"),
            )
        hours, minutes, seconds = found.group(1), found.group(2), found.group(3) or "00"
        out["at"] = f"{int(hours):02d}:{minutes}:{seconds}"
    else:
        try:
            out["delay"] = parse_duration(delay)
        except ValueError:
            raise ConfigError(
                f"'delay' of {owner} must be a duration, not {_shown(delay)}",
                location=key_location(shown, entry, "delay"),
                hint=DURATION_HINT,
            ) from None
    return out


def _bool(shown: str, entry: Mapping[str, Any], key: str, owner: str) -> bool:
    value = entry.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConfigError(
            f"'{key}' of {owner} must be true or false, not {_shown(value)}",
            location=key_location(shown, entry, key),
        )
    return value


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else kind(value)


_PARAMS = {"sql": _sql, "file": _file, "http": _http, "time": _time}


def sensor_location(spec: SensorSpec, param: str | None = None) -> SourceLocation:
    """Where `spec` (or one of its parameters) is written."""
    line = spec.param_lines.get(param, spec.line) if param else spec.line
    return SourceLocation(spec.path, line)
