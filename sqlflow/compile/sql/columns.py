"""Output columns of models: the column specs `sql.column_spec` reads from each query, with every `*`
expanded from the upstream nodes' columns, walked in dependency order.

Pure data and the stdlib only (no sqlglot), so a cache hit expands columns without parsing anything.

>>> specs = {"m.a": ("id", "name"), "m.b": (("*", (("node", "m.a"),), ()), "total")}
>>> columns_in_order(["m.a", "m.b"], specs, {})["m.b"]
('id', 'name', 'total')
>>> resolve_columns((("*", (("?",),), ()),), {}.get)
('*',)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

ColumnSpec = tuple[Any, ...]  # items: a column name, or ("*", sources, excluded names)


def columns_in_order(
    order: Iterable[str], specs: Mapping[str, ColumnSpec], known: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """The columns of each node of `specs`, `*` expanded from `known` and earlier nodes of `order`."""
    out: dict[str, tuple[str, ...]] = dict(known)
    for uid in order:
        spec = specs.get(uid)
        if spec is not None:
            out[uid] = resolve_columns(spec, out.get)
    return out


def resolve_columns(spec: ColumnSpec, columns_of: Callable[[str], tuple[str, ...] | None]) -> tuple[str, ...]:
    """The names of a column spec, each `*` expanded when every source's columns are known, else kept."""
    out: list[str] = []
    for item in spec:
        if isinstance(item, str):
            out.append(item)
            continue
        _, sources, excluded = item
        expanded = _expand(sources, columns_of)
        if expanded is None:
            out.append("*")
        else:
            out.extend(c for c in expanded if c.lower() not in excluded)
    return tuple(out)


def _expand(
    sources: Iterable[tuple[str, Any]], columns_of: Callable[[str], tuple[str, ...] | None]
) -> list[str] | None:
    out: list[str] = []
    for kind, *rest in sources:
        if kind == "node":
            columns = columns_of(rest[0])
        elif kind == "spec":
            columns = resolve_columns(rest[0], columns_of)
        else:
            return None
        if not columns or "*" in columns:
            return None
        out.extend(columns)
    return out
