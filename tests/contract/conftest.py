"""The adapter contract suite's fixtures: `engine` runs each test once per engine (ids `duckdb` and
`postgres`), `adapter` is an open adapter on it.

The postgres half needs the server of tests/postgres.py (127.0.0.1:5432, trust auth, user postgres, database
test): without one it is skipped, saying so; with SQLFLOW_REQUIRE_POSTGRES=1 (CI) it fails instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlflow.adapters import Adapter, open_adapter
from sqlflow.adapters.sql import create_schema
from tests.postgres import need_postgres

from .engines import ENGINES, Engine


@pytest.fixture(params=ENGINES)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    if request.param == "postgres":
        need_postgres()
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.sqlflow/profiles.yml of the machine
    engine = Engine.create(request.param, tmp_path)
    try:
        yield engine
    finally:
        engine.drop()


@pytest.fixture
def postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The postgres engine alone, for what only a server can show (a terminated backend)."""
    need_postgres()
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    engine = Engine.create("postgres", tmp_path)
    try:
        yield engine
    finally:
        engine.drop()


@pytest.fixture
def adapter(engine: Engine) -> Iterator[Adapter]:
    """An open adapter on the engine, its schema created."""
    adapter = open_adapter(engine.target())
    adapter.execute(create_schema(engine.schema, adapter.dialect))
    try:
        yield adapter
    finally:
        adapter.close()
