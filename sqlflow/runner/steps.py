"""Running one step of a plan, on the calling thread: a model or seed (published after its audits), a test,
or a sensor (a sensor node, or a test acting as one) that re-pokes until it passes or times out.

`StepRunner` never raises for a node's failure: every outcome becomes a `NodeResult`. It reads the clock
for timings and for sensors (`time.monotonic`, and the run's cancel `Event` as the sleep), as the
executor does. Imports no driver.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from sqlflow.adapters import Adapter
from sqlflow.adapters.sql import create_schema, drop_relation, relation_sql
from sqlflow.checks.data_tests import TestOutcome, audit_schema, run_test
from sqlflow.checks.sensors import TestPoke, WaitOutcome, describe_duration, sensor_poke, wait_for
from sqlflow.errors import SqlflowError
from sqlflow.manifest import Manifest, ModelNode, Relation, SensorNode, TestNode
from sqlflow.materializations import BuildContext, BuildResult, materialize, materialize_audited
from sqlflow.materializations.files import load_files
from sqlflow.materializations.incremental import wants_full_refresh
from sqlflow.materializations.time_range import (
    TimeRangeRun,
    build_time_range,
    is_time_range,
    pending,
    time_range_spec,
)
from sqlflow.policies import PokeSettings
from sqlflow.runner.history import History
from sqlflow.runner.plan import Step
from sqlflow.runner.results import NodeResult
from sqlflow.state.intervals import Interval
from sqlflow.statuses import NodeStatus

# (step, interval, rows inserted, seconds): a time-range batch was committed (called on the worker thread)
IntervalDone = Callable[[Step, Interval, int | None, float], None]
# (step, the failed attempt's result, its number, seconds until the next attempt)
RetryNotice = Callable[[Step, NodeResult, int, float], None]


class StepRunner:
    """What running a step needs besides the step: the manifest, the session, the run's settings."""

    def __init__(
        self,
        manifest: Manifest,
        adapter: Adapter,
        ctx: BuildContext,
        steps: Mapping[str, Step],
        *,
        target_schema: str | None,
        scheduled_at: datetime,
        cancel: threading.Event,
        history: History | None = None,
        on_interval: IntervalDone | None = None,
        on_retry: RetryNotice | None = None,
    ) -> None:
        self.history = history
        self.on_interval = on_interval
        self.on_retry = on_retry
        self.recorded: set[str] = set()  # steps whose node run was recorded with their data
        self.manifest = manifest
        self.steps = steps
        self.adapter = adapter
        self.ctx = ctx
        self.target_schema = target_schema
        self.scheduled_at = scheduled_at
        self.cancel = cancel

    # -- models and seeds ----------------------------------------------------------------------------------

    def build(self, step: Step) -> tuple[NodeResult, dict[str, NodeResult]]:
        """Build a model or seed; with audits, inside one transaction that publishes only when they pass.
        A failure its retry policy allows is tried again after a growing delay (each attempt recorded).
        The result of the step, and those of the audits that ran (by unique id)."""
        node = self.manifest.nodes[step.unique_id]
        assert isinstance(node, ModelNode)
        policy = node.retry  # parsed by the compile (policies.RetryPolicy)
        attempt = 1
        while True:
            result, audits = self._build_once(node, step, attempt)
            result = dataclasses.replace(result, attempts=attempt)
            if (
                result.status != "error"
                or attempt > policy.retries
                or self.cancel.is_set()
                or not policy.allows(result.message or "")
            ):
                return result, audits
            delay = policy.delay_before(attempt)
            self._record_attempt(result, attempt)
            if self.on_retry is not None:
                self.on_retry(step, result, attempt, delay)
            if self.cancel.wait(delay):  # fail-fast or Ctrl-C while waiting: give up now
                return result, audits
            attempt += 1

    def _build_once(
        self, node: ModelNode, step: Step, attempt: int
    ) -> tuple[NodeResult, dict[str, NodeResult]]:
        started_at, clock = datetime.now(UTC), time.perf_counter()
        audits: dict[str, NodeResult] = {}
        rows = None
        status: NodeStatus
        timer, timed_out = self._timeout(node)
        try:
            if node.late_sql and self.ctx.recompile is not None:  # run_query ... on what is built by now
                node = self.ctx.recompile(node)
            load_files(node, self.ctx)  # the CSV files it reads, on an engine that cannot read them in SQL
            if is_time_range(node):
                built = self._time_range(node, step, audits)
            elif step.audits or self.history is not None:
                built = self._publish(node, step, audits, started_at, attempt)
            else:
                built = materialize(node, self.ctx)
            status, message, rows = "success", built.message, built.rows_affected
        except SqlflowError as exc:
            status, message = "error", str(exc)
        except Exception as exc:  # a bug must not stop the other branches; the message says what it was
            status, message = "error", f"{type(exc).__name__}: {exc}"
        finally:
            if timer is not None:
                timer.cancel()
        if status == "error" and timed_out.is_set():
            waited = describe_duration(node.timeout_seconds or 0)
            message = f"timed out after {waited}: the query was cancelled"
        return _result(step, status, message, started_at, clock, rows=rows), audits

    def _timeout(self, node: ModelNode) -> tuple[threading.Timer | None, threading.Event]:
        """A started timer that cancels this thread's statement when the node's `timeout` passes."""
        fired = threading.Event()
        seconds = node.timeout_seconds
        if seconds is None:
            return None, fired
        cancel = self.adapter.canceller()

        def expire() -> None:
            fired.set()
            cancel()

        timer = threading.Timer(seconds, expire)
        timer.daemon = True
        timer.start()
        return timer, fired

    def _record_attempt(self, result: NodeResult, attempt: int) -> None:
        """A failed attempt that will be retried, in the run history."""
        history = self.history
        if history is None:
            return
        with suppress(SqlflowError):
            history.store.record_node(
                history.run_id,
                result.unique_id,
                "error",
                attempt=attempt,
                started_at=result.started_at,
                ended_at=result.completed_at,
                message=result.message,
            )

    def _publish(
        self,
        node: ModelNode,
        step: Step,
        audits: dict[str, NodeResult],
        started_at: datetime,
        attempt: int = 1,
    ) -> BuildResult:
        """Build, audit and record the node run in one transaction."""
        stash: list[tuple[Relation, Any]] = []
        audit = self._auditor(node, step, audits, stash)
        history = self.history

        def record(built: BuildResult) -> None:
            if history is None:
                return
            history.store.record_node(
                history.run_id,
                node.unique_id,
                "success",
                attempt=attempt,
                started_at=started_at,
                ended_at=datetime.now(UTC),
                rows_affected=built.rows_affected,
                message=built.message,
            )
            self.recorded.add(node.unique_id)

        try:
            return materialize_audited(node, self.ctx, audit, record)
        except BaseException:
            self.recorded.discard(node.unique_id)  # rolled back with the data
            raise
        finally:
            self._restore(stash)

    def _time_range(self, node: ModelNode, step: Step, audits: dict[str, NodeResult]) -> BuildResult:
        """Process the model's pending intervals (a backfill: its window), each batch with its ledger row."""
        history = self.history
        if history is None:
            raise SqlflowError(f"time-range model {node.name} needs the state store")
        spec = time_range_spec(node)
        store, uid, adapter = history.store, node.unique_id, self.adapter
        window = history.windows.get(uid)
        if window is None and wants_full_refresh(node, self.ctx.full_refresh):
            kind = self.ctx.relations.get(node.relation)
            with adapter.transaction():  # the table and its ledger go together
                if kind is not None:
                    adapter.execute(drop_relation(node.relation, kind, adapter.dialect))
                store.clear_intervals(uid)
            self.ctx.relations.set(node.relation, None)
        todo = pending(
            spec,
            store.done(uid),
            now=self.scheduled_at,
            horizon=history.horizons.get(uid),
            window=window,
            name=node.name,
        )
        stash: list[tuple[Relation, Any]] = []
        on_interval = self.on_interval

        def on_batch(interval: Interval, rows: int | None, seconds: float) -> None:
            if on_interval is not None:
                on_interval(step, interval, rows, seconds)

        try:
            return build_time_range(
                node,
                self.ctx,
                TimeRangeRun(
                    store=store,
                    todo=todo,
                    run_id=history.run_id,
                    concurrency=history.concurrency,
                    audit=self._auditor(node, step, audits, stash) if step.audits else None,
                    on_batch=on_batch,
                    clock=time.perf_counter,
                ),
            )
        finally:
            self._restore(stash)

    def _auditor(
        self,
        node: ModelNode,
        step: Step,
        audits: dict[str, NodeResult],
        stash: list[tuple[Relation, Any]],
    ) -> Callable[[], str | None]:
        """The audit of a staged build: runs the step's blocking tests; a message when one fails. Stored
        failing rows are kept in `stash`, to be stored again after the rollback (`_restore`)."""
        tests = [self.manifest.nodes[uid] for uid in step.audits]

        def audit() -> str | None:
            failed = []
            for test in tests:
                assert isinstance(test, TestNode)
                started_at, clock = datetime.now(UTC), time.perf_counter()
                try:
                    outcome = run_test(
                        test,
                        self.adapter,
                        relation=node.relation,
                        failures_schema=self._failures_schema(test),
                    )
                except SqlflowError as exc:  # the engine aborts the transaction: no other audit can run
                    audits[test.unique_id] = _result(
                        self._step_of(test), "error", str(exc), started_at, clock
                    )
                    failed.append(f"{test.name} (error: {exc})")
                    break
                audits[test.unique_id] = _test_result(self._step_of(test), outcome, started_at, clock)
                if outcome.failed:
                    noun = "failing row" if outcome.failures == 1 else "failing rows"
                    failed.append(f"{test.name} ({outcome.failures} {noun})")
                    if outcome.stored_in is not None:  # keep the failing rows through the rollback
                        with suppress(SqlflowError):
                            sql = f"select * from {relation_sql(outcome.stored_in, self.adapter.dialect)}"
                            stash.append((outcome.stored_in, self.adapter.fetch_arrow(sql)))
            return "audit failed: " + ", ".join(failed) if failed else None

        return audit

    def _restore(self, stash: list[tuple[Relation, Any]]) -> None:
        for relation, data in stash:  # rolled back: store the failing rows again, outside
            with suppress(SqlflowError):
                self.adapter.execute(create_schema(relation.schema, self.adapter.dialect))
                self.adapter.load_arrow(relation, data)
        stash.clear()

    # -- tests ---------------------------------------------------------------------------------------------

    def test(self, step: Step) -> NodeResult:
        """Run a test once against the relations as they are."""
        test = self.manifest.nodes[step.unique_id]
        assert isinstance(test, TestNode)
        started_at, clock = datetime.now(UTC), time.perf_counter()
        try:
            outcome = run_test(
                test, self.adapter, relation=self._tested(test), failures_schema=self._failures_schema(test)
            )
        except SqlflowError as exc:
            return _result(step, "error", str(exc), started_at, clock)
        except Exception as exc:
            return _result(step, "error", f"{type(exc).__name__}: {exc}", started_at, clock)
        return _test_result(step, outcome, started_at, clock)

    # -- sensors -------------------------------------------------------------------------------------------

    def sense(self, step: Step) -> NodeResult:
        """Poke until the sensor passes, times out, or the run is cancelled.

        Passed: success (a test: pass). Timed out: error, or skipped with `on_timeout: skip` (a soft fail).
        Cancelled (fail-fast, Ctrl-C): skipped. Skipping what is downstream is the executor's job.
        """
        node = self.manifest.nodes[step.unique_id]
        started_at, clock = datetime.now(UTC), time.perf_counter()
        test_poke = None
        try:
            if isinstance(node, SensorNode):
                poke: Any = sensor_poke(
                    node,
                    adapter=self.adapter,
                    project_root=self.ctx.project_root,
                    scheduled_at=self.scheduled_at,
                    now=lambda: datetime.now(UTC),
                )
                settings = node.poke
            else:
                assert isinstance(node, TestNode)
                poke = test_poke = TestPoke(
                    node,
                    self.adapter,
                    relation=self._tested(node),
                    failures_schema=self._failures_schema(node),
                )
                assert node.poke is not None  # planned as a sensor step
                settings = node.poke
            outcome = wait_for(
                poke,
                poke_interval=settings.poke_interval,
                timeout=settings.timeout,
                backoff=settings.backoff,
                max_poke_interval=settings.max_poke_interval,
                clock=time.monotonic,
                sleep=self.cancel.wait,
                cancelled=self.cancel.is_set,
            )
        except SqlflowError as exc:
            return _result(step, "error", str(exc), started_at, clock)
        except Exception as exc:
            return _result(step, "error", f"{type(exc).__name__}: {exc}", started_at, clock)
        status, message = _sensed(step, outcome, settings)
        last: TestOutcome | None = test_poke.last if test_poke is not None else None
        return _result(
            step,
            status,
            message,
            started_at,
            clock,
            failures=last.failures if last is not None else None,
            sample=last.sample_rows if last is not None and status != "pass" else (),
        )

    # -- helpers -------------------------------------------------------------------------------------------

    def _tested(self, test: TestNode) -> Relation | None:
        """The relation of the node a test is attached to (expectations run against it)."""
        if test.attached_node is None:
            return None
        node = self.manifest.nodes.get(test.attached_node) or self.manifest.sources.get(test.attached_node)
        return getattr(node, "relation", None)

    def _failures_schema(self, test: TestNode) -> str | None:
        if not test.config.store_failures:
            return None
        if self.target_schema:
            return audit_schema(self.target_schema)
        tested = self._tested(test)
        return audit_schema(tested.schema if tested is not None else "main")

    def _step_of(self, test: TestNode) -> Step:
        return self.steps.get(test.unique_id) or Step(
            unique_id=test.unique_id, resource_type="test", name=test.name, materialized="test", relation=None
        )


def _sensed(step: Step, outcome: WaitOutcome, settings: PokeSettings) -> tuple[NodeStatus, str]:
    tries = f"{outcome.pokes} poke{'s' if outcome.pokes != 1 else ''}"
    if outcome.ok:
        status: NodeStatus = "pass" if step.resource_type == "test" else "success"
        return status, f"{outcome.detail} ({tries}, {describe_duration(round(outcome.waited, 1))})"
    if outcome.cancelled:
        return "skipped", "skipped: cancelled"
    timeout = describe_duration(settings.timeout)
    if settings.on_timeout == "skip":
        return "skipped", f"sensor timed out after {timeout} (soft fail): {outcome.detail}"
    return "error", f"sensor timed out after {timeout}: {outcome.detail}"


def _test_result(step: Step, outcome: TestOutcome, started_at: datetime, clock: float) -> NodeResult:
    return _result(
        step,
        outcome.status,
        outcome.message,
        started_at,
        clock,
        failures=outcome.failures,
        sample=outcome.sample_rows,
    )


def _result(
    step: Step,
    status: NodeStatus,
    message: str | None,
    started_at: datetime,
    clock: float,
    *,
    rows: int | None = None,
    failures: int | None = None,
    sample: tuple[Mapping[str, Any], ...] = (),
) -> NodeResult:
    return NodeResult(
        unique_id=step.unique_id,
        name=step.name,
        resource_type=step.resource_type,
        status=status,
        message=message,
        rows_affected=rows,
        failures=failures,
        execution_time=time.perf_counter() - clock,
        started_at=started_at,
        completed_at=datetime.now(UTC),
        sample_rows=sample,
        materialized=step.materialized,
        thread_id=threading.current_thread().name,
    )


__all__ = ["StepRunner"]
