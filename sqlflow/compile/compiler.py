"""Project -> Manifest: render each model with Jinja in two passes, settle configs and relations, find
dependencies with sqlglot, inline ephemeral models, transpile, and add the tests and sensors (with the
`depends_on` config and the file sensors guarding the files a model reads as extra dependencies).

Pass 1 renders every templated file with placeholder relations to collect its config() calls and refs;
the configs then fix every relation; pass 2 re-renders only the files whose text used a relation. Work
is skipped through the content-hash cache (`cache.py`), and jinja2 and sqlglot are only imported when a
file must be rendered or parsed, so an unchanged project compiles in milliseconds. Pure: no database,
no output; the only file written is the cache.
"""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import sqlflow
from sqlflow.compile.cache import CompileCache, digest
from sqlflow.compile.jinja import has_jinja
from sqlflow.compile.lookup import Lookup, Resolved
from sqlflow.compile.nodes.assembly import assemble
from sqlflow.compile.nodes.configs import custom_naming
from sqlflow.compile.nodes.drafts import (
    Calls,
    Compiled,
    Draft,
    Rendered,
    read_drafts,
    source_nodes,
)
from sqlflow.compile.nodes.generic_tests import generic_test_nodes
from sqlflow.compile.nodes.late import LateCompile, unparsed
from sqlflow.compile.nodes.sensors import sensor_nodes
from sqlflow.compile.nodes.settling import make_lookup, settle
from sqlflow.compile.nodes.time_range import resolver_for
from sqlflow.errors import ConfigError, SourceLocation, SqlflowError, did_you_mean
from sqlflow.manifest import (
    Manifest,
    Relation,
    SourceNode,
)
from sqlflow.project.types import Project

if TYPE_CHECKING:
    from sqlflow.compile.jinja.templating import Renderer
    from sqlflow.compile.sql.querying import Query

_VOLATILE = ("run_started_at", "invocation_id")
# target dialects whose engine reads files in SQL (read_csv ...); for the others sqlflow loads CSV files
READS_FILES_IN_SQL = frozenset({"duckdb"})


def compile_project(
    project: Project,
    *,
    target_dialect: str,
    vars: Mapping[str, Any] | None = None,
    invocation_id: str = "",
    run_started_at: datetime | None = None,
    cache_dir: Path | None = None,
    query: Callable[[str], tuple[Sequence[str], Sequence[Sequence[Any]]]] | None = None,
    flags: Mapping[str, Any] | None = None,
    late: LateCompile | None = None,
) -> Manifest:
    """Compile every model, seed, source and test of `project` into a Manifest (see the module doc).

    `query(sql) -> (column names, rows)` runs SQL on the target for templates' run_query / statement
    (opened lazily by the caller); without it `execute` is false. `flags` are dbt's (FULL_REFRESH, WHICH).
    A node whose template runs queries is compiled with `execute` false (`late_sql`); `late`, when given,
    can then render it again with its queries, just before it runs.
    """
    c = _Compile(project, target_dialect, vars, invocation_id, run_started_at, cache_dir)
    c.query, c.flags = query, dict(flags or {})
    manifest = c.run()
    if late is not None:
        late.bind(c)
    return manifest


class _Compile:
    """The state of one compile; each method is one step of `run()`."""

    def __init__(
        self,
        project: Project,
        target_dialect: str,
        vars: Mapping[str, Any] | None,
        invocation_id: str,
        run_started_at: datetime | None,
        cache_dir: Path | None,
    ) -> None:
        self.project = project
        self.dialect = project.dialect
        self.target_dialect = target_dialect
        self.vars = {**project.vars, **(vars or {})}
        self.invocation_id = invocation_id or uuid.uuid4().hex
        self.started = run_started_at or datetime.now(UTC)
        self.cache = CompileCache(cache_dir)
        self.global_key = digest(
            sqlflow.__version__,
            project.name,
            self.dialect,
            self.vars,
            project.target,
            [(f.path, f.checksum) for f in project.macro_files],
        )
        self.macros_volatile = any(v in f.text for f in project.macro_files for v in _VOLATILE)
        self._renderer: Renderer | None = None
        self.lookup = Lookup(project.name, (), ())
        self.relations_key = ""
        self.time_columns: dict[str, str] = {}  # unique id -> time_column, of the models that declare one
        self.disabled: dict[str, str] = {}  # name -> file of models and seeds turned off
        self._dialects_checked = False
        self.test_keys: dict[str, str] = {}  # unique id of a generic test -> its cache key
        self.sensor_keys: dict[str, tuple[str, Any]] = {}  # a sql sensor emitted late -> key, env reads
        self.query: Callable[[str], tuple[Sequence[str], Sequence[Sequence[Any]]]] | None = None
        self.flags: dict[str, Any] = {}
        # a dbt project names relations as dbt-duckdb prints them: "db"."schema"."name"
        self.dbt_names = project.config_file == "dbt_project.yml"
        self.naming = custom_naming(f.text for f in project.macro_files)  # parts the project names itself
        self.drafts: list[Draft] = []
        self._graph: dict[str, Any] | None = None
        self._graph_settled = False
        self.sources: list[SourceNode] = []

    # -- lazily loaded tools (jinja2 and sqlglot cost ~300 ms to import) ---------------------------------

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            from sqlflow.compile.jinja.templating import Renderer

            p = self.project
            self._renderer = Renderer(
                files=[*p.model_files, *p.test_files, *p.analysis_files],
                macro_files=p.macro_files,
                target=p.target,
                vars=self.vars,
                invocation_id=self.invocation_id,
                run_started_at=self.started,
                query=self.query,
                flags=self.flags,
                graph=self.graph,
                packages=[name.rsplit("/", 1)[-1] for name, _ in p.packages],
            )
        return self._renderer

    def sql_tools(self) -> tuple[ModuleType, ModuleType]:
        """The `sql` and `querying` modules, imported (and the dialects checked) on first use."""
        from sqlflow.compile.sql import querying
        from sqlflow.compile.sql import syntax as sql

        if not self._dialects_checked:
            for name, what in (
                (self.dialect, "the project's dialect"),
                (self.target_dialect, "the target dialect"),
            ):
                known = sql.check_dialect(name)
                if known is not None:
                    raise ConfigError(
                        f"unknown SQL dialect '{name}' ({what})",
                        location=SourceLocation(self.project.config_file),
                        hint=f"one of {known}",
                    )
            self._dialects_checked = True
        return sql, querying

    # -- the steps ----------------------------------------------------------------------------------------

    def run(self) -> Manifest:
        drafts = self.drafts = read_drafts(self.project)
        for draft in drafts:
            if draft.kind != "seed" and draft.base.get("enabled", True) is not False:
                self.render_pass1(draft)
        drafts = self.drafts = settle(self, drafts)
        sources = self.sources = source_nodes(self.project)
        self.lookup = make_lookup(self, drafts, sources)
        self.time_columns = {
            d.unique_id: d.config.time_column for d in drafts if d.config is not None and d.config.time_column
        }
        self.relations_key = digest(
            sorted((r.unique_id, r.relation, r.ephemeral, r.ref_text) for r in self.lookup.by_uid.values()),
            sorted(self.time_columns.items()),
            sorted(
                (d.file.checksum, d.merged)
                for d in drafts
                if d.config and d.config.materialized == "ephemeral"
            ),
            self.dialect,
            self.target_dialect,
        )
        with _collect_garbage_in_batches():
            for index, draft in enumerate(drafts):
                if draft.kind != "seed":
                    self.compile_draft(draft)
                if index % 2000 == 1999:
                    gc.collect(0)  # the young generation: what this batch allocated
        tests = generic_test_nodes(self, drafts)
        if self.project.unit_tests:
            from sqlflow.compile.nodes.unit_tests import unit_test_nodes

            tests += [(node, None) for node in unit_test_nodes(self, drafts)]
        sensors = sensor_nodes(self)
        manifest = assemble(self, drafts, tests, sources, sensors)
        warnings = self.warnings()
        if warnings:
            manifest = replace(manifest, metadata={**manifest.metadata, "warnings": warnings})
        self.cache.save()
        return manifest

    def warnings(self) -> list[dict[str, Any]]:
        """What the compile warns about (manifest.metadata["warnings"], printed by lint)."""
        from sqlflow.compile.nodes.dbt_nodes import compile_warnings

        return compile_warnings(self.project.packages, self._renderer.warnings if self._renderer else ())

    def graph(self) -> dict[str, Any] | None:
        """dbt's `graph`: manifest-shaped nodes and sources. Before the relations are settled (pass 1) the
        nodes have no relation parts yet; the files reading it are rendered again in pass 2."""
        settled = bool(self.lookup.by_uid)
        if self._graph is None or self._graph_settled != settled:
            from sqlflow.compile.nodes.dbt_nodes import graph_doc

            sources = self.sources if settled else source_nodes(self.project)
            self._graph, self._graph_settled = graph_doc(self.drafts, sources, self.lookup.by_uid), settled
        return self._graph

    def render_pass1(self, draft: Draft) -> None:
        text = draft.file.text
        templated = has_jinja(text)
        draft.key = digest(self.global_key, draft.file.path, draft.file.checksum, draft.base)
        draft.volatile = templated and (self.macros_volatile or any(v in text for v in _VOLATILE))
        if not templated:
            draft.rendered = Rendered(text)
            return
        cached = None if draft.volatile else self.cache.get("render", draft.cache_name, draft.key)
        if cached is not None and all(os.environ.get(k) == v for k, v in cached.env_reads):
            draft.rendered = cached
            return
        from sqlflow.compile.nodes.dbt_nodes import node_doc

        result = self.renderer.render(
            draft.file.path, text=draft.template, config=draft.base, node=lambda: node_doc(draft, None, None)
        )
        draft.volatile = draft.volatile or result.uncacheable
        draft.late = result.queried
        draft.rendered = Rendered(
            None if result.needs_relations else result.sql,
            tuple(result.configs),
            tuple((c.args, c.location) for c in result.refs),
            tuple((c.args, c.location) for c in result.sources),
            tuple(sorted(result.env_reads.items())),
        )
        if not draft.volatile:
            self.cache.put("render", draft.cache_name, draft.key, draft.rendered)

    def resolve(self, kind: str, args: tuple[str, ...], location: SourceLocation) -> tuple[Relation, str]:
        found = self.lookup.ref(args, location) if kind == "ref" else self.lookup.source(args, location)
        return found.relation, found.ref_text

    def render_final(
        self, draft: Draft, *, incremental: bool, execute: bool = False
    ) -> tuple[str, Calls, Calls]:
        """The text of pass 2 (or pass 1's, when final) with its ref and source calls. A late draft (its
        template runs queries) is rendered with `execute` false unless asked (see `recompile`)."""
        rendered = draft.rendered
        assert rendered is not None
        if not has_jinja(draft.file.text):
            return draft.file.text, (), ()
        if rendered.sql is not None and not incremental:
            return rendered.sql, rendered.refs, rendered.sources
        from sqlflow.compile.nodes.dbt_nodes import node_doc

        this: Resolved | None = self.lookup.by_uid.get(draft.unique_id)
        result = self.renderer.render(
            draft.file.path,
            text=draft.template,
            resolve=resolver_for(self, draft),
            this=this.relation if this else None,
            this_text=this.ref_text if this else None,
            incremental=incremental,
            config=draft.base,
            node=lambda: node_doc(draft, draft.relation, this.ref_text if this else None),
            execute=execute or not draft.late,
        )
        draft.volatile = draft.volatile or result.uncacheable
        refs = tuple((c.args, c.location) for c in result.refs)
        return result.sql, refs, tuple((c.args, c.location) for c in result.sources)

    def compile_draft(self, draft: Draft) -> None:
        """The cached compiled form, or render pass 2 and analyse the SQL (written after the DAG check)."""
        env_reads = draft.rendered.env_reads if draft.rendered else ()
        key = digest(draft.key, env_reads, draft.merged, self.relations_key)
        cached = None if draft.volatile else self.cache.get("compiled", draft.cache_name, key)
        if cached is not None:
            draft.compiled = cached
            return
        draft.compiled_key = key
        sql, querying = self.sql_tools()
        text, refs, sources = self.render_final(draft, incremental=False)
        analyse = self.analyser(draft)
        try:
            draft.query = analyse(text)
        except SqlflowError:
            if not draft.late:
                raise
            # rendered without its queries' results the SQL may not parse: settled when it runs
            unparsed(self, draft, text, refs, sources)
            return
        queries = [draft.query]
        if draft.kind == "model" and draft.config and draft.config.materialized == "incremental":
            inc_text, inc_refs, inc_sources = self.render_final(draft, incremental=True)
            draft.incremental_query = analyse(inc_text) if inc_text != text else draft.query
            queries.append(draft.incremental_query)
            refs, sources = refs + inc_refs, sources + inc_sources
        depends = set().union(*(q.depends_on for q in queries))
        depends |= {self.lookup.ref(args, loc).unique_id for args, loc in refs}
        depends |= {self.lookup.source(args, loc).unique_id for args, loc in sources}
        depends.discard(draft.unique_id)
        draft.compiled = Compiled(
            compiled_sql="",
            incremental_sql=None,
            depends_on=tuple(sorted(depends)),
            refs=tuple(sorted({args[-1] for args, _ in refs})),
            sources=tuple(sorted({(args[0], args[1]) for args, _ in sources})),
            external_tables=tuple(sorted(set().union(*(q.external_tables for q in queries)))),
            columns=sql.column_spec(draft.query.tree, draft.query.resolved),
            hooks=(self.render_hooks(draft, "pre_hook"), self.render_hooks(draft, "post_hook")),
            file_reads=tuple(dict.fromkeys(f for q in queries for f in q.file_reads)),
            file_loads=tuple({f.relation: f for q in queries for f in q.file_loads}.values()),
        )
        if draft.config is not None and draft.config.materialized != "ephemeral":
            self.write_now(draft, querying)

    def analyser(self, draft: Draft) -> Callable[[str], Query]:
        """Parse a rendered text of `draft` and resolve its tables (see querying.analyse)."""
        sql, querying = self.sql_tools()
        templated = has_jinja(draft.file.text)
        dialect = self.model_dialect(draft, sql)
        load_into = None
        if self.target_dialect not in READS_FILES_IN_SQL and draft.kind != "test" and draft.relation:
            from sqlflow.compile.sql.file_loads import LoadInto

            load_into = LoadInto(self.target_dialect, draft.relation, draft.unique_id)

        def analyse(text: str) -> Query:
            return querying.analyse(
                text,
                dialect=dialect,
                lookup=self.lookup,
                self_uid=draft.unique_id,
                path=draft.file.path,
                raw_text=draft.file.text,
                templated=templated,
                load_into=load_into,
            )

        return analyse

    def render_hooks(self, draft: Draft, which: str) -> tuple[str, ...]:
        """The model's pre_hook or post_hook statements rendered with its context (`{{ this }}` ...)."""
        this = self.lookup.by_uid.get(draft.unique_id)
        return tuple(
            self.renderer.render(
                draft.file.path,
                text=hook,
                resolve=self.resolve,
                this=this.relation if this else None,
                this_text=this.ref_text if this else None,
                config=draft.base,
            ).sql
            if has_jinja(hook)
            else hook
            for hook in getattr(draft.config, which)
        )

    def model_dialect(self, draft: Draft, sql: ModuleType) -> str:
        """The dialect a model is written in: its `dialect` config, else the project's."""
        dialect = draft.config.dialect if draft.config and draft.config.dialect else self.dialect
        if dialect != self.dialect and sql.check_dialect(dialect) is not None:
            raise ConfigError(
                f"unknown SQL dialect '{dialect}'",
                location=SourceLocation(draft.file.path),
                hint=did_you_mean(dialect, sql.dialect_names()),
            )
        return dialect

    def write_now(self, draft: Draft, querying: ModuleType) -> None:
        """Settle the SQL now when it is the rendered text itself, and let go of the parsed trees."""
        assert draft.query is not None and draft.compiled is not None
        compiled_sql = querying.text_only(draft.query, self.target_dialect)
        incremental_sql = None
        if draft.incremental_query is not None:
            incremental_sql = querying.text_only(draft.incremental_query, self.target_dialect)
            if incremental_sql is None:
                return
        if compiled_sql is None:
            return
        draft.compiled = replace(draft.compiled, compiled_sql=compiled_sql, incremental_sql=incremental_sql)
        draft.query = draft.incremental_query = None
        if not draft.volatile:
            self.cache.put("compiled", draft.cache_name, draft.compiled_key, draft.compiled)


@contextmanager
def _collect_garbage_in_batches() -> Iterator[None]:
    """Turn the cyclic garbage collector off while parsing, and collect only between batches.

    sqlglot trees are cyclic (children point at their parents); with thousands parsed, the collector's
    automatic full passes over them cost more than the parsing itself (17 s instead of 7 s for 10,000
    models). Trees are dropped as soon as a model's SQL is settled, so a collection now and then is cheap.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
