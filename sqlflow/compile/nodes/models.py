"""The two render passes of a model, snapshot, analysis or singular test, each a function from a draft to
a new draft: `render_pass1` (placeholder relations: its config() calls and refs) and `analyse_draft`
(pass 2: the text with its relations, parsed and resolved, its SQL settled now when it is the text itself).

Both are answered by the compile cache when they can; jinja2 and sqlglot load only through the context.
"""

from __future__ import annotations

import os
from dataclasses import replace

from sqlflow.compile.cache import digest
from sqlflow.compile.context import VOLATILE, CompileContext
from sqlflow.compile.jinja import has_jinja
from sqlflow.compile.nodes.analyse import Analysed, Job, RenderedText, analyse, call_names, render
from sqlflow.compile.nodes.dbt_nodes import node_doc
from sqlflow.compile.nodes.drafts import Compiled, Draft, Rendered
from sqlflow.compile.nodes.time_range import resolver_for
from sqlflow.engines import reads_files_in_sql


def render_pass1(c: CompileContext, draft: Draft) -> Draft:
    """`draft` rendered with placeholder relations (or its cached render): its config() calls, refs and
    sources, and its text when no relation was used."""
    text = draft.file.text
    templated = has_jinja(text)
    key = digest(c.global_key, draft.file.path, draft.file.checksum, draft.base)
    volatile = templated and (
        c.macros_volatile or any(v in text for v in VOLATILE) or c.names_volatile_package(text)
    )
    if not templated:
        return replace(draft, key=key, volatile=volatile, rendered=Rendered(text))
    cached = None if volatile else c.cache.get("render", draft.cache_name, key)
    if cached is not None and all(os.environ.get(k) == v for k, v in cached.env_reads):
        return replace(draft, key=key, volatile=volatile, rendered=cached)
    warned = len(c.renderer.warnings)
    result = c.renderer.render(
        draft.file.path, text=draft.template, config=draft.base, node=lambda: node_doc(draft, None, None)
    )
    rendered = Rendered(
        None if result.needs_relations else result.sql,
        tuple(result.configs),
        tuple((call.args, call.location) for call in result.refs),
        tuple((call.args, call.location) for call in result.sources),
        tuple(sorted(result.env_reads.items())),
        tuple(c.renderer.warnings[warned:]),
    )
    volatile = volatile or result.uncacheable
    if not volatile:
        c.cache.put("render", draft.cache_name, key, rendered)
    return replace(draft, key=key, volatile=volatile, rendered=rendered, late=result.queried)


def model_job(c: CompileContext, draft: Draft, *, incremental: bool, execute: bool = False) -> Job:
    """How pass 2 renders and analyses `draft`: with its relations (a time-range model's refs filtered),
    `this`, and `execute` false for a late draft unless asked (see late.py)."""
    c.sql_tools()  # the dialects are checked before anything renders
    rendered = draft.rendered
    assert rendered is not None
    final = None
    if rendered.sql is not None and not incremental:
        final = RenderedText(rendered.sql, rendered.refs, rendered.sources)
    this = c.lookup.by_uid.get(draft.unique_id)
    load_into = None
    # an engine that cannot read files in SQL (read_csv ...) gets them loaded into tables by the runner
    if not reads_files_in_sql(c.target_dialect) and draft.kind != "test" and draft.relation:
        from sqlflow.compile.sql.file_loads import LoadInto

        load_into = LoadInto(c.target_dialect, draft.relation, draft.unique_id)
    return Job(
        path=draft.file.path,
        written=draft.file.text,
        from_file=draft.template is None,
        dialect=model_dialect(draft, c.dialect),
        final=final,
        resolve=resolver_for(c, draft),
        this=this,
        incremental=incremental,
        execute=execute or not draft.late,
        config=draft.base,
        node=lambda: node_doc(draft, draft.relation, this.ref_text if this else None),
        self_uid=draft.unique_id,
        map_lines=True,
        load_into=load_into,
    )


def model_dialect(draft: Draft, project_dialect: str) -> str:
    """The dialect a model is written in: its `dialect` config, else the project's (checked when parsed)."""
    return draft.config.dialect if draft.config and draft.config.dialect else project_dialect


def analyse_draft(c: CompileContext, draft: Draft) -> Draft:
    """`draft` after pass 2: its cached compiled form, or its text(s) rendered with their relations and
    analysed; the SQL is written now when it is the text itself, else after the DAG check (assembly)."""
    env_reads = draft.rendered.env_reads if draft.rendered else ()
    key = digest(draft.key, env_reads, draft.merged, c.relations_key)
    cached = None if draft.volatile else c.cache.get("compiled", draft.cache_name, key)
    if cached is not None:
        return replace(draft, compiled=cached)
    job = model_job(c, draft, incremental=False)
    base_text = render(c, job)
    base = analyse(c, job, base_text, keep_unparsed=draft.late)
    volatile = draft.volatile or base_text.uncacheable
    if base.query is None:
        # rendered without its queries' results the SQL does not parse: settled when it runs
        return replace(draft, compiled_key=key, volatile=volatile, compiled=unparsed(c, draft, base))
    analysed = [base]
    incremental = None
    if draft.kind == "model" and draft.config and draft.config.materialized == "incremental":
        inc_job = replace(job, incremental=True, final=None)
        inc_text = render(c, inc_job)
        volatile = volatile or inc_text.uncacheable
        same = base if inc_text.text == base.text else None
        incremental = analyse(c, inc_job, inc_text, same_as=same)
        analysed.append(incremental)
    queries = [a.query for a in analysed if a.query is not None]
    refs, sources = call_names(a.rendered for a in analysed)
    sql, _ = c.sql_tools()
    compiled = Compiled(
        compiled_sql="",
        incremental_sql=None,
        depends_on=tuple(sorted(frozenset().union(*(a.depends_on for a in analysed)))),
        refs=refs,
        sources=sources,
        external_tables=tuple(sorted(set().union(*(q.external_tables for q in queries)))),
        columns=sql.column_spec(base.query.tree, base.query.resolved),
        hooks=(render_hooks(c, draft, "pre_hook"), render_hooks(c, draft, "post_hook")),
        file_reads=tuple(dict.fromkeys(f for q in queries for f in q.file_reads)),
        file_loads=tuple({f.relation: f for q in queries for f in q.file_loads}.values()),
    )
    draft = replace(
        draft,
        compiled_key=key,
        volatile=volatile,
        query=base.query,
        incremental_query=incremental.query if incremental else None,
        compiled=compiled,
    )
    if draft.config is not None and draft.config.materialized != "ephemeral":
        draft = write_now(c, draft)
    return draft


def unparsed(c: CompileContext, draft: Draft, analysed: Analysed) -> Compiled:
    """The compiled form of a late draft whose text (rendered with `execute` false) does not parse:
    its text as it is, its dependencies from its ref() and source() calls."""
    text = analysed.text
    refs, sources = call_names([analysed.rendered])
    return Compiled(
        compiled_sql=text,
        incremental_sql=text if draft.config and draft.config.materialized == "incremental" else None,
        depends_on=tuple(sorted(analysed.depends_on)),
        refs=refs,
        sources=sources,
        external_tables=(),
        columns=(),
        hooks=(render_hooks(c, draft, "pre_hook"), render_hooks(c, draft, "post_hook")),
    )


def render_hooks(c: CompileContext, draft: Draft, which: str) -> tuple[str, ...]:
    """The model's pre_hook or post_hook statements rendered with its context (`{{ this }}` ...)."""
    this = c.lookup.by_uid.get(draft.unique_id)
    return tuple(
        render(
            c,
            Job(path=draft.file.path, written=hook, dialect=c.dialect, this=this, config=draft.base),
        ).text
        for hook in getattr(draft.config, which)
    )


def write_now(c: CompileContext, draft: Draft) -> Draft:
    """`draft` with its SQL settled now when it is the rendered text itself, the parsed trees let go."""
    _, querying = c.sql_tools()
    assert draft.query is not None and draft.compiled is not None
    compiled_sql = querying.text_only(draft.query, c.target_dialect)
    incremental_sql = None
    if draft.incremental_query is not None:
        incremental_sql = querying.text_only(draft.incremental_query, c.target_dialect)
        if incremental_sql is None:
            return draft
    if compiled_sql is None:
        return draft
    compiled = replace(draft.compiled, compiled_sql=compiled_sql, incremental_sql=incremental_sql)
    if not draft.volatile:
        c.cache.put("compiled", draft.cache_name, draft.compiled_key, compiled)
    return replace(draft, compiled=compiled, query=None, incremental_query=None)
