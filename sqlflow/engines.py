"""The engines sqlflow runs on, in one table: one frozen `EngineSpec` per target type.

Every fact about an engine that code outside its adapter needs lives here: the sqlglot dialect, the default
schema, how identifiers fold and are quoted, how strings are quoted, whether SQL can read files, the
capabilities the materializations rely on, and the adapter module that connects to it (imported lazily by
`sqlflow.adapters.open_adapter`). Nothing else compares a target type with "duckdb" or "postgres": it reads
the spec (`engine(target.type)`, `for_dialect(dialect)`). Adding an engine is one adapter module plus one
entry here (docs/engines.md).

Imports only `sqlflow.errors` and the stdlib, so project, compile, docs, state and adapters may all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sqlflow.errors import ConfigError, did_you_mean


def quote_identifier(name: str) -> str:
    """`name` as a "double quoted" identifier, inner quotes doubled (ANSI, as every engine here writes it).

    >>> quote_identifier('we"ird')
    '"we""ird"'
    """
    return '"' + name.replace('"', '""') + '"'


def quote_string(value: object) -> str:
    """`value` as a 'single quoted' SQL string literal, inner quotes doubled.

    >>> quote_string("it's")
    "'it''s'"
    """
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineSpec:
    """What sqlflow knows of one engine. Field by field in docs/engines.md."""

    name: str  # the target `type:` in profiles.yml
    dialect: str  # the sqlglot dialect the compile writes for it
    adapter_module: str  # the module with `open_adapter(target)`, imported only when a target is opened
    driver: str  # the package the adapter module imports (checked before importing it)
    extra: str | None  # the pip extra that installs the driver; None when it ships with sqlflow
    default_schema: str  # the schema of a target that names none
    # identifiers: "lower" folds unquoted names to lower case (PostgreSQL), "none" keeps them as written
    identifier_folding: Literal["lower", "none"]
    case_insensitive_identifiers: bool  # "Orders" and "orders" name the same relation, even quoted (DuckDB)
    reads_files_in_sql: bool  # a SELECT can read CSV files (read_csv('x.csv')); else the runner loads them
    database_is_file: bool  # the target's `path` is a database file, resolved against the project folder
    # the connection setting that makes relative file paths in SQL resolve against the project folder
    file_search_path_setting: str | None
    transactional_ddl: bool  # CREATE / DROP inside a transaction roll back with it
    replace_table_atomically: bool  # CREATE OR REPLACE TABLE keeps the old table when it fails
    replace_view: bool  # CREATE OR REPLACE VIEW may change the view's columns
    advisory_locks: bool  # pg_try_advisory_xact_lock: schedulers sharing a state store take turns on a tick
    typeof_function: str  # the SQL function naming a value's type (unit tests read their inputs' types)

    def quote(self, name: str) -> str:
        """An identifier of this engine, quoted."""
        return quote_identifier(name)

    def string_literal(self, value: object) -> str:
        """A string literal of this engine."""
        return quote_string(value)

    def fold(self, name: str) -> str:
        """The name an unquoted identifier `name` refers to on this engine.

        >>> ENGINES["postgres"].fold("Orders"), ENGINES["duckdb"].fold("Orders")
        ('orders', 'Orders')
        """
        return name.lower() if self.identifier_folding == "lower" else name


ENGINES: Mapping[str, EngineSpec] = {
    spec.name: spec
    for spec in (
        EngineSpec(
            name="duckdb",
            dialect="duckdb",
            adapter_module="sqlflow.adapters.duckdb",
            driver="duckdb",
            extra=None,
            default_schema="main",
            identifier_folding="none",
            case_insensitive_identifiers=True,
            reads_files_in_sql=True,
            database_is_file=True,
            file_search_path_setting="file_search_path",
            transactional_ddl=True,
            replace_table_atomically=True,
            replace_view=True,
            advisory_locks=False,
            typeof_function="typeof",
        ),
        EngineSpec(
            name="postgres",
            dialect="postgres",
            adapter_module="sqlflow.adapters.postgres",
            driver="psycopg",
            extra="postgres",
            default_schema="public",
            identifier_folding="lower",
            case_insensitive_identifiers=False,
            reads_files_in_sql=False,
            database_is_file=False,
            file_search_path_setting=None,
            transactional_ddl=True,
            replace_table_atomically=False,  # no CREATE OR REPLACE TABLE: build aside and swap
            replace_view=False,  # CREATE OR REPLACE VIEW cannot drop or retype columns
            advisory_locks=True,
            typeof_function="pg_typeof",
        ),
    )
}
TARGET_TYPES: tuple[str, ...] = tuple(ENGINES)
_BY_DIALECT: Mapping[str, EngineSpec] = {spec.dialect: spec for spec in ENGINES.values()}


def engine(target_type: str) -> EngineSpec:
    """The spec of a target type; ConfigError naming the supported types for one sqlflow does not know.

    >>> engine("postgres").default_schema
    'public'
    >>> engine("postgress")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sqlflow.errors.ConfigError: unknown target type 'postgress' (did you mean 'postgres'? supported: ...)
    """
    spec = ENGINES.get(target_type)
    if spec is None:
        close = did_you_mean(str(target_type), ENGINES)
        supported = "supported: " + ", ".join(ENGINES)
        raise ConfigError(
            f"unknown target type '{target_type}'", hint=f"{close} {supported}" if close else supported
        )
    return spec


def for_dialect(dialect: str) -> EngineSpec | None:
    """The engine whose sqlglot dialect is `dialect`; None for a dialect sqlflow only writes SQL in.

    >>> for_dialect("duckdb").name, for_dialect("snowflake")
    ('duckdb', None)
    """
    return _BY_DIALECT.get(dialect)


def reads_files_in_sql(dialect: str) -> bool:
    """Whether SQL written in `dialect` may read files itself (else the runner loads them into tables)."""
    spec = for_dialect(dialect)
    return spec is not None and spec.reads_files_in_sql


__all__ = [
    "ENGINES",
    "TARGET_TYPES",
    "EngineSpec",
    "engine",
    "for_dialect",
    "quote_identifier",
    "quote_string",
    "reads_files_in_sql",
]
