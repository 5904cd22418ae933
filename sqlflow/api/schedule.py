"""The scheduler: schedule, trigger, schedule_list and the pieces the loop is handed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlflow.api.core import Options, load, store_opener
from sqlflow.api.run import run
from sqlflow.errors import ConfigError, SelectionError, did_you_mean
from sqlflow.project.types import Project, ScheduleJob

if TYPE_CHECKING:
    from sqlflow.notify.metrics import RunMetrics
    from sqlflow.schedule.events import (
        FireRequest,
        FireResult,
        JobStatus,
        ScheduleSummary,
        TickEvent,
        TickReporter,
    )


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
            open_store=store_opener(project),
            fire=job_runner(options, metrics),
            once=once,
            grace=grace,
            reporter=reporter,
            clock=clock,
            sleep=sleep,
            on_poll=freshness_watch(project),
        )
    finally:
        if server is not None:
            server.close()


def trigger(options: Options, job: str, *, reporter: TickReporter | None = None) -> TickEvent:
    """Run one job of `schedules:` now, recorded as a manual tick; its tick_finished event."""
    from sqlflow.schedule.loop import trigger_job

    project = load(options)
    (chosen,) = pick_jobs(project, [job])
    return trigger_job(chosen, open_store=store_opener(project), fire=job_runner(options), reporter=reporter)


def schedule_list(options: Options, *, jobs: Sequence[str] | None = None, count: int = 5) -> list[JobStatus]:
    """Per job: its next `count` ticks, and its last and running ticks from the state store."""
    from sqlflow.schedule.loop import job_statuses

    project = load(options)
    return job_statuses(pick_jobs(project, jobs), open_store=store_opener(project), count=count)


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


def freshness_watch(project: Project) -> Callable[[datetime], None] | None:
    """For the scheduler's polls: send `not_fresh` alerts for the freshness deadlines passed since the
    previous poll (None when the project declares no deadline)."""
    notifications = project.notifications
    if not notifications.freshness or not notifications.wants("not_fresh"):
        return None
    from sqlflow.notify.report import check_freshness

    opener = store_opener(project)
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


def job_runner(options: Options, metrics: RunMetrics | None = None) -> Callable[[FireRequest], FireResult]:
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
        failed = [r for r in result.results if r.failed]
        if failed:
            counts += f"; first failure: {failed[0].name}: {failed[0].message}"
        return FireResult(status=result.status, message=counts or "nothing selected")

    return fire
