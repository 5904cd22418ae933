"""Fixtures for the scheduler tests: a one-model project with schedules in tmp_path, and a state store on
a DuckDB file opened the way the scheduler opens it (a connection per use)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sqlflow.adapters import open_adapter
from sqlflow.project.types import Target
from sqlflow.state.store import StateStore

WriteProject = Callable[[str], Path]


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteProject:
    """Writes a project with one table model `one` and the given `schedules:` YAML; returns its folder."""
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    def write(schedules: str) -> Path:
        root = tmp_path / "tiny"
        (root / "models").mkdir(parents=True, exist_ok=True)
        (root / "models" / "one.sql").write_text("select 1 as x\n")
        (root / "sqlflow.yml").write_text(
            "name: tiny\nmodels:\n  tiny:\n    +materialized: table\n" + textwrap.dedent(schedules)
        )
        return root

    return write


@pytest.fixture
def open_store(tmp_path: Path) -> Callable[[], Iterator[StateStore]]:
    """A state store on tmp_path/state.duckdb, opened per use like the scheduler's."""
    target = Target(
        name="dev",
        profile_name="t",
        type="duckdb",
        schema="main",
        database="state",
        settings={"path": str(tmp_path / "state.duckdb")},
    )

    @contextmanager
    def opened() -> Iterator[StateStore]:
        adapter = open_adapter(target)
        try:
            yield StateStore(adapter)
        finally:
            adapter.close()

    return opened
