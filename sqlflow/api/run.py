"""`sqlflow run | build | seed | test | snapshot`: the selection and the plan; a RunSession does the rest."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlflow.api.core import Options, RunOutcome
from sqlflow.api.session import RunRequest, RunSession
from sqlflow.graph import IndirectSelection
from sqlflow.runner.events import Reporter
from sqlflow.runner.plan import COMMAND_RESOURCES, Command, build_plan, upstream_sensors

if TYPE_CHECKING:
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
    audit: bool = False,
    indirect_selection: IndirectSelection = "eager",
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
    """seed | run | test | build | snapshot: compile, select, plan, and execute through a RunSession.

    `skip_ids` leaves nodes out of the selection (what a retried run already did; `retry_of` names that
    run). `indirect_selection` says which tests come with the selected nodes. `audit` makes `run` audit
    its models as `build` does (so does `flags: {run_audits: true}`).
    The other arguments are those of `RunRequest` and `RunSession`.
    """
    request = RunRequest(
        command=command,
        select=tuple(select_),
        exclude=tuple(exclude),
        threads=threads,
        fail_fast=fail_fast,
        full_refresh=full_refresh,
        audit=audit,
        indirect_selection=indirect_selection,
        now=now,
        invocation_id=invocation_id,
        sla=sla,
        metrics_file=metrics_file,
        args={"retry_of": retry_of} if retry_of else {},
    )
    return run_request(
        options,
        request,
        dry_run=dry_run,
        skip_ids=skip_ids,
        reporter=reporter,
        metrics=metrics,
        cancel=cancel,
    )


def run_request(
    options: Options,
    request: RunRequest,
    *,
    dry_run: bool = False,
    skip_ids: Collection[str] = (),
    reporter: Reporter | None = None,
    metrics: RunMetrics | None = None,
    cancel: threading.Event | None = None,
) -> RunOutcome:
    """`run` with its arguments as one RunRequest."""
    command = request.command
    assert command != "backfill", "a backfill chooses windows: see api.backfill"
    with RunSession(options, request, reporter=reporter, metrics=metrics, cancel=cancel) as session:
        compiled = session.compiled
        selected, unmatched = session.select(COMMAND_RESOURCES[command])
        if command in ("run", "build"):  # a selected model still waits for the sensors it depends on
            selected |= upstream_sensors(compiled.manifest, compiled.dag, selected)
        selected -= frozenset(skip_ids)
        plan = build_plan(
            compiled.manifest,
            compiled.dag,
            selected,
            command=command,
            full_refresh=request.full_refresh,
            audit=request.audit or compiled.project.run_audits,
        )
        if dry_run:
            return RunOutcome(compiled=compiled, plan=plan, result=None, unmatched=unmatched)
        ended = session.execute(plan)
    return RunOutcome(
        compiled=compiled, plan=plan, result=ended.result, unmatched=unmatched, notices=ended.notices
    )
