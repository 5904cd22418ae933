"""Late nodes, whose templates run queries: compiled with `execute` false (their text kept as it is when
it does not parse, see models.unparsed), then rendered again with `execute` true just before they run
(`LateCompile`). Pure Python at import: no jinja2, no sqlglot (the compile loads them when it renders or
parses).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlflow.compile.context import CompileContext
from sqlflow.compile.nodes.analyse import analyse, render
from sqlflow.compile.nodes.assembly import emitter_for
from sqlflow.compile.nodes.drafts import Draft
from sqlflow.compile.nodes.models import model_job
from sqlflow.manifest import ModelNode
from sqlflow.project.run_hooks import RunHook


class LateCompile:
    """Renders late nodes (whose templates run queries) again just before they run, as dbt compiles each
    node right before running it: pass one to `compile_project`, then hand it to the runner. Thread-safe
    (one render at a time)."""

    def __init__(self) -> None:
        self._bound: tuple[CompileContext, tuple[Draft, ...]] | None = None
        self._lock = threading.Lock()

    def bind(self, context: CompileContext, drafts: Sequence[Draft]) -> None:
        """Called by compile_project with its last context and the drafts as written."""
        self._bound = (context, tuple(drafts))

    def render_hook(self, hook: RunHook, extra: Mapping[str, Any]) -> str:
        """An on-run-start / on-run-end statement rendered (`extra`: dbt's `results`, `schemas` ...)."""
        if self._bound is None:
            raise RuntimeError("render_hook before the compile bound this LateCompile")
        context = self._bound[0]
        with self._lock:
            done = context.tools.renderer().render(hook.path, text=hook.sql, extra=extra)
        return done.sql.strip()

    def __call__(self, node: ModelNode) -> ModelNode:
        if self._bound is None or not node.late_sql:
            return node
        with self._lock:
            return recompile(*self._bound, node)


def recompile(c: CompileContext, drafts: Sequence[Draft], node: ModelNode) -> ModelNode:
    """A late node (its template runs queries) rendered again with `execute` true, on the target as it
    is now (its parents built): the SQL dbt would run, as dbt compiles each node just before it runs."""
    draft = next(d for d in drafts if d.unique_id == node.unique_id)
    job = model_job(c, draft, incremental=False, execute=True)
    text = render(c, job)
    emitter = emitter_for(c, {d.unique_id: d for d in drafts})
    what = f"{draft.kind} '{draft.name}'"
    query = analyse(c, job, text).query
    assert query is not None
    compiled_sql = emitter.emit(query, path=draft.file.path, name=what)
    incremental_sql = None
    if node.incremental_sql is not None:
        inc_job = replace(job, incremental=True, final=None)
        inc_query = analyse(c, inc_job, render(c, inc_job)).query
        assert inc_query is not None
        incremental_sql = emitter.emit(inc_query, path=draft.file.path, name=what)
    return replace(node, compiled_sql=compiled_sql, incremental_sql=incremental_sql)
