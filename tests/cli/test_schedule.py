"""`sqlflow schedule --list`, `--once`, `sqlflow trigger` and their errors through the CLI, on the template
project with a `schedules:` list added."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from sqlflow.cli.main import cli

SCHEDULES = """
schedules:
  - name: nightly
    cron: "30 2 * * *"
    timezone: Europe/Berlin
    command: build
    select: +daily_visits
  - name: hourly_orders
    cron: "@hourly"
    command: run
    select: [+orders]
"""


def add_schedules(shop: Path, text: str = SCHEDULES) -> None:
    config = shop / "sqlflow.yml"
    config.write_text(config.read_text() + text)


def test_list_trigger_and_list_again(shop: Path, runner: CliRunner) -> None:
    add_schedules(shop)
    listed = runner.invoke(cli, ["schedule", "--list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0] == "nightly  30 2 * * *  (Europe/Berlin)  build --select +daily_visits"
    assert all(re.fullmatch(r"  next  \d{4}-\d\d-\d\d 02:30:00\+0[12]:00", line) for line in lines[1:6])
    assert lines[6] == "  last  never ran"
    assert lines[7] == "hourly_orders  @hourly  (UTC)  run --select +orders"

    assert runner.invoke(cli, ["build"]).exit_code == 0
    fired = runner.invoke(cli, ["trigger", "hourly_orders"])
    assert fired.exit_code == 0, fired.output
    assert re.fullmatch(
        r"OK    hourly_orders \S+ \S+\+00:00 \(manual\): \d+ success "  # a run runs no tests
        r"\(\d+\.\ds, run [0-9a-f]{32}\)\n",
        fired.output,
    )

    as_json = runner.invoke(cli, ["--log-format", "json", "schedule", "--list", "--job", "hourly_orders"])
    assert as_json.exit_code == 0, as_json.output
    (doc,) = [json.loads(line) for line in as_json.output.splitlines()]
    assert doc["job"] == "hourly_orders" and len(doc["next_ticks"]) == 5
    assert doc["last_tick"]["trigger"] == "manual" and doc["last_tick"]["status"] == "success"
    assert doc["last_tick"]["run_id"] in fired.output and doc["running"] == 0


def test_once_fires_each_job_once(shop: Path, runner: CliRunner) -> None:
    add_schedules(shop)
    assert runner.invoke(cli, ["build"]).exit_code == 0  # hourly_orders runs models on built tables
    once = runner.invoke(cli, ["--log-format", "json", "schedule", "--once"])
    assert once.exit_code == 0, once.output
    docs = [json.loads(line) for line in once.output.splitlines()]
    finished = {d["job"]: d for d in docs if d["kind"] == "tick_finished"}
    assert set(finished) == {"nightly", "hourly_orders"}
    assert finished["nightly"]["status"] == "success", finished["nightly"]
    assert finished["nightly"]["tick"].endswith(("00:30:00+00:00", "01:30:00+00:00"))  # 02:30 in Berlin
    assert docs[-1] == {"kind": "stopped", "message": "2 fired, 0 failed, 0 skipped"}
    again = runner.invoke(cli, ["schedule", "--once", "--job", "nightly"])
    assert again.exit_code == 0, again.output
    assert "OK" not in again.output  # nothing due any more


def test_a_failed_tick_fails_once_and_trigger(shop: Path, runner: CliRunner) -> None:
    add_schedules(
        shop, '\nschedules:\n  - name: broken\n    cron: "@daily"\n    command: run\n    select: orders\n'
    )
    # a model that cannot build: the tick fails
    (shop / "models" / "marts" / "orders.sql").write_text("select * from no_such_table\n")
    once = runner.invoke(cli, ["schedule", "--once"])
    assert once.exit_code == 1, once.output
    assert re.search(r"ERROR broken \S+ 00:00:00\+00:00: .*first failure: orders", once.output)
    trigger = runner.invoke(cli, ["trigger", "broken"])
    assert trigger.exit_code == 1
    assert "(manual)" in trigger.output


def test_errors(shop: Path, runner: CliRunner) -> None:
    none = runner.invoke(cli, ["schedule"])
    assert none.exit_code == 1
    assert "Error: sqlflow.yml declares no schedules (add a 'schedules:' list" in none.output

    add_schedules(shop)
    unknown = runner.invoke(cli, ["trigger", "nigthly"])
    assert unknown.exit_code == 2
    assert "Error: no schedule named 'nigthly' (did you mean 'nightly'?)" in unknown.output
    bad_grace = runner.invoke(cli, ["schedule", "--grace", "soon"])
    assert bad_grace.exit_code == 2 and "'soon': write a number of seconds" in bad_grace.output

    config = shop / "sqlflow.yml"
    line = config.read_text().splitlines().index("    timezone: Europe/Berlin") + 1
    config.write_text(config.read_text().replace("Europe/Berlin", "Europe/Berln"))
    bad = runner.invoke(cli, ["schedule", "--list"])
    assert bad.exit_code == 1
    assert bad.output.startswith(
        f"Error: sqlflow.yml:{line}: unknown time zone 'Europe/Berln' in schedule 'nightly'"
    )
