"""Files a model reads in SQL, loaded for an engine that cannot read them (PostgreSQL): before the model is
built, each of its `FileLoad`s (see compile/file_loads.py) is read with pyarrow.csv (every file its globs
match, in sorted order, as one table) and replaces the table the compiled SQL reads; the views built on that
table are kept. On an engine that reads files itself (DuckDB) nothing happens.

Imports no driver; pyarrow only when there are files to load.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from sqlflow.adapters import TMP_SUFFIX
from sqlflow.adapters.sql import create_schema, drop_relation, rename_relation, renamed
from sqlflow.errors import NodeFailedError, SourceLocation
from sqlflow.manifest import FileLoad, ModelNode
from sqlflow.materializations.context import BuildContext, keeping_dependents, transaction

_ESCAPES = {"\\t": "\t", "\\n": "\n", "\\r": "\r"}  # as DuckDB reads delim = '\t'


def load_files(node: ModelNode, ctx: BuildContext) -> int:
    """Load the files `node` reads into their tables when the engine cannot read them; the rows loaded."""
    adapter = ctx.adapter
    if not node.file_loads or adapter.reads_csv_in_sql:
        return 0
    rows = 0
    for load in node.file_loads:
        data = read_files(load, ctx.project_root, node)
        relation, dialect = load.relation, adapter.dialect
        aside = renamed(relation, relation.identifier + TMP_SUFFIX)
        existing = ctx.relations.get(relation)
        if existing is None:
            adapter.execute(create_schema(relation.schema, dialect))
        with transaction(ctx):
            rows += adapter.load_arrow(aside, data)
            swap = [rename_relation(aside, "table", relation.identifier, dialect)]
            if existing is not None:
                swap.insert(0, drop_relation(relation, existing, dialect))
            for statement in keeping_dependents(ctx, relation, swap):
                adapter.execute(statement)
        ctx.relations.set(relation, "table")
    return rows


def matching_files(load: FileLoad, project_root: Path) -> list[Path]:
    """The files of `load`: each glob's matches (relative to `project_root` unless absolute), sorted."""
    found: list[Path] = []
    for pattern in load.paths:
        full = Path(pattern) if Path(pattern).is_absolute() else project_root / pattern
        matches = sorted(Path(p) for p in glob.glob(str(full), recursive=True) if Path(p).is_file())
        found.extend(m for m in matches if m not in found)
    return found


def read_files(load: FileLoad, project_root: Path, node: ModelNode) -> Any:
    """The rows of every file of `load`, as one pyarrow.Table, read with its read_csv options."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    files = matching_files(load, project_root)
    what = ", ".join(f"'{p}'" for p in load.paths)
    if not files:
        raise NodeFailedError(
            f"no file matches {what}, read by model {node.name}",
            location=SourceLocation(node.path),
            hint=f"relative paths start at the project folder, {project_root}",
        )
    options = load.options
    header = bool(options.get("header", True))
    delim = _unescape(options.get("delim")) or ("\t" if _is_tsv(files[0]) else ",")
    parse = pacsv.ParseOptions(
        delimiter=delim,
        quote_char=_unescape(options.get("quote")) or '"',
        escape_char=_unescape(options.get("escape")) or False,
    )
    convert = pacsv.ConvertOptions(  # as DuckDB: empty fields are NULL, unless nullstr says otherwise
        null_values=[options.get("nullstr", "")],
        strings_can_be_null=True,
        quoted_strings_can_be_null="nullstr" not in options,
    )
    tables = []
    for path in files:
        read = pacsv.ReadOptions(skip_rows=int(options.get("skip", 0)), autogenerate_column_names=not header)
        try:
            table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        except (pa.ArrowInvalid, OSError, ValueError) as exc:
            raise NodeFailedError(
                f"cannot read {path} ({what}, read by model {node.name}): {_first_line(exc)}",
                location=SourceLocation(node.path),
            ) from exc
        if not header:  # named as DuckDB names them
            table = table.rename_columns([f"column{i}" for i in range(table.num_columns)])
        tables.append(table)
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise NodeFailedError(
            f"the files of {what}, read by model {node.name}, do not have the same columns: "
            + _first_line(exc),
            location=SourceLocation(node.path),
            hint="give every file the same header and column types",
        ) from exc


def _unescape(value: Any) -> Any:
    return _ESCAPES.get(value, value) if isinstance(value, str) else value


def _is_tsv(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".tsv") or name.endswith(".tsv.gz")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
