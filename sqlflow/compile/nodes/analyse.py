"""The one way from a template to an analysed query, for models, snapshots, singular and generic tests,
sql sensors and late rendering: render it with Jinja (`render`), parse it and resolve its tables against
the lookup (`analyse`), and gather what it depends on (ref() and source() calls, tables read).

A `Job` says what to render and how; `render` gives a `RenderedText`, `analyse` an `Analysed`. Imports
neither jinja2 nor sqlglot at import time (the context's renderer and sql tools load them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlflow.compile.context import CompileContext, Resolve
from sqlflow.compile.jinja import has_jinja
from sqlflow.compile.lookup import Resolved
from sqlflow.compile.nodes.drafts import Calls
from sqlflow.errors import SourceLocation, SqlflowError

if TYPE_CHECKING:
    from sqlflow.compile.sql.file_loads import LoadInto
    from sqlflow.compile.sql.querying import Query


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One text to render and analyse: where it is written, in which dialect, and the render's context."""

    path: str  # the file it is written in (errors name it)
    written: str  # the text as written: the template (rendered when it holds Jinja)
    from_file: bool = False  # the template is the file at `path` as the renderer loaded it (a model's)
    dialect: str  # the dialect it is written in
    jinja: bool = True  # False: SQL sqlflow wrote, never rendered (a built-in test's)
    final: RenderedText | None = None  # already rendered (a pass-1 text that is final): only analysed
    resolve: Resolve | None = None  # ref()/source() -> the text printed; None: the context's
    at: SourceLocation | None = None  # where errors about its ref() and source() calls point, not the call
    this: Resolved | None = None
    incremental: bool = False
    execute: bool = True
    config: Mapping[str, Any] | None = None
    node: Callable[[], Mapping[str, Any]] | None = None  # `model`: the node as a manifest-shaped dict
    extra: Mapping[str, Any] | None = None  # names only this render sees (a custom test's arguments)
    self_uid: str | None = None  # the node itself: reading it is no dependency
    map_lines: bool = False  # a parse error's line is mapped back to `written` (a model's file)
    load_into: LoadInto | None = None  # files read in SQL become tables sqlflow loads (see file_loads)


@dataclass(frozen=True, slots=True)
class RenderedText:
    """A rendered text with the ref() and source() calls that made it."""

    text: str
    refs: Calls = ()
    sources: Calls = ()
    env_reads: tuple[tuple[str, str | None], ...] = ()
    uncacheable: bool = False  # it read execute, run_query, flags or graph


@dataclass(frozen=True, slots=True)
class Analysed:
    """A rendered text parsed, its tables resolved; `query` is None when it was not parsed (`parse`
    false, or a late text that does not parse, kept as it is)."""

    rendered: RenderedText
    query: Query | None
    depends_on: frozenset[str]

    @property
    def text(self) -> str:
        return self.rendered.text


def render(c: CompileContext, job: Job) -> RenderedText:
    """`job`'s text rendered with Jinja (as written when it holds none, or already `final`)."""
    if not job.jinja or not has_jinja(job.written):
        return RenderedText(job.written)
    if job.final is not None:
        return job.final
    resolve = job.resolve or c.resolve
    if job.at is not None:
        at, inner = job.at, resolve

        def resolve(kind: str, args: tuple[str, ...], _: SourceLocation) -> tuple[Any, ...]:
            return inner(kind, args, at)

    this = job.this
    result = c.renderer.render(
        job.path,
        text=None if job.from_file else job.written,
        resolve=resolve,
        this=this.relation if this else None,
        this_text=this.ref_text if this else None,
        incremental=job.incremental,
        config=job.config,
        extra=job.extra,
        node=job.node,
        execute=job.execute,
    )
    return RenderedText(
        result.sql,
        tuple((call.args, call.location) for call in result.refs),
        tuple((call.args, call.location) for call in result.sources),
        tuple(sorted(result.env_reads.items())),
        result.uncacheable,
    )


def depends_of(c: CompileContext, rendered: RenderedText, at: SourceLocation | None = None) -> set[str]:
    """The unique ids the ref() and source() calls of `rendered` name (errors at `at`, else at the call)."""
    depends = {c.lookup.ref(args, at or loc).unique_id for args, loc in rendered.refs}
    depends |= {c.lookup.source(args, at or loc).unique_id for args, loc in rendered.sources}
    return depends


def analyse(
    c: CompileContext,
    job: Job,
    rendered: RenderedText,
    *,
    parse: bool = True,
    keep_unparsed: bool = False,
    same_as: Analysed | None = None,
) -> Analysed:
    """`rendered` parsed in `job.dialect` and its tables resolved, with its dependencies. `keep_unparsed`:
    a text that does not parse is kept as it is (a late model rendered without its queries' results);
    `same_as`: the analysis of the same text (an incremental model's two texts, when equal)."""
    query: Query | None = None
    if same_as is not None:
        query = same_as.query
    elif parse:
        _, querying = c.sql_tools()
        templated = job.map_lines and job.jinja and has_jinja(job.written)
        dialect = c.checked_dialect(job.dialect, job.path)
        try:
            query = querying.analyse(
                rendered.text,
                dialect=dialect,
                lookup=c.lookup,
                self_uid=job.self_uid,
                path=job.path,
                raw_text=job.written if job.map_lines else rendered.text,
                templated=templated,
                load_into=job.load_into,
            )
        except SqlflowError:
            if not keep_unparsed:
                raise
    depends = depends_of(c, rendered, job.at)
    if query is not None:
        depends |= query.depends_on
    depends.discard(job.self_uid or "")
    return Analysed(rendered, query, frozenset(depends))


def render_and_analyse(c: CompileContext, job: Job, *, parse: bool = True) -> Analysed:
    """`job` rendered, parsed and resolved (see `render` and `analyse`)."""
    return analyse(c, job, render(c, job), parse=parse)


def call_names(analysed: Iterable[RenderedText]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The names of the models and the (source, table) pairs the ref() and source() calls name, sorted."""
    texts = list(analysed)
    refs = sorted({args[-1] for r in texts for args, _ in r.refs})
    sources = sorted({(args[0], args[1]) for r in texts for args, _ in r.sources})
    return tuple(refs), tuple(sources)
