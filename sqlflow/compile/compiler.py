"""Project -> Manifest: the order of the compile stages, each a function from records to new records over
one frozen CompileContext (context.py). Render each model with Jinja in two passes, settle configs and
relations, find dependencies with sqlglot, inline ephemeral models, transpile, and add the tests and
sensors (with the `depends_on` config and the file sensors guarding the files a model reads as extra
dependencies).

    read_drafts (discovered) -> models.render_pass1 (rendered) -> settling.settle (settled) ->
    models.analyse_draft (analysed) -> generic tests, unit tests, sensors -> assembly.assemble (written)

Pass 1 renders every templated file with placeholder relations to collect its config() calls and refs;
the configs then fix every relation; pass 2 re-renders only the files whose text used a relation. Work
is skipped through the content-hash cache (`cache.py`), and jinja2 and sqlglot are only imported when a
file must be rendered or parsed, so an unchanged project compiles in milliseconds. Pure: no database,
no output; the only file written is the cache.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlflow.compile.cache import digest
from sqlflow.compile.context import CompileContext, QueryFunction, new_context
from sqlflow.compile.lookup import Lookup
from sqlflow.compile.nodes.assembly import assemble
from sqlflow.compile.nodes.dbt_nodes import compile_warnings, graph_doc
from sqlflow.compile.nodes.drafts import Draft, Pending, orphan_properties, read_drafts, source_nodes
from sqlflow.compile.nodes.generic_tests import generic_test_nodes
from sqlflow.compile.nodes.late import LateCompile
from sqlflow.compile.nodes.models import analyse_draft, render_pass1
from sqlflow.compile.nodes.sensors import sensor_nodes
from sqlflow.compile.nodes.settling import make_lookup, settle
from sqlflow.errors import SourceLocation
from sqlflow.manifest import Manifest
from sqlflow.project.types import Project

__all__ = ["CompileContext", "LateCompile", "compile_project"]


def compile_project(
    project: Project,
    *,
    target_dialect: str,
    vars: Mapping[str, Any] | None = None,
    invocation_id: str = "",
    run_started_at: datetime | None = None,
    cache_dir: Path | None = None,
    query: QueryFunction | None = None,
    flags: Mapping[str, Any] | None = None,
    late: LateCompile | None = None,
) -> Manifest:
    """Compile every model, seed, source and test of `project` into a Manifest (see the module doc).

    `query(sql) -> (column names, rows)` runs SQL on the target for templates' run_query / statement
    (opened lazily by the caller); without it `execute` is false. `flags` are dbt's (FULL_REFRESH, WHICH).
    A node whose template runs queries is compiled with `execute` false (`late_sql`); `late`, when given,
    can then render it again with its queries, just before it runs.
    """
    c = new_context(
        project,
        target_dialect=target_dialect,
        vars=vars,
        invocation_id=invocation_id,
        run_started_at=run_started_at,
        cache_dir=cache_dir,
        query=query,
        flags=flags,
    )
    # pass 1; dbt's `graph` shows the drafts as rendered so far (each replaced by its rendered draft)
    rendered = read_drafts(project)
    load_warnings: list[tuple[str, SourceLocation | None]] = [
        *project.warnings,
        *orphan_properties(project, rendered),
    ]
    c.tools.show_graph(lambda: graph_doc(rendered, source_nodes(project), {}))
    for index, draft in enumerate(rendered):
        if draft.kind != "seed" and draft.base.get("enabled", True) is not False:
            rendered[index] = render_pass1(c, draft)
    load_warnings += [w for draft in rendered if draft.rendered for w in draft.rendered.warnings]
    settled, disabled = settle(c, rendered)
    sources = source_nodes(project, render=_source_field_renderer(c))
    c = settled_context(c, settled, make_lookup(c, settled, sources, disabled))
    # pass 2; `graph` now shows the settled drafts, as analysed so far
    analysed = list(settled)
    c.tools.show_graph(lambda: graph_doc(analysed, sources, c.lookup.by_uid))
    with _collect_garbage_in_batches():
        for index, draft in enumerate(settled):
            if draft.kind != "seed":
                analysed[index] = analyse_draft(c, draft)
            if index % 2000 == 1999:
                gc.collect(0)  # the young generation: what this batch allocated
    tests = generic_test_nodes(c, analysed)
    if project.unit_tests:
        from sqlflow.compile.nodes.unit_tests import unit_test_nodes

        tests += [Pending(node) for node in unit_test_nodes(c, analysed)]
    manifest, written = assemble(c, analysed, tests, sources, sensor_nodes(c))
    renderer = c.tools.made_renderer
    warnings = compile_warnings(
        project.packages,
        [*load_warnings, *(renderer.warnings if renderer else ())],
        installed=[package.name for package in project.installed_packages],
    )
    if warnings:
        manifest = replace(manifest, metadata={**manifest.metadata, "warnings": warnings})
    c.cache.save()
    if late is not None:
        late.bind(c, written)
    return manifest


def settled_context(c: CompileContext, drafts: list[Draft], lookup: Lookup) -> CompileContext:
    """The context of pass 2: the lookup, the time columns, and the hash of every relation (cache keys)."""
    time_columns = {
        d.unique_id: d.config.time_column for d in drafts if d.config is not None and d.config.time_column
    }
    relations_key = digest(
        sorted((r.unique_id, r.relation, r.ephemeral, r.ref_text) for r in lookup.by_uid.values()),
        sorted(time_columns.items()),
        sorted(
            (d.file.checksum, d.merged) for d in drafts if d.config and d.config.materialized == "ephemeral"
        ),
        c.dialect,
        c.target_dialect,
    )
    return replace(c, lookup=lookup, time_columns=time_columns, relations_key=relations_key)


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


def _source_field_renderer(c: CompileContext) -> Callable[[str, SourceLocation], str]:
    """Renders the Jinja of a source's `database`, `schema` or `identifier` (env_var, var, target ...)."""

    def render(text: str, where: SourceLocation) -> str:
        return c.tools.renderer().render(where.path, text=text).sql.strip()

    return render
