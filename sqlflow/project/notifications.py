"""`notifications:` in sqlflow.yml -> Notifications: alert channels, the events each wants, a run SLA and
model freshness deadlines, each checked with file:line and did-you-mean.

    notifications:
      sla: 30m                        # a run taking longer -> sla_missed
      freshness:                      # a model not built successfully today by its deadline -> not_fresh
        - {model: orders, deadline: "07:00", timezone: Europe/Berlin}
      channels:
        - name: team
          type: slack
          url: "{{ env_var('SLACK_WEBHOOK_URL') }}"
          events: [run_failed, run_recovered, test_warned]

A string value may be (or hold) `{{ env_var('NAME') }}` or `{{ env_var('NAME', 'default') }}`: checked here,
read only when an alert is sent (`resolve_env`), so a missing variable never stops a load or a run.
Imports only `sqlflow.errors` and this package (zoneinfo from the stdlib to check time zones).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from sqlflow.errors import ConfigError, SourceLocation, did_you_mean
from sqlflow.project.durations import DURATION_HINT, parse_duration
from sqlflow.project.yamlfile import (
    YamlList,
    YamlMap,
    check_keys,
    expect_map,
    expect_str,
    item_location,
    key_location,
    kind,
    wrong_type,
)

EVENTS = ("run_failed", "node_failed", "test_warned", "run_recovered", "sla_missed", "not_fresh")
DEFAULT_EVENTS = ("run_failed",)
CHANNEL_TYPES = ("webhook", "slack", "email", "apprise")
SECURITY = ("starttls", "ssl", "none")
TOP_KEYS = ("channels", "sla", "freshness")
COMMON_KEYS = ("name", "type", "events")
TYPE_KEYS: Mapping[str, tuple[str, ...]] = {
    "webhook": ("url", "headers"),
    "slack": ("url",),
    "email": ("host", "port", "from", "to", "username", "password", "security"),
    "apprise": ("url",),
}
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "webhook": ("url",),
    "slack": ("url",),
    "email": ("host", "from", "to"),
    "apprise": ("url",),
}
FRESHNESS_KEYS = ("model", "deadline", "timezone")
ENV_HINT = "write {{ env_var('NAME') }} or {{ env_var('NAME', 'default') }}"
_ENV_VAR = re.compile(r"\{\{\s*env_var\(\s*(['\"])(\w+)\1\s*(?:,\s*(['\"])(.*?)\3\s*)?\)\s*\}\}")
_TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """Where alerts go. Strings may still hold `{{ env_var(...) }}`: see resolve_env."""

    name: str
    type: str  # webhook | slack | email | apprise
    events: tuple[str, ...] = DEFAULT_EVENTS
    url: str | None = None  # webhook, slack (incoming webhook), apprise (any Apprise URL)
    headers: Mapping[str, str] | None = None  # webhook
    host: str | None = None  # email: the SMTP server
    port: int | None = None  # email: default 587 (starttls), 465 (ssl), 25 (none)
    sender: str | None = None  # email: `from`
    to: tuple[str, ...] = ()  # email
    username: str | None = None
    password: str | None = None
    security: str = "starttls"  # email: starttls | ssl | none
    location: SourceLocation | None = None

    def wants(self, event: str) -> bool:
        return event in self.events


@dataclass(frozen=True, slots=True, kw_only=True)
class FreshnessRule:
    """`model` must have been built successfully on the local day of each `deadline`, by that time."""

    model: str
    deadline: time
    timezone: str = "UTC"
    location: SourceLocation | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Notifications:
    channels: tuple[Channel, ...] = ()
    sla: float | None = None  # seconds; a schedule may give its own
    freshness: tuple[FreshnessRule, ...] = ()

    def wants(self, event: str) -> bool:
        """Some channel subscribes to `event`."""
        return any(c.wants(event) for c in self.channels)


NO_NOTIFICATIONS = Notifications()


def read_notifications(shown: str, doc: Mapping[str, Any]) -> Notifications:
    """The `notifications:` mapping of the project file `doc` (empty when missing)."""
    raw = expect_map(shown, doc, "notifications", "")
    if not raw:
        return NO_NOTIFICATIONS
    check_keys(shown, raw, TOP_KEYS, "notifications")
    sla = None
    if raw.get("sla") is not None:
        sla = _duration(shown, raw, "sla", "notifications")
    freshness = _freshness(shown, raw)
    channels = raw.get("channels")
    if channels is None:
        channels = YamlList()
    if not isinstance(channels, list):
        raise wrong_type(shown, raw, "channels", "a list of channels", "notifications")
    parsed = tuple(_channel(shown, channels, i) for i in range(len(channels)))
    _check_names(parsed)
    for channel in parsed:
        if channel.wants("not_fresh") and not freshness:
            raise ConfigError(
                f"channel '{channel.name}' wants not_fresh, but notifications has no freshness rules",
                location=channel.location,
                hint="add freshness: [{model: orders, deadline: '07:00'}] under notifications",
            )
    return Notifications(channels=parsed, sla=sla, freshness=freshness)


def resolve_env(text: str, environ: Mapping[str, str]) -> str:
    """`text` with every `{{ env_var('NAME'[, 'default']) }}` replaced from `environ`; KeyError(NAME) when a
    variable without default is unset.

    >>> resolve_env("Bearer {{ env_var('TOKEN') }}", {"TOKEN": "t0k"})
    'Bearer t0k'
    >>> resolve_env("{{ env_var('PORT', '25') }}", {})
    '25'
    """

    def value(found: re.Match[str]) -> str:
        name, default = found.group(2), found.group(4)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise KeyError(name)

    return _ENV_VAR.sub(value, text)


def _channel(shown: str, items: list[Any], index: int) -> Channel:
    entry = items[index]
    location = item_location(shown, items, index)
    if not isinstance(entry, dict):
        raise ConfigError(
            f"a channel must be a mapping, not {kind(entry)}",
            location=location,
            hint="like '- {type: slack, url: ..., events: [run_failed]}'",
        )
    channel_type = entry.get("type")
    if channel_type is None:
        raise ConfigError("a channel needs a 'type'", location=location, hint=", ".join(CHANNEL_TYPES))
    if channel_type not in CHANNEL_TYPES:
        raise ConfigError(
            f"unknown channel type {_shown(channel_type)}",
            location=key_location(shown, entry, "type"),
            hint=did_you_mean(str(channel_type), CHANNEL_TYPES) or "one of " + ", ".join(CHANNEL_TYPES),
        )
    name = expect_str(shown, entry, "name", "notifications.channels", default=channel_type)
    owner = f"channel '{name}'"
    _check_channel_keys(shown, entry, channel_type, owner)
    for key in REQUIRED[channel_type]:
        if entry.get(key) is None:
            raise ConfigError(f"{owner} needs '{key}'", location=location, hint=f"a {channel_type} channel")
    strings = {
        key: _string(shown, entry, key, owner)
        for key in ("url", "host", "from", "username", "password")
        if entry.get(key) is not None
    }
    url = strings.get("url")
    if url is not None:
        _check_url(shown, entry, url, channel_type, owner)
    return Channel(
        name=name,
        type=channel_type,
        events=_events(shown, entry, owner),
        url=url,
        headers=_headers(shown, entry, owner) if "headers" in entry else None,
        host=strings.get("host"),
        port=_port(shown, entry, owner),
        sender=strings.get("from"),
        to=_recipients(shown, entry, owner),
        username=strings.get("username"),
        password=strings.get("password"),
        security=_security(shown, entry, owner),
        location=location,
    )


def _check_channel_keys(shown: str, entry: Mapping[str, Any], channel_type: str, owner: str) -> None:
    allowed = (*COMMON_KEYS, *TYPE_KEYS[channel_type])
    for key in entry:
        if key in allowed:
            continue
        other = [t for t, keys in TYPE_KEYS.items() if key in keys]
        raise ConfigError(
            f"'{key}' does not apply to a {channel_type} channel ({owner})"
            if other
            else f"unknown key '{key}' of {owner}",
            location=key_location(shown, entry, key),
            hint=f"a {channel_type} channel takes " + ", ".join(allowed)
            if other
            else did_you_mean(str(key), allowed) or "one of " + ", ".join(allowed),
        )


def _events(shown: str, entry: Mapping[str, Any], owner: str) -> tuple[str, ...]:
    value = entry.get("events")
    if value is None:
        return DEFAULT_EVENTS
    if isinstance(value, str):
        value = YamlList([value])
        value.line = key_location(shown, entry, "events").line
    if not isinstance(value, list) or not value:
        raise wrong_type(shown, entry, "events", "a non-empty list of events", owner)
    for i, event in enumerate(value):
        if event not in EVENTS:
            raise ConfigError(
                f"unknown event {_shown(event)} of {owner}",
                location=item_location(shown, value, i),
                hint=did_you_mean(str(event), EVENTS) or "one of " + ", ".join(EVENTS),
            )
    return tuple(dict.fromkeys(value))


def _string(shown: str, entry: Mapping[str, Any], key: str, owner: str) -> str:
    value = str(expect_str(shown, entry, key, owner))
    _check_templates(value, key_location(shown, entry, key))
    return value


def _check_templates(value: str, location: SourceLocation) -> None:
    rest = _ENV_VAR.sub("", value)
    if "{{" in rest or "{%" in rest:
        raise ConfigError(
            f"only env_var() may be used in a notifications value: {value!r}",
            location=location,
            hint=ENV_HINT,
        )


def _check_url(shown: str, entry: Mapping[str, Any], url: str, channel_type: str, owner: str) -> None:
    if url.startswith("{{"):
        return  # the whole scheme comes from a variable
    if channel_type == "apprise":
        ok, what, hint = "://" in url, "an Apprise URL", "such as discord://..., msteams://... or ntfy://..."
    else:
        ok, what, hint = url.startswith(("http://", "https://")), "an http(s) URL", "start it with https://"
    if not ok:
        raise ConfigError(
            f"the url of {owner} is not {what}: {url!r}",
            location=key_location(shown, entry, "url"),
            hint=hint,
        )


def _headers(shown: str, entry: Mapping[str, Any], owner: str) -> dict[str, str]:
    raw = expect_map(shown, entry, "headers", owner)
    out = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise wrong_type(shown, raw, key, "a string", f"headers of {owner}")
        out[str(key)] = str(value)
        _check_templates(out[str(key)], key_location(shown, raw, key))
    return out


def _port(shown: str, entry: Mapping[str, Any], owner: str) -> int | None:
    value = entry.get("port")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ConfigError(
            f"the port of {owner} must be a number from 1 to 65535, not {value!r}",
            location=key_location(shown, entry, "port"),
        )
    return value


def _recipients(shown: str, entry: Mapping[str, Any], owner: str) -> tuple[str, ...]:
    value = entry.get("to")
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise wrong_type(shown, entry, "to", "an address or a list of addresses", owner)
    for address in items:
        _check_templates(address, key_location(shown, entry, "to"))
        if "@" not in address and not address.startswith("{{"):
            raise ConfigError(
                f"'{address}' in 'to' of {owner} is not an email address",
                location=key_location(shown, entry, "to"),
            )
    return tuple(items)


def _security(shown: str, entry: Mapping[str, Any], owner: str) -> str:
    value = entry.get("security")
    if value is None:
        return "starttls"
    if value not in SECURITY:
        raise ConfigError(
            f"unknown security {_shown(value)} of {owner}",
            location=key_location(shown, entry, "security"),
            hint="one of " + ", ".join(SECURITY),
        )
    return str(value)


def _check_names(channels: tuple[Channel, ...]) -> None:
    seen: dict[str, Channel] = {}
    for channel in channels:
        if channel.name in seen:
            first = seen[channel.name].location
            raise ConfigError(
                f"two channels are named '{channel.name}' (first at line {first.line if first else '?'})",
                location=channel.location,
                hint="give each channel its own 'name:'",
            )
        seen[channel.name] = channel


def _duration(shown: str, container: Mapping[str, Any], key: str, context: str) -> float:
    try:
        seconds = parse_duration(container[key])
    except ValueError:
        raise ConfigError(
            f"'{key}' under {context} is not a duration: {container[key]!r}",
            location=key_location(shown, container, key),
            hint=DURATION_HINT,
        ) from None
    if seconds <= 0:
        raise ConfigError(
            f"'{key}' under {context} must be longer than 0", location=key_location(shown, container, key)
        )
    return seconds


def _freshness(shown: str, raw: Mapping[str, Any]) -> tuple[FreshnessRule, ...]:
    value = raw.get("freshness")
    if value is None:
        return ()
    items: list[Any]
    if isinstance(value, dict):
        items = YamlList([value])
        items.item_lines.append(key_location(shown, raw, "freshness").line or 0)
    elif isinstance(value, list):
        items = value
    else:
        raise wrong_type(shown, raw, "freshness", "a mapping or a list of them", "notifications")
    return tuple(_rule(shown, items, i) for i in range(len(items)))


def _rule(shown: str, items: list[Any], index: int) -> FreshnessRule:
    entry = items[index]
    location = item_location(shown, items, index)
    hint = "like {model: orders, deadline: '07:00', timezone: Europe/Berlin}"
    if not isinstance(entry, dict):
        raise ConfigError(
            f"a freshness rule must be a mapping, not {kind(entry)}", location=location, hint=hint
        )
    entry = entry if isinstance(entry, YamlMap) else YamlMap(entry)
    check_keys(shown, entry, FRESHNESS_KEYS, "notifications.freshness")
    for key in ("model", "deadline"):
        if entry.get(key) is None:
            raise ConfigError(f"a freshness rule needs '{key}'", location=location, hint=hint)
    model = expect_str(shown, entry, "model", "notifications.freshness")
    deadline = str(expect_str(shown, entry, "deadline", "notifications.freshness"))
    found = _TIME_OF_DAY.match(deadline.strip())
    if found is None:
        raise ConfigError(
            f"deadline {deadline!r} of the freshness of '{model}' is not a time of day",
            location=key_location(shown, entry, "deadline"),
            hint="write HH:MM in quotes, like deadline: '07:00'",
        )
    tz = expect_str(shown, entry, "timezone", "notifications.freshness", default="UTC")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone '{tz}'",
            location=key_location(shown, entry, "timezone"),
            hint="an IANA name such as Europe/Berlin",
        ) from None
    hour, minute, second = (int(g) if g else 0 for g in found.groups())
    return FreshnessRule(model=model, deadline=time(hour, minute, second), timezone=tz, location=location)


def _shown(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else kind(value)


__all__ = [
    "CHANNEL_TYPES",
    "EVENTS",
    "NO_NOTIFICATIONS",
    "Channel",
    "FreshnessRule",
    "Notifications",
    "read_notifications",
    "resolve_env",
]
