"""Late nodes, whose templates run queries: compiled with `execute` false (their text kept as it is when
it does not parse), then rendered again with `execute` true just before they run (`LateCompile`).
Pure Python at import: no jinja2, no sqlglot (the compile loads them when it renders or parses).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlflow.compile.nodes.assembly import emitter_for
from sqlflow.compile.nodes.drafts import Calls, Compiled, Draft
from sqlflow.manifest import ModelNode

if TYPE_CHECKING:
    from sqlflow.compile.compiler import _Compile


class LateCompile:
    """Renders late nodes (whose templates run queries) again just before they run, as dbt compiles each
    node right before running it: pass one to `compile_project`, then hand it to the runner. Thread-safe
    (one render at a time)."""

    def __init__(self) -> None:
        self._compile: _Compile | None = None
        self._lock = threading.Lock()

    def bind(self, compile_: _Compile) -> None:
        self._compile = compile_

    def __call__(self, node: ModelNode) -> ModelNode:
        if self._compile is None or not node.late_sql:
            return node
        with self._lock:
            return recompile(self._compile, node)


def recompile(c: _Compile, node: ModelNode) -> ModelNode:
    """A late node (its template runs queries) rendered again with `execute` true, on the target as it
    is now (its parents built): the SQL dbt would run, as dbt compiles each node just before it runs."""
    draft = next(d for d in c.drafts if d.unique_id == node.unique_id)
    analyse = c.analyser(draft)
    text, _, _ = c.render_final(draft, incremental=False, execute=True)
    emitter = emitter_for(c, {d.unique_id: d for d in c.drafts})
    what = f"{draft.kind} '{draft.name}'"
    compiled_sql = emitter.emit(analyse(text), path=draft.file.path, name=what)
    incremental_sql = None
    if node.incremental_sql is not None:
        inc_text, _, _ = c.render_final(draft, incremental=True, execute=True)
        incremental_sql = emitter.emit(analyse(inc_text), path=draft.file.path, name=what)
    return replace(node, compiled_sql=compiled_sql, incremental_sql=incremental_sql)


def unparsed(c: _Compile, draft: Draft, text: str, refs: Calls, sources: Calls) -> None:
    """The compiled form of a late draft whose text (rendered with `execute` false) does not parse:
    its text as it is, its dependencies from its ref() and source() calls."""
    depends = {c.lookup.ref(args, loc).unique_id for args, loc in refs}
    depends |= {c.lookup.source(args, loc).unique_id for args, loc in sources}
    depends.discard(draft.unique_id)
    draft.compiled = Compiled(
        compiled_sql=text,
        incremental_sql=text if draft.config and draft.config.materialized == "incremental" else None,
        depends_on=tuple(sorted(depends)),
        refs=tuple(sorted({args[-1] for args, _ in refs})),
        sources=tuple(sorted({(args[0], args[1]) for args, _ in sources})),
        external_tables=(),
        columns=(),
        hooks=(c.render_hooks(draft, "pre_hook"), c.render_hooks(draft, "post_hook")),
    )
