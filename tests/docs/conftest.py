"""Fixtures for the docs tests: the template project, built once per module (seeds, models, tests and the
state store on a real DuckDB file), and a way to run `sqlflow` in it as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlflow.api import template_dir


def sqlflow_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "HOME": str(home), "NO_COLOR": "1"}
    env.pop("SQLFLOW_PROFILES_DIR", None)
    env.pop("SQLFLOW_PROJECT_DIR", None)
    return env


def run_sqlflow(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlflow", *args],
        cwd=cwd,
        env=sqlflow_env(cwd.parent),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def copy_template(dest: Path) -> Path:
    shutil.copytree(template_dir(), dest, ignore=shutil.ignore_patterns("target", "*.duckdb*"))
    return dest


@pytest.fixture(scope="module")
def built_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The template project after `sqlflow build` and `sqlflow docs generate` (shared by a module's tests:
    they only read it)."""
    project = copy_template(tmp_path_factory.mktemp("docs") / "shop")
    done = run_sqlflow("build", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    done = run_sqlflow("docs", "generate", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    yield project
