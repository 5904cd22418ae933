"""Jinja: the Renderer (templating.py) and the values of its context: sqlflow's builtins
(context_values.py), dbt's context (dbt_context.py), `adapter` and dbt's macros (dbt_adapter.py),
cross-database macros (crossdb.py), installed packages' macro namespaces (packages.py) and the fast path
for simple templates (quick_jinja.py). A new Jinja
builtin goes in templating.Renderer's globals, its value in context_values.py (dbt_context.py when dbt's).

Importing the package loads no jinja2: `has_jinja` serves the fast path of every caller.
"""

from __future__ import annotations


def has_jinja(text: str) -> bool:
    """Whether `text` needs Jinja at all (the fast path skips it)."""
    return "{{" in text or "{%" in text or "{#" in text
