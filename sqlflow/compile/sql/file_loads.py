"""Files read in SQL, compiled for an engine that cannot read files (PostgreSQL): each `read_csv(...)` or
`read_csv_auto(...)` call, and each `FROM 'x.csv'`, becomes a table beside the model's relation, which the
runner loads before it builds the model (`materializations/files.py`); the loads become `FileLoad`s.

A table is named `__sqlflow_file_<hash>` from the model, the files and the options: the same on every
compile, and never shared by two models (so parallel builds never replace one another's table). Works on
sqlglot trees like `querying`; imports no jinja2.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from sqlflow.compile.sql.syntax import FILE_FUNCTIONS, SqlProblem
from sqlflow.manifest import FileLoad, FrozenMap, Relation

TABLE_PREFIX = "__sqlflow_file_"
CSV_FUNCTIONS = frozenset({"read_csv", "read_csv_auto"})
# read_csv option as written -> (its name in FileLoad.options, its type); None: accepted and ignored
_OPTIONS: dict[str, tuple[str, type] | None] = {
    "header": ("header", bool),
    "delim": ("delim", str),
    "sep": ("delim", str),
    "delimiter": ("delim", str),
    "quote": ("quote", str),
    "escape": ("escape", str),
    "skip": ("skip", int),
    "nullstr": ("nullstr", str),
    "auto_detect": None,
}
_HONOURED = "header, delim (or sep), quote, escape, skip and nullstr"
_CSV_NAME = re.compile(r"\.(csv|tsv)(\.gz)?$", re.IGNORECASE)
_OTHER_FILE_NAME = re.compile(r"\.(parquet|json|jsonl|ndjson|xlsx)(\.gz|\.zst)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LoadInto:
    """Compiling for an engine that cannot read files: its name (for messages) and the model's relation,
    beside which (same database and schema) the files are loaded."""

    engine: str
    beside: Relation
    owner: str  # the model's unique id


def replace_file_reads(tree: exp.Expr, into: LoadInto) -> list[FileLoad]:
    """Point every CSV file read of `tree` at its table (in place); the loads, in the order written.

    Raises SqlProblem (at the line of the call) for a file the runner cannot load: another format, a path
    that is not a string literal, an option it cannot honour.
    """
    loads: dict[Relation, FileLoad] = {}
    for table in [n for n in tree.walk(bfs=False) if isinstance(n, exp.Table)]:
        found = _csv_read(table, into.engine)
        if found is None:
            continue
        paths, options = found
        load = FileLoad(
            relation=Relation(
                database=into.beside.database,
                schema=into.beside.schema,
                identifier=table_name(into.owner, paths, options),
            ),
            paths=paths,
            options=FrozenMap(options),
        )
        loads.setdefault(load.relation, load)
        table.set("this", exp.to_identifier(load.relation.identifier, quoted=True))
        table.set("db", exp.to_identifier(load.relation.schema, quoted=True))
        table.set("catalog", None)
    return list(loads.values())


def table_name(owner: str, paths: tuple[str, ...], options: dict[str, Any]) -> str:
    """The table a model's file read is loaded into.

    >>> table_name("model.shop.stg_web_events", ("landing/*.csv",), {"header": True})
    '__sqlflow_file_4ccaad057cee'
    """
    key = repr((owner, paths, sorted(options.items())))
    return TABLE_PREFIX + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _csv_read(table: exp.Table, engine: str) -> tuple[tuple[str, ...], dict[str, Any]] | None:
    """The paths and options of a table that reads CSV files; None when it reads no file."""
    this = table.this
    if isinstance(this, exp.Identifier):
        if not this.quoted or table.text("db"):
            return None
        if _CSV_NAME.search(this.name):
            return (this.name,), {}
        if _OTHER_FILE_NAME.search(this.name):
            raise _cannot_read(f"'{this.name}'", this, engine)
        return None
    if not isinstance(this, exp.Func):
        return None
    name = (this.name if isinstance(this, exp.Anonymous) else this.sql_name()).lower()
    if name not in FILE_FUNCTIONS:
        return None
    if name not in CSV_FUNCTIONS:
        raise _cannot_read(f"{name}(...)", this, engine)
    return _arguments(this, name, engine)


def _arguments(func: exp.Func, name: str, engine: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    args = [func.this] if isinstance(func.this, exp.Expr) else []
    args += list(func.expressions)
    paths: tuple[str, ...] | None = None
    options: dict[str, Any] = {}
    for arg in args:
        if not isinstance(arg, exp.EQ | exp.PropertyEQ):
            if paths is None:
                paths = _paths(arg)
            continue
        option = arg.this.name.lower()
        if option in ("path", "files", "filename") and paths is None:
            paths = _paths(arg.expression)
            continue
        if option not in _OPTIONS:
            raise SqlProblem(
                f"{name} option '{option}' is not supported when sqlflow loads the files for {engine}",
                _line(func),
                hint=f"sqlflow honours {_HONOURED}; cast columns in the SELECT instead",
                unsupported=True,
            )
        spec = _OPTIONS[option]
        if spec is None:
            continue
        key, kind = spec
        value = _value(arg.expression, kind)
        if value is None:
            raise SqlProblem(
                f"{name} option '{option}' needs a {kind.__name__} literal, not {arg.expression.sql()}",
                _line(func),
                unsupported=True,
            )
        options[key] = value
    if not paths:
        raise SqlProblem(
            f"{name} needs its files as a string literal (or a list of them) to be loaded for {engine}",
            _line(func),
            hint="write the path or glob in the SQL, e.g. read_csv('landing/*.csv')",
            unsupported=True,
        )
    return paths, options


def _paths(arg: exp.Expr) -> tuple[str, ...] | None:
    if isinstance(arg, exp.Literal) and arg.is_string:
        return (arg.this,)
    if isinstance(arg, exp.Array) and all(
        isinstance(e, exp.Literal) and e.is_string for e in arg.expressions
    ):
        return tuple(e.this for e in arg.expressions)
    return None


def _value(expression: exp.Expr, kind: type) -> Any:
    """A literal option value as `kind` (bool, int or str), None when it is not one."""
    if isinstance(expression, exp.Boolean):
        value: Any = bool(expression.this)
    elif isinstance(expression, exp.Literal):
        value = expression.this if expression.is_string else _number(expression.this)
    else:
        return None
    if kind is bool:
        return bool(value) if not isinstance(value, str) and value in (0, 1) else None
    if kind is int:
        return value if type(value) is int else None
    return value if isinstance(value, str) else None


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _cannot_read(what: str, node: exp.Expr, engine: str) -> SqlProblem:
    return SqlProblem(
        f"{engine} cannot read files in SQL, and sqlflow loads only CSV files for it: {what}",
        _line(node),
        hint="read the file with read_csv, or load it into a source table before the run",
        unsupported=True,
    )


def _line(node: exp.Expr) -> int | None:
    line = node.meta.get("line")
    return line if isinstance(line, int) else None
