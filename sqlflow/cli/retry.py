"""`sqlflow retry`: run again what the last run left undone (failed, skipped or never finished nodes).

Thin: parse options, call sqlflow.api.retry, render like `sqlflow run`. Added to the group in main.py.
"""

from __future__ import annotations

import click

from sqlflow.cli.options import GlobalState, ProjectArgs, project_options


@click.command()
@project_options
@click.option("--threads", type=click.IntRange(min=1), help="Worker threads (default: the target's).")
@click.option("--fail-fast", "-x", is_flag=True, help="Stop at the first failure.")
@click.option("--dry-run", is_flag=True, help="Print the plan and run nothing.")
@click.pass_context
def retry(
    ctx: click.Context, project: ProjectArgs, threads: int | None, fail_fast: bool, dry_run: bool
) -> None:
    """Re-run the nodes of the last run that failed, were skipped or never finished.

    The last run is read from the state store, with its command, selection and vars, so this works after
    a crash too (where target/run_results.json may be missing).
    """
    from rich.console import Console

    from sqlflow import api
    from sqlflow.cli.reporters import JsonReporter, RichReporter
    from sqlflow.cli.summary import exit_for, print_notices, print_summary

    state: GlobalState = ctx.obj
    console = Console(no_color=state.no_color, highlight=False, soft_wrap=True)
    reporter = JsonReporter() if state.log_format == "json" else RichReporter(console)
    options = api.Options(
        project_dir=project.project_dir,
        profiles_dir=project.profiles_dir,
        target=project.target,
        vars=api.parse_vars(project.vars_text),
    )
    found = api.retry(options, threads=threads, fail_fast=fail_fast, dry_run=dry_run, reporter=reporter)
    if found.outcome is None:
        console.print(
            f"[green]The last run ({found.command}, {found.run_id}) succeeded: nothing to retry.[/]"
        )
        return
    if state.log_format == "text":
        console.print(f"Retrying run {found.run_id} ({found.command}, {found.status})")
    outcome = found.outcome
    if outcome.result is None:
        plan = outcome.plan
        for line in api.plan_lines(plan):
            click.echo(line)
        return
    result = outcome.result
    if state.log_format == "text":
        print_summary(console, result, resume="sqlflow retry", empty="[green]Nothing left to run.[/]")
    print_notices(state.log_format, outcome.notices)
    exit_for(ctx, result)
