"""Retry policies: which failed builds are tried again, and after how long.

By default a model is not retried (`retries: 0`). With retries, only transient errors are retried: a lost
connection, a lock or serialization conflict, a timeout. A mistake in the model's SQL (a syntax error, an
unknown column) fails at once, whatever `retries` says. `retry_on` replaces the default with error classes
(`transient`, `connection`, `lock`, `timeout`, `any`) or regular expressions matched against the engine's
message. The delay starts at `retry_delay` and doubles after each attempt (`retry_backoff`), capped by
`max_retry_delay`, with jitter (a random 75-100% of the delay). Pure: the caller sleeps.

The compile parses these settings once (project/orchestration.py) into `ModelNode.retry` and
`ModelNode.timeout_seconds`, naming the line of a bad value; this module only reads them.
"""

from __future__ import annotations

from sqlflow.manifest import ModelNode
from sqlflow.policies import ERROR_CLASSES, RetryPolicy

DEFAULT_DELAY = RetryPolicy().delay
DEFAULT_MAX_DELAY = RetryPolicy().max_delay


def retry_policy(node: ModelNode) -> RetryPolicy:
    """The node's retry policy, as the compile parsed it."""
    return node.retry


def timeout_of(node: ModelNode) -> float | None:
    """The node's build timeout in seconds, or None."""
    return node.timeout_seconds


__all__ = ["ERROR_CLASSES", "RetryPolicy", "retry_policy", "timeout_of"]
