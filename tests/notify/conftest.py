"""Fixtures for the alert and metrics tests: the template project in tmp_path, a real SMTP server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlflow.api import template_dir

from .helpers import SmtpServer


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The template project, copied into tmp_path and made the current folder."""
    dest = tmp_path / "shop"
    shutil.copytree(template_dir(), dest, ignore=shutil.ignore_patterns("target", "*.duckdb*"))
    monkeypatch.chdir(dest)
    monkeypatch.delenv("SQLFLOW_PROFILES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return dest


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server
