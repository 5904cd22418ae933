"""Fixtures for the CLI tests: the template project copied to tmp_path, and a CliRunner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sqlflow.api import template_dir


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The template project, copied into tmp_path and made the current folder."""
    dest = tmp_path / "shop"
    shutil.copytree(template_dir(), dest)
    monkeypatch.chdir(dest)
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.sqlflow or ~/.dbt profiles.yml of the machine
    return dest


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
