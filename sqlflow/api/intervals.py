"""Retries, backfills, interval status and source freshness: the commands about time and state."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlflow.api.core import (
    Compiled,
    Options,
    RunOutcome,
    compile_all,
    connect,
    load,
    select,
    state_schema,
    write_json,
)
from sqlflow.api.run import run
from sqlflow.api.session import RunRequest, RunSession, time_range_horizons
from sqlflow.errors import SelectionError
from sqlflow.runner.events import Reporter
from sqlflow.runner.plan import (
    Plan,
    build_plan,
)
from sqlflow.statuses import DONE_STATUSES

if TYPE_CHECKING:
    from sqlflow.checks.freshness import FreshnessResult
    from sqlflow.notify.metrics import RunMetrics
    from sqlflow.runner.intervals import ModelStatus
    from sqlflow.runner.results import RunResult
    from sqlflow.state.store import RunRecord, StateStore


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
        done = _done_in_chain(store, last) if last is not None else set()
    finally:
        adapter.close()
    if last is None:
        raise SelectionError("there is no run to retry", hint="the state store has no run yet")
    if last.status == "success":
        return RetryOutcome(run_id=last.run_id, command=last.command, status=last.status, outcome=None)
    args = dict(last.args)
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
            audit=bool(args.get("audit")),
            indirect_selection=args.get("indirect_selection") or "eager",
            dry_run=dry_run,
            reporter=reporter,
            skip_ids=done,
            retry_of=last.run_id,
        )
    return RetryOutcome(run_id=last.run_id, command=command, status=last.status, outcome=outcome)


def _done_in_chain(store: StateStore, last: RunRecord) -> set[str]:
    """The nodes done by `last` or by the runs it retried, back to the first: a retry of a retry leaves out
    what any of them finished. Per run, the last attempt of each node decides."""
    done: set[str] = set()
    seen: set[str] = set()
    run: RunRecord | None = last
    while run is not None and run.run_id not in seen:
        seen.add(run.run_id)
        final: dict[str, tuple[int, str]] = {}
        for attempt in store.node_runs(run.run_id):
            if attempt.unique_id not in final or attempt.attempt >= final[attempt.unique_id][0]:
                final[attempt.unique_id] = (attempt.attempt, attempt.status)
        done |= {uid for uid, (_, status) in final.items() if status in DONE_STATUSES}
        previous = run.args.get("retry_of")
        run = store.run(str(previous)) if previous else None
    return done


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillOutcome:
    compiled: Compiled
    plan: Plan
    windows: Mapping[str, Any]  # unique id -> the Interval restated
    preview: Mapping[str, list[str]]  # --dry-run: unique id -> lines of what would be processed
    result: RunResult | None  # None for --dry-run
    notices: tuple[str, ...] = ()  # warnings from after the run: an alert not sent, metrics not written

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
    metrics: RunMetrics | None = None,
    cancel: threading.Event | None = None,
) -> BackfillOutcome:
    """Restate [start, end) of the selected time-range models (and, with `cascade`, their time-range
    descendants): their ledger for the window is forgotten and every interval in it processed again, in
    order, `concurrency` batches of a model at a time where it allows. Run again with the same window after
    an interruption, it resumes: only the intervals not yet written are processed. It runs through a
    RunSession as `sqlflow run` does (late rendering, history, cancellation, run_results.json, alerts)."""
    from sqlflow.runner.intervals import backfill_models, backfill_preview, backfill_windows
    from sqlflow.state.store import StateStore

    request = RunRequest(
        command="backfill",
        select=tuple(select_),
        exclude=tuple(exclude),
        threads=threads,
        fail_fast=fail_fast,
        now=now,
        args={"start": start, "end": end, "cascade": cascade},
    )
    with RunSession(options, request, reporter=reporter, metrics=metrics, cancel=cancel) as session:
        compiled = session.compiled
        manifest = compiled.manifest
        selected, _ = session.select(frozenset({"model"}))
        models = backfill_models(manifest, compiled.dag, selected, cascade=cascade)
        windows = backfill_windows(manifest, models, start, end)
        plan = dataclasses.replace(
            build_plan(manifest, compiled.dag, models, command="run", audit=True), command="backfill"
        )
        if dry_run:
            store = StateStore(session.adapter, state_schema(compiled.project))
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
        ended = session.execute(plan, windows=windows, concurrency=concurrency)
    return BackfillOutcome(
        compiled=compiled, plan=plan, windows=windows, preview={}, result=ended.result, notices=ended.notices
    )


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
    write_json(compiled.project.target_dir / "sources.json", doc)
    return results
