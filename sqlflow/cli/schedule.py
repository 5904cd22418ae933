"""`sqlflow schedule` (the built-in cron runner, in the foreground) and `sqlflow trigger JOB`.

Thin like every command: parse options, call sqlflow.api, render one line per tick with rich, or one JSON
object per line with --log-format json. Added to the group in main.py.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import TYPE_CHECKING, Any

import click

from sqlflow.cli.options import GlobalState, ProjectArgs, project_options

if TYPE_CHECKING:
    from rich.console import Console

    from sqlflow import api
    from sqlflow.schedule.events import JobStatus, TickEvent

STYLE = {
    "success": ("OK", "green"),
    "error": ("ERROR", "red"),
    "interrupted": ("STOP", "red"),
    "skipped": ("SKIP", "yellow"),
}


def _options(project: ProjectArgs) -> api.Options:
    from sqlflow import api

    return api.Options(
        project_dir=project.project_dir,
        profiles_dir=project.profiles_dir,
        target=project.target,
        vars=api.parse_vars(project.vars_text),
    )


def _grace(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from sqlflow.project.durations import DURATION_HINT, parse_duration

    try:
        return parse_duration(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: {DURATION_HINT}") from None


class TickLines:
    """One line per tick that finished or was skipped (and the scheduler's own notices), rich or JSON."""

    def __init__(self, state: GlobalState) -> None:
        from rich.console import Console

        self.json = state.log_format == "json"
        self.console = Console(no_color=state.no_color, highlight=False, soft_wrap=True)
        self.lock = threading.Lock()

    def emit(self, event: TickEvent) -> None:
        with self.lock:
            if self.json:
                sys.stdout.write(json.dumps(_event_doc(event)) + "\n")
                sys.stdout.flush()
            else:
                self._line(event)

    def _line(self, event: TickEvent) -> None:
        from rich.markup import escape

        if event.kind == "tick_started":
            return  # the outcome's line says it all
        if event.kind in ("tick_finished", "tick_skipped"):
            word, color = STYLE.get(event.status or "", ((event.status or "?").upper(), "white"))
            when = _local(event.tick, event.timezone)
            detail = (
                f" [dim]({event.seconds:.1f}s, run {event.run_id})[/]" if event.seconds is not None else ""
            )
            manual = " (manual)" if event.trigger == "manual" else ""
            self.console.print(
                f"[{color}]{word:<5}[/] {escape(event.job or '')} {when}{manual}: "
                f"{escape(event.message or '')}{detail}"
            )
        elif event.kind == "scheduler_started":
            how = "what is due now" if event.status == "once" else "until SIGTERM or Ctrl-C"
            self.console.print(f"[bold]Scheduling[/] {escape(event.message or '')} ({how})")
        elif event.kind == "warning":
            job = f"{escape(event.job)}: " if event.job else ""
            self.console.print(f"[yellow]warning:[/] {job}{escape(event.message or '')}")
        else:
            self.console.print(f"[dim]{event.kind.replace('_', ' ')}: {escape(event.message or '')}[/]")


def _local(when: Any, tz: str | None) -> str:
    """A tick in its job's time zone: 2024-03-31 03:00:00+02:00."""
    from zoneinfo import ZoneInfo

    if when is None:
        return "?"
    local = when.astimezone(ZoneInfo(tz or "UTC"))
    return local.isoformat(sep=" ", timespec="microseconds" if local.microsecond else "seconds")


def _event_doc(event: TickEvent) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": event.kind}
    for key in ("job", "trigger", "status", "run_id", "seconds", "message", "timezone"):
        value = getattr(event, key)
        if value is not None:
            doc[key] = value
    if event.tick is not None:
        doc["tick"] = event.tick.isoformat()
    return doc


@click.command()
@project_options
@click.option("--once", is_flag=True, help="Run what is due now, wait for it, and exit.")
@click.option(
    "--grace",
    default="30s",
    show_default=True,
    metavar="DURATION",
    callback=_grace,
    help="On SIGTERM/SIGINT, how long running runs may go on before they are interrupted.",
)
@click.option("--list", "list_", is_flag=True, help="Print each job's next 5 ticks and its last tick.")
@click.option("--job", "jobs", multiple=True, metavar="NAME", help="Only this job (may repeat).")
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    help="Serve Prometheus metrics on 127.0.0.1:PORT (/metrics, /healthz) while it runs.",
)
@click.pass_context
def schedule(
    ctx: click.Context,
    project: ProjectArgs,
    once: bool,
    grace: float,
    list_: bool,
    jobs: tuple[str, ...],
    metrics_port: int | None,
) -> None:
    """Run the jobs of `schedules:` in sqlflow.yml, in the foreground, until SIGTERM or Ctrl-C.

    Each due tick is claimed in the state store first, so several schedulers on one store run a tick
    once. See docs/schedule.md.
    """
    from sqlflow import api

    state: GlobalState = ctx.obj
    if list_:
        _print_list(state, api.schedule_list(_options(project), jobs=jobs or None))
        return
    summary = api.schedule(
        _options(project),
        once=once,
        grace=grace,
        jobs=jobs or None,
        reporter=TickLines(state),
        metrics_port=metrics_port,
    )
    if once and summary.failed:
        ctx.exit(1)


@click.command()
@project_options
@click.argument("job")
@click.pass_context
def trigger(ctx: click.Context, project: ProjectArgs, job: str) -> None:
    """Run the schedule JOB now (recorded in the state store as a manual tick)."""
    from sqlflow import api

    event = api.trigger(_options(project), job, reporter=TickLines(ctx.obj))
    if event.status == "interrupted":
        click.secho("Interrupted.", fg="red", err=True)
        ctx.exit(130)
    if event.status != "success":
        ctx.exit(1)


def _print_list(state: GlobalState, statuses: list[JobStatus]) -> None:
    if state.log_format == "json":
        for s in statuses:
            last = s.last
            doc = {
                "job": s.job.name,
                "cron": s.job.cron,
                "timezone": s.job.timezone,
                "command": s.job.command,
                "select": list(s.job.select),
                "next_ticks": [_local(t, s.job.timezone) for t in s.next_ticks],
                "last_tick": None
                if last is None
                else {
                    "tick": last.tick.isoformat(),
                    "trigger": last.trigger,
                    "status": last.status,
                    "run_id": last.run_id,
                    "message": last.message,
                },
                "running": len(s.running),
            }
            click.echo(json.dumps(doc))
        return
    console = _console(state)
    for s in statuses:
        job = s.job
        what = " ".join(
            [job.command, *(f"--select {t}" for t in job.select), *(f"--exclude {t}" for t in job.exclude)]
        )
        console.print(f"[bold]{job.name}[/]  {job.cron}  ({job.timezone})  {what}")
        for t in s.next_ticks:
            console.print(f"  next  {_local(t, job.timezone)}")
        last = s.last
        if last is None:
            console.print("  last  [dim]never ran[/]")
        else:
            word, color = STYLE.get(last.status, (last.status.upper(), "white"))
            manual = " (manual)" if last.trigger == "manual" else ""
            note = f" {last.message}" if last.message else ""
            console.print(f"  last  {_local(last.tick, job.timezone)}{manual} [{color}]{word}[/]{note}")
        if s.running:
            console.print(f"  [yellow]running: {len(s.running)}[/] (claimed by {s.running[0].claimed_by})")


def _console(state: GlobalState) -> Console:
    from rich.console import Console

    return Console(no_color=state.no_color, highlight=False, soft_wrap=True)
