"""Facade functions wiring the layers: load -> compile -> select -> plan -> execute, and the artifacts.

Each CLI command is one call here. No click, no printing: progress goes to the Reporter passed in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sqlflow.compile import compile_project
from sqlflow.compile.compiler import LateCompile
from sqlflow.compile.lint import LintWarning, lint
from sqlflow.errors import ConfigError, SelectionError, SqlflowError, did_you_mean
from sqlflow.graph import Dag, build_dag, select_nodes, unmatched_terms
from sqlflow.manifest import Manifest, ModelNode, SensorNode
from sqlflow.project import find_project_root, load_project
from sqlflow.project.types import Project, ScheduleJob
from sqlflow.runner.events import NullReporter, Reporter, RunEvent
from sqlflow.runner.plan import (
    COMMAND_RESOURCES,
    Command,
    Plan,
    build_plan,
    describe_plan,
    upstream_sensors,
)

if TYPE_CHECKING:
    from sqlflow.adapters import Adapter
    from sqlflow.checks.freshness import FreshnessResult
    from sqlflow.compile.dbt_report import Finding
    from sqlflow.docs.build import ColumnLineage
    from sqlflow.docs.facts import Facts
    from sqlflow.docs.site import SiteSummary
    from sqlflow.notify.metrics import RunMetrics
    from sqlflow.runner.intervals import ModelStatus
    from sqlflow.runner.results import RunResult
    from sqlflow.schedule.events import (
        FireRequest,
        FireResult,
        JobStatus,
        ScheduleSummary,
        TickEvent,
        TickReporter,
    )
    from sqlflow.state.store import StateStore

ENGINE_DIALECTS: Mapping[str, str] = {"duckdb": "duckdb", "postgres": "postgres"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """What every command shares: where the project is, which target, which vars."""

    project_dir: Path | None = None
    profiles_dir: Path | None = None
    target: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Compiled:
    project: Project
    manifest: Manifest
    dag: Dag
    warnings: tuple[LintWarning, ...] = ()  # from compile.lint, for the CLI to print


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutcome:
    compiled: Compiled
    plan: Plan
    result: RunResult | None  # None for --dry-run
    unmatched: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()  # warnings from after the run: an alert not sent, metrics not written

    @property
    def failed(self) -> bool:
        return self.result is not None and self.result.failed


def parse_vars(text: str | None) -> dict[str, Any]:
    """`--vars '{key: value}'` (YAML or JSON) -> a dict; a ConfigError explains a bad value.

    >>> parse_vars("{days: 3, region: eu}")
    {'days': 3, 'region': 'eu'}
    >>> parse_vars(None)
    {}
    """
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"--vars is not valid YAML: {text!r}", hint="write it as '{key: value, other: 2}'"
        ) from exc
    if not isinstance(value, dict):
        raise ConfigError(f"--vars must be a mapping, got {text!r}", hint="write it as '{key: value}'")
    return value


def load(options: Options) -> Project:
    root = find_project_root(options.project_dir or Path.cwd())
    return load_project(root, target=options.target, profiles_dir=options.profiles_dir)


def compile_all(
    options: Options,
    *,
    invocation_id: str | None = None,
    write: bool = True,
    connection: list[Adapter] | None = None,
    flags: Mapping[str, Any] | None = None,
    late: LateCompile | None = None,
) -> Compiled:
    """Load and compile the project; write target/compiled/ and target/manifest.json when `write`.

    With `connection` (a list, empty or holding the open adapter), templates' run_query / statement run on
    the target (`execute` is true): the adapter is opened on first use and left in the list for the caller
    to use and close. `flags` are dbt's flags templates read (FULL_REFRESH, WHICH). `late` can then render
    the nodes whose templates run queries again, just before they run (see compile.compiler.LateCompile).
    """
    project = load(options)
    query = None
    if connection is not None:

        def query(sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
            if not connection:
                connection.append(connect(project))
            return connection[0].fetch(sql)

    manifest = compile_project(
        project,
        target_dialect=engine_dialect(project),
        vars=options.vars,
        invocation_id=invocation_id or str(uuid.uuid4()),
        run_started_at=datetime.now(UTC),
        cache_dir=project.target_dir,
        query=query,
        flags=flags,
        late=late,
    )
    dag = build_dag(manifest)
    if write:
        write_compiled(project, manifest)
    return Compiled(project=project, manifest=manifest, dag=dag, warnings=lint(manifest))


def engine_dialect(project: Project) -> str:
    try:
        return ENGINE_DIALECTS[project.target.type]
    except KeyError:
        raise ConfigError(
            f"unknown target type '{project.target.type}'",
            hint="supported: " + ", ".join(sorted(ENGINE_DIALECTS)),
        ) from None


def connect(project: Project) -> Adapter:
    """Open the target's adapter. On DuckDB, relative file paths in models (read_csv('landing/x.csv'))
    resolve against the project folder, wherever sqlflow was started."""
    from sqlflow.adapters import open_adapter  # the engine loads only when something runs

    target = project.target
    if target.type == "duckdb":
        options = dict(target.settings.get("settings") or {})
        options.setdefault("file_search_path", str(project.root))
        target = dataclasses.replace(target, settings={**target.settings, "settings": options})
    return open_adapter(target)


def write_compiled(project: Project, manifest: Manifest) -> None:
    """target/compiled/<project>/<path>.sql for every compiled node, and target/manifest.json.

    An index of content hashes (target/compiled/.index.json) lets an unchanged project skip rewriting files.
    """
    out = project.target_dir
    compiled_root = out / "compiled" / project.name
    index_path = out / "compiled" / ".index.json"
    try:
        index: dict[str, str] = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    new_index: dict[str, str] = {}
    writes: list[tuple[Path, str]] = []
    for node in manifest.nodes.values():
        if isinstance(node, SensorNode) or node.compiled_sql is None:
            continue
        rel = node.path
        # a generic test has no file of its own; one snapshot file may hold several snapshots
        # (a unit test is declared in property YAML too)
        own_file = node.resource_type == "test" and node.test_type in ("generic", "unit")
        if own_file or node.resource_type == "snapshot":
            rel = f"{Path(node.path).parent.as_posix()}/{node.name}.sql"
        digest = hashlib.blake2b(node.compiled_sql.encode(), digest_size=16).hexdigest()
        new_index[rel] = digest
        dest = compiled_root / rel
        if index.get(rel) != digest or not dest.exists():
            writes.append((dest, node.compiled_sql))
    for folder in {dest.parent for dest, _ in writes}:
        folder.mkdir(parents=True, exist_ok=True)
    for dest, text in writes:
        dest.write_text(text)
    for stale in index.keys() - new_index.keys():
        (compiled_root / stale).unlink(missing_ok=True)
    _write_json(index_path, new_index)
    _write_json(out / "manifest.json", manifest.to_json())


def previous_results(project: Project) -> dict[str, str] | None:
    """unique_id -> status of the last run, from target/run_results.json; None when there is none."""
    path = project.target_dir / "run_results.json"
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
        return {r["unique_id"]: r["status"] for r in doc.get("results", [])}
    except (ValueError, KeyError, TypeError):
        return None


def select(
    compiled: Compiled,
    select: Sequence[str],
    exclude: Sequence[str],
    *,
    resource_types: frozenset[str] | None,
) -> tuple[frozenset[str], tuple[str, ...]]:
    """The selected unique ids, and the selector terms that matched nothing (for a warning)."""
    specs = [*select, *exclude]
    results = previous_results(compiled.project) if any("result:" in s for s in specs) else None
    selected = select_nodes(
        compiled.manifest,
        compiled.dag,
        select,
        exclude,
        previous_results=results,
        resource_types=resource_types,
    )
    unmatched = unmatched_terms(compiled.manifest, compiled.dag, specs, previous_results=results)
    return selected, unmatched


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


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryOutcome:
    """What `sqlflow retry` found: the run it resumes (None when there was nothing to resume)."""

    run_id: str | None
    command: str | None
    status: str | None
    outcome: RunOutcome | BackfillOutcome | None


def retry(
    options: Options,
    *,
    threads: int | None = None,
    fail_fast: bool = False,
    dry_run: bool = False,
    reporter: Reporter | None = None,
) -> RetryOutcome:
    """Run again what the last run left undone: its nodes that failed, were skipped or never finished
    (read from the state store, so it works after a crash), with the same command, selection and vars."""
    from sqlflow.state.store import StateStore

    project = load(options)
    adapter = connect(project)
    try:
        store = StateStore(adapter, state_schema(project))
        last = store.last_run() if store.version() > 0 else None
        attempts = store.node_runs(last.run_id) if last is not None else []
    finally:
        adapter.close()
    if last is None:
        raise SelectionError("there is no run to retry", hint="the state store has no run yet")
    if last.status == "success":
        return RetryOutcome(run_id=last.run_id, command=last.command, status=last.status, outcome=None)
    args = dict(last.args)
    final: dict[str, tuple[int, str]] = {}
    for attempt in attempts:  # the last attempt of each node decides
        if attempt.unique_id not in final or attempt.attempt >= final[attempt.unique_id][0]:
            final[attempt.unique_id] = (attempt.attempt, attempt.status)
    done = {uid for uid, (_, status) in final.items() if status in ("success", "pass", "warn")}
    again = dataclasses.replace(options, vars={**(args.get("vars") or {}), **options.vars})
    select_, exclude = list(args.get("select") or ()), list(args.get("exclude") or ())
    command = str(args.get("which") or last.command)
    outcome: RunOutcome | BackfillOutcome
    if command == "backfill":  # a backfill resumes by itself: the intervals written are not redone
        outcome = backfill(
            again,
            start=str(args["start"]),
            end=str(args["end"]),
            select_=select_,
            exclude=exclude,
            cascade=bool(args.get("cascade")),
            threads=threads,
            fail_fast=fail_fast,
            dry_run=dry_run,
            reporter=reporter,
        )
    else:
        outcome = run(
            command,  # type: ignore[arg-type]
            again,
            select_=select_,
            exclude=exclude,
            threads=threads,
            fail_fast=fail_fast,
            full_refresh=bool(args.get("full_refresh")),
            dry_run=dry_run,
            reporter=reporter,
            skip_ids=done,
            retry_of=last.run_id,
        )
    return RetryOutcome(run_id=last.run_id, command=command, status=last.status, outcome=outcome)


def state_schema(project: Project) -> str:
    """The schema of the target's state store: the target's `state_schema`; else `sqlflow_state` when the
    target uses its engine's default schema (main, public), and `<schema>_sqlflow_state` otherwise, so
    targets sharing a database (one schema per developer) never share run history or interval ledgers."""
    from sqlflow.project.profiles import DEFAULT_SCHEMA as ENGINE_SCHEMAS
    from sqlflow.state.store import DEFAULT_SCHEMA

    target = project.target
    if target.settings.get("state_schema"):
        return str(target.settings["state_schema"])
    if target.schema == ENGINE_SCHEMAS.get(target.type):
        return DEFAULT_SCHEMA
    return f"{target.schema}_{DEFAULT_SCHEMA}"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillOutcome:
    compiled: Compiled
    plan: Plan
    windows: Mapping[str, Any]  # unique id -> the Interval restated
    preview: Mapping[str, list[str]]  # --dry-run: unique id -> lines of what would be processed
    result: RunResult | None  # None for --dry-run

    @property
    def failed(self) -> bool:
        return self.result is not None and self.result.failed


def backfill(
    options: Options,
    *,
    start: str,
    end: str,
    select_: Sequence[str] = (),
    exclude: Sequence[str] = (),
    cascade: bool = False,
    concurrency: int = 1,
    threads: int | None = None,
    fail_fast: bool = False,
    dry_run: bool = False,
    reporter: Reporter | None = None,
    now: datetime | None = None,
) -> BackfillOutcome:
    """Restate [start, end) of the selected time-range models (and, with `cascade`, their time-range
    descendants): their ledger for the window is forgotten and every interval in it processed again, in
    order, `concurrency` batches of a model at a time where it allows. Run again with the same window after
    an interruption, it resumes: only the intervals not yet written are processed."""
    from sqlflow.runner.execute import execute_plan
    from sqlflow.runner.history import finish_history, start_history
    from sqlflow.runner.intervals import backfill_models, backfill_preview, backfill_windows
    from sqlflow.state.store import StateStore

    invocation_id = str(uuid.uuid4())
    started_at = now or datetime.now(UTC)
    compiled = compile_all(options, invocation_id=invocation_id)
    manifest, project = compiled.manifest, compiled.project
    selected, _ = select(compiled, select_, exclude, resource_types=frozenset({"model"}))
    models = backfill_models(manifest, compiled.dag, selected, cascade=cascade)
    windows = backfill_windows(manifest, models, start, end)
    plan = dataclasses.replace(
        build_plan(manifest, compiled.dag, models, command="run"), command="backfill"
    )
    check_orchestration(manifest, plan, project)
    adapter = connect(project)
    try:
        store = StateStore(adapter, state_schema(project))
        if dry_run:
            known = store.version() > 0
            preview = backfill_preview(
                manifest,
                windows,
                {uid: store.done(uid) for uid in windows} if known else {},
                store.running_backfills() if known else (),
            )
            return BackfillOutcome(
                compiled=compiled, plan=plan, windows=windows, preview=preview, result=None
            )
        args = {
            "which": "backfill",
            "select": list(select_),
            "exclude": list(exclude),
            "start": start,
            "end": end,
            "cascade": cascade,
            "vars": dict(options.vars),
        }
        history = start_history(
            adapter,
            schema=store.schema,
            command="backfill",
            run_id=invocation_id,
            started_at=started_at,
            args=args,
            target=project.target.name,
            windows=windows,
            concurrency=concurrency,
        )
        for uid, window in windows.items():
            history.store.begin_backfill(uid, window, invocation_id)
        result = execute_plan(
            plan,
            manifest,
            adapter,
            threads=threads or project.target.threads or os.cpu_count() or 1,
            fail_fast=fail_fast,
            reporter=reporter or NullReporter(),
            project_root=project.root,
            invocation_id=invocation_id,
            target_schema=project.target.schema,
            scheduled_at=started_at,
            history=history,
            pools=project.pools,
        )
        for r in result.results:
            if r.unique_id in windows and r.status == "success":
                history.store.finish_backfill(r.unique_id, windows[r.unique_id])
        finish_history(history, result, ended_at=datetime.now(UTC))
    finally:
        adapter.close()
    doc = result.to_json(compiled.manifest)
    doc.setdefault("args", {}).update(args | {"target": project.target.name})
    doc.setdefault("metadata", {})["invocation_id"] = invocation_id
    _write_json(project.target_dir / "run_results.json", doc)
    return BackfillOutcome(compiled=compiled, plan=plan, windows=windows, preview={}, result=result)


def incremental_status(
    options: Options,
    *,
    select_: Sequence[str] = (),
    exclude: Sequence[str] = (),
    now: datetime | None = None,
) -> list[ModelStatus]:
    """Per incremental model: processed ranges and gaps (time-range models) and the last run."""
    from sqlflow.runner.intervals import incremental_status as status_of
    from sqlflow.state.store import StateStore

    now = now or datetime.now(UTC)
    compiled = compile_all(options)
    selected, _ = select(compiled, select_, exclude, resource_types=frozenset({"model"}))
    plan = build_plan(compiled.manifest, compiled.dag, selected, command="run")
    horizons = time_range_horizons(compiled.manifest, plan, now)
    adapter = connect(compiled.project)
    try:
        store = StateStore(adapter, state_schema(compiled.project))
        known = store.version() > 0
        done = store.done_all() if known else {}
        last_runs = store.last_node_runs() if known else {}
    finally:
        adapter.close()
    return status_of(compiled.manifest, selected, done=done, last_runs=last_runs, now=now, horizons=horizons)


def source_freshness(
    options: Options, *, select_: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[FreshnessResult]:
    """Check the selected sources that declare a freshness; write target/sources.json."""
    from sqlflow.checks.freshness import check_freshness, freshness_json, has_freshness

    invocation_id = str(uuid.uuid4())
    compiled = compile_all(options, invocation_id=invocation_id)
    selected, _ = select(compiled, select_, exclude, resource_types=frozenset({"source"}))
    sources = [
        s for uid, s in sorted(compiled.manifest.sources.items()) if uid in selected and has_freshness(s)
    ]
    adapter = connect(compiled.project)
    try:
        started = datetime.now(UTC)
        results = check_freshness(adapter, sources, now=started)
    finally:
        adapter.close()
    elapsed = (datetime.now(UTC) - started).total_seconds()
    doc = freshness_json(results, invocation_id=invocation_id, elapsed=elapsed, generated_at=started)
    _write_json(compiled.project.target_dir / "sources.json", doc)
    return results


def plan_lines(plan: Plan) -> list[str]:
    return describe_plan(plan)


def resume_command(command: str, outcome: RunOutcome) -> str | None:
    """The command that re-runs what failed or was skipped, or None when nothing did."""
    if outcome.result is None or not outcome.result.failed:
        return None
    return "sqlflow retry"


def list_nodes(
    options: Options,
    *,
    select_: Sequence[str] = (),
    exclude: Sequence[str] = (),
    resource_types: frozenset[str] | None = None,
) -> tuple[Compiled, list[str], tuple[str, ...]]:
    compiled = compile_all(options)
    selected, unmatched = select(compiled, select_, exclude, resource_types=resource_types)
    order = [uid for uid in compiled.dag.topological_order() if uid in selected]
    return compiled, order, unmatched


def show(
    options: Options,
    *,
    model: str | None,
    inline: str | None,
    limit: int = 10,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Preview rows of a model (its relation, or its SQL when ephemeral) or of an inline query."""
    from sqlflow.compile import compile_inline

    compiled = compile_all(options)
    manifest, project = compiled.manifest, compiled.project
    if inline is not None:
        sql = compile_inline(manifest, project, inline, target_dialect=engine_dialect(project))
    elif model is not None:
        node = _find_model(manifest, model)
        if node.config.materialized == "ephemeral":
            sql = node.compiled_sql or ""
        else:
            sql = f"select * from {node.relation.render()}"
    else:
        raise SelectionError("show needs a MODEL or --inline 'select ...'")
    if limit < 0:
        raise SelectionError("--limit must be 0 or more")
    adapter = connect(project)
    try:
        return adapter.fetch(f"select * from ({sql}) as sqlflow_preview limit {int(limit)}")
    finally:
        adapter.close()


def _find_model(manifest: Manifest, name: str) -> ModelNode:
    for node in manifest.models():
        if node.name == name:
            return node
    names = [n.name for n in manifest.models()]
    raise SelectionError(f"no model named '{name}'", hint=did_you_mean(name, names) or "see 'sqlflow ls'")


def debug(options: Options) -> list[tuple[str, str, bool]]:
    """Checks of the setup: (what, detail, ok). Stops at the first failure that makes later checks moot."""
    import platform
    import sys

    from sqlflow import __version__

    checks: list[tuple[str, str, bool]] = [
        ("sqlflow", __version__, True),
        ("python", f"{platform.python_version()} ({sys.executable})", True),
    ]
    try:
        project = load(options)
    except SqlflowError as exc:
        checks.append(("project", str(exc), False))
        return checks
    checks.append(("project", f"{project.name} ({project.root / project.config_file})", True))

    target = project.target
    checks.append(
        (
            "profile",
            f"{target.profiles_file}: {target.profile_name}.{target.name}"
            if target.profiles_file
            else "no profiles.yml: embedded DuckDB default",
            True,
        )
    )
    where = target.settings.get("path") or target.settings.get("host") or ""
    checks.append(("target", f"{target.name} ({target.type}) {where} schema={target.schema}", True))
    try:
        adapter = connect(project)
        try:
            adapter.fetch("select 1")
        finally:
            adapter.close()
        checks.append(("connection", "ok", True))
    except SqlflowError as exc:
        checks.append(("connection", str(exc), False))
    return checks


def dbt_report(options: Options) -> list[Finding]:
    """What in the project (a dbt project, usually) sqlflow ignores or cannot do yet: `debug --dbt`.
    Scans the files as written, so it works on a project that does not load."""
    from sqlflow.compile.dbt_report import scan_project

    return scan_project(find_project_root(options.project_dir or Path.cwd()))


def clean(options: Options) -> list[Path]:
    """Remove the target folder (and the project's clean-targets); returns what was removed."""
    project = load(options)
    removed = []
    for name in dict.fromkeys((project.target_path, *project.clean_targets)):
        path = (project.root / name).resolve()
        if project.root.resolve() not in path.parents:
            raise ConfigError(f"clean-targets entry '{name}' lies outside the project", hint="remove it")
        if path.exists():
            shutil.rmtree(path)
            removed.append(path)
    return removed


def docs_generate(
    options: Options, *, out: Path | None = None, lineage_budget: float | None = 20.0
) -> SiteSummary:
    """Compile, read the catalog and the state store when the database exists, and write the docs site to
    `out` (default target/docs/); column lineage stops after `lineage_budget` seconds (None: no limit),
    and the next generation goes on from its cache. See sqlflow/docs/."""
    import time

    from sqlflow.docs.build import CACHE_FILE, build_docs

    compiled = compile_all(options)
    project = compiled.project
    return build_docs(
        compiled.manifest,
        compiled.dag,
        root=project.root,
        facts=_docs_facts(project, compiled.manifest),
        out=out or project.target_dir / "docs",
        cache_path=project.target_dir / CACHE_FILE,
        generated_at=datetime.now(UTC),
        clock=time.monotonic,
        budget=lineage_budget,
    )


def column_lineage(
    options: Options, column: str, *, downstream: bool = False, depth: int | None = None
) -> ColumnLineage:
    """`sqlflow lineage orders.amount`: the columns it derives from (`downstream`: those derived from it)."""
    from sqlflow.docs.build import known_columns, trace_column

    compiled = compile_all(options)
    project = compiled.project
    facts = _docs_facts(project, compiled.manifest, runs=False)
    known = known_columns(compiled.manifest, facts, project.root)
    return trace_column(compiled.manifest, known, column, downstream=downstream, depth=depth)


def _docs_facts(project: Project, manifest: Manifest, *, runs: bool = True) -> Facts:
    """The catalog and recent runs, read-only; none (with a note) when the database was never built."""
    from sqlflow.docs.facts import Facts, read_facts

    target = project.target
    if target.type == "duckdb":
        path = str(target.settings.get("path") or ":memory:")
        if path.startswith(":memory:") or ("://" not in path and not Path(path).exists()):
            note = "the database has not been built yet (run `sqlflow build`)"
            return Facts(catalog_note=note, state_note=note)
        target = dataclasses.replace(target, settings={**target.settings, "read_only": True})
    try:
        adapter = connect(dataclasses.replace(project, target=target))
    except SqlflowError as exc:
        return Facts(catalog_note=f"the database could not be opened: {exc}", state_note="not read")
    try:
        return read_facts(adapter, manifest, state_schema=state_schema(project) if runs else None)
    finally:
        adapter.close()


def init_project(name: str, parent: Path) -> Path:
    """Copy the template project to parent/name, renamed to `name`."""
    if not name.isidentifier():
        raise ConfigError(
            f"'{name}' is not a valid project name",
            hint="use letters, digits and underscores, starting with a letter",
        )
    dest = parent / name
    if dest.exists():
        raise ConfigError(f"{dest} already exists", hint="choose another name or remove it")
    shutil.copytree(template_dir(), dest, ignore=shutil.ignore_patterns("target", "*.duckdb*", "__pycache__"))
    config = dest / "sqlflow.yml"
    text = config.read_text()
    text = text.replace("name: shop", f"name: {name}").replace("profile: shop", f"profile: {name}")
    text = text.replace("\n  shop:\n", f"\n  {name}:\n")
    config.write_text(text)
    return dest


def template_dir() -> Path:
    """The template project: beside the package in a checkout, or installed inside it."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "project_template", here / "project_template"):
        if (candidate / "sqlflow.yml").exists():
            return candidate
    raise SqlflowError("the project template is missing from this installation", hint="reinstall sqlflow")


# -- schedules ---------------------------------------------------------------------------------------------


def schedule(
    options: Options,
    *,
    once: bool = False,
    grace: float = 30.0,
    jobs: Sequence[str] | None = None,
    reporter: TickReporter | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
) -> ScheduleSummary:
    """Run the project's `schedules:` in the foreground until SIGTERM/SIGINT (`grace` seconds for the
    running runs), or, with `once`, what is due now. `jobs` names the jobs (default: all). With
    `metrics_port`, Prometheus metrics of every run are served on /metrics (and /healthz) meanwhile."""
    from sqlflow.notify.metrics import RunMetrics, serve_metrics
    from sqlflow.schedule.loop import run_scheduler

    project = load(options)
    chosen = pick_jobs(project, jobs)
    metrics = RunMetrics()
    server = serve_metrics(metrics_port, metrics_host, metrics=metrics) if metrics_port is not None else None
    try:
        return run_scheduler(
            chosen,
            open_store=_store_opener(project),
            fire=_job_runner(options, metrics),
            once=once,
            grace=grace,
            reporter=reporter,
            clock=clock,
            sleep=sleep,
            on_poll=_freshness_watch(project),
        )
    finally:
        if server is not None:
            server.close()


def trigger(options: Options, job: str, *, reporter: TickReporter | None = None) -> TickEvent:
    """Run one job of `schedules:` now, recorded as a manual tick; its tick_finished event."""
    from sqlflow.schedule.loop import trigger_job

    project = load(options)
    (chosen,) = pick_jobs(project, [job])
    return trigger_job(
        chosen, open_store=_store_opener(project), fire=_job_runner(options), reporter=reporter
    )


def schedule_list(options: Options, *, jobs: Sequence[str] | None = None, count: int = 5) -> list[JobStatus]:
    """Per job: its next `count` ticks, and its last and running ticks from the state store."""
    from sqlflow.schedule.loop import job_statuses

    project = load(options)
    return job_statuses(pick_jobs(project, jobs), open_store=_store_opener(project), count=count)


def pick_jobs(project: Project, names: Sequence[str] | None) -> list[ScheduleJob]:
    """The jobs named (all when none are); a SelectionError suggests the closest name."""
    if not project.schedules:
        raise ConfigError(
            f"{project.config_file} declares no schedules",
            hint="add a 'schedules:' list with a name and a cron per job (see docs/schedule.md)",
        )
    by_name = {job.name: job for job in project.schedules}
    for name in names or ():
        if name not in by_name:
            raise SelectionError(
                f"no schedule named '{name}'",
                hint=did_you_mean(name, by_name) or "see 'sqlflow schedule --list'",
            )
    return [by_name[name] for name in dict.fromkeys(names)] if names else list(project.schedules)


def _store_opener(project: Project) -> Callable[[], AbstractContextManager[StateStore]]:
    @contextmanager
    def open_store() -> Iterator[StateStore]:
        from sqlflow.state.store import StateStore

        adapter = connect(project)
        try:
            yield StateStore(adapter, state_schema(project))
        finally:
            adapter.close()

    return open_store


def _freshness_watch(project: Project) -> Callable[[datetime], None] | None:
    """For the scheduler's polls: send `not_fresh` alerts for the freshness deadlines passed since the
    previous poll (None when the project declares no deadline)."""
    notifications = project.notifications
    if not notifications.freshness or not notifications.wants("not_fresh"):
        return None
    from sqlflow.notify.report import check_freshness

    opener = _store_opener(project)
    previous: list[datetime] = []

    def watch(now: datetime) -> None:
        since = previous[-1] if previous else now
        previous[:] = [now]
        if since >= now:
            return
        with opener() as store:
            if store.version() > 0:
                check_freshness(
                    notifications,
                    store,
                    now=now,
                    since=since,
                    project=project.name,
                    target=project.target.name,
                )

    return watch


def _job_runner(options: Options, metrics: RunMetrics | None = None) -> Callable[[FireRequest], FireResult]:
    """What the scheduler calls per tick: `run` of the job's command and selection, as of the tick."""
    from sqlflow.schedule.events import FireResult

    def fire(request: FireRequest) -> FireResult:
        job = request.job
        outcome = run(
            job.command,  # type: ignore[arg-type]
            dataclasses.replace(options, vars={**options.vars, **job.vars}),
            select_=job.select,
            exclude=job.exclude,
            full_refresh=job.full_refresh,
            now=request.tick,
            invocation_id=request.run_id,
            cancel=request.cancel,
            metrics=metrics,
        )
        result = outcome.result
        assert result is not None
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items()))
        failed = [r for r in result.results if r.status in ("error", "fail")]
        if failed:
            counts += f"; first failure: {failed[0].name}: {failed[0].message}"
        status = "interrupted" if result.interrupted else "error" if result.failed else "success"
        return FireResult(status=status, message=counts or "nothing selected")

    return fire


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own per thread: runs of the scheduler may write the same file at once
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(doc, default=str))
    tmp.replace(path)
