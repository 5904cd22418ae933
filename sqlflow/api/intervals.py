"""Retries, backfills, interval status and source freshness: the commands about time and state."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlflow.api.core import (
    Compiled,
    Options,
    RunOutcome,
    _write_json,
    compile_all,
    connect,
    load,
    select,
    state_schema,
)
from sqlflow.api.run import check_orchestration, run, time_range_horizons
from sqlflow.errors import SelectionError
from sqlflow.runner.events import NullReporter, Reporter
from sqlflow.runner.plan import (
    Plan,
    build_plan,
)

if TYPE_CHECKING:
    from sqlflow.checks.freshness import FreshnessResult
    from sqlflow.runner.intervals import ModelStatus
    from sqlflow.runner.results import RunResult


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
    plan = dataclasses.replace(build_plan(manifest, compiled.dag, models, command="run"), command="backfill")
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
