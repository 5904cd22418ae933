"""Sensors: one poke function per kind (sql, file, http, time, and a data test acting as a sensor), and the
poke loop `wait_for` that re-pokes until a poke succeeds, the timeout runs out or the wait is cancelled.

A poke answers `PokeResult(ok, detail)` and never raises for what it is waiting for (a missing table, a
refused connection, a file not there yet): those are misses. `wait_for` takes the clock, the sleep and the
cancel check as arguments, so tests drive it with fake time and the runner passes `time.monotonic` and an
`Event.wait`; this module reads no clock itself. Imports no driver; http uses urllib.

>>> clock = FakeClock()
>>> answers = iter([False, False, True])
>>> wait_for(lambda: PokeResult(next(answers), "x"), poke_interval=1, timeout=10, backoff=True,
...          clock=clock.now, sleep=clock.sleep)
WaitOutcome(ok=True, pokes=3, waited=3.0, detail='x', cancelled=False)
"""

from __future__ import annotations

import glob
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlflow.adapters import Adapter
from sqlflow.checks.data_tests import TestOutcome, run_test
from sqlflow.errors import ConfigError, SqlflowError
from sqlflow.manifest import Relation, SensorNode, TestNode

HTTP_TIMEOUT = 10.0  # seconds per request, unless the sensor's `request_timeout` says otherwise


@dataclass(frozen=True, slots=True)
class PokeResult:
    ok: bool
    detail: str  # what was seen: "landing/a.csv: 1 file, 120 bytes", "http://x answered 503"


Poke = Callable[[], PokeResult]


@dataclass(frozen=True, slots=True)
class WaitOutcome:
    ok: bool
    pokes: int
    waited: float  # seconds, by the clock given to wait_for
    detail: str  # the last poke's detail
    cancelled: bool = False


def wait_for(
    poke: Poke,
    *,
    poke_interval: float,
    timeout: float,
    backoff: bool = False,
    max_poke_interval: float | None = None,
    clock: Callable[[], float],
    sleep: Callable[[float], object],
    cancelled: Callable[[], bool] = lambda: False,
) -> WaitOutcome:
    """Poke now, then every `poke_interval` seconds (doubled after each miss with `backoff`, up to
    `max_poke_interval`), until a poke succeeds or `timeout` seconds have passed. The last poke happens at
    the deadline. `sleep` may return early (an `Event.wait`); `cancelled` is checked before every poke.

    >>> clock = FakeClock()
    >>> wait_for(lambda: PokeResult(False, "no"), poke_interval=1, timeout=10, backoff=True,
    ...          max_poke_interval=3, clock=clock.now, sleep=clock.sleep), clock.slept
    (WaitOutcome(ok=False, pokes=6, waited=10.0, detail='no', cancelled=False), [1.0, 2.0, 3.0, 3.0, 1.0])
    """
    start = clock()
    interval = max(float(poke_interval), 0.0)
    pokes = 0
    detail = "not poked"
    while True:
        if cancelled():
            return WaitOutcome(False, pokes, clock() - start, detail, cancelled=True)
        pokes += 1
        try:
            result = poke()
        except Exception as exc:  # a poke should not raise; if it does, it is a miss that says why
            result = PokeResult(False, f"{type(exc).__name__}: {exc}")
        detail = result.detail
        waited = clock() - start
        if result.ok:
            return WaitOutcome(True, pokes, waited, detail)
        remaining = timeout - waited
        if remaining <= 0:
            return WaitOutcome(False, pokes, waited, detail)
        sleep(min(interval, remaining))
        if backoff:
            interval *= 2
            if max_poke_interval is not None:
                interval = min(interval, float(max_poke_interval))


class FakeClock:
    """A clock that moves only when slept on: for tests and doctests of `wait_for`."""

    def __init__(self, start: float = 0.0) -> None:
        self.time = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> bool:
        self.slept.append(seconds)
        self.time += seconds
        return False


def describe_duration(seconds: float) -> str:
    """A short human duration.

    >>> [describe_duration(s) for s in (0.5, 2, 90, 600, 3600, 5400, 86400)]
    ['0.5s', '2s', '1m30s', '10m', '1h', '1h30m', '1d']
    """
    if seconds < 60 and seconds != int(seconds):
        return f"{seconds:g}s"
    rest = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts[:2]) or "0s"


# -- poke functions -----------------------------------------------------------------------------------------


def sql_poke(adapter: Adapter, sql: str) -> Poke:
    """A query answers: one value -> its truthiness; several rows or columns -> at least one row."""

    def poke() -> PokeResult:
        try:
            _, rows = adapter.fetch(sql)
        except SqlflowError as exc:
            return PokeResult(False, str(exc))
        if not rows:
            return PokeResult(False, "the query returned no row")
        if len(rows) == 1 and len(rows[0]) == 1:
            value = rows[0][0]
            return PokeResult(bool(value), f"the query returned {value!r}")
        return PokeResult(True, f"the query returned {len(rows)} row{'s' if len(rows) != 1 else ''}")

    return poke


def file_poke(pattern: str, *, root: Path, min_size: int | None = None, stable: bool = False) -> Poke:
    """Files matching a glob (relative to `root`, or absolute; `**` allowed) exist, hold at least
    `min_size` bytes together, and with `stable` have the same sizes as on the previous poke."""
    previous: list[tuple[tuple[str, int], ...] | None] = [None]

    def poke() -> PokeResult:
        if os.path.isabs(pattern):
            paths = glob.glob(pattern, recursive=True)
        else:
            paths = [os.path.join(root, p) for p in glob.glob(pattern, root_dir=root, recursive=True)]
        try:
            sizes = tuple(sorted((p, os.stat(p).st_size) for p in paths if os.path.isfile(p)))
        except OSError as exc:  # a file went away between the glob and the stat
            previous[0] = None
            return PokeResult(False, f"{pattern}: {exc}")
        last, previous[0] = previous[0], sizes
        if not sizes:
            return PokeResult(False, f"no file matches {pattern}")
        total = sum(size for _, size in sizes)
        seen = f"{pattern}: {len(sizes)} file{'s' if len(sizes) != 1 else ''}, {total} bytes"
        if min_size is not None and total < min_size:
            return PokeResult(False, f"{seen}, less than min_size {min_size}")
        if stable and last != sizes:
            return PokeResult(False, f"{seen}, waiting for the size to stay the same")
        return PokeResult(True, seen)

    return poke


def http_poke(
    url: str,
    *,
    method: str = "GET",
    status: int | Collection[int] | None = None,
    json_path: str | None = None,
    equals: Any = None,
    timeout: float = HTTP_TIMEOUT,
) -> Poke:
    """A URL answers with an allowed status (default any 2xx) and, with `json_path`, a JSON body whose
    field at that dotted path (list items by index: `items.0.state`) equals `equals`, or is truthy."""
    allowed = _allowed_statuses(status)

    def poke() -> PokeResult:
        request = urllib.request.Request(url, method=method.upper())
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                code, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            code, body = exc.code, exc.read() if exc.fp is not None else b""
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return PokeResult(False, f"{url}: {reason}")
        if not (allowed(code)):
            return PokeResult(False, f"{url} answered {code}")
        if json_path is None:
            return PokeResult(True, f"{url} answered {code}")
        try:
            doc = json.loads(body)
        except ValueError:
            return PokeResult(False, f"{url} answered {code} with a body that is not JSON")
        found, value = lookup(doc, json_path)
        if not found:
            return PokeResult(False, f"{url}: no field {json_path} in the answer")
        ok = value == equals if equals is not None else bool(value)
        return PokeResult(ok, f"{url}: {json_path} is {json.dumps(value)}")

    return poke


def lookup(doc: Any, path: str) -> tuple[bool, Any]:
    """(found, value) at a dotted path in parsed JSON.

    >>> lookup({"data": {"items": [{"ok": True}]}}, "data.items.0.ok"), lookup({"a": 1}, "a.b")
    ((True, True), (False, None))
    """
    value = doc
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def time_poke(
    *,
    at: str | None = None,
    timezone: str = "UTC",
    delay: float | None = None,
    scheduled_at: datetime,
    now: Callable[[], datetime],
) -> Poke:
    """It is past `at` (HH:MM[:SS], local time in `timezone`, on the day of `scheduled_at` there) and/or
    past `delay` seconds after `scheduled_at` (the run's scheduled time, timezone-aware)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone '{timezone}'", hint="use an IANA name like Europe/Berlin"
        ) from exc
    targets = []
    if at is not None:
        try:
            clock_time = time.fromisoformat(str(at))
        except ValueError as exc:
            raise ConfigError(f"cannot read the time '{at}'", hint="write it like 06:00 or 06:00:30") from exc
        day = scheduled_at.astimezone(zone).date()
        targets.append(datetime.combine(day, clock_time, tzinfo=zone))
    if delay is not None:
        targets.append(scheduled_at + timedelta(seconds=float(delay)))
    if not targets:
        raise ConfigError("a time sensor needs `at` or `delay`")
    target = max(targets)

    def poke() -> PokeResult:
        current = now()
        local = target.astimezone(zone).isoformat(timespec="seconds")
        if current >= target:
            return PokeResult(True, f"it is past {local}")
        return PokeResult(False, f"waiting until {local}")

    return poke


class TestPoke:
    """A data test as a sensor: it passes when the test passes. `last` keeps the latest outcome."""

    __test__ = False  # not a pytest class

    def __init__(
        self, test: TestNode, adapter: Adapter, *, relation: Relation | None, failures_schema: str | None
    ) -> None:
        self.test = test
        self.adapter = adapter
        self.relation = relation
        self.failures_schema = failures_schema
        self.last: TestOutcome | None = None
        self.error: str | None = None

    def __call__(self) -> PokeResult:
        try:
            outcome = run_test(
                self.test, self.adapter, relation=self.relation, failures_schema=self.failures_schema
            )
        except SqlflowError as exc:
            self.last, self.error = None, str(exc)
            return PokeResult(False, self.error)
        self.last, self.error = outcome, None
        return PokeResult(outcome.status == "pass", outcome.message or outcome.status)


def sensor_poke(
    sensor: SensorNode,
    *,
    adapter: Adapter,
    project_root: Path,
    scheduled_at: datetime,
    now: Callable[[], datetime],
) -> Poke:
    """The poke function of an explicit sensor node, from its kind and params. ConfigError for bad params."""
    params = sensor.params
    try:
        if sensor.kind == "sql":
            return sql_poke(adapter, str(params["sql"]))
        if sensor.kind == "file":
            min_size = params.get("min_size")
            return file_poke(
                str(params["path"]),
                root=project_root,
                min_size=int(min_size) if min_size is not None else None,
                stable=bool(params.get("stable", False)),
            )
        if sensor.kind == "http":
            request_timeout = params.get("request_timeout")
            return http_poke(
                str(params["url"]),
                method=str(params.get("method") or "GET"),
                status=params.get("status"),
                json_path=params.get("json_path"),
                equals=params.get("equals"),
                timeout=float(request_timeout) if request_timeout else min(HTTP_TIMEOUT, sensor.timeout),
            )
        if sensor.kind == "time":
            delay = params.get("delay")
            return time_poke(
                at=params.get("at"),
                timezone=str(params.get("timezone") or "UTC"),
                delay=float(delay) if delay is not None else None,
                scheduled_at=scheduled_at,
                now=now,
            )
    except KeyError as exc:
        raise ConfigError(
            f"sensor {sensor.name} ({sensor.kind}) has no '{exc.args[0]}'", hint=f"declared in {sensor.path}"
        ) from None
    raise ConfigError(
        f"sensor {sensor.name} has an unknown type '{sensor.kind}'", hint="use sql, file, http or time"
    )


def _allowed_statuses(status: int | Collection[int] | None) -> Callable[[int], bool]:
    if status is None or status == []:
        return lambda code: 200 <= code < 300
    codes = {int(status)} if isinstance(status, int | str) else {int(c) for c in status}
    return lambda code: code in codes
