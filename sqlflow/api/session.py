"""One way through a run: every command that executes nodes goes through a `RunSession`.

run, build, seed, test, snapshot, backfill, retry and the scheduler's runs each choose what to run (a plan,
and for a backfill the windows to restate); the session does the rest, the same way for all of them:
compile with a connection (templates' run_query), late rendering of the nodes whose templates run queries
(and the artifacts of the SQL that ran), the history rows in the state store, cancellation (Ctrl-C,
SIGTERM, a scheduler's grace period), `target/run_results.json`, alerts and metrics.

It lives in `api` because it wires the runner to `notify`, which the runner may not import.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from sqlflow.api.core import (
    Compiled,
    Options,
    compile_all,
    connect,
    select,
    state_schema,
    store_opener,
    write_compiled,
    write_json,
)
from sqlflow.artifacts import run_results_document
from sqlflow.compile.compiler import LateCompile
from sqlflow.graph import IndirectSelection
from sqlflow.manifest import Manifest, ModelNode
from sqlflow.runner.events import NullReporter, Reporter, RunEvent
from sqlflow.runner.plan import Plan

if TYPE_CHECKING:
    from sqlflow.adapters import Adapter
    from sqlflow.notify.metrics import RunMetrics
    from sqlflow.runner.interrupts import SignalsAsInterrupt
    from sqlflow.runner.results import RunResult
    from sqlflow.state.intervals import Interval

SessionCommand = Literal["run", "seed", "snapshot", "test", "build", "backfill"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRequest:
    """What a command asks of a run, besides the plan it chooses.

    `now` (default: the clock) is the time a time-range model's missing intervals are counted up to and a
    time sensor's delay counts from; `invocation_id` is the run's id (default: a new one); `sla` (seconds)
    overrides notifications.sla; `metrics_file` receives the run's Prometheus metrics (textfile);
    `args` are recorded with the run (a retry's `retry_of`, a backfill's window) beside the selection.
    """

    command: SessionCommand
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    threads: int | None = None
    fail_fast: bool = False
    full_refresh: bool = False
    audit: bool = False  # `run --audit`: the models' blocking tests run as audits, as in build
    indirect_selection: IndirectSelection = "eager"  # which tests come with the selected nodes
    now: datetime | None = None
    invocation_id: str | None = None
    sla: float | None = None
    metrics_file: Path | None = None
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResult:
    """A run as it ended: its result, the manifest of the SQL that ran, and notices from after the run
    (an alert not sent, metrics not written)."""

    result: RunResult
    manifest: Manifest
    notices: tuple[str, ...] = ()


class RunSession:
    """Compiles the project on entry (with a connection, so templates can query the target), executes the
    plan a command chooses, and closes the connection on exit.

        with RunSession(options, request) as session:
            plan = build_plan(session.compiled.manifest, ...)
            ended = session.execute(plan)

    `cancel`, set from another thread (the scheduler's grace period), stops the run as Ctrl-C does. On the
    main thread, SIGTERM stops it the same way for the session's whole life (the run is recorded
    `interrupted`, the statements are cancelled on the server, the alerts are sent).
    """

    def __init__(
        self,
        options: Options,
        request: RunRequest,
        *,
        reporter: Reporter | None = None,
        metrics: RunMetrics | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.options = options
        self.request = request
        self.reporter = reporter or NullReporter()
        self.metrics = metrics
        self.cancel = cancel
        self.invocation_id = request.invocation_id or str(uuid.uuid4())
        self.started_at = request.now or datetime.now(UTC)
        self._connection: list[Adapter] = []  # opened by the compile when a template runs a query
        self._late = LateCompile()
        self._rendered: dict[str, ModelNode] = {}  # late nodes as rendered just before they ran
        self._rendered_lock = threading.Lock()
        self._signals: SignalsAsInterrupt | None = None
        self._compiled: Compiled | None = None

    # -- the session's life ------------------------------------------------------------------------------

    def __enter__(self) -> RunSession:
        from sqlflow.runner.interrupts import SignalsAsInterrupt

        self._signals = SignalsAsInterrupt()
        self._signals.__enter__()
        try:
            request = self.request
            flags = {
                "WHICH": request.command,
                "FULL_REFRESH": request.full_refresh,
                "FAIL_FAST": request.fail_fast,
            }
            self._compiled = compile_all(
                self.options,
                invocation_id=self.invocation_id,
                connection=self._connection,
                flags=flags,
                late=self._late,
            )
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for opened in self._connection:
            opened.close()
        self._connection.clear()
        if self._signals is not None:
            self._signals.__exit__(kind, exc, tb)
            self._signals = None

    @property
    def compiled(self) -> Compiled:
        assert self._compiled is not None, "use the session in a with block"
        return self._compiled

    @property
    def adapter(self) -> Adapter:
        """The run's connection (the compile's, when a template already opened one)."""
        if not self._connection:
            self._connection.append(connect(self.compiled.project))
        return self._connection[0]

    def select(self, resource_types: frozenset[str] | None) -> tuple[frozenset[str], tuple[str, ...]]:
        """The request's selection over the compiled project, and the terms that matched nothing."""
        request = self.request
        return select(
            self.compiled,
            request.select,
            request.exclude,
            resource_types=resource_types,
            indirect=request.indirect_selection,
        )

    # -- one execution ---------------------------------------------------------------------------------

    def execute(
        self, plan: Plan, *, windows: Mapping[str, Interval] | None = None, concurrency: int = 1
    ) -> SessionResult:
        """Run `plan`: recorded in the state store from start to end (`interrupted` when it is stopped, even
        before its first node), its results in target/run_results.json, then its alerts and metrics.
        `windows` (a backfill's): unique id -> the interval restated, marked in the store around the run."""
        from sqlflow.runner.execute import execute_plan
        from sqlflow.runner.history import finish_history, start_history
        from sqlflow.runner.interrupts import watch_cancel

        compiled, request, windows = self.compiled, self.request, dict(windows or {})
        project, manifest = compiled.project, compiled.manifest
        horizons = time_range_horizons(manifest, plan, self.started_at)
        adapter = self.adapter
        args = self._args()
        stop_watching = watch_cancel(self.cancel, adapter.interrupt) if self.cancel is not None else None
        history = None
        try:
            history = start_history(
                adapter,
                schema=state_schema(project),
                command=request.command,
                run_id=self.invocation_id,
                started_at=self.started_at,
                args=args,
                target=project.target.name,
                horizons=horizons,
                windows=windows,
                concurrency=concurrency,
            )
            for uid, window in windows.items():
                history.store.begin_backfill(uid, window, self.invocation_id)
            schemas = sorted({s.relation.schema for s in plan.steps if s.relation is not None})
            self._run_hooks("on-run-start", {"schemas": schemas})
            result = execute_plan(
                plan,
                manifest,
                adapter,
                threads=request.threads or project.target.threads or os.cpu_count() or 1,
                fail_fast=request.fail_fast,
                reporter=_with_queue_gauge(self.reporter, self.metrics),
                project_root=project.root,
                full_refresh=request.full_refresh,
                invocation_id=self.invocation_id,
                target_schema=project.target.schema,
                scheduled_at=self.started_at,
                history=history,
                pools=project.pools,
                recompile=self._recompile,
                cancel=self.cancel,
            )
            for r in result.results:
                if r.unique_id in windows and r.status == "success":
                    history.store.finish_backfill(r.unique_id, windows[r.unique_id])
            result = dataclasses.replace(result, interrupted_by=self._stopped_by(result))
            if not result.interrupted:
                failed = self._run_hooks("on-run-end", {"schemas": schemas, "results": _hook_results(result)})
                result = dataclasses.replace(result, hook_errors=tuple(failed))
            finish_history(history, result, ended_at=datetime.now(UTC))
        except BaseException as exc:
            if history is not None:  # stopped outside a node (the catalog query, a backfill mark ...)
                status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "error"
                with suppress(Exception):
                    history.store.finish_run(self.invocation_id, status, ended_at=datetime.now(UTC))
            raise
        finally:
            if stop_watching is not None:
                stop_watching()
        ran = self._as_ran(manifest)
        if ran is not manifest:  # the artifacts hold the SQL that ran
            write_compiled(project, ran)
        doc = run_results_document(result, ran)
        doc.setdefault("args", {}).update(args)
        doc.setdefault("metadata", {})["invocation_id"] = self.invocation_id
        write_json(project.target_dir / "run_results.json", doc)
        return SessionResult(result=result, manifest=ran, notices=tuple(self._after_run(result)))

    def _run_hooks(self, key: str, extra: Mapping[str, Any]) -> list[str]:
        """Render and run the project's `key` hooks (dbt's on-run-start / on-run-end) on the run's
        connection. A failing on-run-start stops the run (raised); an on-run-end failure is returned, and
        fails the run."""
        from sqlflow.errors import NodeFailedError, SqlflowError

        hooks = getattr(self.compiled.project, key.replace("-", "_"))
        failed: list[str] = []
        for hook in hooks:
            where = f"{hook.path}:{hook.line}" if hook.line else hook.path
            try:
                sql = self._late.render_hook(hook, extra)
                if sql:
                    self.adapter.execute(sql)
            except SqlflowError as exc:
                message = f"{key} hook ({where}) failed: {exc}"
                if key == "on-run-start":
                    raise NodeFailedError(message, hint="fix or remove the hook in the project file") from exc
                failed.append(message)
        return failed

    def _args(self) -> dict[str, Any]:
        request = self.request
        return {
            "which": request.command,
            "select": list(request.select),
            "exclude": list(request.exclude),
            "vars": dict(self.options.vars),
            "target": self.compiled.project.target.name,
            "full_refresh": request.full_refresh,
            **({"audit": True} if request.audit else {}),
            **(
                {"indirect_selection": request.indirect_selection}
                if request.indirect_selection != "eager"
                else {}
            ),
            **request.args,
        }

    def _stopped_by(self, result: RunResult) -> str | None:
        if not result.interrupted:
            return None
        if self._signals is not None and self._signals.received:
            return self._signals.received
        return "cancel" if self.cancel is not None and self.cancel.is_set() else "SIGINT"

    def _recompile(self, node: ModelNode) -> ModelNode:
        """A late node rendered again just before it runs; kept for the artifacts."""
        rendered = self._late(node)
        with self._rendered_lock:
            self._rendered[node.unique_id] = rendered
        return rendered

    def _as_ran(self, manifest: Manifest) -> Manifest:
        with self._rendered_lock:
            changed = {
                uid: node
                for uid, node in self._rendered.items()
                if node.compiled_sql != getattr(manifest.nodes.get(uid), "compiled_sql", None)
            }
        if not changed:
            return manifest
        return dataclasses.replace(manifest, nodes={**manifest.nodes, **changed})

    def _after_run(self, result: RunResult) -> list[str]:
        """Send the run's alerts and record its metrics; what fails there is a notice, never a failed run."""
        from sqlflow.notify.alerts import RunInfo
        from sqlflow.notify.report import report_run

        project, request = self.compiled.project, self.request
        metrics_file = request.metrics_file
        if not project.notifications.channels and self.metrics is None and metrics_file is None:
            return []
        info = RunInfo(
            project=project.name,
            target=project.target.name,
            command=request.command,
            select=request.select,
            exclude=request.exclude,
            resume=resume_command(result),
            finished_at=self.started_at + timedelta(seconds=result.elapsed),
        )
        try:
            return list(
                report_run(
                    result,
                    project.notifications,
                    info,
                    open_store=store_opener(project),
                    model_names=[n.name for n in self.compiled.manifest.models()],
                    sla=request.sla,
                    metrics=self.metrics,
                    metrics_file=metrics_file,
                )
            )
        except Exception as exc:  # the run is over and recorded: reporting must not fail it
            return [f"alerts and metrics failed: {exc}"]


def _hook_results(result: RunResult) -> list[dict[str, Any]]:
    """dbt's `results` of an on-run-end hook: per node, its status, message, time and node (name, id)."""
    return [
        {
            "status": r.status,
            "message": r.message,
            "execution_time": r.execution_time,
            "failures": r.failures,
            "node": {"unique_id": r.unique_id, "name": r.name, "resource_type": r.resource_type},
            "adapter_response": {"rows_affected": r.rows_affected},
        }
        for r in result.results
    ]


def resume_command(result: RunResult | None) -> str | None:
    """The command that re-runs what failed or was skipped, or None when nothing did."""
    if result is None or not result.failed:
        return None
    return "sqlflow retry"


class _QueueGauge:
    """Passes events on, and keeps the metrics' queue-depth gauge at the executor's ready queue."""

    def __init__(self, reporter: Reporter, metrics: RunMetrics) -> None:
        self.reporter = reporter
        self.metrics = metrics

    def emit(self, event: RunEvent) -> None:
        if event.kind == "node_started" and event.queued is not None:
            self.metrics.set_queue_depth(event.queued)
        elif event.kind == "run_finished":
            self.metrics.set_queue_depth(0)
        self.reporter.emit(event)


def _with_queue_gauge(reporter: Reporter, metrics: RunMetrics | None) -> Reporter:
    return reporter if metrics is None else _QueueGauge(reporter, metrics)


def time_range_horizons(manifest: Manifest, plan: Plan, now: datetime) -> dict[str, datetime]:
    """For the planned time-range models with a `cron`, the latest tick at or before `now`: their intervals
    are due up to it (the compile checked the settings)."""
    from sqlflow.schedule.cron import previous_tick

    horizons = {}
    for step in plan.steps:
        node = manifest.nodes.get(step.unique_id)
        spec = node.time_range if isinstance(node, ModelNode) else None
        if spec is not None and spec.cron:
            horizons[step.unique_id] = previous_tick(spec.cron, now, tz=spec.timezone)
    return horizons


__all__ = [
    "RunRequest",
    "RunSession",
    "SessionResult",
    "resume_command",
    "time_range_horizons",
]
