"""`sqlflow run`: plan, execute, record history and alert, with the orchestration checks around it."""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlflow.api.core import (
    Options,
    RunOutcome,
    _store_opener,
    _write_json,
    compile_all,
    connect,
    resume_command,
    select,
    state_schema,
)
from sqlflow.compile.compiler import LateCompile
from sqlflow.errors import ConfigError, did_you_mean
from sqlflow.manifest import Manifest, ModelNode
from sqlflow.project.types import Project
from sqlflow.runner.events import NullReporter, Reporter, RunEvent
from sqlflow.runner.plan import (
    COMMAND_RESOURCES,
    Command,
    Plan,
    build_plan,
    upstream_sensors,
)

if TYPE_CHECKING:
    from sqlflow.adapters import Adapter
    from sqlflow.notify.metrics import RunMetrics


def run(
    command: Command,
    options: Options,
    *,
    select_: Sequence[str] = (),
    exclude: Sequence[str] = (),
    threads: int | None = None,
    fail_fast: bool = False,
    full_refresh: bool = False,
    dry_run: bool = False,
    reporter: Reporter | None = None,
    now: datetime | None = None,
    skip_ids: Collection[str] = (),
    retry_of: str | None = None,
    metrics_file: Path | None = None,
    metrics: RunMetrics | None = None,
    sla: float | None = None,
    invocation_id: str | None = None,
    cancel: threading.Event | None = None,
) -> RunOutcome:
    """seed | run | test | build: compile, select, plan, execute, write run_results.json.

    `invocation_id` is the run's id (default: a new one); setting `cancel` stops a run on another thread
    as Ctrl-C stops one on the main thread (the scheduler's grace period ends that way).

    The run is recorded in the state store; `now` (default: the clock) is the time a time-range model's
    missing intervals are counted up to, and a time sensor's delay counts from. `skip_ids` leaves nodes
    out of the selection (what a retried run already did; `retry_of` names that run).
    After the run, its alerts are sent (`sla`, in seconds, overrides notifications.sla), it is counted into
    `metrics` and written to `metrics_file` (Prometheus textfile); see _after_run.
    """
    invocation_id = invocation_id or str(uuid.uuid4())
    started_at = now or datetime.now(UTC)
    connection: list[Adapter] = []  # opened by the compile when a template runs a query, then reused
    flags = {"WHICH": command, "FULL_REFRESH": full_refresh, "FAIL_FAST": fail_fast}
    late = LateCompile()
    with _closed_on_error(connection):
        compiled = compile_all(
            options, invocation_id=invocation_id, connection=connection, flags=flags, late=late
        )
        selected, unmatched = select(compiled, select_, exclude, resource_types=COMMAND_RESOURCES[command])
        if command in ("run", "build"):  # a selected model still waits for the sensors it depends on
            selected |= upstream_sensors(compiled.manifest, compiled.dag, selected)
        selected -= frozenset(skip_ids)
        plan = build_plan(
            compiled.manifest, compiled.dag, selected, command=command, full_refresh=full_refresh
        )
        if dry_run:
            for opened in connection:
                opened.close()
            return RunOutcome(compiled=compiled, plan=plan, result=None, unmatched=unmatched)
        from sqlflow.runner.execute import execute_plan
        from sqlflow.runner.history import finish_history, start_history
        from sqlflow.runner.interrupts import watch_cancel

        project = compiled.project
        horizons = time_range_horizons(compiled.manifest, plan, started_at)
        check_orchestration(compiled.manifest, plan, project)
        args = {
            "which": command,
            "select": list(select_),
            "exclude": list(exclude),
            "vars": dict(options.vars),
        }
        if retry_of:
            args["retry_of"] = retry_of
        if not connection:  # late nodes' queries (run_query ...) run on the run's adapter
            connection.append(connect(project))
        adapter = connection[0]
    stop_watching = watch_cancel(cancel, adapter.interrupt) if cancel is not None else None
    try:
        history = start_history(
            adapter,
            schema=state_schema(project),
            command=command,
            run_id=invocation_id,
            started_at=started_at,
            args=args | {"full_refresh": full_refresh},
            target=project.target.name,
            horizons=horizons,
        )
        result = execute_plan(
            plan,
            compiled.manifest,
            adapter,
            threads=threads or project.target.threads or os.cpu_count() or 1,
            fail_fast=fail_fast,
            reporter=_with_queue_gauge(reporter or NullReporter(), metrics),
            project_root=project.root,
            full_refresh=full_refresh,
            invocation_id=invocation_id,
            target_schema=project.target.schema,
            scheduled_at=started_at,
            history=history,
            pools=project.pools,
            recompile=late,
        )
        finish_history(history, result, ended_at=datetime.now(UTC))
    finally:
        if stop_watching is not None:
            stop_watching()
        adapter.close()
    doc = result.to_json(compiled.manifest)
    doc.setdefault("args", {}).update(
        {
            "which": command,
            "select": list(select_),
            "exclude": list(exclude),
            "vars": dict(options.vars),
            "target": project.target.name,
            "full_refresh": full_refresh,
        }
    )
    doc.setdefault("metadata", {})["invocation_id"] = invocation_id
    _write_json(project.target_dir / "run_results.json", doc)
    outcome = RunOutcome(compiled=compiled, plan=plan, result=result, unmatched=unmatched)
    return _after_run(outcome, command, select_, exclude, started_at, sla, metrics, metrics_file)


@contextmanager
def _closed_on_error(connection: list[Adapter]) -> Iterator[None]:
    """Close the adapter a compile opened (for run_query) when what follows it fails."""
    try:
        yield
    except BaseException:
        for opened in connection:
            opened.close()
        raise


def _after_run(
    outcome: RunOutcome,
    command: str,
    select_: Sequence[str],
    exclude: Sequence[str],
    started_at: datetime,
    sla: float | None,
    metrics: RunMetrics | None,
    metrics_file: Path | None,
) -> RunOutcome:
    """Send the run's alerts and record its metrics; what fails there is a notice, never a failed run."""
    from datetime import timedelta

    from sqlflow.notify.alerts import RunInfo
    from sqlflow.notify.report import report_run

    project, result = outcome.compiled.project, outcome.result
    if result is None or (not project.notifications.channels and metrics is None and metrics_file is None):
        return outcome
    info = RunInfo(
        project=project.name,
        target=project.target.name,
        command=command,
        select=tuple(select_),
        exclude=tuple(exclude),
        resume=resume_command(command, outcome),
        finished_at=started_at + timedelta(seconds=result.elapsed),
    )
    try:
        notices = report_run(
            result,
            project.notifications,
            info,
            open_store=_store_opener(project),
            model_names=[n.name for n in outcome.compiled.manifest.models()],
            sla=sla,
            metrics=metrics,
            metrics_file=metrics_file,
        )
    except Exception as exc:  # the run is over and recorded: reporting must not fail it
        notices = [f"alerts and metrics failed: {exc}"]
    return dataclasses.replace(outcome, notices=(*outcome.notices, *notices))


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


def check_orchestration(manifest: Manifest, plan: Plan, project: Project) -> None:
    """Before anything runs: every planned model's pool is declared, its retry and timeout settings read."""
    from sqlflow.errors import SourceLocation
    from sqlflow.runner.retries import retry_policy, timeout_of

    for step in plan.steps:
        node = manifest.nodes.get(step.unique_id)
        if not isinstance(node, ModelNode):
            continue
        retry_policy(node)
        timeout_of(node)
        pool = node.config.pool
        if pool is not None and pool not in project.pools:
            raise ConfigError(
                f"{node.name} runs in pool '{pool}', which sqlflow.yml does not declare",
                location=SourceLocation(node.path),
                hint=did_you_mean(pool, list(project.pools)) or f"add pools: {{{pool}: 1}} to sqlflow.yml",
            )


def time_range_horizons(manifest: Manifest, plan: Plan, now: datetime) -> dict[str, datetime]:
    """Check the settings of the planned time-range models (errors before anything runs) and give, for
    those with a `cron`, the latest tick at or before `now`: their intervals are due up to it."""
    from sqlflow.errors import SourceLocation
    from sqlflow.materializations.time_range import is_time_range, time_range_spec
    from sqlflow.schedule.cron import check_cron, previous_tick

    horizons = {}
    for step in plan.steps:
        node = manifest.nodes.get(step.unique_id)
        if not isinstance(node, ModelNode) or not is_time_range(node):
            continue
        spec = time_range_spec(node)
        if spec.cron:
            check_cron(spec.cron, tz=spec.grain.tz, location=SourceLocation(node.path))
            horizons[node.unique_id] = previous_tick(spec.cron, now, tz=spec.grain.tz)
    return horizons
