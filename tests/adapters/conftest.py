"""Fixtures for the adapter tests: a DuckDB target and an open adapter on a file in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlflow.adapters import Adapter, open_adapter

from .helpers import duckdb_target


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "db.duckdb"


@pytest.fixture
def adapter(db_path: Path) -> Iterator[Adapter]:
    adapter = open_adapter(duckdb_target(db_path))
    yield adapter
    adapter.close()
