"""Retry policies: which failed builds are tried again, and after how long.

By default a model is not retried (`retries: 0`). With retries, only transient errors are retried: a lost
connection, a lock or serialization conflict, a timeout. A mistake in the model's SQL (a syntax error, an
unknown column) fails at once, whatever `retries` says. `retry_on` replaces the default with error classes
(`transient`, `connection`, `lock`, `timeout`, `any`) or regular expressions matched against the engine's
message. The delay starts at `retry_delay` and doubles after each attempt (`retry_backoff`), capped by
`max_retry_delay`, with jitter (a random 75-100% of the delay). Pure: the caller sleeps.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlflow.errors import ConfigError, SourceLocation
from sqlflow.manifest import ModelNode
from sqlflow.project.durations import parse_duration

DEFAULT_DELAY = 5.0
DEFAULT_MAX_DELAY = 300.0

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


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 0
    delay: float = DEFAULT_DELAY
    backoff: bool = True
    max_delay: float = DEFAULT_MAX_DELAY
    patterns: tuple[str, ...] = ERROR_CLASSES["transient"]  # () means any error

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


def retry_policy(node: ModelNode) -> RetryPolicy:
    """The node's policy from its config; ConfigError naming its file for a bad value."""
    config = node.config
    if not config.retries:
        return RetryPolicy()
    where = SourceLocation(node.path)
    try:
        delay = DEFAULT_DELAY if config.retry_delay is None else parse_duration(config.retry_delay)
        cap = DEFAULT_MAX_DELAY if config.max_retry_delay is None else parse_duration(config.max_retry_delay)
    except (ConfigError, ValueError) as exc:
        raise ConfigError(
            f"{getattr(exc, 'message', exc)} (retries of {node.name})",
            location=where,
            hint="write a duration such as 10s, 2m or 1h",
        ) from None
    patterns: list[str] = []
    for entry in config.retry_on or ("transient",):
        name = entry.strip().lower()
        if name in ("any", "all"):
            return RetryPolicy(config.retries, delay, config.retry_backoff is not False, cap, ())
        if name in ERROR_CLASSES:
            patterns.extend(ERROR_CLASSES[name])
            continue
        try:
            re.compile(entry)
        except re.error as exc:
            raise ConfigError(
                f"retry_on of {node.name}: '{entry}' is not an error class or a regular expression ({exc})",
                location=where,
                hint="use transient, connection, lock, timeout, any, or a pattern of the error message",
            ) from None
        patterns.append(entry)
    return RetryPolicy(config.retries, delay, config.retry_backoff is not False, cap, tuple(patterns))


def timeout_of(node: ModelNode) -> float | None:
    """The node's build timeout in seconds, or None."""
    if node.config.timeout is None:
        return None
    try:
        return parse_duration(node.config.timeout)
    except (ConfigError, ValueError) as exc:
        raise ConfigError(
            f"{getattr(exc, 'message', exc)} (timeout of {node.name})",
            location=SourceLocation(node.path),
            hint="write a duration such as 30s, 10m or 1h",
        ) from None


__all__ = ["ERROR_CLASSES", "RetryPolicy", "retry_policy", "timeout_of"]
