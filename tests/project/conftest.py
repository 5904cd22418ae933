"""Fixtures for the project tests: write files into tmp_path, the example project copied there (`shop`), and
the user's profiles kept out."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

WriteFiles = Callable[..., Path]


@pytest.fixture(autouse=True)
def _no_user_profiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's ~/.sqlflow, ~/.dbt, $SQLFLOW_PROFILES_DIR or $DBT_PROFILES_DIR."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)


@pytest.fixture
def write(tmp_path: Path) -> WriteFiles:
    """write({"path": "text", ...}, base=...) writes dedented files under `base` (tmp_path/project)."""

    def write_files(files: Mapping[str, str], base: Path | None = None) -> Path:
        root = base or tmp_path / "project"
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        root.mkdir(parents=True, exist_ok=True)
        return root

    return write_files


@pytest.fixture
def shop(example_project: Path) -> Path:
    """The example project (tests/example_project/), copied to tmp_path/project."""
    return example_project
