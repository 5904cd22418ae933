"""`sqlflow retry` after a run killed with SIGKILL (a real subprocess) runs only what the killed run left
undone, read from the state store; a SQL error is reported, not retried; a successful last run leaves
nothing to do."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import duckdb

from tests.processes import sqlflow_process

SLOW_ORDERS = """
select o.order_id, o.customer_id, o.ordered_at, o.status, 0 as amount
from stg_orders as o
cross join (select count(*) as n from range(4000000000) as t(i) where i % 7 = 3) as slow
"""


def sqlflow(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return sqlflow_process(*args, cwd=cwd, json_log=True, stderr=subprocess.STDOUT)


def events(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def fetch(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_retry_after_a_killed_run_completes_only_what_was_missing(tmp_path: Path) -> None:
    assert sqlflow("init", "shop", cwd=tmp_path).wait(60) == 0
    project = tmp_path / "shop"
    db = project / "shop.duckdb"
    model = project / "models" / "marts" / "orders.sql"
    original = model.read_text()
    model.write_text(SLOW_ORDERS)
    build = sqlflow("build", "--threads", "1", cwd=project)
    assert build.stdout is not None
    finished_before_kill = []
    for line in build.stdout:
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("kind") == "node_finished":
            finished_before_kill.append(event["unique_id"])
        if event.get("kind") == "node_started" and event.get("name") == "orders":
            build.send_signal(signal.SIGKILL)
            break
    build.wait(30)
    assert finished_before_kill, "the run was killed before any node finished"
    killed = fetch(db, "select run_id, status from sqlflow_state.runs")
    assert [status for _, status in killed] == ["running"]

    model.write_text(original)
    again = sqlflow("retry", cwd=project)
    out, _ = again.communicate(timeout=180)
    assert again.returncode == 0, out
    ran = [e["unique_id"] for e in events(out) if e.get("kind") == "node_finished"]
    assert "model.shop.orders" in ran and "model.shop.customers" in ran
    built_before_kill = {uid for uid in finished_before_kill if not uid.startswith("test.")}
    assert built_before_kill
    assert not set(ran) & built_before_kill  # what was built before the kill is not built again
    assert fetch(db, "select count(*) from main.orders where amount > 0") == [(50,)]
    runs = fetch(db, "select status, args from sqlflow_state.runs order by started_at")
    assert [s for s, _ in runs] == ["running", "success"]
    assert json.loads(runs[1][1])["retry_of"] == killed[0][0]

    nothing = sqlflow("retry", cwd=project)
    out, _ = nothing.communicate(timeout=60)
    assert nothing.returncode == 0 and "nothing to retry" in out


def test_retry_with_no_history_is_one_clear_error(tmp_path: Path) -> None:
    assert sqlflow("init", "shop", cwd=tmp_path).wait(60) == 0
    proc = sqlflow("retry", cwd=tmp_path / "shop")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out.strip().splitlines()[-1] == "Error: there is no run to retry (the state store has no run yet)"
