"""From rendered SQL to compiled SQL, for one model, test or inline query: parse, resolve the tables it
reads (dependencies, externals, plain names to rewrite), alias filtered refs, point file reads at loaded
tables (`file_loads`), inline ephemeral models, transpile (what the target cannot run: `portability`).

Shared by `compile_project` and `compile_inline`; sqlglot errors become user errors at the file:line of the
model. Imports sqlglot (through `sql`), never jinja2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlglot import exp

from sqlflow.compile.lookup import EPHEMERAL_PREFIX, Lookup, ephemeral_cte
from sqlflow.compile.sql import portability
from sqlflow.compile.sql import syntax as sql
from sqlflow.compile.sql.file_loads import LoadInto, replace_file_reads
from sqlflow.errors import CycleError, SourceLocation, SqlSyntaxError, TranspileError
from sqlflow.manifest import FileLoad


@dataclass(slots=True)
class Query:
    """One parsed query and what its tables resolve to."""

    text: str  # as rendered
    tree: exp.Expr
    dialect: str  # the dialect it is written in
    depends_on: set[str] = field(default_factory=set)
    external_tables: set[str] = field(default_factory=set)
    ephemerals: set[str] = field(default_factory=set)  # unique ids of ephemeral models read directly
    file_reads: list[str] = field(default_factory=list)  # files read by table functions, as written
    file_loads: list[FileLoad] = field(default_factory=list)  # files sqlflow loads, for an engine that can't
    raw_text: str = ""  # the file's text, before rendering (to map lines back to it)
    templated: bool = False
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
    load_into: LoadInto | None = None,
) -> Query:
    """Parse `text` and resolve each table it reads against `lookup`; errors name `path`:line.

    The subqueries of filtered refs get their table's name as alias (PostgreSQL needs one). With
    `load_into` (an engine that cannot read files), CSV files read in SQL become tables to load.
    """
    try:
        tree = sql.parse_query(text, dialect)
    except sql.SqlProblem as problem:
        raise _syntax_error(problem, path, text, raw_text, templated) from problem
    query = Query(text, tree, dialect, raw_text=raw_text, templated=templated)
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
            if not db and not found.incremental:  # its own name, plain: a dependency on itself
                step = f"{found.name} ({path})"
                raise CycleError(
                    f"cycle: {step} -> {step}",
                    location=SourceLocation(path),
                    hint="a model cannot read itself; an incremental model reads its own table as {{ this }}",
                )
            continue
        query.depends_on.add(found.unique_id)
        query.resolved[id(use.node)] = found.unique_id
        if found.ephemeral:
            query.ephemerals.add(found.unique_id)
    if sql.INTERVAL_START in text:
        _alias_filtered_refs(query)
    if load_into is not None:
        try:
            query.file_loads = replace_file_reads(tree, load_into)
        except sql.SqlProblem as problem:
            location, note = _file_line(problem.line, text, raw_text, templated)
            raise TranspileError(
                problem.message if note is None else f"{problem.message} ({note})",
                location=SourceLocation(path, location),
                hint=problem.hint,
            ) from problem
        if query.file_loads:
            query.rewritten, query.edits = True, None
    return query


def _alias_filtered_refs(query: Query) -> None:
    """Alias each filtered ref's subquery as its table (`x.col` keeps working, PostgreSQL wants an alias),
    in the tree and, when the positions allow, as an edit of the text."""
    for sub, table, end in sql.unaliased_filtered_refs(query.tree):
        alias = exp.Identifier(this=table.name, quoted=table.this.quoted)
        position = end.meta.get("end")
        if (
            query.edits is not None
            and isinstance(position, int)
            and query.text[position + 1 : position + 2] == ")"
        ):
            query.edits.append((position + 2, position + 2, f" AS {alias.sql(dialect=query.dialect)}"))
        else:
            query.edits = None
        sub.set("alias", exp.TableAlias(this=alias))
        query.rewritten = True


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
    line, note = _file_line(problem.line, text, raw_text, templated)
    return SqlSyntaxError(problem.message, location=SourceLocation(path, line), hint=note or problem.hint)


def _file_line(line: int | None, text: str, raw_text: str, templated: bool) -> tuple[int | None, str | None]:
    """Line `line` of the rendered `text` as a line of the file, with None; or `line` itself with a note
    saying where it is in the rendered SQL, when no single line of the file reads the same."""
    if line is None or not templated:
        return line, None
    rendered_lines = text.splitlines()
    shown = rendered_lines[line - 1].strip() if line <= len(rendered_lines) else ""
    same = [i for i, raw in enumerate(raw_text.splitlines(), 1) if shown and raw.strip() == shown]
    if len(same) == 1:
        return same[0], None
    return (
        line,
        f"line {line} of the rendered SQL: {shown!r}" if shown else f"line {line} of the rendered SQL",
    )


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
        ephemeral_body: Callable[[str], exp.Expr],
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
        if query.dialect != self.target_dialect:
            rejected = portability.rejected_construct(query.tree, query.dialect, self.target_dialect)
            if rejected is not None:
                raise self._cannot_write(query, rejected, path, name)
        tree = query.tree.copy() if keep_tree and query.ephemerals else query.tree
        ctes = [
            (ephemeral_cte(self._name(uid)), self._body(uid).copy()) for uid in self.closure(query.ephemerals)
        ]
        tree = sql.with_ctes(tree, ctes)
        try:
            return sql.generate(tree, self.target_dialect, copy=keep_tree)
        except sql.SqlProblem as problem:
            # the tree may be half transformed: look for the construct in the query as written
            found = portability.unsupported_construct(
                sql.parse_query(query.text, query.dialect),
                query.dialect,
                self.target_dialect,
                problem.message,
            )
            raise self._cannot_write(
                query, found or portability.Unportable("", problem.message, None), path, name
            ) from problem

    def _cannot_write(
        self, query: Query, found: portability.Unportable, path: str, name: str
    ) -> TranspileError:
        target = self.target_dialect
        line, note = _file_line(found.line, query.text, query.raw_text, query.templated)
        message = f"cannot write {name} in {target}: {found.reason.rstrip('.')}"
        if found.construct:
            message += f", in `{found.construct}`"
        if note is not None:
            message += f" ({note})"
        hint = f"write it in a form {target} supports"
        kind = name.split(" ", 1)[0]
        if kind in ("model", "snapshot", "test"):
            hint += f", or write this {kind} in {target} SQL and set dialect: {target} in its config"
        return TranspileError(message, location=SourceLocation(path, line), hint=hint)

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


def parse_compiled_body(compiled_sql: str, target_dialect: str) -> exp.Expr:
    """An ephemeral model's query from its compiled SQL, without the CTEs sqlflow inlined into it."""
    return sql.strip_ctes(sql.parse_query(compiled_sql, target_dialect), EPHEMERAL_PREFIX)
