"""Compiling a project: Jinja, configs and relations, dependencies and transpiling with sqlglot, tests.

`compile_project(project, target_dialect=...)` -> Manifest; `compile_inline(manifest, project, sql, ...)`
for `sqlflow show --inline`. jinja2 and sqlglot live here (and in docs/) only. Imports `project`, `graph`,
`manifest` and `errors`; never a database driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlflow.compile.compiler import compile_project

if TYPE_CHECKING:
    from sqlflow.compile.inline import compile_inline

__all__ = ["compile_inline", "compile_project"]


def __getattr__(name: str) -> Any:
    if name == "compile_inline":  # imports jinja2 and sqlglot: only when asked for
        from sqlflow.compile.inline import compile_inline

        return compile_inline
    raise AttributeError(name)
