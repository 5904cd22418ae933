"""Claiming and finishing the ticks of a scheduler in the state store: which ticks of a job are due, the
claim of each (at most once however many schedulers share the store; `max_active_runs` and `overlap`), the
record of how a tick ended, and the ticks a dead scheduler left running. A base of the scheduler in
`schedule.loop`; it reads no clock and never sleeps (its `clock` is the loop's, injected). Imports the
state store, `schedule.cron`, `sqlflow.project.types` and `sqlflow.errors`.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING

from sqlflow.errors import SqlflowError
from sqlflow.project.types import ScheduleJob
from sqlflow.schedule.cron import due_ticks
from sqlflow.schedule.events import TickEvent
from sqlflow.state.store import StateStore, TickRecord


class TickClaims:
    """_poll, _claim, _finish_tick and _abandoned of the scheduler (`schedule.loop._Scheduler`)."""

    jobs: list[ScheduleJob]
    clock: Callable[[], datetime]
    stop: threading.Event
    exiting: threading.Event
    lock: threading.Lock
    last: dict[str, datetime | None]
    claimed_by: str
    skipped: int

    if TYPE_CHECKING:

        def store(self, give_up: threading.Event) -> AbstractContextManager[StateStore]: ...

        def emit(self, event: TickEvent) -> None: ...

        def _start(self, job: ScheduleJob, tick: datetime, run_id: str) -> None: ...

    def _poll(self, now: datetime, *, since: datetime | None) -> tuple[int, bool]:
        """Claim and fire the due ticks of every job; (ticks fired, whether to look again soon)."""
        due = {
            job.name: self._due(job, now, since, self.last[job.name])
            for job in self.jobs
            if not self.stop.is_set()
        }
        if not any(due.values()):
            return 0, False
        claimed, soon = 0, False
        try:
            with self.store(self.stop) as store:
                for job in self.jobs:
                    if due.get(job.name) and not self.stop.is_set():
                        n, again = self._claim(store, job, now, since)
                        claimed, soon = claimed + n, soon or again
        except _Stopped:
            pass
        return claimed, soon

    def _due(
        self, job: ScheduleJob, now: datetime, since: datetime | None, last: datetime | None
    ) -> list[datetime]:
        return due_ticks(job.cron, now=now, tz=job.timezone, last=last, since=since, catchup=job.catchup)

    def _claim(
        self, store: StateStore, job: ScheduleJob, now: datetime, since: datetime | None
    ) -> tuple[int, bool]:
        """Claim the due ticks of `job` in order, until one has to wait; (ticks fired, look again soon)."""
        last = _latest(self.last[job.name], store.last_tick(job.name))
        self.last[job.name] = last
        active = store.active_runs(job.name)
        running = [r.claimed_at for r in active]
        fired = 0
        for tick in self._due(job, now, since, last):
            if len(running) < job.max_active_runs:
                run_id = uuid.uuid4().hex
                claimed_at = self.clock()
                claim = store.claim_tick(
                    job.name,
                    tick,
                    claimed_by=self.claimed_by,
                    claimed_at=claimed_at,
                    run_id=run_id,
                    max_active=job.max_active_runs,
                )
                if claim == "claimed":
                    self._start(job, tick, run_id)
                    running.append(claimed_at)
                    fired += 1
                if claim in ("claimed", "taken"):
                    self.last[job.name] = tick
                    continue
                if claim == "busy":  # another scheduler is claiming a tick of this job right now
                    return fired, True
                running = [r.claimed_at for r in store.active_runs(job.name)]  # full: runs started elsewhere
            # a tick that came while max_active_runs runs were already running; caught-up ticks wait
            overlapped = sum(1 for at in running if at < tick) >= job.max_active_runs
            if job.overlap == "queue" or not overlapped:
                return fired, False
            claim = store.claim_tick(
                job.name, tick, claimed_by=self.claimed_by, claimed_at=self.clock(), status="skipped"
            )
            if claim == "busy":
                return fired, True
            if claim == "claimed":
                with self.lock:
                    self.skipped += 1
                self.emit(
                    TickEvent(
                        kind="tick_skipped",
                        job=job.name,
                        tick=tick,
                        timezone=job.timezone,
                        trigger="cron",
                        status="skipped",
                        message=f"{len(running)} run(s) of {job.name} still running (overlap: skip)",
                    )
                )
            self.last[job.name] = tick
        return fired, False

    def _finish_tick(self, job: ScheduleJob, tick: datetime, status: str, message: str | None) -> None:
        try:
            with self.store(self.exiting) as store:
                store.finish_tick(job.name, tick, status, finished_at=self.clock(), message=message or None)
        except _Stopped:
            self.emit(
                TickEvent(
                    kind="warning", job=job.name, tick=tick, message="exited before the tick was recorded"
                )
            )
        except SqlflowError as exc:
            self.emit(
                TickEvent(kind="warning", job=job.name, tick=tick, message=f"cannot record the tick: {exc}")
            )

    def _abandoned(self, record: TickRecord) -> bool:
        """A running tick claimed on this host by a scheduler that is gone (its pid is dead, or is ours)."""
        host, _, rest = (record.claimed_by or "").partition(":")
        pid_text, _, _ = rest.partition(":")
        if host != socket.gethostname() or not pid_text.isdigit() or record.claimed_by == self.claimed_by:
            return False
        pid = int(pid_text)
        if pid == os.getpid():
            return True  # an earlier scheduler of this process id (a restarted container's pid 1)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False


class _Stopped(Exception):
    """The scheduler stopped while it waited for the database."""


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((t for t in (a, b) if t is not None), default=None)
