"""`sqlflow source freshness` on a real DuckDB file: fresh, stale (warn) and stale (error) sources."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from click.testing import CliRunner

from sqlflow.cli.main import cli

SOURCES = """
version: 2
sources:
  - name: loader
    schema: landing
    tables:
      - name: fresh_events
        loaded_at_field: loaded_at
        freshness: {warn_after: {count: 1, period: hour}, error_after: {count: 1, period: day}}
      - name: late_events
        loaded_at_field: loaded_at
        freshness: {warn_after: {count: 1, period: hour}, error_after: {count: 1, period: day}}
      - name: dead_events
        loaded_at_field: loaded_at
        freshness: {warn_after: {count: 1, period: hour}, error_after: {count: 1, period: day}}
      - name: no_freshness
"""


def test_source_freshness_reports_each_source(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "sqlflow.yml").write_text("name: fr\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "sources.yml").write_text(SOURCES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    with duckdb.connect(str(tmp_path / "fr.duckdb")) as con:
        con.execute("create schema landing")
        for name, age in (
            ("fresh_events", "5 minutes"),
            ("late_events", "3 hours"),
            ("dead_events", "3 days"),
        ):
            con.execute(
                f"create table landing.{name} as select now()::timestamptz - interval '{age}' as loaded_at"
            )
    result = CliRunner().invoke(cli, ["--no-color", "source", "freshness"], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    lines = {
        line.split()[1].rstrip(":"): line.split()[0] for line in result.output.splitlines() if ":" in line
    }
    assert lines == {
        "loader.fresh_events": "PASS",
        "loader.late_events": "WARN",
        "loader.dead_events": "ERROR",
    }
    doc = json.loads((tmp_path / "target" / "sources.json").read_text())
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in doc["results"]}
    assert statuses == {"fresh_events": "pass", "late_events": "warn", "dead_events": "error"}

    result = CliRunner().invoke(cli, ["source", "freshness", "-s", "source:loader.fresh_events"])
    assert result.exit_code == 0, result.output
