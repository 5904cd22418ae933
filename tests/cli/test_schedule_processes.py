"""`sqlflow schedule` as real processes in real (short) time, on second-level crons: two schedulers on one
DuckDB file (or PostgreSQL store) fire every tick exactly once between them (their exact counts on a clock
the test moves: tests/schedule/test_loop.py); SIGTERM lets the running node finish and exits 0;
after the grace period a running query is interrupted and the scheduler still exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests import postgres
from tests.processes import JsonLines, sqlflow_process

pytestmark = pytest.mark.slow


def project(root: Path, schedules: str, model: str = "select 1 as x") -> Path:
    (root / "models").mkdir(parents=True)
    (root / "models" / "one.sql").write_text(model + "\n")
    (root / "sqlflow.yml").write_text(
        "name: tiny\nmodels:\n  tiny:\n    +materialized: table\n" + textwrap.dedent(schedules)
    )
    return root


def sqlflow(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return sqlflow_process(*args, cwd=cwd, json_log=True, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout)
    assert code == 0, proc.stderr.read() if proc.stderr else ""
    return code


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


EVERY_2S = """\
    schedules:
      - name: every2s
        cron: "* * * * * */2"
        catchup: true
        overlap: queue  # a run waiting for the other process's lock on the file must not make ticks skip
    """


def run_two_schedulers(root: Path, ticks: int = 4) -> tuple[JsonLines, JsonLines]:
    """Two `sqlflow schedule` processes on one project, stopped once `ticks` ticks have finished between
    them (counted from their events, not by filling a window of wall time)."""
    first = sqlflow("schedule", cwd=root)
    lines = [JsonLines(first)]
    lines[0].wait_for("scheduler_started")  # its state schema is there; from now on both race for each tick
    second = sqlflow("schedule", cwd=root)
    lines.append(JsonLines(second))
    try:
        lines[1].wait_for("scheduler_started")
        finished = 0
        for _ in range(1200):  # a hang guard (2 minutes), not a measure
            finished = sum(out.count("tick_finished") for out in lines)
            if finished >= ticks:
                break
            time.sleep(0.1)
        assert finished >= ticks, [out.docs for out in lines]
    finally:
        for proc in (first, second):
            stop(proc)
    return lines[0], lines[1]


def check_each_tick_once(
    lines: tuple[JsonLines, JsonLines], ledger: list[tuple[Any, ...]], runs: list[tuple[Any, ...]]
) -> None:
    """`ledger`: (tick, status, run_id) rows of schedule_ticks; `runs`: (run_id, started_at) rows of runs."""
    fired = [{d["tick"] for d in out.of("tick_finished")} for out in lines]
    assert not fired[0] & fired[1], "a tick fired in both schedulers"
    failed = [d for out in lines for d in out.of("tick_finished") if d["status"] != "success"]
    assert not failed
    ticks = sorted(tick.astimezone(UTC) for tick, _, _ in ledger)
    assert {t.isoformat() for t in ticks} == fired[0] | fired[1]
    assert len(ticks) >= 4
    # every tick from the first to the last, none missed (catchup) and none twice (the unique key)
    assert ticks == [ticks[0] + timedelta(seconds=2 * i) for i in range(len(ticks))]
    assert sorted(r for r, _ in runs) == sorted(r for _, _, r in ledger)  # one run per tick
    assert sorted(s.astimezone(UTC) for _, s in runs) == ticks  # each run as of its tick


def test_two_schedulers_on_one_duckdb_file_fire_each_tick_once(tmp_path: Path) -> None:
    root = project(tmp_path / "tiny", EVERY_2S)
    lines = run_two_schedulers(root)
    db = root / "tiny.duckdb"
    ledger = query(db, 'select "tick", "status", "run_id" from sqlflow_state.schedule_ticks')
    check_each_tick_once(lines, ledger, query(db, 'select "run_id", "started_at" from sqlflow_state.runs'))


def test_two_schedulers_on_one_postgres_store_fire_each_tick_once(tmp_path: Path, pg_schema: str) -> None:
    root = project(tmp_path / "tiny", "profile: tiny\n" + textwrap.dedent(EVERY_2S))
    (root / "profiles.yml").write_text(postgres.profiles_yml("tiny", pg_schema))
    lines = run_two_schedulers(root)
    with postgres.need_psycopg().connect(postgres.DSN) as con:
        ledger = con.execute(
            f'select "tick", "status", "run_id" from {pg_schema}_state.schedule_ticks'
        ).fetchall()
        runs = con.execute(f'select "run_id", "started_at" from {pg_schema}_state.runs').fetchall()
    check_each_tick_once(lines, ledger, runs)


def test_sigterm_lets_the_running_node_finish_and_exits_0(tmp_path: Path) -> None:
    root = project(
        tmp_path / "tiny",
        """\
        schedules:
          - name: piped
            cron: "* * * * * */2"
        """,
        # the query waits until the test writes into the pipe: the node is running for as long as we like
        model="select * from read_csv('landing/pipe.csv', header = true)",
    )
    (root / "landing").mkdir()
    os.mkfifo(root / "landing" / "pipe.csv")
    proc = sqlflow("schedule", "--grace", "60s", cwd=root)
    out = JsonLines(proc)
    started = out.wait_for("tick_started")
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out.wait_for("stopping")
    assert proc.poll() is None  # waiting for the run
    with open(root / "landing" / "pipe.csv", "w") as pipe:  # let the node finish
        pipe.write("x\n1\n2\n")
    assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
    (finished,) = [d for d in out.of("tick_finished") if d["tick"] == started["tick"]]
    assert finished["status"] == "success"
    assert query(root / "tiny.duckdb", "select count(*) from main.one") == [(2,)]
    statuses = query(
        root / "tiny.duckdb", 'select "status", count(*) from sqlflow_state.schedule_ticks group by 1'
    )
    assert dict(statuses).get("success") == 1  # nothing was claimed to run after SIGTERM
    assert "running" not in dict(statuses)
    assert out.of("stopped")


def test_after_the_grace_period_the_run_is_interrupted(tmp_path: Path) -> None:
    root = project(
        tmp_path / "tiny",
        """\
        schedules:
          - name: endless
            cron: "* * * * * */2"
        """,
        model="select count(*) as n from range(1000000000000) as t(i) where i % 7 = 3",
    )
    proc = sqlflow("schedule", "--grace", "1s", cwd=root)
    out = JsonLines(proc)
    started = out.wait_for("tick_started")
    time.sleep(1.5)  # the query is running now
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
    # the grace period ran out and the scheduler interrupted the query (the query alone runs for hours)
    assert "waiting up to 1s for 1 running run(s): endless" in out.of("stopping")[0]["message"]
    assert "interrupting 1 run(s)" in [d["message"] for d in out.of("warning")]
    (finished,) = out.of("tick_finished")
    assert (finished["tick"], finished["status"]) == (started["tick"], "interrupted")
    ((status, message),) = query(
        root / "tiny.duckdb", 'select "status", "message" from sqlflow_state.schedule_ticks'
    )
    assert status == "error" and message.startswith("interrupted")
    (run_status,) = query(root / "tiny.duckdb", 'select "status" from sqlflow_state.runs')
    assert run_status == ("interrupted",)


def test_once_runs_what_is_due_and_exits(tmp_path: Path) -> None:
    root = project(
        tmp_path / "tiny",
        """\
        schedules:
          - name: daily
            cron: "@daily"
        """,
    )
    proc = sqlflow("schedule", "--once", cwd=root)
    assert proc.wait(60) == 0
    out = JsonLines(proc)
    (finished,) = out.of("tick_finished")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert finished["tick"] in {today.isoformat(), (today - timedelta(days=1)).isoformat()}
    again = sqlflow("schedule", "--once", cwd=root)
    assert again.wait(60) == 0
    assert JsonLines(again).of("tick_finished") == []  # handled already


def test_the_scheduler_serves_metrics_of_the_runs_it_fired(tmp_path: Path) -> None:
    import socket
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    root = project(
        tmp_path / "m",
        """
        schedules:
          - name: often
            cron: "* * * * * */2"
            command: run
        """,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = sqlflow("schedule", "--metrics-port", str(port), cwd=root)
    lines = JsonLines(proc)
    try:
        lines.wait_for("tick_finished", timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    finally:
        assert stop(proc) == 0
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    runs = [v for (name, _), v in samples.items() if name == "sqlflow_runs_total"]
    nodes = {
        dict(labels).get("status"): v
        for (name, labels), v in samples.items()
        if name == "sqlflow_nodes_total"
    }
    assert sum(runs) >= 1 and nodes.get("success", 0) >= 1
