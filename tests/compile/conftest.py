"""Fixtures for the compile tests: small projects written as real files into tmp_path, compiled through
`load_project` and `compile_project`, and golden files for compiled SQL (`pytest --update-golden`)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from sqlflow.compile import compile_project
from sqlflow.manifest import Manifest
from sqlflow.project import Project, load_project
from tests.example import example_files

GOLDEN = Path(__file__).parent / "golden"

SHOP: dict[str, str] = example_files()  # the example project (tests/example_project/), to write and extend

WriteProject = Callable[..., Path]
CompileFiles = Callable[..., Manifest]


@pytest.fixture(autouse=True)
def _no_user_profiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's ~/.sqlflow or $SQLFLOW_PROFILES_DIR."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)


@pytest.fixture
def write(tmp_path: Path) -> WriteProject:
    """write({"path": "text", ...}) writes dedented files under tmp_path/project (sqlflow.yml by default)."""

    def write_files(files: Mapping[str, str], *, base: Path | None = None) -> Path:
        root = base or tmp_path / "project"
        if not (root / "sqlflow.yml").exists() and "sqlflow.yml" not in files:
            files = {"sqlflow.yml": "name: shop\n", **files}
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return write_files


@pytest.fixture
def project_of(write: WriteProject) -> Callable[..., Project]:
    def load(files: Mapping[str, str]) -> Project:
        return load_project(write(files))

    return load


@pytest.fixture
def compile_files(write: WriteProject) -> CompileFiles:
    """compile_files({"models/a.sql": "..."}, target_dialect="duckdb", **compile_project kwargs)."""

    def run(files: Mapping[str, str], *, target_dialect: str = "duckdb", **kwargs: Any) -> Manifest:
        return compile_project(load_project(write(files)), target_dialect=target_dialect, **kwargs)

    return run


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """golden("name.sql", text): compare with tests/compile/golden/name.sql (rewritten by --update-golden)."""
    update = bool(request.config.getoption("--update-golden", default=False))

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        content = text.rstrip("\n") + "\n"
        if update or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            if not update:
                pytest.fail(f"{path.name} did not exist; written now, review it and run again")
        assert content == path.read_text(encoding="utf-8"), f"compiled SQL differs from {path}"

    return check
