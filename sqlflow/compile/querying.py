"""From rendered SQL to compiled SQL, for one model, test or inline query: parse, resolve the tables it
reads (dependencies, externals, plain names to rewrite), inline ephemeral models, transpile.

Shared by `compile_project` and `compile_inline`; sqlglot errors become user errors at the file:line of the
model. Imports sqlglot (through `sql`), never jinja2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlglot import exp

from sqlflow.compile import sql
from sqlflow.compile.names import EPHEMERAL_PREFIX, Lookup, ephemeral_cte
from sqlflow.errors import SourceLocation, SqlSyntaxError, TranspileError


@dataclass(slots=True)
class Query:
    """One parsed query and what its tables resolve to."""

    text: str  # as rendered
    tree: exp.Expression
    dialect: str  # the dialect it is written in
    depends_on: set[str] = field(default_factory=set)
    external_tables: set[str] = field(default_factory=set)
    ephemerals: set[str] = field(default_factory=set)  # unique ids of ephemeral models read directly
    file_reads: list[str] = field(default_factory=list)  # files read by table functions, as written
    rewritten: bool = False  # a plain model name was replaced by its relation (in `tree`)
    resolved: dict[int, str] = field(default_factory=dict)  # id(Table node) -> unique id
    edits: list[tuple[int, int, str]] | None = field(default_factory=list)  # the same rewrites on `text`

    def rewritten_text(self) -> str | None:
        """`text` with the plain model names replaced, as written otherwise; None when not possible."""
        if self.edits is None:
            return None
        out = self.text
        for start, end, replacement in sorted(self.edits, reverse=True):
            out = out[:start] + replacement + out[end:]
        return out


def analyse(
    text: str,
    *,
    dialect: str,
    lookup: Lookup,
    self_uid: str | None,
    path: str,
    raw_text: str,
    templated: bool,
) -> Query:
    """Parse `text` and resolve each table it reads against `lookup`; errors name `path`:line."""
    try:
        tree = sql.parse_query(text, dialect)
    except sql.SqlProblem as problem:
        raise _syntax_error(problem, path, text, raw_text, templated) from problem
    query = Query(text, tree, dialect)
    uses, query.file_reads = sql.scan_tables(tree)
    for use in uses:
        found = lookup.table(use.parts)
        if found is None:
            if not use.alias_like:
                query.external_tables.add(".".join(p for p in use.parts if p))
            continue
        _, db, name = use.parts
        if not db and name.lower() != (EPHEMERAL_PREFIX + found.name).lower():
            # a plain model name: read the model's relation (or its CTE) instead
            if found.ephemeral:
                replacement = exp.Table(this=sql.cte_identifier(ephemeral_cte(found.name)))
            else:
                replacement = sql.relation_table(found.relation, include_database=found.include_database)
            _edit(query, use, replacement, dialect)
            sql.replace_table(use, replacement)
            query.rewritten = True
        if found.unique_id == self_uid:
            continue
        query.depends_on.add(found.unique_id)
        query.resolved[id(use.node)] = found.unique_id
        if found.ephemeral:
            query.ephemerals.add(found.unique_id)
    return query


def _edit(query: Query, use: sql.TableUse, replacement: exp.Table, dialect: str) -> None:
    """Record the text edit that makes the name of `use` read `replacement` (aliased as written)."""
    meta = use.node.this.meta if isinstance(use.node.this, exp.Identifier) else {}
    if query.edits is None or "start" not in meta or "end" not in meta:
        query.edits = None
        return
    start, end = meta["start"], meta["end"] + 1
    written = query.text[start:end]
    if written.lower().strip('"') != use.parts[2].lower():
        query.edits = None  # the positions do not point at the name: write the SQL with sqlglot instead
        return
    text = replacement.sql(dialect=dialect)
    if use.node.args.get("alias") is None:
        text += f" AS {written}"
    query.edits.append((start, end, text))


def _syntax_error(
    problem: sql.SqlProblem, path: str, text: str, raw_text: str, templated: bool
) -> SqlSyntaxError:
    line, hint = problem.line, problem.hint
    if line is not None and templated:
        rendered_lines = text.splitlines()
        shown = rendered_lines[line - 1].strip() if line <= len(rendered_lines) else ""
        same = [i for i, raw in enumerate(raw_text.splitlines(), 1) if shown and raw.strip() == shown]
        if len(same) == 1:
            line = same[0]
        else:
            hint = (
                f"line {line} of the rendered SQL: {shown!r}" if shown else f"line {line} of the rendered SQL"
            )
    return SqlSyntaxError(problem.message, location=SourceLocation(path, line), hint=hint)


def text_only(query: Query, target_dialect: str) -> str | None:
    """The compiled SQL of `query` when it is its rendered text (plain names replaced), else None."""
    if query.ephemerals or query.dialect != target_dialect:
        return None
    text = query.rewritten_text() if query.rewritten else query.text
    return None if text is None else sql.strip_statement_end(text, query.dialect)


class Emitter:
    """Writes compiled SQL: ephemeral models inlined as CTEs (dependencies first), in the target dialect."""

    def __init__(
        self,
        *,
        target_dialect: str,
        ephemeral_deps: Callable[[str], Iterable[str]],
        ephemeral_body: Callable[[str], exp.Expression],
        name_of: Callable[[str], str],
    ) -> None:
        self.target_dialect = target_dialect
        self._deps = ephemeral_deps  # uid -> the ephemeral models an ephemeral model reads
        self._body = ephemeral_body  # uid -> its query, before inlining
        self._name = name_of

    def emit(self, query: Query, *, path: str, name: str, keep_tree: bool = False) -> str:
        """The compiled SQL of `query`; `keep_tree` leaves query.tree untouched (an ephemeral's body)."""
        text = text_only(query, self.target_dialect)
        if text is not None:
            return text
        tree = query.tree.copy() if keep_tree and query.ephemerals else query.tree
        ctes = [
            (ephemeral_cte(self._name(uid)), self._body(uid).copy()) for uid in self.closure(query.ephemerals)
        ]
        tree = sql.with_ctes(tree, ctes)
        try:
            return sql.generate(tree, self.target_dialect, copy=keep_tree)
        except sql.SqlProblem as problem:
            raise TranspileError(
                f"cannot write {name} in {self.target_dialect}: {problem.message}",
                location=SourceLocation(path),
                hint=f"write this part in a way {self.target_dialect} supports, or set dialect:",
            ) from problem

    def closure(self, direct: Iterable[str]) -> list[str]:
        """The ephemeral models to inline for `direct`, each after the ones it reads."""
        order: list[str] = []
        seen: set[str] = set()
        stack: list[tuple[str, bool]] = [(uid, False) for uid in sorted(direct, reverse=True)]
        while stack:
            uid, done = stack.pop()
            if done:
                order.append(uid)
                continue
            if uid in seen:
                continue
            seen.add(uid)
            stack.append((uid, True))
            stack.extend((dep, False) for dep in sorted(self._deps(uid), reverse=True) if dep not in seen)
        return order


def parse_compiled_body(compiled_sql: str, target_dialect: str) -> exp.Expression:
    """An ephemeral model's query from its compiled SQL, without the CTEs sqlflow inlined into it."""
    return sql.strip_ctes(sql.parse_query(compiled_sql, target_dialect), EPHEMERAL_PREFIX)
