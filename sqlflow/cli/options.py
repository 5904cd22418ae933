"""Options shared by the commands, and the typed state they build. Imports only click."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalState:
    """What the group's options say, for every command (stored as click's ctx.obj)."""

    debug: bool = False
    log_format: str = "text"
    no_color: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectArgs:
    """--project-dir, --profiles-dir, --target and --vars as given (vars still YAML text)."""

    project_dir: Path | None = None
    profiles_dir: Path | None = None
    target: str | None = None
    vars_text: str | None = None


def project_options(func: F) -> F:
    """--project-dir, --profiles-dir, --target, --vars, handed to the command as one `project` argument."""

    command = func

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["project"] = ProjectArgs(
            project_dir=kwargs.pop("project_dir"),
            profiles_dir=kwargs.pop("profiles_dir"),
            target=kwargs.pop("target"),
            vars_text=kwargs.pop("vars_text"),
        )
        return command(*args, **kwargs)

    func = wrapper  # type: ignore[assignment]
    func = click.option(
        "--vars",
        "vars_text",
        metavar="YAML",
        help="Variables for var(), as YAML: '{days: 3, region: eu}'.",
    )(func)
    func = click.option("--target", "-t", help="The profile output to use (default: the profile's target).")(
        func
    )
    func = click.option(
        "--profiles-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder holding profiles.yml (default: $SQLFLOW_PROFILES_DIR, $DBT_PROFILES_DIR, the project, "
        "~/.sqlflow, ~/.dbt: the first that holds one).",
    )(func)
    func = click.option(
        "--project-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="SQLFLOW_PROJECT_DIR",
        help="The project folder, holding sqlflow.yml or dbt_project.yml (default: the current folder or the "
        "nearest parent with one).",
    )(func)
    return func


class SelectorOption(click.Option):
    """A repeatable option that, as dbt's --select, also takes the values after it up to the next option:
    `-s a b --exclude c` selects a and b."""

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        opt = self.opts[0]  # click registers one parser option for all of this option's names
        registered = parser._long_opt.get(opt) or parser._short_opt[opt]
        registered.process = _greedy(registered.process)


def _greedy(process: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Wrap click's parser step for one option: each following argument that is not an option is one more
    value (click's own `nargs` wants a fixed count)."""

    def take_the_rest(value: Any, state: Any) -> None:
        process(value, state)
        while state.rargs and not state.rargs[0].startswith("-"):
            process(state.rargs.pop(0), state)

    return take_the_rest


def select_options(func: F) -> F:
    """--select/-s and --exclude; each may repeat, may be followed by several values (`-s a b`), and a value
    may hold several space-separated terms."""
    func = click.option(
        "--exclude",
        cls=SelectorOption,
        multiple=True,
        metavar="SELECTOR",
        help="Nodes to leave out (same grammar as --select).",
    )(func)
    func = click.option(
        "--select",
        "-s",
        cls=SelectorOption,
        multiple=True,
        metavar="SELECTOR",
        help="Nodes to include: names, wildcards, +model, model+, 2+model, @model, tag:x, path:x, "
        "config.materialized:x. Space = union, comma = intersection.",
    )(func)
    return func


def indirect_option(func: F) -> F:
    """--indirect-selection: which tests come with the selected nodes, as in dbt."""
    return click.option(
        "--indirect-selection",
        type=click.Choice(["eager", "cautious", "buildable", "empty"]),
        default="eager",
        show_default=True,
        help="Tests selected with the selected nodes: eager (those testing any selected node), cautious "
        "(only those all of whose nodes are selected), buildable (those whose nodes are selected or upstream "
        "of the selection), empty (none: only tests selected themselves).",
    )(func)


def run_options(func: F) -> F:
    """--threads, --fail-fast, --full-refresh, --dry-run, --metrics-file."""
    func = click.option(
        "--metrics-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the run's Prometheus metrics to this file (node-exporter textfile collector: *.prom).",
    )(func)
    func = click.option("--dry-run", is_flag=True, help="Print the plan and run nothing.")(func)
    func = click.option(
        "--full-refresh", is_flag=True, help="Rebuild incremental models (and seeds) from scratch."
    )(func)
    func = click.option("--fail-fast", "-x", is_flag=True, help="Stop at the first failure.")(func)
    func = click.option(
        "--threads",
        type=click.IntRange(min=1),
        help="Worker threads (default: the target's, else the cores).",
    )(func)
    return func


def split_terms(values: tuple[str, ...]) -> tuple[str, ...]:
    """Each --select value may hold several space-separated terms.

    >>> split_terms(("a b", "tag:x"))
    ('a', 'b', 'tag:x')
    """
    return tuple(term for value in values for term in value.split())
