"""Builders for the adapter tests."""

from __future__ import annotations

from pathlib import Path

from sqlflow.project.types import Target


def duckdb_target(path: Path | str, **settings: object) -> Target:
    return Target(
        name="dev",
        profile_name="test",
        type="duckdb",
        schema="main",
        database="db",
        settings={"path": str(path), **settings},
    )
