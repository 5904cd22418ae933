"""The end of a run in the terminal: the summary lines, and the exit code (shared by run, seed, test,
build, snapshot, backfill and retry)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from sqlflow.statuses import PROBLEM_STATUSES

if TYPE_CHECKING:
    from rich.console import Console

    from sqlflow.runner.results import RunResult


def print_summary(
    console: Console,
    result: RunResult,
    *,
    resume: str | None,
    title: str = "Finished",
    resume_note: str = "",
    empty: str = "[yellow]Nothing to do: the selection matched no nodes.[/]",
) -> None:
    """Counts by status, each failure or warning (with sample rows), and the command that resumes."""
    if not result.results:
        console.print(empty)
        return
    parts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items()))
    color = "red" if result.failed else "green"
    console.print(f"\n[{color}]{title} in {result.elapsed:.2f}s: {parts}[/]")
    for r in result.results:
        if r.status not in PROBLEM_STATUSES:
            continue
        color = "yellow" if r.status == "warn" else "red"
        console.print(f"  [{color}]{r.status.upper()}[/] {r.name}: {r.message}", highlight=False)
        if r.sample_rows:
            print_sample(console, r.sample_rows)
    for error in result.hook_errors:
        console.print(f"  [red]ERROR[/] {error}", highlight=False)
    if resume and result.failed:
        console.print(f"To resume: [bold]{resume}[/]{resume_note}", highlight=False)


def print_sample(console: Console, rows: Sequence[Mapping[str, Any]]) -> None:
    """A few failing rows of a test, as a small table."""
    from rich.table import Table

    columns = list(rows[0])
    table = Table(*columns, title="failing rows (sample)", title_justify="left", padding=(0, 1))
    for row in rows:
        table.add_row(*("NULL" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)


def print_notices(log_format: str, notices: Sequence[str]) -> None:
    """What went wrong after the run (an alert not sent, metrics not written): warnings, not failures."""
    import json

    for notice in notices:
        if log_format == "json":
            click.echo(json.dumps({"kind": "warning", "message": notice}))
        else:
            click.secho(f"Warning: {notice}", fg="yellow", err=True)


def exit_for(ctx: click.Context, result: RunResult) -> None:
    """Exit 130 after Ctrl-C, 143 after SIGTERM, 1 when something failed; return otherwise."""
    if result.interrupted:
        terminated = result.interrupted_by == "SIGTERM"
        click.secho("Terminated." if terminated else "Interrupted.", fg="red", err=True)
        ctx.exit(143 if terminated else 130)
    if result.failed:
        ctx.exit(1)
