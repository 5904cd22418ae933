"""The facts the reference comparison compares: every relation of a DuckDB file and every node's status.

Shared by `record_reference.py` (facts of dbt's build, run once) and `test_reference.py` (facts of
sqlflow's build of the same project). A relation's facts are its kind (table or view), its columns in
order with their types, its row count and a checksum of its content. The checksum does not depend on row
order or column order (each row is hashed as `name=value` pairs with the columns sorted by name), so a
column-order difference shows once, in `columns`, and not again as a content difference.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

# schemas that hold no result of the project: the engine's own, and sqlflow's state store (`sqlflow_state`,
# or `<target schema>_sqlflow_state` when the target's schema is not the engine's default)
SKIPPED_SCHEMAS = frozenset({"information_schema", "pg_catalog", "sqlflow_state"})
STATE_SCHEMA_SUFFIX = "_sqlflow_state"
# the columns of a check-strategy snapshot that dbt fills from the clock (current_timestamp)
CLOCK_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
COMMANDS = ("seed", "run", "snapshot", "test", "build")


def relation_facts(
    db_path: Path, *, clock_columns: Mapping[str, Collection[str]] | None = None
) -> dict[str, dict[str, Any]]:
    """`database.schema.name` -> {kind, columns: [[name, type], ...], rows, checksum} for every relation.

    `clock_columns` names, per relation, columns left out of the checksum (values that depend on when
    the build ran).
    """
    import duckdb

    clock_columns = clock_columns or {}
    out: dict[str, dict[str, Any]] = {}
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = con.execute(
            "select table_catalog, table_schema, table_name, table_type from information_schema.tables"
            " where table_catalog = current_database() order by 1, 2, 3"
        ).fetchall()
        for database, schema, name, kind in tables:
            if schema in SKIPPED_SCHEMAS or schema.endswith(STATE_SCHEMA_SUFFIX):
                continue
            key = f"{database}.{schema}.{name}"
            columns = con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
                [database, schema, name],
            ).fetchall()
            skip = set(clock_columns.get(key, ()))
            summed = [c for c, _ in columns if c not in skip]
            rows, checksum = con.execute(_checksum_sql(schema, name, summed)).fetchone() or (0, "")
            out[key] = {
                "kind": "view" if kind == "VIEW" else "table",
                "columns": [[c, t] for c, t in columns],
                "rows": rows,
                "checksum": checksum,
            }
    finally:
        con.close()
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _checksum_sql(schema: str, name: str, columns: list[str]) -> str:
    """Row count and an order-independent md5 of the rows: each row's md5 over `name=value` pairs
    (columns sorted by name, NULL spelled `\\N`), the row hashes sorted and hashed again."""
    pairs = [
        f"'{c.replace(chr(39), chr(39) * 2)}=' || coalesce(cast({_quote(c)} as varchar), '\\N')"
        for c in sorted(columns)
    ]
    row = f"md5(concat_ws(chr(31), {', '.join(pairs)}))" if pairs else "md5('')"
    return (
        f"select count(*), md5(coalesce(string_agg(h, '' order by h), '')) from"
        f" (select {row} as h from {_quote(schema)}.{_quote(name)})"
    )


def project_checksum(project: Path) -> str:
    """sha256 over the project's files (paths and bytes; no build output): a reference recorded for
    other files is stale."""
    digest = hashlib.sha256()
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        relative = path.relative_to(project).as_posix()
        if relative.startswith(("target/", "logs/", "dbt_packages/")) or ".duckdb" in path.name:
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def statuses(run_results: Path) -> dict[str, str]:
    """unique_id -> status, from a run_results.json; empty when the command wrote none."""
    if not run_results.exists():
        return {}
    doc = json.loads(run_results.read_text())
    return {r["unique_id"]: r["status"] for r in doc["results"]}


def snapshot_clock_columns(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """relation -> the clock columns of every check-strategy snapshot in a dbt manifest.json."""
    out: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "snapshot" and node["config"].get("strategy") == "check":
            out[f"{node['database']}.{node['schema']}.{node['alias']}"] = list(CLOCK_COLUMNS)
    return out
