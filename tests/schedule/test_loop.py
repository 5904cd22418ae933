"""The scheduler loop with real threads and a real state store: catch-up after a downtime, overlap skip and
queue, two jobs at once, the grace period, abandoned ticks, two schedulers sharing one store.

Catch-up runs the real `api.schedule` on a real project with an injected clock; the loop tests fire a
plain function that takes as long as the test says, so the timing is the test's own; two schedulers on one
store run on a clock the test moves (`Conductor`), so the ticks they fire are counted exactly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlflow import api
from sqlflow.project.types import ScheduleJob
from sqlflow.schedule.events import FireRequest, FireResult, TickEvent
from sqlflow.schedule.loop import run_scheduler
from sqlflow.state.store import StateStore

from .conftest import WriteProject

OpenStore = Callable[[], Iterator[StateStore]]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Events:
    """Keeps the scheduler's events."""

    def __init__(self) -> None:
        self.events: list[TickEvent] = []
        self.lock = threading.Lock()

    def emit(self, event: TickEvent) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: str) -> list[TickEvent]:
        with self.lock:
            return [e for e in self.events if e.kind == kind]


# -- catch-up through the api, on a real project ---------------------------------------------------------


def record_handled_tick(root: Path, job: str, tick: datetime) -> None:
    project = api.load(api.Options(project_dir=root))
    adapter = api.connect(project)
    try:
        store = StateStore(adapter, api.state_schema(project))
        store.ensure()
        store.claim_tick(job, tick, claimed_by="earlier", claimed_at=tick, status="skipped")
    finally:
        adapter.close()


def runs_and_ticks(
    root: Path, job: str
) -> tuple[list[tuple[str, datetime, str]], list[tuple[datetime, str, str]]]:
    project = api.load(api.Options(project_dir=root))
    adapter = api.connect(project)
    try:
        _, runs = adapter.fetch(
            'select "run_id", "started_at", "status" from "sqlflow_state"."runs" order by "started_at"'
        )
        store = StateStore(adapter)
        ticks = [(t.tick, t.status, t.run_id or "") for t in reversed(store.recent_ticks(job, limit=100))]
    finally:
        adapter.close()
    return [(r[0], r[1].astimezone(UTC), r[2]) for r in runs], sorted(ticks)


def test_down_for_three_ticks_catchup_runs_three(tiny: WriteProject) -> None:
    root = tiny("""\
        schedules:
          - name: hourly
            cron: "0 * * * *"
            catchup: true
        """)
    record_handled_tick(root, "hourly", utc(2024, 1, 1, 7))
    events = Events()
    summary = api.schedule(
        api.Options(project_dir=root), once=True, reporter=events, clock=lambda: utc(2024, 1, 1, 10, 30)
    )
    assert (summary.fired, summary.failed, summary.skipped) == (3, 0, 0)
    runs, ticks = runs_and_ticks(root, "hourly")
    expected = [utc(2024, 1, 1, h) for h in (8, 9, 10)]
    assert [t for t, status, _ in ticks if status == "success"] == expected  # in order, one run each
    assert [(started, status) for _, started, status in runs] == [(t, "success") for t in expected]
    assert [run_id for _, _, run_id in ticks[1:]] == [run_id for run_id, _, _ in runs]  # tick -> its run
    assert [e.tick for e in events.of("tick_finished")] == expected


def test_down_for_three_ticks_without_catchup_runs_the_latest(tiny: WriteProject) -> None:
    root = tiny("""\
        schedules:
          - name: hourly
            cron: "0 * * * *"
        """)
    record_handled_tick(root, "hourly", utc(2024, 1, 1, 7))
    summary = api.schedule(api.Options(project_dir=root), once=True, clock=lambda: utc(2024, 1, 1, 10, 30))
    assert summary.fired == 1
    runs, ticks = runs_and_ticks(root, "hourly")
    assert [(t, s) for t, s, _ in ticks] == [
        (utc(2024, 1, 1, 7), "skipped"),
        (utc(2024, 1, 1, 10), "success"),
    ]
    assert [started for _, started, _ in runs] == [utc(2024, 1, 1, 10)]
    # nothing more is due at the same time
    assert (
        api.schedule(api.Options(project_dir=root), once=True, clock=lambda: utc(2024, 1, 1, 10, 59)).fired
        == 0
    )


def test_a_failing_run_is_recorded_as_an_error(tiny: WriteProject) -> None:
    root = tiny("""\
        schedules:
          - name: broken
            cron: "@daily"
            select: nothing_like_this
            command: run
        """)
    (root / "models" / "one.sql").write_text("select * from no_such_table\n")
    events = Events()
    summary = api.schedule(
        api.Options(project_dir=root),
        once=True,
        jobs=["broken"],
        reporter=events,
        clock=lambda: utc(2024, 1, 2, 1),
    )
    assert (summary.fired, summary.failed) == (1, 0)  # selected nothing: a successful empty run
    (root / "sqlflow.yml").write_text((root / "sqlflow.yml").read_text().replace("nothing_like_this", "one"))
    summary = api.schedule(
        api.Options(project_dir=root),
        once=True,
        jobs=["broken"],
        reporter=events,
        clock=lambda: utc(2024, 1, 3, 1),
    )
    assert (summary.fired, summary.failed) == (1, 1)
    finished = events.of("tick_finished")[-1]
    assert finished.status == "error" and "first failure: one" in (finished.message or "")
    _, ticks = runs_and_ticks(root, "broken")
    assert [s for _, s, _ in ticks] == ["success", "error"]


# -- the loop in real time, firing a function ------------------------------------------------------------


@dataclass
class Work:
    """A fire function: each call takes `seconds` (or until cancelled) and is logged."""

    seconds: float
    calls: list[tuple[str, datetime]] = field(default_factory=list)
    active: int = 0
    most_active: dict[str, int] = field(default_factory=dict)
    both: bool = False  # two different jobs were running at the same moment
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: FireRequest) -> FireResult:
        name = request.job.name
        with self.lock:
            self.calls.append((name, request.tick))
            self.active += 1
            running = [n for n, _ in self.calls[-self.active :]]
            self.most_active[name] = max(self.most_active.get(name, 0), running.count(name))
            self.both = self.both or len(set(running)) > 1
        try:
            assert request.cancel is not None
            if request.cancel.wait(self.seconds):
                return FireResult(status="interrupted", message="cancelled")
            return FireResult(status="success", message="done")
        finally:
            with self.lock:
                self.active -= 1


def run_for(
    seconds: float, jobs: list[ScheduleJob], work: Work, open_store: OpenStore, *, grace: float = 30.0
) -> Events:
    stop = threading.Event()
    events = Events()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    try:
        run_scheduler(
            jobs, open_store=open_store, fire=work, reporter=events, poll=0.2, grace=grace, stop=stop
        )
    finally:
        timer.cancel()
    return events


def ledger(open_store: OpenStore, job: str) -> list[tuple[datetime, str]]:
    with open_store() as store:
        return sorted((t.tick, t.status) for t in store.recent_ticks(job, limit=1000))


def test_overlap_skip_records_the_ticks_that_came_while_running(open_store: OpenStore) -> None:
    job = ScheduleJob(name="every_second", cron="* * * * * *")
    work = Work(seconds=2.5)
    events = run_for(4.2, [job], work, open_store)
    statuses = [s for _, s in ledger(open_store, "every_second")]
    assert statuses.count("success") >= 1 and statuses.count("skipped") >= 2
    assert work.most_active == {"every_second": 1}
    assert len(events.of("tick_skipped")) == statuses.count("skipped")
    assert all("still running (overlap: skip)" in (e.message or "") for e in events.of("tick_skipped"))


def test_overlap_queue_waits_its_turn(open_store: OpenStore) -> None:
    job = ScheduleJob(name="queued", cron="* * * * * *", overlap="queue")
    work = Work(seconds=1.5)
    run_for(4.2, [job], work, open_store)
    statuses = [s for _, s in ledger(open_store, "queued")]
    assert "skipped" not in statuses
    assert statuses.count("success") >= 2
    assert work.most_active == {"queued": 1}
    ticks = [t for _, t in work.calls]
    assert ticks == sorted(ticks)


def test_max_active_runs_lets_two_runs_of_a_job_overlap(open_store: OpenStore) -> None:
    job = ScheduleJob(name="wide", cron="* * * * * *", max_active_runs=2)
    work = Work(seconds=1.6)
    run_for(3.5, [job], work, open_store)
    assert work.most_active == {"wide": 2}


def test_two_jobs_run_at_once(open_store: OpenStore) -> None:
    jobs = [ScheduleJob(name="a", cron="* * * * * */2"), ScheduleJob(name="b", cron="* * * * * */2")]
    work = Work(seconds=1.0)
    run_for(2.6, jobs, work, open_store)
    assert work.both
    assert {name for name, _ in work.calls} == {"a", "b"}


def test_the_grace_period_ends_by_interrupting(open_store: OpenStore) -> None:
    job = ScheduleJob(name="long", cron="* * * * * *")
    work = Work(seconds=60)
    events = run_for(1.5, [job], work, open_store, grace=0.5)
    # the run's cancel event reached the fire function, which ended the 60 s run itself ("cancelled"): a run
    # left behind would be recorded as "interrupted: did not stop in time" and have no tick_finished
    (finished,) = events.of("tick_finished")
    assert (finished.status, finished.message) == ("interrupted", "cancelled")
    assert [
        e.kind for e in events.events if e.kind in ("stopping", "warning", "tick_finished", "stopped")
    ] == [
        "stopping",
        "warning",
        "tick_finished",
        "stopped",
    ]
    assert events.of("warning")[0].message == "interrupting 1 run(s)"
    assert [s for _, s in ledger(open_store, "long")].count("error") == 1
    (stopping,) = events.of("stopping")
    assert "waiting up to 0.5s for 1 running run(s): long" in (stopping.message or "")


def test_a_tick_left_running_by_a_dead_scheduler_is_marked_abandoned(open_store: OpenStore) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)  # a process that has exited
    with open_store() as store:
        store.ensure()
        store.claim_tick(
            "j", utc(2024, 1, 1), claimed_by=f"{socket.gethostname()}:{pid}:x", claimed_at=utc(2024, 1, 1)
        )
        store.claim_tick("k", utc(2024, 1, 1), claimed_by="elsewhere:1:y", claimed_at=utc(2024, 1, 1))
    assert pid != os.getpid()
    jobs = [ScheduleJob(name="j", cron="@yearly"), ScheduleJob(name="k", cron="@yearly")]
    run_scheduler(jobs, open_store=open_store, fire=Work(0), once=True, clock=lambda: utc(2024, 1, 1, 1))
    with open_store() as store:
        (j,) = store.recent_ticks("j")
        (k,) = store.recent_ticks("k")
    assert j.status == "error" and "abandoned" in (j.message or "")
    assert k.status == "running"  # another host's: not ours to judge


# -- several schedulers on one store, on a clock the test moves ------------------------------------------


class Conductor:
    """One clock for several schedulers, moved by the test, never by the wall.

    Each scheduler sleeps through `sleeper(i)`; the clock stands still while a scheduler is awake or a
    claimed tick still runs. Then the clock jumps to the earliest time a scheduler asked to sleep until,
    and the schedulers due by then wake one at a time, in an order that turns round each time, each
    polling (and finishing its runs) before the next wakes. So which scheduler claims which tick is known,
    however slow the machine. (One at a time: two connections of one process inserting the same tick of
    a DuckDB store at the same moment is not what this test is about.)
    """

    def __init__(self, start: datetime, open_store: OpenStore) -> None:
        self.time = start
        self.open_store = open_store
        self.cond = threading.Condition()
        self.asleep: dict[int, datetime] = {}  # scheduler -> the time it sleeps until
        self.turn: int | None = None  # the scheduler allowed to wake now
        self.wakes: dict[int, int] = {}  # scheduler -> how often it woke (it may be asleep again already)
        self.stopped = False
        self.rounds: list[
            tuple[datetime, list[int]]
        ] = []  # (the time the clock jumped to, who woke, in order)

    def now(self) -> datetime:
        with self.cond:
            return self.time

    def sleeper(self, i: int) -> Callable[[float], None]:
        def sleep(seconds: float) -> None:
            with self.cond:
                until = self.time + timedelta(seconds=seconds)
                self.asleep[i] = until
                self.cond.notify_all()
                self.cond.wait_for(lambda: (self.time >= until and self.turn == i) or self.stopped)
                del self.asleep[i]
                self.wakes[i] = self.wakes.get(i, 0) + 1
                self.cond.notify_all()

        return sleep

    def start(self, i: int, thread: threading.Thread) -> None:
        """Start scheduler `i` (it polls at the start time) and wait until it sleeps."""
        thread.start()
        self._settle(i)

    def _settle(self, i: int) -> None:
        """Wait until scheduler `i` sleeps and no claimed tick runs (real time: the runs are real threads)."""
        with self.cond:
            assert self.cond.wait_for(lambda: i in self.asleep, timeout=60), f"scheduler {i} hung"
        for _ in range(6000):
            with self.open_store() as store:
                if not store.active_runs():
                    return
            time.sleep(0.01)
        raise AssertionError("a run did not finish")

    def run_until(self, end: datetime, stops: list[threading.Event]) -> None:
        """Move the clock from wake to wake until the next one is after `end`; then stop every scheduler."""
        while True:
            with self.cond:
                wake = min(self.asleep.values())
                if wake > end:
                    for stop in stops:
                        stop.set()
                    self.stopped = True
                    self.cond.notify_all()
                    return
                due = sorted(i for i, until in self.asleep.items() if until <= wake)
                first = len(self.rounds) % len(due)
                order = due[first:] + due[:first]
                self.rounds.append((wake, order))
                self.time = wake
            for i in order:
                with self.cond:
                    woke = self.wakes.get(i, 0)
                    self.turn = i
                    self.cond.notify_all()
                    # counted, not "not asleep": it may poll and fall asleep again before this thread looks
                    waking = self.cond.wait_for(lambda: self.wakes.get(i, 0) > woke, timeout=60)  # noqa: B023
                    self.turn = None
                assert waking, f"scheduler {i} did not wake"
                self._settle(i)


def test_two_schedulers_on_one_store_fire_each_tick_once(open_store: OpenStore) -> None:
    """Every tick of a 2 s cron over 10 s of the conductor's clock is fired once: by the scheduler that
    polls first after it; the other finds it taken."""
    t0 = utc(2024, 1, 1, 6)
    job = ScheduleJob(name="every2s", cron="* * * * * */2", catchup=True)
    conductor = Conductor(t0, open_store)
    works = [Work(seconds=0), Work(seconds=0)]
    reporters = [Events(), Events()]
    stops = [threading.Event(), threading.Event()]
    threads = [
        threading.Thread(
            target=run_scheduler,
            args=([job],),
            kwargs={
                "open_store": open_store,
                "fire": works[i],
                "reporter": reporters[i],
                "clock": conductor.now,
                "sleep": conductor.sleeper(i),
                "poll": 60.0,  # wake for the ticks only
                "stop": stops[i],
            },
        )
        for i in range(2)
    ]
    try:
        for i, thread in enumerate(threads):
            conductor.start(i, thread)
        conductor.run_until(t0 + timedelta(seconds=10.5), stops)
    finally:
        for stop in stops:
            stop.set()
        with conductor.cond:
            conductor.stopped = True
            conductor.cond.notify_all()
        for thread in threads:
            thread.join(60)
    ticks = [t0 + timedelta(seconds=2 * i) for i in range(6)]  # 06:00:00 ... 06:00:10
    # each scheduler woke a hair after each tick, on the conductor's clock, first 0, then 1, then 0 ...
    assert conductor.rounds == [
        (tick + timedelta(seconds=0.01), [0, 1] if n % 2 == 0 else [1, 0]) for n, tick in enumerate(ticks[1:])
    ]
    # 06:00:00 went to scheduler 0, started first; each later tick to the one that woke first after it
    assert [[tick for _, tick in work.calls] for work in works] == [
        [ticks[0], ticks[1], ticks[3], ticks[5]],
        [ticks[2], ticks[4]],
    ]
    assert ledger(open_store, "every2s") == [(tick, "success") for tick in ticks]
    assert [[e.tick for e in r.of("tick_finished")] for r in reporters] == [
        [tick for _, tick in work.calls] for work in works
    ]
    assert not any(r.of("tick_skipped") for r in reporters)
