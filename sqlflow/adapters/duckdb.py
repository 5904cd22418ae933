"""The DuckDB adapter: one connection to the database file, one cursor (session) per thread.

The only module of sqlflow that imports duckdb; `sqlflow.adapters.open_adapter` loads it by name.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from sqlflow.adapters.base import Adapter, Catalog, RelationType, explicit_transaction, first_line
from sqlflow.engines import ENGINES, EngineSpec
from sqlflow.errors import AdapterError, DatabaseLockedError
from sqlflow.manifest import Relation
from sqlflow.project.types import Target

_CATALOG_SQL = """
select schema_name, null, null from information_schema.schemata where catalog_name = current_database()
union all
select table_schema, table_name, table_type from information_schema.tables
where table_catalog = current_database()
"""

_LOCK_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class DuckDBAdapter:
    """A DuckDB database file (or ":memory:") opened once, shared by every worker thread."""

    spec: ClassVar[EngineSpec] = ENGINES["duckdb"]  # the engine's facts, read from the one table
    type: ClassVar[str] = spec.name
    dialect: ClassVar[str] = spec.dialect
    supports_merge: ClassVar[bool] = tuple(int(p) for p in duckdb.__version__.split(".")[:2]) >= (1, 4)
    replace_table_atomically: ClassVar[bool] = spec.replace_table_atomically
    replace_view: ClassVar[bool] = spec.replace_view
    reads_csv_in_sql: ClassVar[bool] = spec.reads_files_in_sql
    case_insensitive_identifiers: ClassVar[bool] = spec.case_insensitive_identifiers

    def __init__(self, target: Target) -> None:
        settings = target.settings
        self.path = str(settings.get("path") or ":memory:")
        # DuckDB options (memory_limit, temp_directory ...): `settings:` as in dbt-duckdb, or `config:`
        options = {**(settings.get("settings") or {}), **(settings.get("config") or {})}
        config = {str(k): v for k, v in options.items()}
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=bool(settings.get("read_only")), config=config)
        except duckdb.Error as exc:
            raise _open_error(self.path, exc) from exc
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    # -- sessions ------------------------------------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            if self._closed:
                raise AdapterError(f"the connection to {self.path} is closed")
            cur = self._con.cursor()
            self._local.cursor = cur
            with self._lock:
                self._cursors.append(cur)
        return cur

    # -- statements ----------------------------------------------------------------------------------------

    def execute(self, sql: str) -> int | None:
        cur = self._cursor()
        try:
            cur.execute(sql)
            description = cur.description
            if description and description[0][0] == "Count":
                row = cur.fetchone()
                return int(row[0]) if row else None
            return None
        except (duckdb.Error, RuntimeError) as exc:
            raise _statement_error(exc) from exc

    def fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self._cursor()
        try:
            cur.execute(sql)
            columns = [d[0] for d in cur.description or ()]
            return columns, cur.fetchall()
        except (duckdb.Error, RuntimeError) as exc:
            raise _statement_error(exc) from exc

    def fetch_arrow(self, sql: str) -> Any:
        cur = self._cursor()
        try:
            relation = cur.sql(sql)
            to_arrow = getattr(relation, "to_arrow_table", None) or relation.arrow
            return to_arrow()
        except (duckdb.Error, RuntimeError) as exc:
            raise _statement_error(exc) from exc

    def load_arrow(self, relation: Relation, data: Any) -> int:
        cur = self._cursor()
        name = f"sqlflow_arrow_{threading.get_ident()}"
        target = f"{_identifier(relation.schema)}.{_identifier(relation.identifier)}"
        try:
            cur.register(name, data)
            try:
                cur.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {_identifier(name)}")
            finally:
                cur.unregister(name)
        except (duckdb.Error, RuntimeError) as exc:
            raise _statement_error(exc) from exc
        return int(data.num_rows)

    # -- catalog -------------------------------------------------------------------------------------------

    def list_relations(self) -> Catalog:
        _, rows = self.fetch(_CATALOG_SQL)
        schemas = frozenset(schema for schema, name, _ in rows if name is None)
        relations: dict[tuple[str, str], RelationType] = {
            (schema, name): "view" if kind == "VIEW" else "table"
            for schema, name, kind in rows
            if name is not None
        }
        return Catalog(schemas=schemas, relations=relations)

    def relation_type(self, relation: Relation) -> RelationType | None:
        _, rows = self.fetch(
            "select table_type from information_schema.tables where table_catalog = current_database() "
            f"and lower(table_schema) = lower({_literal(relation.schema)}) "
            f"and lower(table_name) = lower({_literal(relation.identifier)})"
        )
        if not rows:
            return None
        return "view" if rows[0][0] == "VIEW" else "table"

    def relation_exists(self, relation: Relation) -> bool:
        return self.relation_type(relation) is not None

    def dependent_views(self, relation: Relation) -> list[tuple[Relation, str, bool]]:
        return []  # DuckDB lets a relation be dropped under its views, which bind again when queried

    # -- transactions and lifetime -------------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        return explicit_transaction(self.execute, self._rollback_quietly, "BEGIN TRANSACTION")

    def _rollback_quietly(self) -> None:
        with suppress(duckdb.Error):  # no transaction left to roll back
            self._cursor().execute("ROLLBACK")

    def canceller(self) -> Callable[[], None]:
        cursor = self._cursor()

        def cancel() -> None:
            with suppress(duckdb.Error):
                cursor.interrupt()

        return cancel

    def interrupt(self) -> None:
        with self._lock:
            cursors = list(self._cursors)
        for cur in [self._con, *cursors]:
            with suppress(duckdb.Error):
                cur.interrupt()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._lock:
            cursors, self._cursors = self._cursors, []
        for cur in cursors:
            with suppress(duckdb.Error):
                cur.close()
        self._con.close()

    def __repr__(self) -> str:
        return f"<DuckDBAdapter {self.path}>"


def open_adapter(target: Target) -> Adapter:
    """The entry point `sqlflow.adapters.open_adapter` calls (and mypy checks the protocol here)."""
    return DuckDBAdapter(target)


def _identifier(name: str) -> str:
    return DuckDBAdapter.spec.quote(name)


def _literal(value: str) -> str:
    return DuckDBAdapter.spec.string_literal(value)


def _statement_error(exc: duckdb.Error | RuntimeError) -> BaseException:
    """AdapterError with the engine's first line; Ctrl-C during a statement stays a KeyboardInterrupt.

    DuckDB turns a SIGINT received while it runs a statement on the main thread into RuntimeError("Query
    interrupted") and swallows the KeyboardInterrupt; giving it back lets the caller stop.
    """
    if isinstance(exc, duckdb.InterruptException):
        return AdapterError("interrupted")
    if not isinstance(exc, duckdb.Error):
        if "interrupted" in str(exc).lower():
            return KeyboardInterrupt()
        return exc
    return AdapterError(first_line(str(exc)))


def _open_error(path: str, exc: duckdb.Error) -> AdapterError:
    text = str(exc)
    if "lock" in text.lower():
        holder = _LOCK_HOLDER.search(text)
        who = f" ({holder['program']}, PID {holder['pid']})" if holder else ""
        return DatabaseLockedError(
            f"cannot open {path}: another process{who} holds it",
            hint="close the other program using the file (a DuckDB shell, a notebook, another sqlflow run) "
            "and retry",
        )
    return AdapterError(f"cannot open {path}: {first_line(text)}")
