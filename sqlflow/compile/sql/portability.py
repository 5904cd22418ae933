"""What the target cannot run, found in a query before it is written: the construct sqlglot cannot write
in the target's dialect (the innermost one, to name it and its line), and the constructs sqlglot writes
for a target whose engine rejects them (DuckDB idioms on PostgreSQL, a short table per target).

Pure functions over sqlglot trees; `querying` turns what they find into a TranspileError at file:line.
Imports sqlglot, never jinja2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

_SHOWN = 80  # characters of a construct shown in a message


@dataclass(frozen=True, slots=True)
class Unportable:
    """A construct of a query the target cannot run: as written (shortened), why, and its line in the text
    that was parsed (None when unknown)."""

    construct: str
    reason: str
    line: int | None


def unsupported_construct(tree: exp.Expr, dialect: str, target: str, message: str) -> Unportable | None:
    """The innermost node of `tree` (written in `dialect`) that sqlglot cannot write in `target`, preferably
    one failing with `message` (the error of writing the whole query); None when no node fails alone."""
    first: Unportable | None = None
    for node in reversed(list(tree.walk(bfs=False))):
        try:
            node.sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
        except SqlglotError as exc:
            found = Unportable(_shown(node, dialect), str(exc).strip(), line_of(node))
            if found.reason == message:
                return found
            first = first or found
    return first


# target -> (the test of a node, why the target cannot run it): what sqlglot writes without complaint
_REJECTED: dict[str, tuple[tuple[Callable[[exp.Expr], bool], str], ...]] = {
    "postgres": (
        (
            lambda n: (
                isinstance(n, exp.Star) and any(n.args.get(k) for k in ("except_", "replace", "rename"))
            ),
            "PostgreSQL has no SELECT * EXCLUDE / REPLACE / RENAME; list the columns",
        ),
        (lambda n: isinstance(n, exp.Lambda), "PostgreSQL has no lambda functions"),
        (lambda n: isinstance(n, exp.Struct), "PostgreSQL has no struct literals"),
        (lambda n: isinstance(n, exp.Columns), "PostgreSQL has no COLUMNS(...) expressions"),
        (lambda n: isinstance(n, exp.ArgMax | exp.ArgMin), "PostgreSQL has no arg_max / arg_min"),
        (
            lambda n: isinstance(n, exp.Join) and n.text("method").upper() == "ASOF",
            "PostgreSQL has no ASOF joins",
        ),
        (
            lambda n: (
                isinstance(n, exp.DataType) and n.this in (exp.DataType.Type.STRUCT, exp.DataType.Type.MAP)
            ),
            "PostgreSQL has no STRUCT or MAP types",
        ),
    ),
}


# the node classes the checks of each target look at: other nodes are skipped without calling them
_CHECKED: dict[str, tuple[type[exp.Expr], ...]] = {
    "postgres": (
        exp.Star,
        exp.Lambda,
        exp.Struct,
        exp.Columns,
        exp.ArgMax,
        exp.ArgMin,
        exp.Join,
        exp.DataType,
    ),
}


def rejected_construct(tree: exp.Expr, dialect: str, target: str) -> Unportable | None:
    """The first construct of `tree` (written in `dialect`) that sqlglot writes in `target` although the
    target's engine rejects it; None when there is none (or no table for `target`)."""
    checks = _REJECTED.get(target, ())
    if not checks:
        return None
    classes = _CHECKED.get(target)
    for node in tree.walk(bfs=False):
        if classes is not None and not isinstance(node, classes):
            continue
        for test, reason in checks:
            if test(node):
                shown = node.parent if isinstance(node, exp.Lambda) and node.parent is not None else node
                return Unportable(_shown(shown, dialect), reason, line_of(node))
    return None


def line_of(node: exp.Expr) -> int | None:
    """The first line of `node` in the text that was parsed: the earliest line among its tokens."""
    lines = [n.meta["line"] for n in node.walk() if isinstance(n.meta.get("line"), int)]
    return min(lines) if lines else None


def _shown(node: exp.Expr, dialect: str) -> str:
    try:
        text = " ".join(node.sql(dialect=dialect).split())
    except SqlglotError:
        text = node.key.upper()
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
