"""Compiling a project: Jinja, configs and relations, dependencies and transpiling with sqlglot, tests.

`compile_project(project, target_dialect=...)` -> Manifest (a `LateCompile` passed as `late=` renders the
nodes whose templates run queries again just before they run); `compile_inline(manifest, project, sql,
...)` for `sqlflow show --inline`. jinja2 and sqlglot live here (and in docs/) only. Imports `project`,
`graph`, `manifest` and `errors`; never a database driver.

Where things go:
- compiler.py       the order of the stages (compile_project), each a function from records to new
                    records; context.py the frozen CompileContext every stage is handed (project,
                    dialects, vars, lookup, cache, flags, query function; the renderer and sqlglot
                    modules made on first use by its CompileTools); cache.py the content-hash cache;
                    lookup.py the names -> nodes resolution of ref(), source() and table names.
- jinja/            templating: the Renderer and its context. A new Jinja builtin goes in
                    jinja/templating.py (Renderer's globals), its value in jinja/context_values.py, or
                    jinja/dbt_context.py / dbt_adapter.py / crossdb.py when it is dbt's.
- sql/              the sqlglot boundary: parse, scan tables, transpile, quote (syntax.py), analyse and
                    write a query (querying.py), portability, file loads, column specs, --inline.
- nodes/            one module per node kind and stage over frozen records (drafts.py): a new node kind
                    goes here (and one call in compiler.py); a new config key goes in manifest.NodeConfig,
                    checked in nodes/configs.py (or where it is settled, nodes/settling.py). Every text
                    rendered and parsed as a query goes through nodes/analyse.py (render_and_analyse).
- lint.py, dbt_report.py  checks of a compiled manifest and of a dbt project (`debug --dbt`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlflow.compile.compiler import LateCompile, compile_project
from sqlflow.compile.context import CompileContext

if TYPE_CHECKING:
    from sqlflow.compile.sql.inline import compile_inline

__all__ = ["CompileContext", "LateCompile", "compile_inline", "compile_project"]


def __getattr__(name: str) -> Any:
    if name == "compile_inline":  # imports jinja2 and sqlglot: only when asked for
        from sqlflow.compile.sql.inline import compile_inline

        return compile_inline
    raise AttributeError(name)
