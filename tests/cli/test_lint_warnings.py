"""Compile warnings through click's runner: one yellow line each on stderr, or JSON lines; and the columns an
incremental model's schema change touched, named in the run output and run_results.json."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sqlflow.cli.main import cli

EVENTS = """\
{{ config(materialized='incremental', unique_key='event_id') }}
select order_id as event_id, status from {{ ref('orders') }}
"""
WARNINGS = [
    "warning: models/marts/events.sql:1: unique_key 'event_id' of events may be null: rows with a null key "
    "are never matched and pile up (add a not_null test on events.event_id)",
    "warning: models/marts/events.sql:1: incremental model events never filters its input (no "
    "is_incremental() block): every run re-reads everything (add {% if is_incremental() %} where ... > "
    "(select max(...) from {{ this }}) {% endif %})",
]


def invoke(runner: CliRunner, *args: str):
    return runner.invoke(cli, ["--no-color", *args], catch_exceptions=False, env={"COLUMNS": "300"})


def test_the_template_compiles_without_warnings(shop: Path, runner: CliRunner) -> None:
    result = invoke(runner, "compile")
    assert result.exit_code == 0 and result.stderr == ""


def test_compile_run_and_build_print_each_warning_once(shop: Path, runner: CliRunner) -> None:
    (shop / "models" / "marts" / "events.sql").write_text(EVENTS)
    for command in ("compile", "build", "run"):  # run after build: the seeds are loaded
        result = invoke(runner, command)
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines() == WARNINGS, command
        assert "warning:" not in result.stdout


def test_json_warnings(shop: Path, runner: CliRunner) -> None:
    (shop / "models" / "marts" / "events.sql").write_text(EVENTS)
    assert invoke(runner, "build").exit_code == 0
    result = invoke(runner, "--log-format", "json", "run", "--select", "events")
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    warnings = [d for d in docs if d.get("kind") == "warning"]
    assert warnings[0] == {
        "kind": "warning",
        "message": "unique_key 'event_id' of events may be null: rows with a null key are never matched "
        "and pile up",
        "path": "models/marts/events.sql",
        "line": 1,
        "hint": "add a not_null test on events.event_id",
    }
    assert len(warnings) == 2 and result.stderr == ""


def test_a_schema_change_is_named_in_the_output_and_run_results(shop: Path, runner: CliRunner) -> None:
    assert invoke(runner, "build").exit_code == 0
    model = shop / "models" / "marts" / "daily_revenue.sql"
    text = model.read_text()
    model.write_text(
        text.replace(
            "{{ config(materialized='incremental', unique_key='ordered_at') }}",
            "{{ config("
            "materialized='incremental', unique_key='ordered_at', on_schema_change='sync_all_columns') }}",
        ).replace("count(*) as orders,", "count(*) as order_count,")
    )
    result = invoke(runner, "run", "--select", "daily_revenue")
    assert result.exit_code == 0, result.output
    assert "(added: order_count; dropped: orders)" in result.stdout
    doc = json.loads((shop / "target" / "run_results.json").read_text())
    [message] = [r["message"] for r in doc["results"] if r["unique_id"] == "model.shop.daily_revenue"]
    assert message.startswith("MERGE ") and message.endswith(" (added: order_count; dropped: orders)")
