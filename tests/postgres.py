"""The PostgreSQL server of the tests and the one rule for its absence, used by every test that needs it.

The server: 127.0.0.1:5432, trust auth, user `postgres`, database `test`. Without it (or without psycopg) a
test that needs it is skipped, saying why; with SQLFLOW_REQUIRE_POSTGRES=1 (CI) it fails instead, so a
broken server never passes as a skip. Each test works in a schema of its own (`fresh_schema()`), dropped
afterwards with every schema of that prefix (`drop_schemas`).
"""

from __future__ import annotations

import os
import uuid
from types import ModuleType
from typing import Any, NoReturn

import pytest

from sqlflow.adapters import open_adapter
from sqlflow.errors import SqlflowError
from sqlflow.project.types import Target

HOST, PORT, USER, DBNAME = "127.0.0.1", 5432, "postgres", "test"
DSN = f"host={HOST} port={PORT} user={USER} dbname={DBNAME} connect_timeout=5"
REQUIRE_ENV = "SQLFLOW_REQUIRE_POSTGRES"

_probe: list[str | None] = []  # why the server cannot be used (None: it can), asked once a session


def missing(reason: str) -> NoReturn:
    """Skip the calling test for `reason`, or fail it when SQLFLOW_REQUIRE_POSTGRES=1."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 requires it)", pytrace=False)
    pytest.skip(reason)


def need_psycopg() -> ModuleType:
    """The psycopg module, for a test that needs the driver but not a server."""
    try:
        import psycopg
    except ImportError as exc:
        missing(f"psycopg is not installed: {exc}")
    return psycopg


def settings(**extra: Any) -> dict[str, Any]:
    """The connection settings of a target (or a profiles.yml output) on the test server."""
    return {"host": HOST, "port": PORT, "user": USER, "connect_timeout": 5, **extra}


def target(schema: str, *, profile: str = "shop", name: str = "pg", **extra: Any) -> Target:
    """A postgres target on the test server, in `schema`."""
    return Target(
        name=name,
        profile_name=profile,
        type="postgres",
        schema=schema,
        database=DBNAME,
        settings=settings(**extra),
    )


def output(schema: str, **extra: Any) -> dict[str, Any]:
    """A profiles.yml output on the test server: `schema`, and its state in `<schema>_state`."""
    return {
        "type": "postgres",
        **settings(),
        "dbname": DBNAME,
        "schema": schema,
        "state_schema": f"{schema}_state",
        **extra,
    }


def profiles_yml(profile: str, schema: str, *, target_name: str = "pg", **extra: Any) -> str:
    """A profiles.yml whose profile `profile` targets the test server (`output`) by default."""
    import yaml

    doc = {profile: {"target": target_name, "outputs": {target_name: output(schema, **extra)}}}
    return yaml.safe_dump(doc, sort_keys=False)


def unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when the server answers."""
    if not _probe:
        try:
            open_adapter(target("public")).close()  # a SqlflowError too when psycopg is not installed
        except SqlflowError as exc:
            _probe.append(f"PostgreSQL not reachable at {HOST}:{PORT}: {exc}")
        else:
            _probe.append(None)
    return _probe[0]


def need_postgres() -> None:
    """Skip (or, with SQLFLOW_REQUIRE_POSTGRES=1, fail) the calling test when the server is unavailable."""
    reason = unavailable()
    if reason is not None:
        missing(reason)


def fresh_schema() -> str:
    """A schema name no other test uses: `t_<8 hex>`."""
    return f"t_{uuid.uuid4().hex[:8]}"


def drop_schemas(prefix: str) -> None:
    """Drop (CASCADE) every schema whose name starts with `prefix`: a test's own, its state and audit ones."""
    adapter = open_adapter(target("public"))
    try:
        _, rows = adapter.fetch(f"select nspname from pg_namespace where starts_with(nspname, '{prefix}')")
        for (schema,) in rows:
            adapter.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        adapter.close()
