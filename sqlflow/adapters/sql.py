"""SQL statements shared by every engine, as plain functions of names and a dialect.

Identifiers are quoted by sqlglot for the given dialect, so the same function serves DuckDB and PostgreSQL.
A model's compiled SQL is embedded as it is (it is already in the target dialect; parsing it again would
cost time on the hot path and could change it). No driver is imported here.

>>> from sqlflow.manifest import Relation
>>> rel = Relation(database=None, schema="main", identifier="orders")
>>> create_table_as(rel, "select 1 as id", "duckdb", replace=True)
'CREATE OR REPLACE TABLE "main"."orders" AS\\nselect 1 as id'
>>> insert_select(rel, "orders__sqlflow_incr", [("id", "ID"), ("amount", "amount")], "duckdb")
'INSERT INTO "main"."orders" ("id", "amount") SELECT "ID", "amount" FROM "orders__sqlflow_incr"'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from sqlflow.adapters.base import RelationType
from sqlflow.engines import ENGINES, quote_identifier, quote_string
from sqlflow.manifest import Relation

# the dialects of the engines sqlflow runs on: identifiers and strings quoted by their EngineSpec
ANSI_QUOTING = frozenset(spec.dialect for spec in ENGINES.values())
# dbt's aliases, so a model's incremental_predicates can name the table's rows and the new rows as in dbt
TARGET_ALIAS = "DBT_INTERNAL_DEST"
SOURCE_ALIAS = "DBT_INTERNAL_SOURCE"

# (target column, source column) pairs: a source column feeds the target column of the same name
ColumnPairs = Sequence[tuple[str, str]]


@lru_cache(maxsize=8192)
def quote(name: str, dialect: str) -> str:
    """`name` as a quoted identifier of `dialect`.

    >>> quote('we"ird', "duckdb"), quote("x", "bigquery")
    ('"we""ird"', '`x`')
    """
    if dialect in ANSI_QUOTING:  # the engines sqlflow runs on: no need to load sqlglot on the hot path
        return quote_identifier(name)
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql(dialect=dialect)


def string_literal(value: str, dialect: str) -> str:
    """`value` as a SQL string literal of `dialect`.

    >>> string_literal("it's", "duckdb")
    "'it''s'"
    """
    if dialect in ANSI_QUOTING:
        return quote_string(value)
    from sqlglot import exp

    return exp.Literal.string(value).sql(dialect=dialect)


def relation_sql(relation: Relation, dialect: str) -> str:
    """schema.identifier, quoted."""
    return f"{quote(relation.schema, dialect)}.{quote(relation.identifier, dialect)}"


def renamed(relation: Relation, identifier: str) -> Relation:
    return Relation(database=relation.database, schema=relation.schema, identifier=identifier)


def create_schema(schema: str, dialect: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {quote(schema, dialect)}"


def create_table_as(
    relation: Relation | str, select_sql: str, dialect: str, *, replace: bool = False, temporary: bool = False
) -> str:
    """CREATE [OR REPLACE] [TEMPORARY] TABLE ... AS <select>; a str `relation` is an unqualified name."""
    name = quote(relation, dialect) if isinstance(relation, str) else relation_sql(relation, dialect)
    verb = "CREATE OR REPLACE" if replace else "CREATE"
    kind = "TEMPORARY TABLE" if temporary else "TABLE"
    return f"{verb} {kind} {name} AS\n{_body(select_sql)}"


def create_view_as(relation: Relation, select_sql: str, dialect: str, *, replace: bool = True) -> str:
    verb = "CREATE OR REPLACE VIEW" if replace else "CREATE VIEW"
    return f"{verb} {relation_sql(relation, dialect)} AS\n{_body(select_sql)}"


def drop_relation(relation: Relation | str, kind: RelationType, dialect: str) -> str:
    name = quote(relation, dialect) if isinstance(relation, str) else relation_sql(relation, dialect)
    return f"DROP {'VIEW' if kind == 'view' else 'TABLE'} IF EXISTS {name}"


def rename_relation(relation: Relation, kind: RelationType, new_identifier: str, dialect: str) -> str:
    """ALTER TABLE|VIEW schema.old RENAME TO new (the schema stays)."""
    what = "VIEW" if kind == "view" else "TABLE"
    return f"ALTER {what} {relation_sql(relation, dialect)} RENAME TO {quote(new_identifier, dialect)}"


def select_nothing(name: Relation | str, dialect: str) -> str:
    """A query returning a relation's columns and no row."""
    rel = quote(name, dialect) if isinstance(name, str) else relation_sql(name, dialect)
    return f"SELECT * FROM {rel} WHERE 1 = 0"


def insert_select(target: Relation, source: str, columns: ColumnPairs, dialect: str) -> str:
    """INSERT INTO target (cols) SELECT cols FROM source, matching columns by name."""
    into = ", ".join(quote(t, dialect) for t, _ in columns)
    select = ", ".join(quote(s, dialect) for _, s in columns)
    return (
        f"INSERT INTO {relation_sql(target, dialect)} ({into}) SELECT {select} FROM {quote(source, dialect)}"
    )


def delete_matching(
    target: Relation, source: str, keys: ColumnPairs, dialect: str, *, predicates: Sequence[str] = ()
) -> str:
    """DELETE the target rows whose unique key appears in source (and that meet `predicates`)."""
    return (
        f"DELETE FROM {relation_sql(target, dialect)} AS {TARGET_ALIAS} "
        f"WHERE EXISTS (SELECT 1 FROM {quote(source, dialect)} AS {SOURCE_ALIAS} "
        f"WHERE {_key_match(keys, dialect, predicates)})"
    )


def merge(
    target: Relation,
    source: str,
    columns: ColumnPairs,
    keys: ColumnPairs,
    dialect: str,
    *,
    predicates: Sequence[str] = (),
) -> str:
    """MERGE INTO target USING source ON the unique key (and `predicates`): update the matched rows, insert
    the others."""
    key_targets = {t for t, _ in keys}
    updates = [(t, s) for t, s in columns if t not in key_targets]
    into = ", ".join(quote(t, dialect) for t, _ in columns)
    values = ", ".join(f"{SOURCE_ALIAS}.{quote(s, dialect)}" for _, s in columns)
    sql = (
        f"MERGE INTO {relation_sql(target, dialect)} AS {TARGET_ALIAS} "
        f"USING {quote(source, dialect)} AS {SOURCE_ALIAS} ON {_key_match(keys, dialect, predicates)}"
    )
    if updates:
        sets = ", ".join(f"{quote(t, dialect)} = {SOURCE_ALIAS}.{quote(s, dialect)}" for t, s in updates)
        sql += f" WHEN MATCHED THEN UPDATE SET {sets}"
    return sql + f" WHEN NOT MATCHED THEN INSERT ({into}) VALUES ({values})"


def update_from(
    target: Relation,
    source: str,
    columns: ColumnPairs,
    keys: ColumnPairs,
    dialect: str,
    *,
    predicates: Sequence[str] = (),
) -> str:
    """UPDATE target SET cols FROM source WHERE keys match (MERGE's first half, for engines without it)."""
    key_targets = {t for t, _ in keys}
    sets = ", ".join(
        f"{quote(t, dialect)} = {SOURCE_ALIAS}.{quote(s, dialect)}"
        for t, s in columns
        if t not in key_targets
    )
    return (
        f"UPDATE {relation_sql(target, dialect)} AS {TARGET_ALIAS} SET {sets} "
        f"FROM {quote(source, dialect)} AS {SOURCE_ALIAS} WHERE {_key_match(keys, dialect, predicates)}"
    )


def insert_missing(
    target: Relation,
    source: str,
    columns: ColumnPairs,
    keys: ColumnPairs,
    dialect: str,
    *,
    predicates: Sequence[str] = (),
) -> str:
    """INSERT the source rows whose unique key the target lacks (MERGE's second half)."""
    into = ", ".join(quote(t, dialect) for t, _ in columns)
    select = ", ".join(f"{SOURCE_ALIAS}.{quote(s, dialect)}" for _, s in columns)
    return (
        f"INSERT INTO {relation_sql(target, dialect)} ({into}) SELECT {select} "
        f"FROM {quote(source, dialect)} AS {SOURCE_ALIAS} WHERE NOT EXISTS (SELECT 1 FROM "
        f"{relation_sql(target, dialect)} AS {TARGET_ALIAS} WHERE {_key_match(keys, dialect, predicates)})"
    )


# DuckDB's default candidates with INTEGER before BIGINT
SEED_TYPE_CANDIDATES = ("BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "TIME", "DATE", "TIMESTAMP", "VARCHAR")


def read_csv_select(
    path: str, dialect: str, *, delimiter: str = ",", column_types: Mapping[str, str] | None = None
) -> str:
    """A SELECT reading a CSV file with a header (DuckDB's read_csv); `column_types` override detection.
    Whole numbers that fit are INTEGER, not DuckDB's default BIGINT: dbt (agate) types seeds that way.

    >>> sql = read_csv_select("/p/seeds/a.csv", "duckdb", column_types={"id": "BIGINT"})
    >>> sql.startswith("SELECT * FROM read_csv('/p/seeds/a.csv', header = true, delim = ','")
    True
    >>> "auto_type_candidates = ['BOOLEAN', 'INTEGER', 'BIGINT'," in sql, sql.endswith("{'id': 'BIGINT'})")
    (True, True)
    """
    args = [string_literal(path, dialect), "header = true", f"delim = {string_literal(delimiter, dialect)}"]
    args.append("auto_type_candidates = [" + ", ".join(f"'{t}'" for t in SEED_TYPE_CANDIDATES) + "]")
    if column_types:
        types = ", ".join(
            f"{string_literal(col, dialect)}: {string_literal(typ, dialect)}"
            for col, typ in column_types.items()
        )
        args.append(f"types = {{{types}}}")
    return f"SELECT * FROM read_csv({', '.join(args)})"


def _key_match(keys: ColumnPairs, dialect: str, predicates: Sequence[str] = ()) -> str:
    """The unique key equalities, then each predicate in parentheses."""
    return " AND ".join(
        [
            *(f"{SOURCE_ALIAS}.{quote(s, dialect)} = {TARGET_ALIAS}.{quote(t, dialect)}" for t, s in keys),
            *(f"({p})" for p in predicates),
        ]
    )


def _body(select_sql: str) -> str:
    """The compiled SQL without a trailing semicolon; a newline keeps a trailing -- comment harmless."""
    body = select_sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return body


def column_types(relation: Relation | str, dialect: str) -> str:
    """A query of a relation's (column name, data type) rows in column order, each type spelled as CREATE
    takes it; a str `relation` is an unqualified name (a temporary table of this session).

    >>> column_types("orders__sqlflow_incr", "duckdb")
    'DESCRIBE "orders__sqlflow_incr"'
    >>> print(column_types(Relation(database=None, schema="main", identifier="orders"), "postgres"))
    SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = \
'"main"."orders"'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
    """
    name = quote(relation, dialect) if isinstance(relation, str) else relation_sql(relation, dialect)
    if dialect == "duckdb":  # DESCRIBE finds temporary tables too and spells types as CREATE takes them
        return f"DESCRIBE {name}"
    if dialect == "postgres":  # format_type keeps numeric(9,2), varchar(10), arrays and enums
        return (
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
            f"attrelid = {string_literal(name, dialect)}::regclass AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum"
        )
    if isinstance(relation, str):
        identifier, schema = relation, "CURRENT_SCHEMA"
    else:
        identifier, schema = relation.identifier, string_literal(relation.schema, dialect)
    return (
        "SELECT column_name, data_type FROM information_schema.columns WHERE "
        f"table_schema = {schema} AND table_name = {string_literal(identifier, dialect)} "
        "ORDER BY ordinal_position"
    )


def add_column(relation: Relation, column: str, data_type: str, dialect: str) -> str:
    """ALTER TABLE ... ADD COLUMN; `data_type` is the engine's spelling, embedded as it is."""
    return f"ALTER TABLE {relation_sql(relation, dialect)} ADD COLUMN {quote(column, dialect)} {data_type}"


def drop_column(relation: Relation, column: str, dialect: str) -> str:
    return f"ALTER TABLE {relation_sql(relation, dialect)} DROP COLUMN {quote(column, dialect)}"


def alter_column_type(relation: Relation, column: str, data_type: str, dialect: str) -> str:
    """ALTER TABLE ... ALTER COLUMN ... SET DATA TYPE, casting the values it holds.

    >>> alter_column_type(Relation(database=None, schema="main", identifier="t"), "id", "BIGINT", "duckdb")
    'ALTER TABLE "main"."t" ALTER COLUMN "id" SET DATA TYPE BIGINT USING CAST("id" AS BIGINT)'
    """
    col = quote(column, dialect)
    # SET DATA TYPE is ANSI; USING (DuckDB and PostgreSQL) makes PostgreSQL cast what it will not implicitly
    return (
        f"ALTER TABLE {relation_sql(relation, dialect)} ALTER COLUMN {col} SET DATA TYPE {data_type} "
        f"USING CAST({col} AS {data_type})"
    )
