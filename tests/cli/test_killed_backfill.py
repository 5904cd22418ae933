"""A backfill killed with SIGKILL mid-way (a real subprocess) leaves every interval either written and
recorded, or absent and unrecorded; the same command then resumes and completes it, with the content a
clean run gives."""

from __future__ import annotations

import json
import signal
import subprocess
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from tests.processes import sqlflow_process

# every batch does real work (a few hundred ms), so the kill lands in the middle of the backfill
HOURLY = """
{{ config(materialized='incremental', incremental_strategy='time_range', time_column='hour',
          batch_size='hour', begin='2024-01-01') }}
select cast('{{ start }}' as timestamp) + (i % 60) * interval 1 minute as hour_minute,
       cast('{{ start }}' as timestamp) as hour,
       i % 60 as minute,
       count(*) as n
from range(0, 6000000) as t(i)
group by all
"""


def sqlflow(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return sqlflow_process(*args, cwd=cwd, json_log=True, stderr=subprocess.STDOUT)


def make_project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "sqlflow.yml").write_text("name: bf\n")
    (root / "models" / "hourly.sql").write_text(textwrap.dedent(HOURLY))
    return root


def fetch(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def hours(start: datetime, n: int) -> list[datetime]:
    return [start + timedelta(hours=i) for i in range(n)]


WINDOW = ("--start", "2024-01-01", "--end", "2024-01-01T12:00")
START = datetime(2024, 1, 1, tzinfo=UTC)


def test_a_killed_backfill_is_consistent_and_resumes(tmp_path: Path) -> None:
    project = make_project(tmp_path / "bf")
    db = project / "bf.duckdb"
    proc = sqlflow("backfill", *WINDOW, cwd=project)
    assert proc.stdout is not None
    written = 0
    for line in proc.stdout:  # wait for a few committed intervals, then kill without warning
        if line.startswith("{") and json.loads(line).get("kind") == "interval_finished":
            written += 1
            if written == 3:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(60)
    assert written == 3, "the backfill ended before it could be killed"

    ledger = fetch(db, 'select start, "end" from sqlflow_state.intervals order by start')
    recorded = set()
    for start, end in ledger:
        t = start.astimezone(UTC)
        while t < end.astimezone(UTC):
            recorded.add(t)
            t += timedelta(hours=1)
    per_hour = {
        h.replace(tzinfo=UTC): (rows, total)
        for h, rows, total in fetch(db, "select hour, count(*), sum(n) from main.hourly group by hour")
    }
    assert len(recorded) >= 3
    assert len(recorded) < 12, "the kill came after the last interval"
    # every interval is either fully written and recorded, or absent and unrecorded
    assert set(per_hour) == recorded
    assert all(v == (60, 6_000_000) for v in per_hour.values())
    assert fetch(db, "select status from sqlflow_state.backfills") == [("running",)]
    assert fetch(db, "select status from sqlflow_state.runs") == [("running",)]  # it never finished

    again = sqlflow("backfill", *WINDOW, cwd=project)
    out, _ = again.communicate(timeout=120)
    assert again.returncode == 0, out
    resumed = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    processed = [e["message"] for e in resumed if e.get("kind") == "interval_finished"]
    assert len(processed) == 12 - len(recorded)  # only what was missing
    assert fetch(db, "select status from sqlflow_state.backfills") == [("done",)]

    clean = make_project(tmp_path / "clean")
    fresh = sqlflow("backfill", *WINDOW, cwd=clean)
    assert fresh.wait(120) == 0
    checksum = "select md5(string_agg(cast(h as varchar), '|' order by hour_minute)) from main.hourly h"
    assert fetch(db, checksum) == fetch(clean / "bf.duckdb", checksum)
    assert [h for (h,) in fetch(db, "select distinct hour from main.hourly order by 1")] == [
        h.replace(tzinfo=None) for h in hours(START, 12)
    ]
