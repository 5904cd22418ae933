"""`sqlflow backfill` and `sqlflow status`: the interval commands of time-range incremental models.

Thin like every command: parse options, call sqlflow.api, render with rich. Added to the group in main.py.
"""

from __future__ import annotations

import click

from sqlflow.cli.options import GlobalState, ProjectArgs, project_options, select_options, split_terms


def _options(project: ProjectArgs) -> object:
    from sqlflow import api

    return api.Options(
        project_dir=project.project_dir,
        profiles_dir=project.profiles_dir,
        target=project.target,
        vars=api.parse_vars(project.vars_text),
    )


@click.command()
@project_options
@select_options
@click.option("--start", required=True, metavar="WHEN", help="First instant to restate: 2024-01-01[T06:00].")
@click.option("--end", required=True, metavar="WHEN", help="End of the window (exclusive).")
@click.option("--cascade", is_flag=True, help="Backfill the time-range models downstream too.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Batches of one model at a time, for models with concurrent_batches: true.",
)
@click.option("--threads", type=click.IntRange(min=1), help="Models at a time (default: the target's).")
@click.option("--fail-fast", "-x", is_flag=True, help="Stop at the first failure.")
@click.option("--dry-run", is_flag=True, help="List the intervals it would process and run nothing.")
@click.pass_context
def backfill(
    ctx: click.Context,
    project: ProjectArgs,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    start: str,
    end: str,
    cascade: bool,
    concurrency: int,
    threads: int | None,
    fail_fast: bool,
    dry_run: bool,
) -> None:
    """Restate [--start, --end) of the selected time-range models, interval by interval.

    Interrupted, the same command resumes where it stopped.
    """
    from rich.console import Console

    from sqlflow import api
    from sqlflow.cli.reporters import JsonReporter, RichReporter
    from sqlflow.cli.summary import exit_for, print_notices, print_summary

    state: GlobalState = ctx.obj
    console = Console(no_color=state.no_color, highlight=False, soft_wrap=True)
    reporter = JsonReporter() if state.log_format == "json" else RichReporter(console)
    outcome = api.backfill(
        _options(project),  # type: ignore[arg-type]
        start=start,
        end=end,
        select_=split_terms(select),
        exclude=split_terms(exclude),
        cascade=cascade,
        concurrency=concurrency,
        threads=threads,
        fail_fast=fail_fast,
        dry_run=dry_run,
        reporter=reporter,
    )
    manifest = outcome.compiled.manifest
    if outcome.result is None:
        for uid, lines in outcome.preview.items():
            click.echo(f"{manifest.nodes[uid].name}: {lines[0]}")
            for line in lines[1:]:
                click.echo(f"  {line}")
        return
    result = outcome.result
    if state.log_format == "text":
        again = ["sqlflow backfill", f"--start {start}", f"--end {end}"]
        again += [f"--select '{' '.join(split_terms(select))}'"] if select else []
        again += [f"--exclude '{' '.join(split_terms(exclude))}'"] if exclude else []
        again += ["--cascade"] if cascade else []
        print_summary(
            console,
            result,
            title="Backfill finished",
            resume=" ".join(again),
            resume_note=" (only the intervals not yet written are processed)",
        )
    print_notices(state.log_format, outcome.notices)
    exit_for(ctx, result)


@click.command()
@project_options
@select_options
@click.pass_context
def status(
    ctx: click.Context, project: ProjectArgs, select: tuple[str, ...], exclude: tuple[str, ...]
) -> None:
    """Per incremental model: the processed intervals, the gaps and the last run."""
    import json

    from rich.console import Console
    from rich.table import Table

    from sqlflow import api

    state: GlobalState = ctx.obj
    models = api.incremental_status(
        _options(project),  # type: ignore[arg-type]
        select_=split_terms(select),
        exclude=split_terms(exclude),
    )
    if state.log_format == "json":
        for m in models:
            last = m.last_run
            doc = {
                "unique_id": m.unique_id,
                "name": m.name,
                "strategy": m.strategy,
                "batch_size": m.batch_size,
                "begin": m.begin.isoformat() if m.begin else None,
                "done": list(m.done),
                "gaps": list(m.gaps),
                "missing": m.missing,
                "last_run": None
                if last is None
                else {
                    "status": last.status,
                    "ended_at": last.ended_at.isoformat() if last.ended_at else None,
                    "rows": last.rows_affected,
                    "message": last.message,
                },
            }
            click.echo(json.dumps(doc))
        return
    console = Console(no_color=state.no_color, highlight=False, soft_wrap=True)
    if not models:
        console.print("[yellow]No incremental model is selected.[/]")
        return
    table = Table(show_lines=True)
    for column in ("model", "strategy", "processed", "gaps", "last run"):
        table.add_column(column)
    for m in models:
        last = m.last_run
        last_text = "never run"
        if last is not None:
            when = f"{last.ended_at:%Y-%m-%d %H:%M}" if last.ended_at else "?"
            color = "green" if last.status == "success" else "red"
            last_text = f"[{color}]{last.status}[/] {when}"
        gaps = "\n".join(m.gaps) if m.gaps else ("[green]none[/]" if m.strategy == "time_range" else "-")
        strategy = f"{m.strategy} ({m.batch_size})" if m.batch_size else m.strategy
        table.add_row(m.name, strategy, "\n".join(m.done) or "-", gaps, last_text)
    console.print(table)
