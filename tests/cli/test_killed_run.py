"""A run killed in the middle of building a model leaves the old table, and the next run works."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import duckdb

from tests.processes import sqlflow_process

SLOW_ORDERS = """
select o.order_id, o.customer_id, o.ordered_at, o.status, 0 as amount
from stg_orders as o
cross join (select count(*) as n from range(4000000000) as t(i) where i % 7 = 3) as slow
"""


def sqlflow(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return sqlflow_process(*args, cwd=cwd, json_log=False, stderr=subprocess.STDOUT)


def count(db: Path, sql: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute(sql).fetchall()[0][0])


def test_kill_mid_build_keeps_old_table(tmp_path: Path) -> None:
    assert sqlflow("init", "shop", cwd=tmp_path).wait(60) == 0
    project = tmp_path / "shop"
    db = project / "shop.duckdb"
    build = sqlflow("build", cwd=project)
    assert build.wait(120) == 0, build.stdout.read() if build.stdout else ""
    assert count(db, "select count(*) from main.orders where amount > 0") == 50

    model = project / "models" / "marts" / "orders.sql"
    original = model.read_text()
    model.write_text(SLOW_ORDERS)
    run = sqlflow("run", "--select", "orders", cwd=project)
    time.sleep(2.5)  # compile takes well under a second; the slow query is running now
    assert run.poll() is None, "the slow model finished before it could be killed"
    run.send_signal(signal.SIGKILL)
    run.wait(30)

    # the old table, with its old contents, and no half-built relation left behind
    assert count(db, "select count(*) from main.orders where amount > 0") == 50
    leftovers = "select count(*) from information_schema.tables where table_name like '%sqlflow_tmp%'"
    assert count(db, leftovers) == 0

    model.write_text(original)
    again = sqlflow("run", cwd=project)
    assert again.wait(120) == 0, again.stdout.read() if again.stdout else ""
    assert count(db, "select count(*) from main.orders where amount > 0") == 50
