"""The re-poke settings of a sensor or of a test acting as one: poke_interval, timeout, on_timeout, backoff,
max_poke_interval, checked and normalised to seconds.

`normalise_sensor` reads the `sensor:` config of a test (`true`, `false` or a mapping); `poke_settings` reads
the same keys from any mapping (a `sensors:` entry holds them at its top level). Imports only
`sqlflow.errors`, `sqlflow.policies` and this package.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation, did_you_mean
from sqlflow.policies import POKE_DEFAULTS as DEFAULTS
from sqlflow.project.durations import DURATION_HINT, describe_seconds, parse_duration
from sqlflow.project.yamlfile import YamlMap, kind

POKE_KEYS = ("poke_interval", "timeout", "on_timeout", "backoff", "max_poke_interval")
ON_TIMEOUT = ("fail", "skip")
# the defaults live in one place, manifest.PokeSettings; a layer's settings go on top of the layer below
# (a source's sensor under its table's), never on top of the defaults again
POKE_DEFAULTS: Mapping[str, Any] = dataclasses.asdict(DEFAULTS)
SENSOR_EXAMPLE = "like sensor: {poke_interval: 30s, timeout: 10m, on_timeout: skip}"


class PokeConfig(dict[str, Any]):
    """A normalised `sensor:` config: all five settings, and the keys its own layer wrote (`written`), so
    that a layer above it (a test's config over its table's sensor, a property file over sqlflow.yml)
    replaces only what it writes (`merge_sensor`). Compares and prints as the plain dict it is."""

    def __init__(self, settings: Mapping[str, Any], written: frozenset[str] = frozenset()) -> None:
        super().__init__(settings)
        self.written = written


def merge_sensor(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override`'s written settings on top of `base`'s; an empty `override` (sensor: false) turns it off.

    >>> below = normalise_sensor({"timeout": "1h"}, path="x.yml", line=1)
    >>> above = normalise_sensor({"poke_interval": "10s"}, path="x.yml", line=2)
    >>> merged = merge_sensor(below, above)
    >>> merged["poke_interval"], merged["timeout"]
    (10.0, 3600.0)
    """
    written = getattr(override, "written", None)
    if not override or not base or written is None:
        return dict(override)
    return PokeConfig(
        {**base, **{k: override[k] for k in written}}, frozenset(getattr(base, "written", ())) | written
    )


def normalise_sensor(
    value: Any,
    *,
    path: str,
    line: int | None,
    context: str = "",
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `sensor:` config of a test: `true` -> `base` (the settings inherited, else the defaults),
    `false`/null -> {} (not a sensor), a mapping -> its settings on top of `base` (see `poke_settings`).
    Normalising twice changes nothing.

    >>> settings = normalise_sensor({"poke_interval": "1m", "on_timeout": "skip"}, path="x.yml", line=3)
    >>> settings == {"poke_interval": 60.0, "timeout": 600.0, "on_timeout": "skip", "backoff": False,
    ...              "max_poke_interval": None}
    True
    """
    under = f" under {context}" if context else ""
    if value is None or value is False:
        return {}
    inherited = frozenset(getattr(base, "written", ()))  # what the layer below wrote counts as written
    if value is True:
        return PokeConfig(base or POKE_DEFAULTS, inherited)
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"'sensor'{under} must be true, false or a mapping, not {kind(value)}",
            location=SourceLocation(path, line),
            hint=SENSOR_EXAMPLE,
        )
    owner = f"sensor{under}"
    lines = value.key_lines if isinstance(value, YamlMap) else {}
    for key in value:
        if key not in POKE_KEYS:
            raise ConfigError(
                f"unknown key '{key}' in {owner}",
                location=SourceLocation(path, lines.get(key, line)),
                hint=did_you_mean(str(key), POKE_KEYS) or "keys: " + ", ".join(POKE_KEYS),
            )
    settings = poke_settings(value, path=path, line=line, owner=owner, base=base)
    return PokeConfig(settings, inherited | {k for k in value if value[k] is not None})


def poke_settings(
    raw: Mapping[str, Any],
    *,
    path: str,
    line: int | None,
    owner: str,
    base: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The five re-poke settings found in `raw` (other keys ignored), `base`'s (else the defaults) for the
    missing ones.

    Durations are seconds as floats ("30s", "10m", "1h", "1d" or a number); poke_interval must be more
    than 0; max_poke_interval (None = no cap) at least poke_interval. `owner` names the place in messages:
    `'timeout' of sensor 'landing' must be a duration, not 'soon'`.
    """
    lines = raw.key_lines if isinstance(raw, YamlMap) else {}

    def where(key: str) -> SourceLocation:
        return SourceLocation(path, lines.get(key, line))

    out = dict(base or POKE_DEFAULTS)
    for key in ("poke_interval", "timeout", "max_poke_interval"):
        value = raw.get(key)
        if value is None:
            continue
        try:
            seconds = parse_duration(value)
        except ValueError:
            raise ConfigError(
                f"'{key}' of {owner} must be a duration, not {_shown(value)}",
                location=where(key),
                hint=DURATION_HINT,
            ) from None
        if seconds <= 0 and key != "timeout":
            raise ConfigError(
                f"'{key}' of {owner} must be more than 0 seconds, not {_shown(value)}",
                location=where(key),
                hint=DURATION_HINT,
            )
        out[key] = seconds
    on_timeout = raw.get("on_timeout")
    if on_timeout is not None:
        if not isinstance(on_timeout, str) or on_timeout.lower() not in ON_TIMEOUT:
            raise ConfigError(
                f"'on_timeout' of {owner} must be fail or skip, not {_shown(on_timeout)}",
                location=where("on_timeout"),
                hint=did_you_mean(str(on_timeout), ON_TIMEOUT)
                or "fail marks the waiting nodes failed, skip skips them (a soft fail)",
            )
        out["on_timeout"] = on_timeout.lower()
    backoff = raw.get("backoff")
    if backoff is not None:
        if not isinstance(backoff, bool):
            raise ConfigError(
                f"'backoff' of {owner} must be true or false, not {_shown(backoff)}",
                location=where("backoff"),
            )
        out["backoff"] = backoff
    cap = out["max_poke_interval"]
    if cap is not None and cap < out["poke_interval"]:
        raise ConfigError(
            f"'max_poke_interval' of {owner} ({describe_seconds(cap)}) is shorter than its poke_interval "
            f"({describe_seconds(out['poke_interval'])})",
            location=where("max_poke_interval"),
            hint="raise max_poke_interval or lower poke_interval",
        )
    return out


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else kind(value)
