"""What a contract test gets for one engine: a project folder whose profiles.yml points at that engine, and
ways to run sqlflow on it and to query the result.

DuckDB: a database file in tmp_path, schema `main`. PostgreSQL (the server of `tests/postgres.py`, which
also decides whether a test is skipped or failed without it): a schema `t_<uuid8>` and a state schema
`t_<uuid8>_state` of its own per test, dropped (CASCADE) afterwards with every other schema starting with
that prefix (audit schemas, custom ones).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlflow import api
from sqlflow.adapters import Adapter, open_adapter
from sqlflow.project.types import Target
from tests import postgres

ENGINES = ("duckdb", "postgres")
PROJECT = "contract"


def pg_target(schema: str, **extra: Any) -> Target:
    return postgres.target(schema, profile=PROJECT, **extra)


@dataclass
class Engine:
    """One engine's side of a contract test."""

    name: str  # "duckdb" | "postgres"
    root: Path  # the project folder
    schema: str
    state_schema: str
    _admin: Adapter | None = field(default=None, repr=False)

    # -- setup ---------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, name: str, tmp_path: Path) -> Engine:
        root = tmp_path / PROJECT
        root.mkdir(parents=True)
        if name == "duckdb":
            engine = cls(name, root, "main", "sqlflow_state")
        else:
            prefix = postgres.fresh_schema()
            engine = cls(name, root, prefix, f"{prefix}_state")
        engine.write_profiles()
        engine.write({"sqlflow.yml": f"name: {PROJECT}\nprofile: {PROJECT}\n"})
        return engine

    @property
    def is_pg(self) -> bool:
        return self.name == "postgres"

    @property
    def target_name(self) -> str:
        return "pg" if self.is_pg else "dev"

    def output(self) -> dict[str, Any]:
        """The profiles.yml output of this engine."""
        if self.is_pg:
            return {
                "type": "postgres",
                **postgres.settings(),
                "dbname": postgres.DBNAME,
                "schema": self.schema,
                "threads": 4,
                "state_schema": self.state_schema,
            }
        return {"type": "duckdb", "path": str(self.root / "db.duckdb"), "schema": self.schema, "threads": 4}

    def write_profiles(self, **extra: Any) -> None:
        import yaml

        output = {**self.output(), **extra}
        doc = {PROJECT: {"target": self.target_name, "outputs": {self.target_name: output}}}
        (self.root / "profiles.yml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def target(self) -> Target:
        if self.is_pg:
            return pg_target(self.schema)
        return Target(
            name="dev",
            profile_name=PROJECT,
            type="duckdb",
            schema=self.schema,
            database="db",
            settings={"path": str(self.root / "db.duckdb")},
        )

    def write(self, files: Mapping[str, str]) -> None:
        """Write project files (dedented), relative to the project folder."""
        for rel, text in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))

    # -- running -------------------------------------------------------------------------------------------

    def options(self, **vars: Any) -> api.Options:
        return api.Options(project_dir=self.root, target=self.target_name, vars=vars)

    def run(self, command: str = "build", *, vars: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """api.run(command, ...) on this engine; the RunOutcome."""
        return api.run(command, self.options(**dict(vars or {})), **kwargs)  # type: ignore[arg-type]

    def backfill(self, start: str, end: str, **kwargs: Any) -> Any:
        return api.backfill(self.options(), start=start, end=end, **kwargs)

    # -- querying ------------------------------------------------------------------------------------------

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of `sql`. DuckDB: a connection of its own, closed at once (the file is free for sqlflow);
        PostgreSQL: one connection kept for the test."""
        if self.is_pg:
            if self._admin is None:
                self._admin = open_adapter(self.target())
            return self._admin.fetch(sql)[1]
        adapter = open_adapter(self.target())
        try:
            return adapter.fetch(sql)[1]
        finally:
            adapter.close()

    def execute(self, sql: str) -> None:
        if self.is_pg:
            if self._admin is None:
                self._admin = open_adapter(self.target())
            self._admin.execute(sql)
            return
        adapter = open_adapter(self.target())
        try:
            adapter.execute(sql)
        finally:
            adapter.close()

    def rel(self, name: str, schema: str | None = None) -> str:
        """ "schema"."name", quoted for either engine."""
        return f'"{schema or self.schema}"."{name}"'

    def rows(self, name: str, columns: str = "*", order: str = "1") -> list[tuple[Any, ...]]:
        return [
            tuple(plain(v) for v in row)
            for row in self.query(f"select {columns} from {self.rel(name)} order by {order}")
        ]

    def count(self, name: str, schema: str | None = None) -> int:
        return int(self.query(f"select count(*) from {self.rel(name, schema)}")[0][0])

    def kind(self, name: str) -> str | None:
        """ "table", "view" or None."""
        adapter = self._admin if self.is_pg else None
        opened = adapter is None
        adapter = adapter or open_adapter(self.target())
        try:
            from sqlflow.manifest import Relation

            return adapter.relation_type(Relation(database=None, schema=self.schema, identifier=name))
        finally:
            if opened:
                adapter.close()

    def columns(self, name: str) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "select column_name from information_schema.columns "
                f"where table_schema = '{self.schema}' and table_name = '{name}' order by ordinal_position"
            )
        ]

    # -- teardown ------------------------------------------------------------------------------------------

    def drop(self) -> None:
        """PostgreSQL: drop every schema of this test (its prefix), CASCADE."""
        if not self.is_pg:
            return
        if self._admin is None:
            self._admin = open_adapter(self.target())
        schemas = [
            r[0]
            for r in self._admin.fetch(
                f"select nspname from pg_namespace where nspname like '{self.schema}%'"
            )[1]
        ]
        for schema in schemas:
            self._admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.close()

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None


def plain(value: Any) -> Any:
    """A value as both engines can be compared on: Decimal -> float, aware datetimes -> naive UTC."""
    import decimal

    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        from datetime import UTC

        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def statuses(outcome: Any) -> dict[str, str]:
    """name -> status of every node of a run."""
    return {r.name: r.status for r in outcome.result.results}


def messages(outcome: Any) -> dict[str, str | None]:
    return {r.name: r.message for r in outcome.result.results}


def names(rows: Sequence[tuple[Any, ...]]) -> list[Any]:
    return [r[0] for r in rows]
