"""The Adapter protocol every engine implements, and the catalog snapshot it returns.

An adapter is a handful of methods (execute, fetch, fetch_arrow, load_arrow, relation_type, list_relations,
dependent_views, transaction, interrupt, close) plus capability flags as class attributes; the
materializations read the flags instead of asking which engine they run on. Imports no driver: each
engine's module imports its own. The flags repeat the engine's `EngineSpec` (sqlflow/engines.py); only
`supports_merge` depends on the version the adapter connects to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from sqlflow.engines import EngineSpec
from sqlflow.errors import AdapterError
from sqlflow.manifest import Relation

RelationType = Literal["table", "view"]

TMP_SUFFIX = "__sqlflow_tmp"  # relations built aside; leftovers of a killed run end with it


@dataclass(frozen=True, slots=True)
class Catalog:
    """What exists in the target database, from one catalog query: schemas and relations by name."""

    schemas: frozenset[str] = frozenset()
    relations: Mapping[tuple[str, str], RelationType] = field(default_factory=dict)  # (schema, id) -> type


class Adapter(Protocol):
    """One open connection to a target database, usable from several threads at once.

    Statements run on the calling thread's own session, so `transaction()` covers only the statements the
    same thread runs inside it. Every engine error is raised as `AdapterError` with the engine's message.
    """

    spec: ClassVar[EngineSpec]  # the engine's entry of sqlflow.engines.ENGINES
    type: ClassVar[str]  # the target type: spec.name
    dialect: ClassVar[str]  # the sqlglot dialect of the engine: spec.dialect
    # capabilities
    supports_merge: ClassVar[bool]  # MERGE INTO ... WHEN MATCHED / NOT MATCHED
    replace_table_atomically: ClassVar[bool]  # CREATE OR REPLACE TABLE keeps the old table when it fails
    replace_view: ClassVar[bool]  # CREATE OR REPLACE VIEW may change the view's columns
    reads_csv_in_sql: ClassVar[bool]  # a SELECT can read a CSV file (read_csv)
    case_insensitive_identifiers: ClassVar[bool]  # "Orders" and "orders" name the same relation

    def execute(self, sql: str) -> int | None:
        """Run one statement; the rows it inserted, updated or deleted when the engine says, else None."""
        ...

    def fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a query; its column names and every row."""
        ...

    def fetch_arrow(self, sql: str) -> Any:
        """Run a query; a pyarrow.Table."""
        ...

    def load_arrow(self, relation: Relation, data: Any) -> int:
        """CREATE OR REPLACE `relation` as a table holding a pyarrow.Table's rows; the rows loaded."""
        ...

    def relation_type(self, relation: Relation) -> RelationType | None:
        """ "table", "view", or None when the relation does not exist (one catalog query)."""
        ...

    def relation_exists(self, relation: Relation) -> bool: ...

    def list_relations(self) -> Catalog:
        """Every schema and relation of the target database, in one catalog query."""
        ...

    def dependent_views(self, relation: Relation) -> list[tuple[Relation, str, bool]]:
        """The views that would block dropping `relation` (engines that bind views to relations), nearest
        first: (view, its SELECT, materialized). DuckDB: none."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """BEGIN on entry, COMMIT on a clean exit, ROLLBACK when the block raises (on this thread)."""
        ...

    def canceller(self) -> Callable[[], None]:
        """A function, callable from any thread, that cancels what the calling thread's session runs at
        the time it is called (a model's timeout); the statement fails with AdapterError('interrupted')."""
        ...

    def interrupt(self) -> None:
        """Cancel the statements running on every thread; they fail with AdapterError('interrupted')."""
        ...

    def close(self) -> None: ...


@contextmanager
def explicit_transaction(
    execute: Callable[[str], object], rollback_quietly: Callable[[], None], begin: str = "BEGIN"
) -> Iterator[None]:
    """BEGIN, then COMMIT on a clean exit; ROLLBACK when the block raises or the COMMIT fails. The
    `transaction()` of the adapters whose sessions run statements one by one (autocommit)."""
    execute(begin)
    try:
        yield
    except BaseException:
        rollback_quietly()
        raise
    try:
        execute("COMMIT")
    except AdapterError:
        rollback_quietly()
        raise


def first_line(text: str) -> str:
    """The first non-empty line of an engine's message, stripped.

    >>> first_line("Catalog Error: Table with name x does not exist!\\nDid you mean ...")
    'Catalog Error: Table with name x does not exist!'
    """
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return str(text).strip()


def relation_key(relation: Relation | tuple[str, str], *, case_insensitive: bool) -> tuple[str, str]:
    """The key a relation is known by in a catalog: (schema, identifier), folded when the engine folds."""
    schema, identifier = (
        (relation.schema, relation.identifier) if isinstance(relation, Relation) else relation
    )
    if case_insensitive:
        return schema.lower(), identifier.lower()
    return schema, identifier
