"""The scheduler: the only code of sqlflow that reads the clock or sleeps.

A foreground loop (one process, container-friendly) over the jobs of `schedules:`. It wakes every `poll`
seconds and exactly at the next tick, asks `cron.due_ticks` what is due, claims each due tick in the state
store (`StateStore.claim_tick`: a tick runs at most once however many schedulers share the store) and fires
it on a thread of its own through the injected `fire` function (the api's, which runs `api.run`), so two
jobs run at once. `max_active_runs` bounds the running ticks of a job (across schedulers); a tick that
comes while that many runs are already running is recorded as skipped (`overlap: skip`) or waits its turn
(`overlap: queue`); missed ticks caught up after a downtime always wait their turn.

The state store is opened only to claim or finish ticks, and a DuckDB file held by another process
(`DatabaseLockedError`) is retried, so two schedulers can share one DuckDB file. SIGTERM/SIGINT stop the
claiming, let the running runs finish for `grace` seconds, then interrupt them (a second signal does at
once) and return. Claiming and finishing ticks are in `schedule.claims` (a base of the scheduler), the
signal handlers in `schedule.signals`. Imports the state store, `schedule.cron`, `sqlflow.project.types`
and `sqlflow.errors`; never the api or the runner.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlflow.errors import DatabaseLockedError, SqlflowError
from sqlflow.project.types import ScheduleJob
from sqlflow.schedule.claims import TickClaims, _Stopped
from sqlflow.schedule.cron import next_ticks
from sqlflow.schedule.events import (
    Fire,
    FireRequest,
    FireResult,
    JobStatus,
    NullTickReporter,
    OpenStore,
    ScheduleSummary,
    TickEvent,
    TickReporter,
)
from sqlflow.schedule.signals import stop_signals
from sqlflow.state.store import StateStore

INTERRUPT_WAIT = 15.0  # seconds interrupted runs get to stop before the scheduler leaves them behind
LOCK_WARNING = 10.0  # seconds of waiting for a locked database before saying so


def utcnow() -> datetime:
    """The clock (the default `clock` of everything here)."""
    return datetime.now(UTC)


def run_scheduler(
    jobs: Sequence[ScheduleJob],
    *,
    open_store: OpenStore,
    fire: Fire,
    once: bool = False,
    grace: float = 30.0,
    reporter: TickReporter | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
    poll: float = 5.0,
    stop: threading.Event | None = None,
    on_poll: Callable[[datetime], None] | None = None,
) -> ScheduleSummary:
    """Run `jobs` until SIGTERM/SIGINT (or `stop` is set); with `once`, fire what is due now, wait for it
    and return.

    A job with no tick in the state store starts at the scheduler's start (its ticks at or after it);
    with `once` at its latest tick at or before now. `clock` and `sleep` default to the real ones.
    """
    scheduler = _Scheduler(
        jobs, open_store=open_store, fire=fire, reporter=reporter or NullTickReporter(), clock=clock or utcnow
    )
    if stop is not None:
        scheduler.stop = stop
    scheduler.on_poll = on_poll
    return scheduler.run(once=once, grace=grace, sleep=sleep, poll=poll)


def trigger_job(
    job: ScheduleJob,
    *,
    open_store: OpenStore,
    fire: Fire,
    reporter: TickReporter | None = None,
    clock: Callable[[], datetime] | None = None,
) -> TickEvent:
    """Run `job` now on the calling thread, recorded as a manual tick; the tick_finished event."""
    scheduler = _Scheduler(
        [job],
        open_store=open_store,
        fire=fire,
        reporter=reporter or NullTickReporter(),
        clock=clock or utcnow,
    )
    return scheduler.trigger(job)


def job_statuses(
    jobs: Sequence[ScheduleJob],
    *,
    open_store: OpenStore,
    count: int = 5,
    clock: Callable[[], datetime] | None = None,
) -> list[JobStatus]:
    """Each job's next `count` ticks after now, and what the state store knows of it."""
    scheduler = _Scheduler(
        jobs, open_store=open_store, fire=_no_fire, reporter=NullTickReporter(), clock=clock or utcnow
    )
    now = scheduler.clock()
    with scheduler.store(threading.Event()) as store:
        known = store.version() >= 3
        return [
            JobStatus(
                job=job,
                next_ticks=tuple(next_ticks(job.cron, now, count, tz=job.timezone)),
                last=next(iter(store.recent_ticks(job.name)), None) if known else None,
                running=tuple(store.active_runs(job.name)) if known else (),
            )
            for job in jobs
        ]


def _no_fire(request: FireRequest) -> FireResult:  # pragma: no cover - never called
    raise AssertionError("job_statuses fires nothing")


@dataclass(slots=True)
class _Running:
    job: ScheduleJob
    tick: datetime
    run_id: str
    cancel: threading.Event
    thread: threading.Thread


class _Scheduler(TickClaims):
    def __init__(
        self,
        jobs: Sequence[ScheduleJob],
        *,
        open_store: OpenStore,
        fire: Fire,
        reporter: TickReporter,
        clock: Callable[[], datetime],
    ) -> None:
        self.jobs = list(jobs)
        self.open_store = open_store
        self.fire = fire
        self.on_poll: Callable[[datetime], None] | None = None
        self.reporter = reporter
        self.clock = clock
        self.stop = threading.Event()  # set by a signal: claim nothing more
        self.force = threading.Event()  # set by a second signal: interrupt the runs now
        self.exiting = threading.Event()  # the scheduler returns: threads stop retrying the database
        self.wake = threading.Event()  # a run finished, or a signal came: look again
        self.lock = threading.Lock()  # guards `running` and the counters
        self.store_lock = threading.Lock()  # one state-store session at a time in this process
        self.running: dict[tuple[str, datetime], _Running] = {}
        self.threads: list[threading.Thread] = []  # every run's thread, joined before the scheduler returns
        self.last: dict[str, datetime | None] = {job.name: None for job in self.jobs}
        self.claimed_by = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.fired = self.failed = self.skipped = 0

    # -- the loop ------------------------------------------------------------------------------------------

    def run(
        self, *, once: bool, grace: float, sleep: Callable[[float], None] | None, poll: float
    ) -> ScheduleSummary:
        with self._signals():
            started = self.clock()
            try:
                self._startup()
            except _Stopped:
                return ScheduleSummary(fired=0, failed=0, skipped=0, signalled=True)
            self.emit(
                TickEvent(
                    kind="scheduler_started",
                    message=", ".join(job.name for job in self.jobs),
                    tick=started,
                    status="once" if once else "loop",
                )
            )
            while not self.stop.is_set():
                self.wake.clear()
                now = started if once else self.clock()
                claimed, soon = self._poll(now, since=None if once else started)
                if self.on_poll is not None:
                    # between ticks (freshness deadlines): a failed check never stops the scheduler
                    with suppress(Exception):
                        self.on_poll(now)
                if once:
                    if not claimed and not self._any_running():
                        break
                    if not claimed:
                        self.wake.wait(poll)  # a run finished: a waiting tick may go now
                    continue
                delay = self._next_wake(now, self.clock(), poll, soon)
                if sleep is not None:
                    sleep(delay)
                else:
                    self.wake.wait(delay)
            self._shutdown(grace)
        return ScheduleSummary(
            fired=self.fired, failed=self.failed, skipped=self.skipped, signalled=self.stop.is_set()
        )

    def _startup(self) -> None:
        with self.store(self.stop) as store:
            try:
                store.ensure()
            except SqlflowError:  # another scheduler created the schema at the same moment
                if self.stop.wait(0.5):
                    return
                store.ensure()
            now = self.clock()
            for record in store.active_runs():
                if self._abandoned(record):
                    store.finish_tick(
                        record.schedule,
                        record.tick,
                        "error",
                        finished_at=now,
                        message=f"abandoned: its scheduler ({record.claimed_by}) stopped before it finished",
                    )
            for job in self.jobs:
                self.last[job.name] = store.last_tick(job.name)

    def _next_wake(self, polled: datetime, now: datetime, poll: float, soon: bool) -> float:
        """Seconds from `now` until a hair after the next tick of any job after `polled` (the time the
        last poll looked at; waiting for the database may have taken a while since), at most `poll`."""
        delay = 0.5 if soon else poll
        for job in self.jobs:
            try:
                (tick,) = next_ticks(job.cron, polled, 1, tz=job.timezone)
            except (ValueError, StopIteration):
                continue
            delay = min(delay, (tick - now).total_seconds() + 0.01)
        return max(delay, 0.01)

    # -- one tick ------------------------------------------------------------------------------------------

    def _start(self, job: ScheduleJob, tick: datetime, run_id: str) -> None:
        cancel = threading.Event()
        thread = threading.Thread(
            target=self._work,
            args=(job, tick, run_id, cancel, "cron"),
            name=f"sqlflow-schedule-{job.name}",
            daemon=True,
        )
        with self.lock:
            self.running[(job.name, tick)] = _Running(job, tick, run_id, cancel, thread)
            self.threads = [t for t in self.threads if t.is_alive()] + [thread]
            self.fired += 1
        thread.start()

    def _work(
        self, job: ScheduleJob, tick: datetime, run_id: str, cancel: threading.Event | None, trigger: str
    ) -> TickEvent:
        """Fire one claimed tick and record how it ended (on the job's thread, or the caller's)."""
        self.emit(
            TickEvent(
                kind="tick_started",
                job=job.name,
                tick=tick,
                timezone=job.timezone,
                trigger=trigger,
                run_id=run_id,
            )
        )
        clock = time.monotonic()
        interrupted_by_user = False
        try:
            result = self._fire(FireRequest(job=job, tick=tick, run_id=run_id, cancel=cancel))
        except KeyboardInterrupt:
            result = FireResult(status="interrupted", message="interrupted")
            interrupted_by_user = threading.current_thread() is threading.main_thread()
        except BaseException as exc:  # the ledger must hear of every end
            message = str(exc) if isinstance(exc, SqlflowError) else f"{type(exc).__name__}: {exc}"
            result = FireResult(status="error", message=message)
        seconds = time.monotonic() - clock
        status = "success" if result.status == "success" else "error"
        message = result.message if result.status != "interrupted" else f"interrupted; {result.message}"
        self._finish_tick(job, tick, status, message)
        event = TickEvent(
            kind="tick_finished",
            job=job.name,
            tick=tick,
            timezone=job.timezone,
            trigger=trigger,
            status=result.status,
            run_id=run_id,
            seconds=seconds,
            message=result.message,
        )
        with self.lock:
            self.running.pop((job.name, tick), None)
            self.failed += result.status != "success"
        self.emit(event)
        self.wake.set()
        if interrupted_by_user:
            raise KeyboardInterrupt
        return event

    def _fire(self, request: FireRequest) -> FireResult:
        """`fire`, again while another process holds the database file (until the run is cancelled)."""
        waited, delay = 0.0, 0.1
        while True:
            try:
                return self.fire(request)
            except DatabaseLockedError as exc:
                cancel = request.cancel
                if cancel is not None and cancel.is_set():
                    return FireResult(status="interrupted", message=f"never started: {exc}")
                if waited >= LOCK_WARNING and waited - delay < LOCK_WARNING:
                    self.emit(TickEvent(kind="warning", job=request.job.name, message=f"waiting: {exc}"))
                (cancel or threading.Event()).wait(delay)
                waited += delay
                delay = min(delay * 2, 2.0)

    def trigger(self, job: ScheduleJob) -> TickEvent:
        tick, run_id = self.clock(), uuid.uuid4().hex
        with self.store(self.stop) as store:
            store.ensure()
            store.claim_tick(
                job.name, tick, claimed_by=self.claimed_by, claimed_at=tick, trigger="manual", run_id=run_id
            )
        return self._work(job, tick, run_id, None, "manual")  # on the caller's thread: Ctrl-C stops it

    # -- stopping ------------------------------------------------------------------------------------------

    def _signals(self) -> AbstractContextManager[None]:
        """SIGTERM and SIGINT set `stop` (a second one, a second later, `force`); only on the main thread."""
        return stop_signals(self.stop, self.force, self.wake, clock=time.monotonic)

    def _any_running(self) -> bool:
        with self.lock:
            return bool(self.running)

    def _shutdown(self, grace: float) -> None:
        """Wait `grace` seconds for the running runs, interrupt the rest, record what would not stop."""
        with self.lock:
            left = list(self.running.values())
        if left:
            self.emit(
                TickEvent(
                    kind="stopping",
                    message=f"waiting up to {grace:g}s for {len(left)} running run(s): "
                    + ", ".join(r.job.name for r in left),
                )
            )
        deadline = time.monotonic() + grace
        while self._any_running() and not self.force.is_set() and time.monotonic() < deadline:
            self.wake.clear()
            self.wake.wait(min(0.2, max(deadline - time.monotonic(), 0.0)))
        with self.lock:
            left = list(self.running.values())
        if left:
            self.emit(TickEvent(kind="warning", message=f"interrupting {len(left)} run(s)"))
            for r in left:
                r.cancel.set()
            deadline = time.monotonic() + INTERRUPT_WAIT
            for r in left:
                r.thread.join(max(deadline - time.monotonic(), 0.0))
        with self.lock:
            stuck = list(self.running.values())
        self.exiting.set()
        for r in stuck:  # threads are daemons: the process may leave; the ledger must not say running
            self._finish_tick(r.job, r.tick, "error", "interrupted: did not stop in time")
        # the threads of finished runs end in a moment: a thread still inside the engine's C++ code (freeing
        # a connection) when the interpreter exits would abort the process
        stuck_threads = {r.thread for r in stuck}
        for thread in list(self.threads):
            if thread not in stuck_threads:
                thread.join(5)
        self.emit(
            TickEvent(
                kind="stopped", message=f"{self.fired} fired, {self.failed} failed, {self.skipped} skipped"
            )
        )

    # -- the state store -----------------------------------------------------------------------------------

    @contextmanager
    def store(self, give_up: threading.Event) -> Iterator[StateStore]:
        """An open state store, one session at a time; a database file another process holds is tried
        again (with a warning after a while) until `give_up` is set (then `_Stopped`)."""
        with self.store_lock:
            waited, delay = 0.0, 0.05
            while True:
                try:
                    session = self.open_store()
                    store = session.__enter__()
                    break
                except DatabaseLockedError as exc:
                    if waited >= LOCK_WARNING and waited - delay < LOCK_WARNING:
                        self.emit(TickEvent(kind="warning", message=f"waiting for the state store: {exc}"))
                    if give_up.wait(delay):
                        raise _Stopped from exc
                    waited += delay
                    delay = min(delay * 2, 1.0)
            try:
                yield store
            except BaseException as exc:
                if not session.__exit__(type(exc), exc, exc.__traceback__):
                    raise
            else:
                session.__exit__(None, None, None)

    def emit(self, event: TickEvent) -> None:
        self.reporter.emit(event)


__all__ = [
    "job_statuses",
    "run_scheduler",
    "trigger_job",
    "utcnow",
]
