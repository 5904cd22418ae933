"""`sqlflow backfill` and `sqlflow status` through the CLI, on the template project's time-range model."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sqlflow.cli.main import cli


def test_backfill_status_and_dry_run_on_the_template(shop: Path, runner: CliRunner) -> None:
    built = runner.invoke(cli, ["build"])
    assert built.exit_code == 0, built.output
    dry = runner.invoke(
        cli, ["backfill", "-s", "daily_visits", "--start", "2025-03-01", "--end", "2025-05-01", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        "daily_visits: 2 intervals",
        "  2025-03-01 00:00 .. 2025-04-01 00:00",
        "  2025-04-01 00:00 .. 2025-05-01 00:00",
    ]
    done = runner.invoke(
        cli, ["backfill", "-s", "daily_visits", "--start", "2025-03-01", "--end", "2025-04-01"]
    )
    assert done.exit_code == 0, done.output
    assert "interval daily_visits 2025-03-01 00:00 .. 2025-04-01 00:00 (9 rows" in done.output
    assert "Backfill finished" in done.output
    status = runner.invoke(cli, ["--log-format", "json", "status", "-s", "daily_visits"])
    assert status.exit_code == 0, status.output
    (doc,) = [json.loads(line) for line in status.output.splitlines()]
    assert doc["strategy"] == "time_range" and doc["batch_size"] == "month"
    assert doc["done"][0].startswith("2025-03-01 .. ") and doc["missing"] == 0
    assert doc["last_run"]["status"] == "success" and doc["last_run"]["message"].startswith(
        "TIME_RANGE 1 interval"
    )
    table = runner.invoke(cli, ["intervals"])
    assert table.exit_code == 0 and "daily_visits" in table.output and "daily_revenue" in table.output


def test_backfill_errors_are_one_line(shop: Path, runner: CliRunner) -> None:
    bad = runner.invoke(cli, ["backfill", "-s", "orders", "--start", "2025-03-01", "--end", "2025-04-01"])
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines()[-1].startswith("Error: no time-range model is selected")
    missing = runner.invoke(cli, ["backfill", "--start", "2025-03-01"])
    assert missing.exit_code == 2 and "Missing option '--end'" in missing.output
    when = runner.invoke(cli, ["backfill", "--start", "March", "--end", "2025-04-01"])
    assert when.exit_code == 1 and "--start is not a date or datetime: 'March'" in when.output
