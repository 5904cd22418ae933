"""`run_bench.py --target NAME`: the output NAME of your `bench` profile, written into each generated project
(on PostgreSQL with a schema of its own, dropped after), and the PostgreSQL floor.

The profile is looked up as sqlflow does ($SQLFLOW_PROFILES_DIR, then ~/.sqlflow/profiles.yml); values may
use `{{ env_var('X') }}` / `{{ env_var('X', 'default') }}`. Standard library and pyyaml; psycopg is imported
only to talk to a PostgreSQL target. Imports nothing from sqlflow.
"""

from __future__ import annotations

import graphlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROFILE = "bench"  # the generated project's name, hence its profile
FLOOR_ENV = "SQLFLOW_BENCH_FLOOR"  # how the floor process gets its connection settings (not argv: passwords)
_ENV_VAR = re.compile(r"\{\{\s*env_var\(\s*['\"]([^'\"]+)['\"]\s*(?:,\s*['\"]([^'\"]*)['\"]\s*)?\)\s*\}\}")
_CONNECT_KEYS = ("host", "port", "user", "password", "pass", "sslmode", "connect_timeout")


@dataclass(frozen=True, slots=True)
class BenchTarget:
    """A target of the user's `bench` profile, as one size's project runs it."""

    name: str
    type: str  # "duckdb", "postgres", ...
    output: Mapping[str, Any]  # the profiles.yml output written into the project (schema made unique)
    schema: str | None  # PostgreSQL: the schema of this size's run, dropped after

    def write_profiles(self, project: Path) -> None:
        """profiles.yml in the project folder with only this target (sqlflow runs with
        SQLFLOW_PROFILES_DIR=project)."""
        import yaml

        doc = {PROFILE: {"target": self.name, "outputs": {self.name: dict(self.output)}}}
        (project / "profiles.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    def duckdb_path(self, project: Path) -> Path:
        """A DuckDB target's database file (relative paths are relative to the project, as in sqlflow)."""
        path = Path(render(str(self.output.get("path") or f"{PROFILE}.duckdb"))).expanduser()
        return path if path.is_absolute() else project / path

    def connect_settings(self) -> dict[str, Any]:
        """psycopg.connect() keywords of a PostgreSQL target (env_var() rendered)."""
        out: dict[str, Any] = {"dbname": render(str(self.output.get("dbname") or "postgres"))}
        for key in _CONNECT_KEYS:
            if self.output.get(key) is not None:
                out["password" if key == "pass" else key] = render(str(self.output[key]))
        return out


def load_target(name: str, size: int) -> BenchTarget:
    """The output `name` of the `bench` profile; SystemExit with a message when it cannot be found."""
    import yaml

    path = profiles_file()
    if path is None:
        raise SystemExit(
            f"--target {name}: no profiles.yml in $SQLFLOW_PROFILES_DIR or ~/.sqlflow; add a '{PROFILE}' "
            "profile there (see bench/README.md)"
        )
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    outputs = (doc.get(PROFILE) or {}).get("outputs") or {}
    if name not in outputs:
        known = ", ".join(sorted(outputs)) or "none"
        raise SystemExit(
            f"--target {name}: {path} has no output '{name}' in profile '{PROFILE}' (has: {known})"
        )
    output = dict(outputs[name])
    kind = str(output.get("type") or "duckdb")
    schema = None
    if kind == "postgres":
        base = render(str(output.get("schema") or "bench"))
        schema = f"{base}_{size}_{uuid.uuid4().hex[:6]}"
        output["schema"] = schema
        output["state_schema"] = f"{schema}_state"
    return BenchTarget(name=name, type=kind, output=output, schema=schema)


def profiles_file() -> Path | None:
    folders = [Path(os.environ["SQLFLOW_PROFILES_DIR"])] if os.environ.get("SQLFLOW_PROFILES_DIR") else []
    folders.append(Path.home() / ".sqlflow")
    for folder in folders:
        candidate = folder.expanduser() / "profiles.yml"
        if candidate.is_file():
            return candidate
    return None


def render(value: str) -> str:
    """`{{ env_var('X', 'default') }}` replaced by the environment's value.

    >>> os.environ["BENCH_DOCTEST_HOST"] = "db.local"
    >>> render("{{ env_var('BENCH_DOCTEST_HOST') }}:{{ env_var('BENCH_DOCTEST_NONE', '5432') }}")
    'db.local:5432'
    """
    return _ENV_VAR.sub(lambda m: os.environ.get(m[1], m[2] if m[2] is not None else ""), value)


# -- PostgreSQL -------------------------------------------------------------------------------------------


@contextmanager
def pg_connection(settings: Mapping[str, Any]) -> Iterator[Any]:
    import psycopg

    con = psycopg.connect(**settings, autocommit=True)
    try:
        yield con
    finally:
        con.close()


def set_aside(target: BenchTarget) -> str:
    """Rename the schema sqlflow ran in (its views move with it), so the floor starts in a fresh one."""
    assert target.schema is not None
    aside = f"{target.schema}_run"
    with pg_connection(target.connect_settings()) as con:
        con.execute(f"ALTER SCHEMA {quote(target.schema)} RENAME TO {quote(aside)}")
    return aside


def drop_schemas(target: BenchTarget) -> None:
    """Drop every schema this size made (the run's, the floor's, the state schema), CASCADE."""
    if target.schema is None:
        return
    with pg_connection(target.connect_settings()) as con:
        rows = con.execute(
            "select nspname from pg_namespace where starts_with(nspname, %s)", [target.schema]
        ).fetchall()
        for (schema,) in rows:
            con.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")


def floor_environment(target: BenchTarget) -> dict[str, str]:
    return {FLOOR_ENV: json.dumps(target.connect_settings())}


def postgres_floor_seconds(manifest_path: Path) -> tuple[float, int]:
    """Execute every model's compiled SQL in dependency order through ONE psycopg connection (autocommit),
    in the fresh schema the seeds were loaded into; the seconds from connect to close."""
    import psycopg

    settings = json.loads(os.environ[FLOOR_ENV])
    statements, models = floor_statements(manifest_path, replace=False)
    start = time.perf_counter()
    con = psycopg.connect(**settings, autocommit=True)
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return time.perf_counter() - start, models


def floor_statements(manifest_path: Path, *, replace: bool) -> tuple[list[str], int]:
    """CREATE [OR REPLACE] TABLE|VIEW "schema"."alias" AS <compiled_code> for every model of
    target/manifest.json in dependency order (CREATE SCHEMA first), ephemeral models skipped; and the
    number of models."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    models = {uid: n for uid, n in manifest["nodes"].items() if n.get("resource_type") == "model"}
    graph = {uid: [d for d in n["depends_on"]["nodes"] if d in models] for uid, n in models.items()}
    statements: list[str] = []
    schemas: set[str] = set()
    verb = "CREATE OR REPLACE" if replace else "CREATE"
    for uid in graphlib.TopologicalSorter(graph).static_order():
        node = models[uid]
        materialized = node["config"]["materialized"]
        if materialized == "ephemeral":
            continue
        kind = "VIEW" if materialized == "view" else "TABLE"
        schemas.add(node["schema"])
        sql = node["compiled_code"].strip().rstrip(";")
        statements.append(f"{verb} {kind} {quote(node['schema'])}.{quote(node['alias'])} AS\n{sql}\n")
    creates = [f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}" for schema in sorted(schemas)]
    return creates + statements, len(models)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
