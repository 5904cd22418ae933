"""What a run reports while it goes: RunEvent values sent to an injected Reporter.

The core never prints; the CLI passes a rich or JSON-lines reporter, tests pass a list-collecting one.
Imports nothing from sqlflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

# interval_finished: one batch of a time-range model was written and recorded (message: its bounds)
# node_retry: an attempt failed and will be retried in `seconds` (message: the error)
EventKind = Literal[
    "run_started", "node_started", "node_finished", "interval_finished", "node_retry", "run_finished"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEvent:
    kind: EventKind
    unique_id: str | None = None
    name: str | None = None
    resource_type: str | None = None  # model, seed, test, sensor
    materialized: str | None = None
    status: str | None = None  # success, error, skipped, pass, fail, warn (node_finished / run_finished)
    rows: int | None = None  # rows affected, or failing rows for a test
    seconds: float | None = None
    message: str | None = None
    index: int | None = None  # 1-based position among the run's nodes
    total: int | None = None
    queued: int | None = None  # node_started: the steps ready and waiting for a worker or a pool slot
    # a failing or warning test: (column names, up to 5 rows of plain values) to show under its line
    sample: tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]] | None = None


class Reporter(Protocol):
    def emit(self, event: RunEvent) -> None: ...


class NullReporter:
    """Drops every event."""

    def emit(self, event: RunEvent) -> None:
        return None


class ListReporter:
    """Keeps every event, for tests."""

    def __init__(self) -> None:
        self.events: list[RunEvent] = []

    def emit(self, event: RunEvent) -> None:
        self.events.append(event)


def sample_table(
    rows: tuple[Mapping[str, Any], ...],
) -> tuple[tuple[str, ...], tuple[tuple[Any, ...], ...]] | None:
    """Sample rows as (column names, rows of values) for a RunEvent; None without rows.

    >>> sample_table(({"id": 1, "why": "odd"}, {"id": 3}))
    (('id', 'why'), ((1, 'odd'), (3, None)))
    """
    if not rows:
        return None
    columns = tuple(dict.fromkeys(key for row in rows for key in row))
    return columns, tuple(tuple(row.get(c) for c in columns) for row in rows)
