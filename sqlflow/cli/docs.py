"""`sqlflow docs generate|serve` and `sqlflow lineage`: the docs site and column lineage.

Thin like every command: parse options, call sqlflow.api, render with rich. Added to the group in main.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sqlflow.cli.options import GlobalState, ProjectArgs, project_options

if TYPE_CHECKING:
    from sqlflow import api
    from sqlflow.docs.build import ColumnLineage


def _options(project: ProjectArgs) -> api.Options:
    from sqlflow import api

    return api.Options(
        project_dir=project.project_dir,
        profiles_dir=project.profiles_dir,
        target=project.target,
        vars=api.parse_vars(project.vars_text),
    )


@click.group()
def docs() -> None:
    """The documentation site: models, sources, tests, the graph and column lineage."""


_OUT = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the site to (default: target/docs).",
)
_BUDGET = click.option(
    "--lineage-budget",
    type=click.FloatRange(min=0),
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="Stop tracing column lineage after this long (0: no limit); the next generation goes on.",
)


@docs.command()
@project_options
@_OUT
@_BUDGET
def generate(project: ProjectArgs, out: Path | None, lineage_budget: float) -> None:
    """Write the static docs site (opens from file:// or any web server)."""
    _generate(_options(project), out, lineage_budget)


def _generate(options: api.Options, out: Path | None, budget: float) -> Path:
    from sqlflow import api

    started = time.perf_counter()
    summary = api.docs_generate(options, out=out, lineage_budget=budget or None)
    elapsed = time.perf_counter() - started
    click.echo(
        f"Wrote the docs of {summary.nodes} nodes ({summary.models} models, seeds and snapshots, "
        f"{summary.columns_traced} columns traced) to {summary.out} in {elapsed:.1f}s"
    )
    for uid, why in summary.lineage_errors[:10]:
        click.secho(f"warning: no column lineage for {uid}: {why}", fg="yellow", err=True)
    if len(summary.lineage_errors) > 10:
        click.secho(f"warning: ... and {len(summary.lineage_errors) - 10} more", fg="yellow", err=True)
    if summary.lineage_skipped:
        click.secho(
            f"warning: the column lineage of {summary.lineage_skipped} models was not traced within "
            f"--lineage-budget; generate again to go on from where this stopped",
            fg="yellow",
            err=True,
        )
    return summary.out


@docs.command()
@project_options
@_OUT
@_BUDGET
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="0: a free port."
)
@click.option("--watch", is_flag=True, help="Regenerate when a file of the project changes.")
@click.option("--no-generate", is_flag=True, help="Serve the site as it is, without generating it first.")
def serve(
    project: ProjectArgs,
    out: Path | None,
    lineage_budget: float,
    host: str,
    port: int,
    watch: bool,
    no_generate: bool,
) -> None:
    """Serve the docs site over HTTP (generating it first); Ctrl-C stops."""
    from sqlflow import api
    from sqlflow.docs.serve import DocsServer, project_snapshot

    options = _options(project)
    site = out or api.load(options).target_dir / "docs"
    if not no_generate:
        site = _generate(options, out, lineage_budget)
    elif not (site / "index.html").exists():
        raise click.UsageError(f"{site} holds no docs site: run 'sqlflow docs generate' first")

    def regenerate() -> None:
        from sqlflow.errors import SqlflowError

        try:
            _generate(options, out, lineage_budget)
        except SqlflowError as exc:
            click.secho(f"Error: {exc} (still serving the previous site)", fg="red", err=True)

    loaded = api.load(options)
    server = DocsServer(
        site,
        host=host,
        port=port,
        regenerate=regenerate if watch else None,
        snapshot=(lambda: project_snapshot(loaded.root, loaded.target_dir)) if watch else None,
    )
    with server:
        click.echo(
            f"Serving {site} at {server.url}" + (" (watching for changes)" if watch else ""), color=False
        )
        click.echo("Press Ctrl-C to stop.")
        server.wait()


@click.command()
@project_options
@click.argument("column")
@click.option("--downstream", is_flag=True, help="The columns derived from COLUMN instead of its sources.")
@click.option("--depth", type=click.IntRange(min=1), help="Hops to follow (default: all).")
@click.option("--output", "-o", type=click.Choice(["tree", "json"]), default="tree", show_default=True)
@click.pass_context
def lineage(
    ctx: click.Context, project: ProjectArgs, column: str, downstream: bool, depth: int | None, output: str
) -> None:
    """The upstream columns of COLUMN (MODEL.COLUMN, e.g. orders.amount), across models; --downstream for
    the columns that depend on it."""
    import json

    from sqlflow import api

    result = api.column_lineage(_options(project), column, downstream=downstream, depth=depth)
    if output == "json":
        doc = {
            "column": [result.column.node, result.column.column],
            "direction": "downstream" if downstream else "upstream",
            "edges": [
                {
                    "depth": h.depth,
                    "column": [h.column.node, h.column.column],
                    "source": [h.source.node, h.source.column],
                }
                for h in result.hops
            ],
        }
        click.echo(json.dumps(doc))
        return
    state: GlobalState = ctx.obj
    _print_tree(result, no_color=state.no_color)


def _print_tree(result: ColumnLineage, *, no_color: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.tree import Tree

    def label(node: str, column: str) -> str:
        name = result.names.get(node) or node.removeprefix("external:")
        return f"[bold]{escape(name)}[/].{escape(column)}"

    nexts: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for h in result.hops:
        start, end = (h.column, h.source) if not result.downstream else (h.source, h.column)
        nexts.setdefault((start.node, start.column), []).append((end.node, end.column))
    root_ref = (result.column.node, result.column.column)
    tree = Tree(label(*root_ref))
    shown: set[tuple[str, str]] = {root_ref}

    def grow(branch: Tree, ref: tuple[str, str]) -> None:
        for nxt in sorted(nexts.get(ref, [])):
            if nxt in shown and nxt in nexts:
                branch.add(label(*nxt) + " [dim](see above)[/]")
                continue
            shown.add(nxt)
            grow(branch.add(label(*nxt)), nxt)

    grow(tree, root_ref)
    console = Console(no_color=no_color, highlight=False, soft_wrap=True)
    console.print(tree)
    if not result.hops:
        what = "is used by no other column" if result.downstream else "derives from no other column"
        console.print(f"[yellow]{label(*root_ref)} {what}[/]")
    if result.error:
        console.print(f"[yellow]warning: the SQL could not be traced: {escape(result.error)}[/]")
