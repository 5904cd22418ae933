"""Fixtures for the state tests: a DuckDB adapter on a file in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlflow.adapters import Adapter, open_adapter
from sqlflow.project.types import Target


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[Adapter]:
    path = tmp_path / "state.duckdb"
    target = Target(
        name="dev",
        profile_name="shop",
        type="duckdb",
        schema="main",
        database="state",
        settings={"path": str(path)},
    )
    adapter = open_adapter(target)
    yield adapter
    adapter.close()
