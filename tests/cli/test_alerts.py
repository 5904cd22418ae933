"""Alerts and --metrics-file through the CLI: notices are warning lines, config errors name file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from sqlflow.cli.main import cli


def invoke(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--no-color", *args], catch_exceptions=False, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def notifications(shop: Path, block: str) -> None:
    config = shop / "sqlflow.yml"
    config.write_text(config.read_text() + "\nnotifications:\n" + block)


@pytest.mark.parametrize("command", ["run", "seed", "test", "build", "snapshot"])
def test_metrics_file_option(runner: CliRunner, command: str) -> None:
    code, out = invoke(runner, command, "--help")
    assert code == 0 and "--metrics-file" in out


def test_build_writes_the_metrics_file(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "build", "--metrics-file", "metrics/sqlflow.prom")
    assert code == 0, out
    doc = json.loads((shop / "target" / "run_results.json").read_text())
    families = {
        f.name: f for f in text_string_to_metric_families((shop / "metrics" / "sqlflow.prom").read_text())
    }
    nodes = sum(s.value for s in families["sqlflow_nodes"].samples if s.name == "sqlflow_nodes_total")
    assert nodes == len(doc["results"])
    (run,) = [s for s in families["sqlflow_runs"].samples if s.name == "sqlflow_runs_total"]
    assert run.labels == {"command": "build", "status": "success"} and run.value == 1


def test_an_alert_not_sent_is_a_warning_line(shop: Path, runner: CliRunner) -> None:
    notifications(
        shop, "  channels:\n    - {type: webhook, url: 'http://127.0.0.1:9/hook', events: [run_failed]}\n"
    )
    (shop / "models" / "marts" / "orders.sql").write_text("select cast('x' as integer) as amount")
    code, out = invoke(runner, "run", "--select", "orders")
    assert code == 1  # the model failed; the alert only warns
    assert "Warning: run_failed alert not sent to 'webhook' (webhook): cannot reach http://127.0.0.1:9" in out


def test_alert_warnings_as_json_lines(shop: Path, runner: CliRunner) -> None:
    notifications(
        shop,
        "  sla: 0.001\n  channels:\n    - {type: slack, url: 'http://127.0.0.1:9/x', events: [sla_missed]}\n",
    )
    code, out = invoke(runner, "--log-format", "json", "seed")
    assert code == 0, out
    warnings = [json.loads(line) for line in out.splitlines() if line.startswith('{"kind": "warning"')]
    assert [w["message"].split(":")[0] for w in warnings] == ["sla_missed alert not sent to 'slack' (slack)"]


def test_a_notifications_error_names_the_line(shop: Path, runner: CliRunner) -> None:
    notifications(
        shop,
        "  channels:\n    - type: slack\n      url: https://hooks.example.com/x\n      events: [run_faild]\n",
    )
    line = (shop / "sqlflow.yml").read_text().splitlines().index("notifications:") + 5
    code, out = invoke(runner, "build")
    assert code == 1
    assert f"sqlflow.yml:{line}: unknown event 'run_faild' of channel 'slack'" in out
