"""The `sqlflow` command: a click group whose commands parse options, call sqlflow.api and render.

`sqlflow --help` must stay light: sqlflow.api (and so duckdb, sqlglot, rich) is imported inside commands.
Every SqlflowError becomes one red line on stderr and the exit code of its class; --debug re-raises.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from sqlflow import __version__
from sqlflow.cli.options import (
    GlobalState,
    ProjectArgs,
    indirect_option,
    project_options,
    run_options,
    select_options,
    split_terms,
)

if TYPE_CHECKING:
    from rich.console import Console

    from sqlflow import api


class SqlflowGroup(click.Group):
    """Turns sqlflow errors into one line and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            raise
        except KeyboardInterrupt as exc:
            from sqlflow.runner.interrupts import Terminated

            click.secho("Terminated." if isinstance(exc, Terminated) else "Interrupted.", fg="red", err=True)
            sys.exit(143 if isinstance(exc, Terminated) else 130)
        except Exception as exc:
            state = ctx.obj if isinstance(ctx.obj, GlobalState) else GlobalState()
            if state.debug or "--debug" in sys.argv:
                raise
            _fail(exc)


def _fail(exc: BaseException) -> NoReturn:
    from sqlflow.errors import SqlflowError

    if isinstance(exc, SqlflowError):
        click.secho(f"Error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)
    click.secho(
        f"Internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback and report it)",
        fg="red",
        err=True,
    )
    sys.exit(1)


@click.group(cls=SqlflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sqlflow")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="SQLFLOW_LOG_FORMAT",
    help="text for people, json (one object per line) for CI.",
)
@click.option("--no-color", is_flag=True, envvar="NO_COLOR", help="Plain output.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, log_format: str, no_color: bool) -> None:
    """sqlflow: compile, run and test SQL pipelines. Dependencies are read from the SQL itself."""
    ctx.obj = GlobalState(debug=debug, log_format=log_format, no_color=no_color)


def _options(project: ProjectArgs) -> api.Options:
    from sqlflow import api

    return api.Options(
        project_dir=project.project_dir,
        profiles_dir=project.profiles_dir,
        target=project.target,
        vars=api.parse_vars(project.vars_text),
    )


def _console(ctx: click.Context, *, stderr: bool = False) -> Console:
    from rich.console import Console

    state: GlobalState = ctx.obj
    return Console(stderr=stderr, no_color=state.no_color, highlight=False, soft_wrap=True)


def _run_command(command: str) -> Callable[..., None]:
    @click.pass_context
    def run_cmd(
        ctx: click.Context,
        project: ProjectArgs,
        select: tuple[str, ...],
        exclude: tuple[str, ...],
        threads: int | None,
        fail_fast: bool,
        full_refresh: bool,
        dry_run: bool,
        metrics_file: Path | None,
        indirect_selection: str,
        audit: bool = False,
    ) -> None:
        from sqlflow import api
        from sqlflow.cli.reporters import JsonReporter, RichReporter
        from sqlflow.cli.summary import exit_for, print_notices

        state: GlobalState = ctx.obj
        console = _console(ctx)
        reporter = JsonReporter() if state.log_format == "json" else RichReporter(console)
        outcome = api.run(
            command,  # type: ignore[arg-type]
            _options(project),
            select_=split_terms(select),
            exclude=split_terms(exclude),
            threads=threads,
            fail_fast=fail_fast,
            full_refresh=full_refresh,
            audit=audit,
            indirect_selection=indirect_selection,  # type: ignore[arg-type]
            dry_run=dry_run,
            reporter=reporter,
            metrics_file=metrics_file,
        )
        _warn_unmatched(outcome.unmatched)
        if command in ("run", "build"):
            _print_warnings(state, outcome.compiled.warnings)
        if outcome.result is None:
            for line in api.plan_lines(outcome.plan):
                click.echo(line)
            return
        if state.log_format == "text":
            _summary(console, command, outcome)
        print_notices(state.log_format, outcome.notices)
        exit_for(ctx, outcome.result)

    return run_cmd


def _warn_unmatched(terms: tuple[str, ...]) -> None:
    for term in terms:
        click.secho(f"Warning: nothing matched '{term}'", fg="yellow", err=True)


def _print_warnings(state: GlobalState, warnings: Sequence[api.LintWarning]) -> None:
    """Each compile warning once: one yellow line on stderr, or one JSON line with --log-format json."""
    import json

    for w in dict.fromkeys(warnings):
        if state.log_format == "json":
            doc = {"kind": "warning", "message": w.message, "path": w.path, "line": w.line, "hint": w.hint}
            click.echo(json.dumps(doc))
        else:
            click.secho(f"warning: {w}", fg="yellow", err=True)


def _summary(console: Console, command: str, outcome: api.RunOutcome) -> None:
    from sqlflow import api
    from sqlflow.cli.summary import print_summary

    assert outcome.result is not None
    print_summary(console, outcome.result, resume=api.resume_command(outcome.result))


HELP = {
    "run": "Build the selected models in dependency order; no tests run (--audit: as in build).",
    "seed": "Load the CSV seeds into tables.",
    "snapshot": "Record how the rows of the snapshots' selects changed (SCD type 2); never full-refreshed.",
    "test": "Run the data tests on the existing relations.",
    "build": "Seeds, models, snapshots and tests in dependency order; a failing test skips its descendants.",
}

for _name in ("run", "seed", "snapshot", "test", "build"):
    _cmd = _run_command(_name)
    _cmd = run_options(indirect_option(select_options(project_options(_cmd))))
    if _name == "run":
        _cmd = click.option(
            "--audit",
            is_flag=True,
            help="Run each model's blocking tests on its staged data before it is published, as build "
            "does (write-audit-publish); a failing one keeps the old data. Default: flags.run_audits.",
        )(_cmd)
    cli.command(name=_name, help=HELP[_name])(_cmd)


@cli.command()
@project_options
@select_options
@indirect_option
@click.pass_context
def compile(
    ctx: click.Context,
    project: ProjectArgs,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    indirect_selection: str,
) -> None:
    """Render and check every model; write target/compiled/ and target/manifest.json. With --select, print
    the compiled SQL of the selected models and snapshots (or tests), a header line per node when several."""
    from sqlflow import api

    if select or exclude:
        compiled, order, unmatched = api.compiled_selection(
            _options(project),
            select_=split_terms(select),
            exclude=split_terms(exclude),
            indirect=indirect_selection,  # type: ignore[arg-type]
        )
        _print_warnings(ctx.obj, compiled.warnings)
        _warn_unmatched(unmatched)
        for uid in order:
            node = compiled.manifest.nodes[uid]
            if len(order) > 1:
                click.echo(f"-- {node.resource_type} {node.name} ({node.path})")
            click.echo(str(getattr(node, "compiled_sql", "")).strip() + ("\n" if len(order) > 1 else ""))
        return
    compiled = api.compile_all(_options(project))
    _print_warnings(ctx.obj, compiled.warnings)
    n_models = sum(1 for _ in compiled.manifest.models())
    n_tests = sum(1 for _ in compiled.manifest.tests())
    n_sensors = sum(1 for _ in compiled.manifest.sensors())
    click.echo(
        f"Compiled {n_models} models and seeds, {n_tests} tests, {n_sensors} sensors, "
        f"{len(compiled.manifest.sources)} sources into {compiled.project.target_dir}"
    )


@cli.command(name="ls")
@project_options
@select_options
@indirect_option
@click.option(
    "--output",
    "-o",
    type=click.Choice(["name", "path", "json", "selector"]),
    default="selector",
    help="What to print per node.",
)
@click.option(
    "--resource-type",
    multiple=True,
    type=click.Choice(["model", "seed", "snapshot", "test", "source", "sensor"]),
    help="Only nodes of these kinds.",
)
@click.pass_context
def ls_cmd(
    ctx: click.Context,
    project: ProjectArgs,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    output: str,
    resource_type: tuple[str, ...],
    indirect_selection: str,
) -> None:
    """List the project's nodes (honours --select/--exclude)."""
    import json

    from sqlflow import api

    compiled, order, unmatched = api.list_nodes(
        _options(project),
        select_=split_terms(select),
        exclude=split_terms(exclude),
        resource_types=frozenset(resource_type) or None,
        indirect=indirect_selection,  # type: ignore[arg-type]
    )
    _warn_unmatched(unmatched)
    manifest = compiled.manifest
    for uid in order:
        node = manifest.get(uid)
        if output == "name":
            click.echo(node.name)
        elif output == "path":
            click.echo(node.path)
        elif output == "json":
            doc = {
                "unique_id": uid,
                "name": node.name,
                "resource_type": node.resource_type,
                "path": node.path,
                "tags": list(node.tags),
                "depends_on": list(getattr(node, "depends_on", ())),
            }
            config = getattr(node, "config", None)
            if config is not None:
                doc["materialized"] = config.materialized
            click.echo(json.dumps(doc))
        else:
            click.echo(
                ".".join(node.fqn) if node.resource_type != "source" else f"source:{node.fqn[-2]}.{node.name}"
            )


@cli.command()
@project_options
@click.argument("model", required=False)
@click.option("--select", "-s", "selected", metavar="MODEL", help="The model to preview, as dbt show -s.")
@click.option("--inline", metavar="SQL", help="A query to preview, may use ref() and source().")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=0), help="Rows to show.")
@click.pass_context
def show(
    ctx: click.Context,
    project: ProjectArgs,
    model: str | None,
    selected: str | None,
    inline: str | None,
    limit: int,
) -> None:
    """Preview the rows of MODEL (or -s MODEL), or of --inline 'select ...'."""
    from rich.table import Table

    from sqlflow import api

    if selected is not None:
        if model is not None or len(selected.split()) != 1 or any(c in selected for c in ":+@*,"):
            raise click.UsageError("show -s takes one model name (dbt show previews one node)")
        model = selected
    if (model is None) == (inline is None):
        raise click.UsageError("give either MODEL (or -s MODEL) or --inline 'select ...'")
    columns, rows = api.show(_options(project), model=model, inline=inline, limit=limit)
    cells = [["NULL" if v is None else str(v) for v in row] for row in rows]
    table = Table(*columns)
    for row in cells:
        table.add_row(*row)
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    console = _console(ctx)
    console.width = max(console.width, sum(widths) + 3 * len(widths) + 1)  # never truncate values
    console.print(table)
    click.echo(f"{len(rows)} rows" + (" (--limit reached)" if len(rows) == limit else ""))


@cli.group()
def source() -> None:
    """Commands about sources: tables loaded by something else."""


@source.command()
@project_options
@select_options
@click.pass_context
def freshness(
    ctx: click.Context, project: ProjectArgs, select: tuple[str, ...], exclude: tuple[str, ...]
) -> None:
    """Check how recently each source was loaded (loaded_at_field against freshness); write sources.json."""
    from sqlflow import api

    results = api.source_freshness(
        _options(project), select_=split_terms(select), exclude=split_terms(exclude)
    )
    console = _console(ctx)
    if not results:
        console.print("[yellow]No selected source declares a freshness (loaded_at_field + freshness).[/]")
        return
    styles = {"pass": ("PASS", "green"), "warn": ("WARN", "yellow")}
    for r in results:
        word, color = styles.get(r.status, ("ERROR", "red"))
        console.print(f"[{color}]{word:<5}[/] {r.source_name}.{r.name}: {r.message}", highlight=False)
    if any(r.status not in styles for r in results):
        ctx.exit(1)


@cli.command()
@project_options
@click.option(
    "--dbt",
    "dbt_report",
    is_flag=True,
    help="Instead, list what in this dbt project sqlflow ignores or cannot do yet, with file:line and what "
    "to do (exit 1 when something is unsupported).",
)
@click.pass_context
def debug(
    ctx: click.Context,
    project: ProjectArgs,
    dbt_report: bool,
) -> None:
    """Check the installation, the project, the profile and the connection."""
    from sqlflow import api

    if dbt_report:
        _print_dbt_report(ctx, api.dbt_report(_options(project)))
        return
    checks = api.debug(_options(project))
    console = _console(ctx)
    ok = True
    for what, detail, passed in checks:
        mark = "[green]OK[/]  " if passed else "[red]FAIL[/]"
        console.print(f"{mark} {what:<11} {detail}", highlight=False)
        ok = ok and passed
    if not ok:
        ctx.exit(1)


def _print_dbt_report(ctx: click.Context, findings: Sequence[Any]) -> None:
    console = _console(ctx)
    styles = {"unsupported": "[red]UNSUPPORTED[/]", "ignored": "[yellow]IGNORED[/]    "}
    for finding in findings:
        where = f"{finding.path}:{finding.line}" if finding.line else finding.path
        console.print(f"{styles[finding.kind]} {where}: {finding.what}. {finding.todo}", highlight=False)
    unsupported = sum(f.kind == "unsupported" for f in findings)
    if not findings:
        console.print("[green]Nothing found:[/] sqlflow reads everything this project uses.", highlight=False)
    else:
        console.print(f"\n{unsupported} unsupported, {len(findings) - unsupported} ignored", highlight=False)
    if unsupported:
        ctx.exit(1)


@cli.command()
@project_options
def clean(
    project: ProjectArgs,
) -> None:
    """Delete the target folder (compiled SQL, manifest, run results, cache)."""
    from sqlflow import api

    removed = api.clean(_options(project))
    for path in removed:
        click.echo(f"Removed {path}")
    if not removed:
        click.echo("Nothing to clean.")


@cli.command()
@click.argument("name")
def init(name: str) -> None:
    """Create a new project NAME from the template (a small shop with seeds, models and tests)."""
    from sqlflow import api

    dest = api.init_project(name, Path.cwd())
    click.echo(f"Created {dest}. Next: cd {name} && sqlflow build")


def _add_interval_commands() -> None:
    from sqlflow.cli.intervals import backfill, status
    from sqlflow.cli.retry import retry

    cli.add_command(retry)
    cli.add_command(backfill)
    cli.add_command(status)
    cli.add_command(status, name="intervals")


_add_interval_commands()


def _add_docs_commands() -> None:
    from sqlflow.cli.docs import docs, lineage

    cli.add_command(docs)
    cli.add_command(lineage)


_add_docs_commands()


def _add_schedule_commands() -> None:
    from sqlflow.cli.schedule import schedule, trigger

    cli.add_command(schedule)
    cli.add_command(trigger)


_add_schedule_commands()


def main() -> None:
    try:
        cli(prog_name="sqlflow")
    except BrokenPipeError:  # output piped into `head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
