"""What every materialization gets (`BuildContext`) and returns (`BuildResult`), and how it runs its steps.

`RelationCache` is the run's picture of the database: filled by one catalog query at the start and updated
as relations are built, so no node asks the catalog again. Imports no driver.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlflow.adapters import Adapter, Catalog, RelationType, relation_key
from sqlflow.adapters.sql import drop_relation, relation_sql
from sqlflow.errors import NodeFailedError
from sqlflow.manifest import ModelNode, Relation


class RelationCache:
    """Which relations exist and whether each is a table or a view; safe to use from several threads."""

    def __init__(self, catalog: Catalog, *, case_insensitive: bool) -> None:
        self._case_insensitive = case_insensitive
        self._lock = threading.Lock()
        self._types: dict[tuple[str, str], RelationType] = {
            relation_key(key, case_insensitive=case_insensitive): kind
            for key, kind in catalog.relations.items()
        }

    @classmethod
    def of(cls, adapter: Adapter) -> RelationCache:
        """The cache for `adapter`'s database, from one catalog query."""
        return cls(adapter.list_relations(), case_insensitive=adapter.case_insensitive_identifiers)

    def get(self, relation: Relation) -> RelationType | None:
        with self._lock:
            return self._types.get(relation_key(relation, case_insensitive=self._case_insensitive))

    def set(self, relation: Relation, kind: RelationType | None) -> None:
        """Record that `relation` is now a `kind`, or gone when `kind` is None."""
        key = relation_key(relation, case_insensitive=self._case_insensitive)
        with self._lock:
            if kind is None:
                self._types.pop(key, None)
            else:
                self._types[key] = kind


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildContext:
    """What a materialization needs besides its node."""

    adapter: Adapter
    relations: RelationCache
    project_root: Path
    full_refresh: bool = False
    # the caller holds a transaction open around the build (write-audit-publish): open none of our own
    in_transaction: bool = False
    # the time a snapshot records for check-strategy versions and hard deletes (naive = UTC); None: the
    # database's current_timestamp, in UTC
    snapshot_time: datetime | None = None
    # renders a node whose template runs queries (`late_sql`) again, just before it is built
    recompile: Callable[[ModelNode], ModelNode] | None = None


@dataclass(frozen=True, slots=True)
class BuildResult:
    rows_affected: int | None
    message: str  # "CREATE TABLE 50", "CREATE VIEW", "MERGE 3" ...


def run_steps(
    ctx: BuildContext, node: ModelNode, statements: Sequence[str], *, rows_from: int | None
) -> int | None:
    """Run a node's statements with its hooks; the rows reported by `statements[rows_from]`.

    One statement and no hooks runs on its own (an engine runs a single statement atomically); anything
    more runs in one transaction, so a failure anywhere leaves the database as it was. Inside the caller's
    transaction (`ctx.in_transaction`) the statements simply run in it.
    """
    pre, post = node.config.pre_hook, node.config.post_hook
    adapter = ctx.adapter
    if len(statements) == 1 and not pre and not post:
        rows = adapter.execute(statements[0])
        return rows if rows_from == 0 else None
    rows = None
    with transaction(ctx):
        for hook in pre:
            adapter.execute(hook)
        for i, sql in enumerate(statements):
            count = adapter.execute(sql)
            if i == rows_from:
                rows = count
        for hook in post:
            adapter.execute(hook)
    return rows


def transaction(ctx: BuildContext) -> AbstractContextManager[None]:
    """A transaction of its own, or nothing when the caller already holds one open."""
    return nullcontext() if ctx.in_transaction else ctx.adapter.transaction()


def compiled_sql(node: ModelNode) -> str:
    if node.compiled_sql is None:
        raise NodeFailedError(f"{node.name} has no compiled SQL", hint="compile the project first")
    return node.compiled_sql


def with_rows(verb: str, rows: int | None) -> str:
    """A result message: the verb and the rows when the engine reported them."""
    return verb if rows is None else f"{verb} {rows}"


def keeping_dependents(ctx: BuildContext, relation: Relation, statements: Sequence[str]) -> list[str]:
    """`statements` that drop and rebuild `relation`, made to keep the views built on it: on engines that
    bind views to a relation (PostgreSQL), its DROP cascades and the views are created again afterwards,
    in the same transaction. A view that no longer fits the new relation fails the build, and the
    rollback keeps everything as it was."""
    views = ctx.adapter.dependent_views(relation)
    if not views:
        return list(statements)
    dialect = ctx.adapter.dialect
    drops = {drop_relation(relation, "table", dialect), drop_relation(relation, "view", dialect)}
    out = [f"{s} CASCADE" if s in drops else s for s in statements]
    for view, select, materialized in views:
        kind = "MATERIALIZED VIEW" if materialized else "VIEW"
        out.append(f"CREATE {kind} {relation_sql(view, dialect)} AS {select}")
    return out
