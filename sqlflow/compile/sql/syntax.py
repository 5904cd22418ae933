"""The sqlglot boundary: parse a model's SQL, find its table references, rewrite and inline, transpile, and
read its output columns.

Functions here take and return sqlglot trees or plain data; they know nothing of models or projects (the
compiler passes in what a name resolves to). sqlglot errors become `SqlProblem`, which the compiler turns
into a user error at the model's file:line. The only module of sqlflow.compile that imports sqlglot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError, UnsupportedError

from sqlflow.compile.sql.columns import ColumnSpec
from sqlflow.manifest import Relation

_TOKEN_REPR = re.compile(
    r"<Token token_type: [\w.]+, text: (.*?), line: \d+, col: \d+, start: \d+, end: \d+, comments: \[.*?\]>"
)
_CLASS_REPR = re.compile(r"<class '(?:[\w]+\.)*(\w+)'>")
_MISSING_KEYWORD = re.compile(r"^Required keyword: '\w+' missing for (\w+)$")
_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_$]*$")


class SqlProblem(Exception):
    """sqlglot rejected the SQL: `line` is in the text that was parsed (1-based), None when unknown."""

    def __init__(
        self, message: str, line: int | None = None, *, hint: str | None = None, unsupported: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.hint = hint
        self.unsupported = unsupported


def dialect_names() -> list[str]:
    return sorted(d for d in Dialect.classes if d)


def check_dialect(name: str) -> str | None:
    """None when sqlglot knows the dialect `name`, else the names it knows."""
    try:
        Dialect.get_or_raise(name)
    except ValueError:
        return ", ".join(dialect_names())
    return None


def parse_query(sql: str, dialect: str) -> exp.Expr:
    """The one query of `sql`: a SELECT, WITH ... SELECT, set operation or VALUES."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        message = _describe(error) if error else str(exc)
        raise SqlProblem(f"syntax error: {message}", error.get("line")) from exc
    except TokenError as exc:
        raise SqlProblem(f"syntax error: {exc}") from exc
    if not statements:
        raise SqlProblem("no SQL statement", hint="a model is one SELECT")
    if len(statements) > 1:
        raise SqlProblem(
            f"expected one query, found {len(statements)} statements",
            _statement_line(sql, dialect, 1),
            hint="a model is one SELECT; run other statements in pre_hook or post_hook",
        )
    tree = statements[0]
    if not isinstance(tree, exp.Query | exp.Values):
        raise SqlProblem(
            f"expected a query (SELECT, WITH or VALUES), not {tree.key.upper()}",
            _statement_line(sql, dialect, 0),
            hint="a model selects its rows; sqlflow creates the table or view",
        )
    return tree


def _describe(error: Mapping[str, Any]) -> str:
    text = _CLASS_REPR.sub(r"\1", _TOKEN_REPR.sub(r"'\1'", str(error.get("description", ""))))
    missing = _MISSING_KEYWORD.match(text)
    if missing:
        text = f"incomplete {missing.group(1).upper()}"
    highlight = str(error.get("highlight") or "").strip()
    if highlight and f"'{highlight}'" not in text:
        text += f" near '{highlight}'"
    return text


def _statement_line(sql: str, dialect: str, index: int) -> int | None:
    """The line where statement `index` (0-based) of `sql` starts."""
    seen = 0
    after_semicolon = True
    for token in Dialect.get_or_raise(dialect).tokenize(sql):
        if token.token_type == sqlglot.TokenType.SEMICOLON:
            after_semicolon = True
            continue
        if after_semicolon:
            if seen == index:
                return token.line
            seen += 1
            after_semicolon = False
    return None


def strip_statement_end(sql: str, dialect: str) -> str:
    """`sql` without surrounding whitespace and a trailing `;` (and any comment after it)."""
    text = sql.strip()
    if ";" not in text:
        return text
    tokens = Dialect.get_or_raise(dialect).tokenize(text)
    end = len(tokens)
    while end and tokens[end - 1].token_type == sqlglot.TokenType.SEMICOLON:
        end -= 1
    if end == len(tokens):
        return text
    return text[: tokens[end].start].rstrip() if end else ""


@dataclass(frozen=True, slots=True)
class TableUse:
    """A table named in a query: `parts` are (catalog, db, name) as written, empty strings when absent."""

    node: exp.Table
    parts: tuple[str, str, str]
    alias_like: bool  # its first part names a table alias of the query (e.g. DuckDB `FROM t, t.items`)


def table_uses(tree: exp.Expr) -> list[TableUse]:
    """Every table the query reads, without CTE names in scope, table functions and alias references."""
    return scan_tables(tree)[0]


def scan_tables(tree: exp.Expr) -> tuple[list[TableUse], list[str]]:
    """The tables the query reads (see `table_uses`) and the files it reads, in one walk.

    A file is read by a table function (`read_csv('landing/*.csv')`, read_parquet, read_json ...: every
    string literal of its first argument or of its `path`/`files` argument) or by a quoted name that looks
    like a file (`FROM 'landing/orders.csv'`).
    """
    tables: list[exp.Table] = []
    aliases: set[str] = set()
    files: list[str] = []
    for node in tree.walk():
        if isinstance(node, exp.Table):
            if isinstance(node.this, exp.Identifier):
                tables.append(node)
            elif isinstance(node.this, exp.Func):
                files.extend(_function_files(node.this))
        elif isinstance(node, exp.TableAlias) and not isinstance(node.parent, exp.CTE):
            aliases.add(node.name.lower())
    uses = []
    for table in tables:
        name, db, catalog = table.name, table.text("db"), table.text("catalog")
        if not db and _is_cte(table, name.lower()):
            continue
        if not db and table.this.quoted and _FILE_NAME.search(name):
            files.append(name)
        alias_like = (db or name).lower() in aliases and not catalog
        uses.append(TableUse(table, (catalog, db, name), alias_like))
    return uses, files


FILE_FUNCTIONS = frozenset(
    {"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
     "read_ndjson", "read_ndjson_auto", "read_json_objects", "read_text", "read_blob", "read_xlsx"}
)  # fmt: skip
_FILE_NAME = re.compile(r"(/|\*|\.(csv|tsv|txt|parquet|json|jsonl|ndjson|xlsx)(\.gz|\.zst)?$)", re.IGNORECASE)
_PATH_ARGUMENTS = ("path", "files", "filename")


def _function_files(func: exp.Func) -> list[str]:
    """The file paths a table function reads: string literals of its first or `path=` argument."""
    name = func.name if isinstance(func, exp.Anonymous) else func.sql_name()
    if name.lower() not in FILE_FUNCTIONS:
        return []
    args = [func.this] if isinstance(func.this, exp.Expr) else []
    args += list(func.expressions)
    first: exp.Expr | None = None
    for arg in args:
        if isinstance(arg, exp.EQ | exp.PropertyEQ) and arg.this.name.lower() in _PATH_ARGUMENTS:
            first = arg.expression
            break
        if first is None and not isinstance(arg, exp.EQ | exp.PropertyEQ):
            first = arg
    if isinstance(first, exp.Literal) and first.is_string:
        return [first.this]
    if isinstance(first, exp.Array):
        return [e.this for e in first.expressions if isinstance(e, exp.Literal) and e.is_string]
    return []


def _is_cte(table: exp.Table, name: str) -> bool:
    node: exp.Expr | None = table.parent
    while node is not None:
        with_ = node.args.get("with_")
        if with_ is not None and any(cte.alias_or_name.lower() == name for cte in with_.expressions):
            return True
        node = node.parent
    return False


def relation_table(relation: Relation, *, include_database: bool = False) -> exp.Table:
    return exp.table_(
        relation.identifier,
        db=relation.schema,
        catalog=relation.database if include_database else None,
        quoted=True,
    )


def replace_table(use: TableUse, replacement: exp.Table) -> None:
    """Point `use` at `replacement`'s name, keeping its alias (or aliasing it as the name written)."""
    node = use.node
    for key in ("this", "db", "catalog"):
        part = replacement.args.get(key)
        node.set(key, part.copy() if part is not None else None)
    if node.args.get("alias") is None:
        node.set("alias", exp.TableAlias(this=exp.to_identifier(use.parts[2])))


INTERVAL_START, INTERVAL_END = "__sqlflow_start__", "__sqlflow_end__"


def unaliased_filtered_refs(tree: exp.Expr) -> list[tuple[exp.Subquery, exp.Table, exp.Literal]]:
    """The subqueries a ref prints as in a time-range model (`(select * from t where c >= '__sqlflow_start__'
    and c < '__sqlflow_end__')`) read in a FROM or JOIN without an alias: each with its table and its end
    literal (the last token before the closing parenthesis)."""
    found = []
    for sub in tree.find_all(exp.Subquery):
        body = sub.this
        if sub.args.get("alias") is not None or not isinstance(sub.parent, exp.From | exp.Join):
            continue
        if not isinstance(body, exp.Select) or not isinstance(body.args.get("where"), exp.Where):
            continue
        from_ = body.args.get("from_")
        table = from_.this if from_ is not None else None
        literals = {lit.this: lit for lit in body.args["where"].find_all(exp.Literal) if lit.is_string}
        if isinstance(table, exp.Table) and INTERVAL_START in literals and INTERVAL_END in literals:
            found.append((sub, table, literals[INTERVAL_END]))
    return found


def cte_identifier(text: str) -> exp.Identifier:
    """An identifier from its SQL text: `"x y"` (quoted) or `x`."""
    if text.startswith('"') and text.endswith('"'):
        return exp.Identifier(this=text[1:-1].replace('""', '"'), quoted=True)
    return exp.Identifier(this=text, quoted=False)


def with_ctes(tree: exp.Expr, ctes: Sequence[tuple[str, exp.Expr]]) -> exp.Expr:
    """`tree` with `ctes` (name as SQL, query) placed first in its WITH clause (added when it has none)."""
    if not ctes:
        return tree
    if not isinstance(tree, exp.Select | exp.SetOperation):
        tree = exp.select("*").from_(
            exp.Subquery(this=tree, alias=exp.TableAlias(this=exp.to_identifier("_q")))
        )
    new = [exp.CTE(this=body, alias=exp.TableAlias(this=cte_identifier(name))) for name, body in ctes]
    existing = tree.args.get("with_")
    if existing is not None:
        existing.set("expressions", [*new, *existing.expressions])
    else:
        tree.set("with_", exp.With(expressions=new))
    return tree


def strip_ctes(tree: exp.Expr, prefix: str) -> exp.Expr:
    """`tree` without the CTEs whose names start with `prefix` (undoes `with_ctes` on a compiled query)."""
    existing = tree.args.get("with_")
    if existing is not None:
        kept = [cte for cte in existing.expressions if not cte.alias_or_name.startswith(prefix)]
        if kept:
            existing.set("expressions", kept)
        else:
            tree.set("with_", None)
    return tree


def generate(tree: exp.Expr, dialect: str, *, copy: bool = True) -> str:
    """The SQL of `tree` in `dialect`; a construct the dialect cannot express raises SqlProblem.

    `copy=False` lets sqlglot's dialect transforms change `tree` (faster; for a tree used once).
    """
    try:
        return tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE, copy=copy)
    except UnsupportedError as exc:
        raise SqlProblem(str(exc).strip(), unsupported=True) from exc
    except SqlglotError as exc:
        raise SqlProblem(str(exc).strip(), unsupported=True) from exc


# -- identifiers for SQL written by sqlflow (tests) ----------------------------------------------------


@lru_cache(maxsize=4096)
def quote_name(name: str, dialect: str) -> str:
    """A column name as SQL in `dialect`: quoted when it has unusual characters or is a keyword."""
    keywords = Dialect.get_or_raise(dialect).tokenizer_class.KEYWORDS
    quoted = not _SAFE_NAME.match(name.lower()) or name.upper() in keywords
    return exp.Identifier(this=name, quoted=quoted).sql(dialect=dialect)


@lru_cache(maxsize=4096)
def quote_relation(relation: Relation, dialect: str, include_database: bool = False) -> str:
    return relation_table(relation, include_database=include_database).sql(dialect=dialect)


def interval_ago(seconds: float, dialect: str) -> str:
    """SQL for the time `seconds` before now, in the largest unit that divides it.

    >>> interval_ago(86400, "duckdb"), interval_ago(90, "postgres")
    ("CURRENT_TIMESTAMP - INTERVAL '1' DAY", "CURRENT_TIMESTAMP - INTERVAL '90 SECOND'")
    """
    count, unit = seconds, "SECOND"
    for name, size in (("DAY", 86400), ("HOUR", 3600), ("MINUTE", 60)):
        if seconds >= size and seconds % size == 0:
            count, unit = seconds // size, name
            break
    amount = str(int(count)) if float(count).is_integer() else str(count)
    interval = exp.Interval(this=exp.Literal.string(amount), unit=exp.Var(this=unit))
    return exp.Sub(this=exp.CurrentTimestamp(), expression=interval).sql(dialect=dialect)


def quote_value(value: Any, dialect: str) -> str:
    """A Python value as a SQL literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return exp.convert(value).sql(dialect=dialect)


# -- output columns ----------------------------------------------------------------------------------


def column_spec(tree: exp.Expr, resolved: Mapping[int, str]) -> ColumnSpec:
    """The output columns of a query as plain data, with each `*` kept as ("*", sources, excluded).

    A source is ("node", unique_id) for a table in `resolved` (keyed by `id()` of the Table node),
    ("spec", nested spec) for a CTE or subquery, ("?",) when unknown. `columns.resolve_columns` expands them
    later, once the upstream nodes' columns are known.
    """
    return _query_spec(tree, resolved, {}, 0)


def _query_spec(
    query: exp.Expr, resolved: Mapping[int, str], ctes: dict[str, exp.Expr], depth: int
) -> ColumnSpec:
    if depth > 20:
        return (("*", (("?",),), ()),)
    with_ = query.args.get("with_")
    if with_ is not None:
        ctes = {**ctes, **{cte.alias_or_name.lower(): cte.this for cte in with_.expressions}}
    while isinstance(query, exp.SetOperation | exp.Subquery):
        query = query.this
        inner = query.args.get("with_")
        if inner is not None:
            ctes = {**ctes, **{cte.alias_or_name.lower(): cte.this for cte in inner.expressions}}
    if not isinstance(query, exp.Select):
        return (("*", (("?",),), ()),)
    sources: list[tuple[Any, ...]] = []
    by_alias: dict[str, tuple[Any, ...]] = {}
    from_ = query.args.get("from_")
    for item in [from_.this if from_ else None, *(j.this for j in query.args.get("joins") or ())]:
        if item is None:
            continue
        source = _source_spec(item, resolved, ctes, depth)
        sources.append(source)
        by_alias[(item.alias_or_name or "").lower()] = source
    out: list[Any] = []
    for projection in query.expressions:
        if isinstance(projection, exp.Star):
            out.append(("*", tuple(sources), _excluded(projection)))
        elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
            source = by_alias.get(projection.table.lower(), ("?",))
            out.append(("*", (source,), _excluded(projection.this)))
        elif projection.alias_or_name and projection.alias_or_name != "*":
            out.append(projection.alias_or_name)
    return tuple(out)


def _source_spec(
    item: exp.Expr, resolved: Mapping[int, str], ctes: dict[str, exp.Expr], depth: int
) -> tuple[Any, ...]:  # ("node", unique id), ("spec", a column spec) or ("?",)
    if isinstance(item, exp.Table):
        if id(item) in resolved:
            return ("node", resolved[id(item)])
        if not item.text("db") and item.name.lower() in ctes:
            cte_ctes = {k: v for k, v in ctes.items() if k != item.name.lower()}
            return ("spec", _query_spec(ctes[item.name.lower()], resolved, cte_ctes, depth + 1))
        return ("?",)
    if isinstance(item, exp.Subquery):
        return ("spec", _query_spec(item.this, resolved, ctes, depth + 1))
    return ("?",)


def _excluded(star: exp.Star) -> tuple[str, ...]:
    return tuple(e.name.lower() for e in star.args.get("except_") or ())
