"""Running a plan: a ready-queue over its graph, `threads` workers, skips downstream of failures.

`execute_plan` starts with one catalog query (which relations exist, leftovers of a killed run to drop,
schemas to create), then runs each step whose upstream steps are done, in plan order: on the calling
thread when `threads` is 1 (a hand-off would cost more than a small model), else on `threads` workers.
A node that errors, or a test that fails, skips every step downstream of it while independent branches
go on; with `fail_fast` the first failure skips everything not yet started. Ctrl-C interrupts the running
statements at once (see `interrupts`) and skips the rest. Progress goes to the injected Reporter, from
the calling thread only. Imports no driver.
"""

from __future__ import annotations

import graphlib
import heapq
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path

from sqlflow.adapters import TMP_SUFFIX, Adapter, Catalog
from sqlflow.adapters.sql import create_schema, drop_relation
from sqlflow.errors import SqlflowError
from sqlflow.manifest import Manifest, Relation, TestNode
from sqlflow.materializations import BuildContext, RelationCache, materialize
from sqlflow.runner.data_tests import run_data_test
from sqlflow.runner.events import Reporter, RunEvent
from sqlflow.runner.interrupts import on_sigint
from sqlflow.runner.plan import Plan, Step
from sqlflow.runner.results import NodeResult, RunResult


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
) -> RunResult:
    """Run every step of `plan` on `adapter`; the result of each, in plan order.

    Raises AdapterError only when the run cannot start (the catalog query or a schema creation failed);
    a node's failure is recorded in its result.
    """
    run = _Run(
        plan,
        manifest,
        adapter,
        reporter=reporter,
        project_root=project_root,
        full_refresh=full_refresh or plan.full_refresh,
        fail_fast=fail_fast,
    )
    return run.execute(max(1, int(threads)), invocation_id=invocation_id)


def prepare_database(adapter: Adapter, steps: tuple[Step, ...]) -> Catalog:
    """Drop leftovers of a killed run (`*__sqlflow_tmp`), create missing schemas; what exists after."""
    catalog = adapter.list_relations()
    fold = adapter.case_insensitive_identifiers
    relations = dict(catalog.relations)
    for (schema, identifier), kind in sorted(catalog.relations.items()):
        if identifier.lower().endswith(TMP_SUFFIX):
            rel = Relation(database=None, schema=schema, identifier=identifier)
            adapter.execute(drop_relation(rel, kind, adapter.dialect))
            del relations[(schema, identifier)]

    def folded(schema: str) -> str:
        return schema.lower() if fold else schema

    existing = {folded(s) for s in catalog.schemas}
    schemas = set(catalog.schemas)
    for schema in sorted({step.relation.schema for step in steps if step.relation is not None}):
        if folded(schema) not in existing:
            adapter.execute(create_schema(schema, adapter.dialect))
            existing.add(folded(schema))
            schemas.add(schema)
    return Catalog(schemas=frozenset(schemas), relations=relations)


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
    ) -> None:
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
        self.results: dict[str, NodeResult] = {}
        self.indexes: dict[str, int] = {}
        self.skip: dict[str, tuple[int, str]] = {}  # unique id -> (rank of the failed step, why skipped)
        self.stop: str | None = None  # set by fail-fast or Ctrl-C: every step not started is skipped
        self.interrupted = False
        self.ctx: BuildContext | None = None

    # -- the loop ------------------------------------------------------------------------------------------

    def execute(self, threads: int, *, invocation_id: str) -> RunResult:
        clock = time.perf_counter()
        total = len(self.plan.steps)
        self.reporter.emit(RunEvent(kind="run_started", total=total))
        if total:
            catalog = prepare_database(self.adapter, self.plan.steps)
            self.ctx = BuildContext(
                adapter=self.adapter,
                relations=RelationCache(catalog, case_insensitive=self.adapter.case_insensitive_identifiers),
                project_root=self.project_root,
                full_refresh=self.full_refresh,
            )
            self._schedule(threads)
        result = RunResult(
            results=tuple(self.results[step.unique_id] for step in self.plan.steps),
            elapsed=time.perf_counter() - clock,
            generated_at=datetime.now(UTC),
            command=self.plan.command,
            invocation_id=invocation_id,
            interrupted=self.interrupted,
        )
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items()))
        self.reporter.emit(
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
        ready: list[tuple[int, str]] = []
        running: dict[Future[NodeResult], str] = {}
        current: str | None = None  # the step running on this thread (threads=1)
        # one thread runs the steps itself: a hand-off to a worker would cost more than DuckDB's own time
        # for a small model; `on_sigint` makes Ctrl-C interrupt the engine at once all the same
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlflow") if threads > 1 else None
        try:
            with on_sigint(self.adapter.interrupt):
                while sorter.is_active():
                    for uid in sorter.get_ready():
                        heapq.heappush(ready, (self.position[uid], uid))
                    while ready and len(running) < threads:
                        _, uid = heapq.heappop(ready)
                        reason = self.stop or self._skip_reason(uid)
                        if reason:
                            self._finish(self._skipped(uid, reason))
                            sorter.done(uid)
                            continue
                        self._started(uid)
                        if pool is None:
                            current = uid
                            self._finish(self._run_step(self.steps[uid]))
                            current = None
                            sorter.done(uid)
                            break  # back to the sorter: a step it makes ready may come first in the plan
                        running[pool.submit(self._run_step, self.steps[uid])] = uid
                    if running:
                        done, _ = wait(running, return_when=FIRST_COMPLETED)
                        for future in sorted(done, key=lambda f: self.position[running[f]]):
                            uid = running.pop(future)
                            self._finish(future.result())
                            sorter.done(uid)
        except KeyboardInterrupt:
            self._interrupt(running, current)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        for step in self.plan.steps:
            if step.unique_id not in self.results:
                reason = self.stop or self._skip_reason(step.unique_id) or "skipped"
                self._finish(self._skipped(step.unique_id, reason))

    def _interrupt(self, running: Mapping[Future[NodeResult], str], current: str | None) -> None:
        """Ctrl-C: cancel the running statements, wait for their workers, skip the rest."""
        self.interrupted = True
        self.stop = "skipped: interrupted"
        pending = set(running)
        while pending:  # again and again: a worker may start its next statement after an interrupt
            self.adapter.interrupt()
            _, pending = wait(pending, timeout=0.2)
        for future, uid in sorted(running.items(), key=lambda item: self.position[item[1]]):
            try:
                result = future.result()
            except BaseException:
                result = self._interrupted(uid)
            if uid not in self.results:
                self._finish(result)
        if current is not None and current not in self.results:
            self._finish(self._interrupted(current))

    # -- one step ------------------------------------------------------------------------------------------

    def _run_step(self, step: Step) -> NodeResult:
        """Run one step on the calling thread; never raises for a node's failure."""
        node = self.manifest.nodes[step.unique_id]
        started_at = datetime.now(UTC)
        clock = time.perf_counter()
        rows = failures = None
        sample: tuple[Mapping[str, object], ...] = ()
        try:
            if isinstance(node, TestNode):
                outcome = run_data_test(node, self.adapter)
                status, message, failures, sample = (
                    outcome.status,
                    outcome.message,
                    outcome.failures,
                    outcome.sample_rows,
                )
            else:
                assert self.ctx is not None
                built = materialize(node, self.ctx)
                status, message, rows = "success", built.message, built.rows_affected
        except SqlflowError as exc:
            status, message = "error", str(exc)
        except Exception as exc:  # a bug must not stop the other branches; the message says what it was
            status, message = "error", f"{type(exc).__name__}: {exc}"
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
        )

    def _skip_reason(self, uid: str) -> str | None:
        marked = self.skip.get(uid)
        return marked[1] if marked else None

    def _skipped(self, uid: str, reason: str) -> NodeResult:
        step = self.steps[uid]
        return NodeResult(
            unique_id=uid,
            name=step.name,
            resource_type=step.resource_type,
            status="skipped",
            message=reason,
            materialized=step.materialized,
        )

    def _interrupted(self, uid: str) -> NodeResult:
        step = self.steps[uid]
        return NodeResult(
            unique_id=uid,
            name=step.name,
            resource_type=step.resource_type,
            status="error",
            message="interrupted",
            materialized=step.materialized,
        )

    # -- bookkeeping (calling thread only) -----------------------------------------------------------------

    def _index(self, uid: str) -> int:
        if uid not in self.indexes:
            self.indexes[uid] = len(self.indexes) + 1
        return self.indexes[uid]

    def _started(self, uid: str) -> None:
        step = self.steps[uid]
        self.reporter.emit(
            RunEvent(
                kind="node_started",
                unique_id=uid,
                name=step.name,
                resource_type=step.resource_type,
                materialized=step.materialized,
                index=self._index(uid),
                total=len(self.plan.steps),
            )
        )

    def _finish(self, result: NodeResult) -> None:
        uid = result.unique_id
        self.results[uid] = result
        if result.failed:
            self._skip_downstream(uid, f"skipped: upstream {result.name} failed")
            if self.fail_fast and self.stop is None:
                self.stop = f"skipped: fail-fast after {result.name} failed"
        self.reporter.emit(
            RunEvent(
                kind="node_finished",
                unique_id=uid,
                name=result.name,
                resource_type=result.resource_type,
                materialized=result.materialized,
                status=result.status,
                rows=result.failures if result.resource_type == "test" else result.rows_affected,
                seconds=result.execution_time,
                message=result.message,
                index=self._index(uid),
                total=len(self.plan.steps),
            )
        )

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
