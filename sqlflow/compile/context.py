"""The context of one compile: `CompileContext`, frozen and typed, handed to every stage function, and
`CompileTools`, the one mutable thing it holds: what a compile creates on first use (the Jinja renderer,
the sqlglot modules) and dbt's `graph` over the records of the stage running.

A stage that settles something new returns it; the compiler makes the next context with
`dataclasses.replace` (the lookup, the relations' hash and the time columns after settling). Imports
neither jinja2 nor sqlglot (they cost ~300 ms; a cache hit needs neither) and no stage module.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import sqlflow
from sqlflow.compile.cache import CompileCache, digest
from sqlflow.compile.lookup import Lookup
from sqlflow.compile.nodes.configs import custom_naming
from sqlflow.errors import ConfigError, SourceLocation, did_you_mean
from sqlflow.manifest import Relation
from sqlflow.project.types import Project

if TYPE_CHECKING:
    from sqlflow.compile.jinja.templating import Renderer

# `query(sql) -> (column names, rows)`: SQL run on the target for run_query / statement
QueryFunction = Callable[[str], tuple[Sequence[str], Sequence[Sequence[Any]]]]
# ref() / source() -> (relation, the text it prints[, the unfiltered text of a time-range ref])
Resolve = Callable[[str, tuple[str, ...], SourceLocation], tuple[Any, ...]]
VOLATILE = ("run_started_at", "invocation_id")  # a text naming them renders differently every run


class CompileTools:
    """What a compile creates once, on first use: the Renderer (the project's macros loaded once) and the
    `sql` and `querying` modules (the dialects checked once); and dbt's `graph`, built on first use from
    the records the compiler shows it (`show_graph`), again after each `show_graph`."""

    def __init__(
        self,
        new_renderer: Callable[[CompileTools], Renderer],
        check_dialects: Callable[[ModuleType], None],
    ) -> None:
        self._new_renderer = new_renderer
        self._check_dialects = check_dialects
        self._renderer: Renderer | None = None
        self._dialects_checked = False
        self._graph_of: Callable[[], dict[str, Any]] | None = None
        self._graph: dict[str, Any] | None = None

    @property
    def made_renderer(self) -> Renderer | None:
        """The Renderer when one was made (its warnings), else None."""
        return self._renderer

    def renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = self._new_renderer(self)
        return self._renderer

    def sql_tools(self) -> tuple[ModuleType, ModuleType]:
        from sqlflow.compile.sql import querying
        from sqlflow.compile.sql import syntax as sql

        if not self._dialects_checked:
            self._check_dialects(sql)
            self._dialects_checked = True
        return sql, querying

    def show_graph(self, build: Callable[[], dict[str, Any]]) -> None:
        """From now on `graph()` is what `build()` gives (built when a template first reads it)."""
        self._graph_of, self._graph = build, None

    def graph(self) -> dict[str, Any] | None:
        if self._graph is None and self._graph_of is not None:
            self._graph = self._graph_of()
        return self._graph


@dataclass(frozen=True, slots=True, kw_only=True)
class CompileContext:
    """Everything a compile stage reads: the project and its settings, the compile cache, the lazily
    made tools, and once the relations are settled the lookup resolving names to nodes."""

    project: Project
    dialect: str  # the project's: the SQL of its files is written in it, unless a model's config says
    target_dialect: str  # the target's: the compiled SQL is written in it
    vars: Mapping[str, Any]  # the project's vars with the command line's over them
    invocation_id: str
    started: datetime
    flags: Mapping[str, Any]  # dbt's flags (FULL_REFRESH, WHICH ...)
    query: QueryFunction | None  # runs SQL on the target for templates; None: `execute` is false
    cache: CompileCache
    tools: CompileTools
    global_key: str  # the part of every cache key that is the same for every file
    macros_volatile: bool  # a macro names run_started_at or invocation_id: no templated file is cached
    # the installed packages (and dispatch namespaces) whose macros may name them: a file naming one is
    # not cached
    volatile_packages: frozenset[str] = frozenset()
    naming: frozenset[str]  # the parts ("schema", "alias", "database") the project's macros name
    dbt_names: bool  # a dbt project: relations named as dbt-duckdb prints them, "db"."schema"."name"
    # -- settled between the two render passes (empty before) --
    lookup: Lookup
    relations_key: str = ""  # a hash of every relation, time column and ephemeral model
    time_columns: Mapping[str, str] = field(default_factory=dict)  # unique id -> time_column

    @property
    def renderer(self) -> Renderer:
        """The compile's one Renderer (jinja2 imported on first use)."""
        return self.tools.renderer()

    def names_volatile_package(self, text: str) -> bool:
        """Whether `text` names a package whose macros may print run_started_at or invocation_id."""
        return any(re.search(rf"\b{re.escape(p)}\b", text) for p in self.volatile_packages)

    def sql_tools(self) -> tuple[ModuleType, ModuleType]:
        """The `sql` (sql/syntax.py) and `querying` modules (sqlglot loaded, dialects checked, once)."""
        return self.tools.sql_tools()

    def resolve(self, kind: str, args: tuple[str, ...], location: SourceLocation) -> tuple[Relation, str]:
        """ref() / source() -> (relation, the text it prints), through the lookup."""
        found = self.lookup.ref(args, location) if kind == "ref" else self.lookup.source(args, location)
        return found.relation, found.ref_text

    def checked_dialect(self, dialect: str, path: str) -> str:
        """`dialect` (a model's `dialect` config), ConfigError at `path` when sqlglot does not know it."""
        if dialect != self.dialect:
            sql, _ = self.sql_tools()
            if sql.check_dialect(dialect) is not None:
                raise ConfigError(
                    f"unknown SQL dialect '{dialect}'",
                    location=SourceLocation(path),
                    hint=did_you_mean(dialect, sql.dialect_names()),
                )
        return dialect


def volatile_packages(project: Project) -> frozenset[str]:
    """The installed packages whose macros name run_started_at or invocation_id, or name such a package,
    and the `dispatch:` namespaces whose search order holds one."""
    texts = {p.name: "\n".join(f.text for f in p.macro_files) for p in project.installed_packages}
    found = {name for name, text in texts.items() if any(v in text for v in VOLATILE)}
    grown = True
    while grown:
        before = len(found)
        found |= {n for n, t in texts.items() if any(re.search(rf"\b{re.escape(p)}\b", t) for p in found)}
        found |= {ns for ns, order in project.dispatch.items() if found.intersection(order)}
        grown = len(found) > before
    return frozenset(found)


def new_context(
    project: Project,
    *,
    target_dialect: str,
    vars: Mapping[str, Any] | None = None,
    invocation_id: str = "",
    run_started_at: datetime | None = None,
    cache_dir: Path | None = None,
    query: QueryFunction | None = None,
    flags: Mapping[str, Any] | None = None,
) -> CompileContext:
    """The context a compile starts with (see compile_project for the arguments)."""
    all_vars = {**project.vars, **(vars or {})}
    invocation_id = invocation_id or uuid.uuid4().hex
    started = run_started_at or datetime.now(UTC)
    flags = dict(flags or {})
    package_macro_files = [f for package in project.installed_packages for f in package.macro_files]
    volatile = volatile_packages(project)

    def new_renderer(tools: CompileTools) -> Renderer:
        from sqlflow.compile.jinja.templating import Renderer

        p = project
        return Renderer(
            files=[*p.model_files, *p.test_files, *p.analysis_files],
            macro_files=p.macro_files,
            target=p.target,
            vars=all_vars,
            invocation_id=invocation_id,
            run_started_at=started,
            query=query,
            flags=flags,
            graph=tools.graph,
            packages=[name.rsplit("/", 1)[-1] for name, _ in p.packages],
            project_name=p.name,
            installed_packages=p.installed_packages,
            dispatch=p.dispatch,
        )

    def check_dialects(sql: ModuleType) -> None:
        for name, what in (
            (project.dialect, "the project's dialect"),
            (target_dialect, "the target dialect"),
        ):
            known = sql.check_dialect(name)
            if known is not None:
                raise ConfigError(
                    f"unknown SQL dialect '{name}' ({what})",
                    location=SourceLocation(project.config_file),
                    hint=f"one of {known}",
                )

    return CompileContext(
        project=project,
        dialect=project.dialect,
        target_dialect=target_dialect,
        vars=all_vars,
        invocation_id=invocation_id,
        started=started,
        flags=flags,
        query=query,
        cache=CompileCache(cache_dir),
        tools=CompileTools(new_renderer, check_dialects),
        global_key=digest(
            sqlflow.__version__,
            project.name,
            project.dialect,
            all_vars,
            project.target,
            [(f.path, f.checksum) for f in project.macro_files],
            [(f.path, f.checksum) for f in package_macro_files],
            project.dispatch,
        ),
        macros_volatile=any(v in f.text for f in project.macro_files for v in VOLATILE)
        or any(re.search(rf"\b{re.escape(p)}\b", f.text) for f in project.macro_files for p in volatile),
        volatile_packages=volatile,
        naming=custom_naming(f.text for f in project.macro_files),
        dbt_names=project.config_file == "dbt_project.yml",
        lookup=Lookup(project.name, (), ()),
    )
