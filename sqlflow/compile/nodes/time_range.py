"""The `resolve` callback of a time-range model: a ref to a model with a `time_column` prints as that
relation filtered to the batch's interval (tokens the runner replaces). Pure Python: no jinja2, no sqlglot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlflow.compile.context import CompileContext
from sqlflow.compile.nodes.drafts import Draft
from sqlflow.engines import quote_identifier
from sqlflow.errors import SourceLocation
from sqlflow.manifest import TIME_RANGE_STRATEGIES


def resolver_for(
    c: CompileContext, draft: Draft
) -> Callable[[str, tuple[str, ...], SourceLocation], tuple[Any, ...]]:
    """`resolve` for one model: in a time-range model, a ref to a model with a `time_column` prints as
    that relation filtered to the batch's interval (the plain text stays for `.unfiltered()`)."""
    config = draft.config
    if config is None or config.incremental_strategy not in TIME_RANGE_STRATEGIES:
        return c.resolve

    def resolve(kind: str, args: tuple[str, ...], location: SourceLocation) -> tuple[Any, ...]:
        relation, text = c.resolve(kind, args, location)
        column = None
        if kind == "ref":
            column = c.time_columns.get(c.lookup.ref(args, location).unique_id)
        if column is None:
            return relation, text
        quoted = quote_identifier(column)
        filtered = (
            f"(select * from {text} where {quoted} >= '__sqlflow_start__' and {quoted} < '__sqlflow_end__')"
        )
        return relation, filtered, text

    return resolve
