"""Running a plan: a ready-queue over its graph, `threads` workers, skips downstream of failures.

`execute_plan` starts with one catalog query (which relations exist, leftovers of a killed run to drop,
schemas to create), then runs each step whose upstream steps are done, in plan order: on the calling
thread when `threads` is 1 (a hand-off would cost more than a small model), else on `threads` workers.
A sensor step waits on a daemon thread of its own, never in a worker slot, so unrelated branches go on
while it pokes. A model with audits builds, audits and publishes in one step (see `steps`); the results
of its audit tests are then reported as their own steps. A node that errors, a test that fails, or a
sensor that times out skips every step downstream of it (a soft-failed sensor, `on_timeout: skip`, is
itself skipped and does not fail the run) while independent branches go on; with `fail_fast` the first
failure skips everything not yet started and cancels waiting sensors. Ctrl-C interrupts the running
statements at once (see `interrupts`), cancels the sensors and skips the rest. Progress goes to the
injected Reporter, from the calling thread only. Beside it: `queue` (the ready queue: priority, critical
path, pools), `recording` (results written to the state store in batches), `progress` (the events it
reports), `prepare` (the catalog query before the first step). Imports no driver.
"""

from __future__ import annotations

import dataclasses
import graphlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from sqlflow.adapters import Adapter
from sqlflow.errors import SqlflowError
from sqlflow.manifest import Manifest, ModelNode
from sqlflow.materializations import BuildContext, RelationCache
from sqlflow.runner.events import Reporter, RunEvent
from sqlflow.runner.history import History
from sqlflow.runner.interrupts import on_sigint
from sqlflow.runner.plan import Plan, Step
from sqlflow.runner.prepare import prepare_database
from sqlflow.runner.progress import (
    interrupted_result,
    interval_finished,
    node_finished,
    node_retry,
    node_started,
    skipped_result,
)
from sqlflow.runner.queue import ReadyQueue
from sqlflow.runner.recording import ResultRecorder
from sqlflow.runner.results import NodeResult, RunResult
from sqlflow.runner.steps import StepRunner
from sqlflow.state.intervals import Interval

SENSOR_GRACE = (
    2.0  # seconds Ctrl-C waits for a cancelled sensor (an HTTP request in flight) before leaving it
)
CANCEL_POLL = 0.2  # seconds the loop waits at most at a time when another thread may cancel the run


def execute_plan(
    plan: Plan,
    manifest: Manifest,
    adapter: Adapter,
    *,
    threads: int,
    fail_fast: bool,
    reporter: Reporter,
    project_root: Path,
    full_refresh: bool = False,
    invocation_id: str = "",
    target_schema: str | None = None,
    scheduled_at: datetime | None = None,
    history: History | None = None,
    pools: Mapping[str, int] | None = None,
    recompile: Callable[[ModelNode], ModelNode] | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Run every step of `plan` on `adapter`; the result of each, in plan order.

    `recompile` renders a node whose template runs queries (`late_sql`) again just before it is built.
    `cancel` is set by another thread to stop the run (`interrupts.watch_cancel` raises KeyboardInterrupt
    in this one): with it, the loop never blocks longer than CANCEL_POLL seconds, so the interruption is
    delivered while every running step (a sensor) is still waiting.

    `target_schema` names the schema of stored test failures (`<target_schema>_dbt_test__audit`; without
    it, the tested relation's schema); `scheduled_at` is the time a time sensor's `delay` counts from
    (default: now) and the `now` of time-range models. With `history`, every node's result is recorded
    in the state store (a model's success in the transaction of its data) and time-range models process
    their pending intervals. Raises AdapterError only when the run cannot start (the catalog query or a
    schema creation failed); a node's failure is recorded in its result.
    """
    run = _Run(
        plan,
        manifest,
        adapter,
        reporter=reporter,
        project_root=project_root,
        full_refresh=full_refresh or plan.full_refresh,
        fail_fast=fail_fast,
        target_schema=target_schema,
        scheduled_at=scheduled_at or datetime.now(UTC),
        history=history,
        pools=pools,
    )
    run.recompile = recompile
    run.poll = CANCEL_POLL if cancel is not None else None
    return run.execute(max(1, int(threads)), invocation_id=invocation_id)


class _Run:
    """The state of one execution: results so far, what is to be skipped and why."""

    def __init__(
        self,
        plan: Plan,
        manifest: Manifest,
        adapter: Adapter,
        *,
        reporter: Reporter,
        project_root: Path,
        full_refresh: bool,
        fail_fast: bool,
        target_schema: str | None,
        scheduled_at: datetime,
        history: History | None,
        pools: Mapping[str, int] | None = None,
    ) -> None:
        self.history = history
        self.recorder = ResultRecorder(history, time.monotonic)  # results to record, written in batches
        self.emit_lock = threading.Lock()  # interval events come from worker threads
        self.plan = plan
        self.manifest = manifest
        self.adapter = adapter
        self.reporter = reporter
        self.project_root = project_root
        self.full_refresh = full_refresh
        self.fail_fast = fail_fast
        self.steps: Mapping[str, Step] = plan.by_id()
        self.position = {step.unique_id: i for i, step in enumerate(plan.steps)}
        self.children: dict[str, list[str]] = {uid: [] for uid in self.steps}
        for step in plan.steps:
            for up in step.waits_for:
                self.children[up].append(step.unique_id)
        self.ready = ReadyQueue(plan, manifest, self.children, pools)  # priority, critical path, pools
        self.results: dict[str, NodeResult] = {}
        self.indexes: dict[str, int] = {}
        self.skip: dict[str, tuple[int, str]] = {}  # unique id -> (rank of the failed step, why skipped)
        self.stop: str | None = None  # set by fail-fast or Ctrl-C: every step not started is skipped
        self.interrupted = False
        self.target_schema = target_schema
        self.scheduled_at = scheduled_at
        self.cancel = threading.Event()  # set on fail-fast and Ctrl-C: waiting sensors stop at once
        self.audit_results: dict[str, NodeResult] = {}  # audits run inside their model's step
        self.runner: StepRunner | None = None
        self.recompile: Callable[[ModelNode], ModelNode] | None = None
        self.poll: float | None = None  # the longest wait at a time (None: until a step finishes)

    # -- the loop ------------------------------------------------------------------------------------------

    def execute(self, threads: int, *, invocation_id: str) -> RunResult:
        clock = time.perf_counter()
        total = len(self.plan.steps)
        self._emit(RunEvent(kind="run_started", total=total))
        if total:
            catalog = prepare_database(self.adapter, self.plan.steps)
            ctx = BuildContext(
                adapter=self.adapter,
                relations=RelationCache(catalog, case_insensitive=self.adapter.case_insensitive_identifiers),
                project_root=self.project_root,
                full_refresh=self.full_refresh,
                snapshot_time=self.scheduled_at,  # every snapshot of a run records the same time
                recompile=self.recompile,
            )
            self.runner = StepRunner(
                self.manifest,
                self.adapter,
                ctx,
                self.steps,
                target_schema=self.target_schema,
                scheduled_at=self.scheduled_at,
                cancel=self.cancel,
                history=self.history,
                on_interval=self._interval_done,
                on_retry=self._retrying,
            )
            self._critical_paths()
            try:
                self._schedule(threads)
            finally:
                self.recorder.flush()
        result = RunResult(
            results=tuple(self.results[step.unique_id] for step in self.plan.steps),
            elapsed=time.perf_counter() - clock,
            generated_at=datetime.now(UTC),
            command=self.plan.command,
            invocation_id=invocation_id,
            interrupted=self.interrupted,
        )
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items()))
        self._emit(
            RunEvent(
                kind="run_finished",
                status="error" if result.failed else "success",
                seconds=result.elapsed,
                total=total,
                message=("interrupted: " if self.interrupted else "") + counts,
            )
        )
        return result

    def _schedule(self, threads: int) -> None:
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(
            {step.unique_id: step.waits_for for step in self.plan.steps}
        )
        sorter.prepare()
        ready = self.ready
        running: dict[Future[NodeResult], str] = {}
        busy = 0  # running steps that hold a worker slot (sensors do not)
        current: str | None = None  # the step running on this thread (threads=1)
        # one thread runs the steps itself: a hand-off to a worker would cost more than DuckDB's own time
        # for a small model; `on_sigint` makes Ctrl-C interrupt the engine at once all the same
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlflow") if threads > 1 else None
        try:
            with on_sigint(self.adapter.interrupt):
                while sorter.is_active():
                    for uid in sorter.get_ready():
                        if not self.steps[uid].waits:
                            ready.push(uid)
                        elif not self._settle(uid):  # a sensor starts at once, on a thread of its own
                            self._started(uid)
                            running[self._start_sensor(self.steps[uid])] = uid
                        else:
                            sorter.done(uid)
                    ran_here = False
                    while ready and (pool is None or busy < threads):
                        startable = ready.next_startable()
                        if startable is None:
                            break  # every ready step waits for room in its pool
                        uid = startable
                        if self._settle(uid):
                            ready.release(uid)
                            sorter.done(uid)
                            continue
                        self._started(uid)
                        if pool is None:
                            current = uid
                            self._finish(self._run_step(self.steps[uid]))
                            ready.release(uid)
                            current = None
                            sorter.done(uid)
                            ran_here = True
                            break  # back to the sorter: a step it makes ready may come first in the plan
                        running[pool.submit(self._run_step, self.steps[uid])] = uid
                        busy += 1
                    if running:
                        done, _ = wait(
                            running, timeout=0 if ran_here else self.poll, return_when=FIRST_COMPLETED
                        )
                        for future in sorted(done, key=lambda f: self.position[running[f]]):
                            uid = running.pop(future)
                            busy -= 0 if self.steps[uid].waits else 1
                            ready.release(uid)
                            self._finish(future.result())
                            sorter.done(uid)
        except KeyboardInterrupt:
            self._interrupt(running, current)
        finally:
            self.cancel.set()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        for step in self.plan.steps:
            if step.unique_id not in self.results:
                reason = self.stop or self._skip_reason(step.unique_id) or "skipped"
                self._finish(self._skipped(step.unique_id, reason))

    # -- the ready queue ------------------------------------------------------------------------------------

    def _critical_paths(self) -> None:
        """Order the ready queue by the longest remaining paths of the last durations in the state store."""
        durations: Mapping[str, float] = {}
        if self.history is not None:
            with suppress(SqlflowError):
                durations = self.history.store.last_durations()
        self.ready.critical_paths(durations)

    def _settle(self, uid: str) -> bool:
        """Finish a step whose result is known without running it: an audit its model already ran, or a
        step to skip. False when the step has to run."""
        audited = self.audit_results.pop(uid, None)
        if audited is not None:
            self._started(uid)
            self._finish(audited)
            return True
        reason = self.stop or self._skip_reason(uid)
        if reason:
            self._finish(self._skipped(uid, reason))
            return True
        return False

    def _start_sensor(self, step: Step) -> Future[NodeResult]:
        """Run a sensor step on a daemon thread of its own (a waiting sensor must not hold a worker)."""
        future: Future[NodeResult] = Future()
        future.set_running_or_notify_cancel()

        def work() -> None:
            try:
                future.set_result(self._run_step(step))
            except BaseException as exc:  # the executor raises it where it reads the result
                future.set_exception(exc)

        threading.Thread(target=work, name=f"sqlflow-sensor-{step.name}", daemon=True).start()
        return future

    def _interrupt(self, running: Mapping[Future[NodeResult], str], current: str | None) -> None:
        """Ctrl-C: cancel the running statements and the sensors, wait for their threads, skip the rest."""
        self.interrupted = True
        self.stop = "skipped: interrupted"
        self.cancel.set()
        pending = set(running)
        grace = time.monotonic() + SENSOR_GRACE
        while pending:  # again and again: a worker may start its next statement after an interrupt
            self.adapter.interrupt()
            _, pending = wait(pending, timeout=0.2)
            if time.monotonic() > grace:  # a sensor stuck in a request is left behind (a daemon thread)
                pending = {f for f in pending if not self.steps[running[f]].waits}
        for future, uid in sorted(running.items(), key=lambda item: self.position[item[1]]):
            try:
                result = future.result(timeout=0)
            except BaseException:
                result = self._interrupted(uid)
            if uid not in self.results:
                self._finish(result)
        if current is not None and current not in self.results:
            self._finish(self._interrupted(current))

    # -- one step ------------------------------------------------------------------------------------------

    def _run_step(self, step: Step) -> NodeResult:
        """Run one step on the calling thread; never raises for a node's failure."""
        assert self.runner is not None
        if step.waits:
            return self.runner.sense(step)
        if step.resource_type == "test":
            return self.runner.test(step)
        result, audits = self.runner.build(step)
        self.audit_results.update(audits)  # read by the loop once this step is done
        return result

    def _skip_reason(self, uid: str) -> str | None:
        marked = self.skip.get(uid)
        return marked[1] if marked else None

    def _skipped(self, uid: str, reason: str) -> NodeResult:
        return skipped_result(self.steps[uid], reason)

    def _interrupted(self, uid: str) -> NodeResult:
        return interrupted_result(self.steps[uid])

    # -- bookkeeping (calling thread only) -----------------------------------------------------------------

    def _index(self, uid: str) -> int:
        if uid not in self.indexes:
            self.indexes[uid] = len(self.indexes) + 1
        return self.indexes[uid]

    def _started(self, uid: str) -> None:
        step = self.steps[uid]
        self._emit(
            node_started(step, index=self._index(uid), total=len(self.plan.steps), queued=len(self.ready))
        )

    def _emit(self, event: RunEvent) -> None:
        with self.emit_lock:
            self.reporter.emit(event)

    def _interval_done(self, step: Step, interval: Interval, rows: int | None, seconds: float) -> None:
        self._emit(interval_finished(step, interval, rows, seconds))

    def _retrying(self, step: Step, result: NodeResult, attempt: int, delay: float) -> None:
        self._emit(node_retry(step, result, attempt, delay))

    def _record(self, result: NodeResult) -> None:
        """The node's run in the state store, unless it was recorded with its data."""
        runner = self.runner
        self.recorder.record(result, runner.recorded if runner is not None else ())

    def _finish(self, result: NodeResult) -> None:
        uid = result.unique_id
        step = self.steps[uid]
        if step.waits and result.status == "skipped" and self.stop and result.started_at is not None:
            result = dataclasses.replace(result, message=self.stop)  # a sensor cancelled by fail-fast
        policy = self._on_failure(uid)
        if result.failed and policy != "fail":
            result = dataclasses.replace(result, tolerated=True)
        self.results[uid] = result
        self._record(result)
        if result.failed and policy == "continue" and self._relation_exists(uid):
            pass  # on_failure: continue: what is downstream reads the relation as it was
        elif result.failed:
            self._skip_downstream(uid, f"skipped: upstream {result.name} failed")
        if result.failed and not result.tolerated:
            if self.fail_fast and self.stop is None:
                self.stop = f"skipped: fail-fast after {result.name} failed"
                self.cancel.set()
        elif step.waits and result.status == "skipped" and result.started_at is not None and not self.stop:
            self._skip_downstream(uid, f"skipped: upstream {result.name} timed out (soft fail)")
        self._emit(node_finished(result, index=self._index(uid), total=len(self.plan.steps)))

    def _on_failure(self, uid: str) -> str:
        node = self.manifest.nodes.get(uid)
        if isinstance(node, ModelNode) and node.config.on_failure:
            return node.config.on_failure
        return "fail"

    def _relation_exists(self, uid: str) -> bool:
        step = self.steps[uid]
        runner = self.runner
        if step.relation is None or runner is None:
            return False
        return runner.ctx.relations.get(step.relation) is not None

    def _skip_downstream(self, uid: str, reason: str) -> None:
        """Mark every step downstream of `uid` to be skipped; with several failed upstream steps, the
        message names the first in plan order, whichever thread finished first."""
        rank = self.position[uid]
        todo = list(self.children[uid])
        while todo:
            child = todo.pop()
            if child in self.results or self.skip.get(child, (len(self.position), ""))[0] <= rank:
                continue
            self.skip[child] = (rank, reason)
            todo.extend(self.children[child])
