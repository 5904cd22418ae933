"""What the scheduler works with and reports: the request to fire a tick and its result, the events of
the loop, and what `--list` shows. Plain data; imports the job type and the state store's record types.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlflow.project.types import ScheduleJob
from sqlflow.state.store import StateStore, TickRecord
from sqlflow.statuses import EndedStatus

EventKind = Literal[
    "scheduler_started", "tick_started", "tick_finished", "tick_skipped", "stopping", "stopped", "warning"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class FireRequest:
    """Run `job` for `tick`, recorded in the run history as `run_id`; `cancel` set means: stop now."""

    job: ScheduleJob
    tick: datetime
    run_id: str
    cancel: threading.Event | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FireResult:
    status: EndedStatus
    message: str = ""


Fire = Callable[[FireRequest], FireResult]
OpenStore = Callable[[], AbstractContextManager[StateStore]]


@dataclass(frozen=True, slots=True, kw_only=True)
class TickEvent:
    """What the scheduler reports: a tick fired, finished or skipped; starting, stopping, a warning."""

    kind: EventKind
    job: str | None = None
    tick: datetime | None = None  # UTC
    timezone: str | None = None  # the job's, to show the tick in
    trigger: str | None = None  # cron | manual
    status: str | None = None  # success | error | interrupted | skipped
    run_id: str | None = None
    seconds: float | None = None
    message: str | None = None


class TickReporter(Protocol):
    def emit(self, event: TickEvent) -> None: ...


class NullTickReporter:
    """Drops every event."""

    def emit(self, event: TickEvent) -> None:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleSummary:
    fired: int
    failed: int
    skipped: int
    signalled: bool  # stopped by SIGTERM/SIGINT


@dataclass(frozen=True, slots=True, kw_only=True)
class JobStatus:
    """A job for `sqlflow schedule --list`: its next ticks, its last claimed tick, its running ticks."""

    job: ScheduleJob
    next_ticks: tuple[datetime, ...]
    last: TickRecord | None
    running: tuple[TickRecord, ...]


__all__ = [
    "EventKind",
    "Fire",
    "FireRequest",
    "FireResult",
    "JobStatus",
    "NullTickReporter",
    "OpenStore",
    "ScheduleSummary",
    "TickEvent",
    "TickReporter",
]
