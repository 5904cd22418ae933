"""The typed run settings of a node, parsed once by the compile and read by the runner: a model's
RetryPolicy (with retry_on's error classes), a time-range model's TimeRange, and the PokeSettings of a
sensor (the one place of their defaults). Frozen, plain data; `sqlflow.manifest` holds them on its nodes.
Imports nothing from sqlflow.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# retry_on's error classes: patterns of the engines' messages for errors worth another attempt
ERROR_CLASSES: dict[str, tuple[str, ...]] = {
    "connection": (
        r"connection (?:was |is )?(?:closed|lost|reset|refused)",
        r"server closed the connection",
        r"terminating connection",
        r"could not connect",
        r"cannot connect",
        r"connection to .* (?:failed|is closed)",
        r"ssl syscall",
        r"broken pipe",
        r"consuming input failed",
        r"no connection to the server",
    ),
    "lock": (
        r"could not serialize",
        r"serialization failure",
        r"deadlock detected",
        r"lock timeout",
        r"could not obtain lock",
        r"transaction conflict",
        r"conflict on",
        r"could not set lock",
        r"holds it",  # another process holds the DuckDB file
    ),
    "timeout": (r"timed out", r"timeout", r"canceling statement due to"),
}
ERROR_CLASSES["transient"] = (*ERROR_CLASSES["connection"], *ERROR_CLASSES["lock"], *ERROR_CLASSES["timeout"])


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Which failed builds of a model are tried again and after how long (seconds); parsed once by the
    compile from retries, retry_delay, retry_backoff, max_retry_delay and retry_on. `patterns` are regular
    expressions matched against the engine's message; () means any error."""

    retries: int = 0
    delay: float = 5.0
    backoff: bool = True
    max_delay: float = 300.0
    patterns: tuple[str, ...] = ERROR_CLASSES["transient"]

    def allows(self, message: str) -> bool:
        """Whether an attempt that failed with `message` may be retried (retries left aside).

        >>> RetryPolicy(retries=2).allows("could not serialize access due to concurrent update")
        True
        >>> RetryPolicy(retries=2).allows('Parser Error: syntax error at or near "selec"')
        False
        """
        if not self.patterns:
            return True
        return any(re.search(p, message, re.IGNORECASE) for p in self.patterns)

    def delay_before(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `retry` (1, 2, ...): growing, capped, with jitter.

        >>> p = RetryPolicy(retries=3, delay=1.0, max_delay=3.0)
        >>> [p.delay_before(n, rand=lambda: 1.0) for n in (1, 2, 3, 4)]
        [1.0, 2.0, 3.0, 3.0]
        """
        base = self.delay * (2 ** (retry - 1) if self.backoff else 1)
        return min(base, self.max_delay) * (0.75 + 0.25 * rand())


NO_RETRY = RetryPolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeRange:
    """The settings of a time-range model, parsed once by the compile: intervals of `count` `unit`s
    (minute, hour, day, week, month) on the wall clock of `timezone`, from `begin` (aware UTC, None when
    not set: only backfills fill it), `lookback` intervals redone, due up to the latest tick of `cron`."""

    time_column: str
    unit: Literal["minute", "hour", "day", "week", "month"]
    count: int = 1
    timezone: str = "UTC"
    begin: datetime | None = None
    lookback: int = 0
    cron: str | None = None
    concurrent: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PokeSettings:
    """How a sensor, or a test acting as one, re-pokes (seconds); the one place of the defaults."""

    poke_interval: float = 30.0
    timeout: float = 600.0
    on_timeout: Literal["fail", "skip"] = "fail"
    backoff: bool = False  # double the poke interval after each miss, up to max_poke_interval
    max_poke_interval: float | None = None


POKE_DEFAULTS = PokeSettings()


__all__ = ["ERROR_CLASSES", "NO_RETRY", "POKE_DEFAULTS", "PokeSettings", "RetryPolicy", "TimeRange"]
