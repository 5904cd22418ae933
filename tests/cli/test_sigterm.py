"""SIGTERM, sent to real sqlflow processes, stops a run as Ctrl-C does: the running statement is cancelled
(on the server too, on PostgreSQL), the run is recorded `interrupted`, its alert is sent, the relation being
rebuilt keeps its old contents and the exit code is 143. A scheduler's grace period stops a run that waits
in a sensor, and records it."""

from __future__ import annotations

import signal
import subprocess
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests import postgres
from tests.processes import JsonLines, sqlflow_process

pytestmark = pytest.mark.slow

SLOW = "select count(*) as n from range(1000000000000) as t(i) where i % 7 = 3"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_sigterm_stops_a_run_records_it_interrupted_alerts_and_exits_143(
    tmp_path: Path, local_server: type
) -> None:
    root = write(
        tmp_path / "shop",
        {"models/slow.sql": "select 1 as n\n", "models/after.sql": "select * from {{ ref('slow') }}\n"},
    )
    with local_server() as server:
        server.answers["/hook"] = (200, b"ok")
        (root / "sqlflow.yml").write_text(
            "name: shop\nmodels:\n  shop:\n    +materialized: table\n"
            f"notifications:\n  channels:\n    - {{type: webhook, url: '{server.url('/hook')}'}}\n"
        )
        first = sqlflow_process("run", cwd=root)
        first.communicate(timeout=120)
        assert first.returncode == 0
        (root / "models" / "slow.sql").write_text(SLOW + "\n")
        proc = sqlflow_process("run", cwd=root)
        events = JsonLines(proc)
        events.wait_for("node_started", name="slow")
        time.sleep(0.5)  # inside the statement
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(120) == 143
        alerts = [doc for doc in server.json_posts("/hook") if doc.get("event") == "run_failed"]
    assert [e["status"] for e in events.of("node_finished")] == ["error", "skipped"]
    runs = query(root / "shop.duckdb", 'select "status" from sqlflow_state.runs order by "started_at"')
    assert runs == [("success",), ("interrupted",)]
    assert query(root / "shop.duckdb", "select n from main.slow") == [(1,)]  # the old table
    assert len(alerts) == 1 and alerts[0]["status"] == "interrupted"


def test_sigterm_cancels_the_statement_on_the_postgresql_server(tmp_path: Path, pg_schema: str) -> None:
    marker = f"sleeper_{uuid.uuid4().hex[:8]}"
    root = write(
        tmp_path / "shop",
        {
            "sqlflow.yml": "name: shop\nprofile: shop\nmodels:\n  shop:\n    +materialized: table\n",
            "models/sleeper.sql": f"select count(*) as {marker} from (select pg_sleep(600)) as s\n",
        },
    )
    (root / "profiles.yml").write_text(postgres.profiles_yml("shop", pg_schema))
    psycopg = postgres.need_psycopg()

    def running() -> list[tuple[Any, ...]]:
        with psycopg.connect(postgres.DSN) as con:
            return con.execute(
                "select pid from pg_stat_activity where state = 'active' and query like %s and pid <> "
                "pg_backend_pid()",
                [f"%{marker}%"],
            ).fetchall()

    proc = sqlflow_process("run", cwd=root)
    events = JsonLines(proc)
    events.wait_for("node_started", name="sleeper")
    for _ in range(200):  # until the statement reached the server
        if running():
            break
        time.sleep(0.05)
    assert running()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(120) == 143
    assert running() == []  # cancelled, not left sleeping after the client went away
    with psycopg.connect(postgres.DSN) as con:
        statuses = con.execute(f'select "status" from "{pg_schema}_state".runs').fetchall()
    assert statuses == [("interrupted",)]


def test_the_grace_period_stops_a_scheduled_run_waiting_in_a_sensor(tmp_path: Path) -> None:
    root = write(
        tmp_path / "shop",
        {
            "sqlflow.yml": """\
                name: shop
                schedules:
                  - name: waiting
                    cron: "* * * * * */2"
                """,
            "models/sensors.yml": """\
                version: 2
                sensors:
                  - name: drop
                    type: file
                    path: landing/*.csv
                    poke_interval: 1s
                    timeout: 1h
                """,
            "models/landed.sql": "select * from read_csv('landing/*.csv', header = true)\n",
        },
    )
    proc = sqlflow_process("schedule", "--grace", "1s", cwd=root, stderr=subprocess.PIPE)
    events = JsonLines(proc)
    started = events.wait_for("tick_started")
    time.sleep(1.0)  # the run waits in its sensor now
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(120) == 0, proc.stderr.read() if proc.stderr else ""
    (finished,) = [d for d in events.of("tick_finished") if d["tick"] == started["tick"]]
    assert finished["status"] == "interrupted"
    assert query(root / "shop.duckdb", 'select "status" from sqlflow_state.runs') == [("interrupted",)]
