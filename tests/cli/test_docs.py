"""`sqlflow lineage` and `sqlflow docs generate|serve` on the template project: through click's runner, and
the server as a real process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from sqlflow.cli.main import cli


def invoke(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["--no-color", *args], catch_exceptions=False, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_lineage_through_a_cte_and_a_join(shop: Path, runner: CliRunner) -> None:
    """customers.lifetime_value is sum(amount) in the CTE customer_orders, left-joined to stg_customers;
    orders.amount is coalesce(p.total_amount, 0) from the CTE payments (select * of the ephemeral
    order_payments) joined to stg_orders."""
    code, out = invoke(runner, "lineage", "customers.lifetime_value")
    assert code == 0, out
    assert out.splitlines() == [
        "customers.lifetime_value",
        "└── orders.amount",
        "    └── order_payments.total_amount",
        "        └── stg_payments.amount",
        "            └── raw_payments.amount_cents",
    ]


def test_lineage_of_a_joined_column_as_json(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "lineage", "customers.first_order_at", "-o", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["direction"] == "upstream"
    assert [(e["depth"], e["source"]) for e in doc["edges"]] == [
        (1, ["model.shop.orders", "ordered_at"]),
        (2, ["model.shop.stg_orders", "ordered_at"]),
        (3, ["seed.shop.raw_orders", "ordered_at"]),
    ]


def test_lineage_downstream(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "lineage", "stg_payments.amount", "--downstream")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "stg_payments.amount"
    for column in (
        "order_payments.total_amount",
        "orders.amount",
        "customers.lifetime_value",
        "daily_revenue.revenue",
    ):
        assert any(line.endswith(column) for line in lines), (column, out)
    assert not any("order_id" in line for line in lines)
    code, out = invoke(runner, "lineage", "stg_payments.amount", "--downstream", "--depth", "1")
    assert code == 0 and len(out.splitlines()) == 6  # the column and the five order_payments sums


def test_lineage_of_a_root_column(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "lineage", "raw_orders.status")
    assert code == 0, out
    assert "raw_orders.status derives from no other column" in out


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("orders.amont", "orders has no column 'amont' (did you mean 'amount'?)"),
        ("ordrs.amount", "no model, seed, snapshot or source named 'ordrs' (did you mean 'orders'"),
        ("orders", "'orders' does not name a column"),
    ],
)
def test_lineage_errors(shop: Path, runner: CliRunner, column: str, message: str) -> None:
    result = runner.invoke(cli, ["--no-color", "lineage", column])
    assert result.exit_code == 2
    assert message in result.output


def test_docs_generate(shop: Path, runner: CliRunner) -> None:
    code, out = invoke(runner, "docs", "generate")
    assert code == 0, out
    assert re.search(r"Wrote the docs of \d+ nodes .* to .*target/docs in", out)
    assert (shop / "target" / "docs" / "index.html").exists()
    code, out = invoke(runner, "docs", "generate", "--out", "site")
    assert code == 0 and (shop / "site" / "data" / "index.js").exists()


def _start_server(shop: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "HOME": str(shop.parent), "NO_COLOR": "1"}
    env.pop("SQLFLOW_PROFILES_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sqlflow", "docs", "serve", "--port", "0", *args],
        cwd=shop,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(20):
        line = proc.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        if match:
            return proc, match.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"the server did not start: {proc.stderr.read() if proc.stderr else ''}")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_docs_serve_on_localhost_and_watch(shop: Path) -> None:
    proc, url = _start_server(shop, "--watch")
    try:
        page = _get(url)
        assert "<title>shop · sqlflow docs</title>" in page
        assert "cytoscape" in _get(url + "static/vendor/cytoscape.min.js")[:2000].lower()
        first = _get(url + "data/index.js")
        assert '"project":"shop"' in first
        # a change to a property file is picked up and the site regenerated
        schema = shop / "models" / "marts" / "schema.yml"
        schema.write_text(schema.read_text().replace("One row per order,", "Every order,"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            details = "".join(_get(url + f"nodes/{i}.js") for i in range(1))
            if "Every order," in details:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the site was not regenerated after the change")
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # waits, and closes the pipes


def test_docs_serve_refuses_a_busy_port(shop: Path, runner: CliRunner, local_server: type) -> None:
    with local_server() as busy:
        port = busy.httpd.server_address[1]
        result = runner.invoke(cli, ["--no-color", "docs", "serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.output
