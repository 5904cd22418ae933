"""What the warehouse and the project files know about the nodes, for the docs: column types from the engine's
catalog (information_schema.columns), the last runs of each node from the state store, the header of each
seed's CSV file. Reads through an open Adapter; imports no driver, no jinja2 and no click.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlflow.adapters import Adapter
from sqlflow.adapters.sql import quote, string_literal
from sqlflow.errors import SqlflowError
from sqlflow.manifest import Manifest
from sqlflow.state.store import StateStore

RUNS_PER_NODE = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFact:
    """One recorded attempt of a node."""

    run_id: str
    status: str
    attempt: int
    started_at: datetime | None
    ended_at: datetime | None
    rows: int | None
    message: str | None

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """Catalog and state-store facts; `catalog_note` / `state_note` say why one is missing (None: read)."""

    columns: Mapping[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)
    runs: Mapping[str, tuple[RunFact, ...]] = field(default_factory=dict)  # newest first
    catalog_note: str | None = "the database was not read"
    state_note: str | None = "the state store was not read"

    def types_of(self, schema: str, identifier: str) -> dict[str, str]:
        """column name (lower case) -> its type in the catalog."""
        return {c.lower(): t for c, t in self.columns.get((schema.lower(), identifier.lower()), ())}

    def column_names(self, schema: str, identifier: str) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns.get((schema.lower(), identifier.lower()), ()))


def read_catalog(
    adapter: Adapter, schemas: Collection[str]
) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """(schema, table) in lower case -> ((column, type), ...) in the table's order, for the given schemas."""
    if not schemas:
        return {}
    dialect = adapter.dialect
    wanted = ", ".join(string_literal(s, dialect) for s in sorted(schemas))
    _, rows = adapter.fetch(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema IN ({wanted}) ORDER BY table_schema, table_name, ordinal_position"
    )
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        out.setdefault((str(schema).lower(), str(table).lower()), []).append((str(column), str(data_type)))
    return {k: tuple(v) for k, v in out.items()}


def read_runs(
    adapter: Adapter, state_schema: str, *, per_node: int = RUNS_PER_NODE
) -> dict[str, tuple[RunFact, ...]]:
    """unique_id -> its last `per_node` attempts, newest first; {} when the state store does not exist."""
    store = StateStore(adapter, state_schema)
    if store.version() == 0:
        return {}
    table = f'{quote(state_schema, adapter.dialect)}."node_runs"'
    _, rows = adapter.fetch(
        'SELECT "unique_id", "run_id", "status", "attempt", "started_at", "ended_at", "rows_affected", '
        '"message" FROM (SELECT *, row_number() OVER (PARTITION BY "unique_id" ORDER BY '
        '"started_at" DESC NULLS LAST, "attempt" DESC) AS "rn" '
        f'FROM {table}) AS "recent" WHERE "rn" <= {int(per_node)} ORDER BY "unique_id", "rn"'
    )
    out: dict[str, list[RunFact]] = {}
    for uid, run_id, status, attempt, started, ended, rows_affected, message in rows:
        out.setdefault(uid, []).append(
            RunFact(
                run_id=str(run_id),
                status=str(status),
                attempt=int(attempt),
                started_at=started,
                ended_at=ended,
                rows=rows_affected,
                message=message,
            )
        )
    return {k: tuple(v) for k, v in out.items()}


def read_facts(adapter: Adapter, manifest: Manifest, *, state_schema: str | None) -> Facts:
    """The catalog of the schemas the project's relations live in, and the recent runs (not read when
    `state_schema` is None); a failure of either becomes a note (the docs are still written without it)."""
    schemas = {m.relation.schema for m in manifest.models()} | {
        s.relation.schema for s in manifest.sources.values()
    }
    columns: Mapping[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    catalog_note: str | None = None
    try:
        columns = read_catalog(adapter, schemas)
    except SqlflowError as exc:
        catalog_note = f"the catalog could not be read: {exc}"
    if not columns and catalog_note is None:
        catalog_note = "the database holds none of the project's relations yet (run `sqlflow build`)"
    runs: Mapping[str, tuple[RunFact, ...]] = {}
    state_note: str | None = None
    if state_schema is None:
        return Facts(columns=columns, catalog_note=catalog_note, state_note="not read")
    try:
        runs = read_runs(adapter, state_schema)
    except SqlflowError as exc:
        state_note = f"the state store could not be read: {exc}"
    if not runs and state_note is None:
        state_note = "no run is recorded yet"
    return Facts(columns=columns, runs=runs, catalog_note=catalog_note, state_note=state_note)


def seed_headers(manifest: Manifest, root: Path) -> dict[str, tuple[str, ...]]:
    """unique_id -> the column names in the first line of each seed's CSV file (missing files are skipped)."""
    out = {}
    for node in manifest.models():
        if node.resource_type != "seed":
            continue
        try:
            with (root / node.path).open(newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle, delimiter=node.config.delimiter or ","), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
        out[node.unique_id] = tuple(h.strip() for h in header if h.strip())
    return out
