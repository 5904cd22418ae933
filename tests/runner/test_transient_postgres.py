"""On PostgreSQL, a lock timeout (a transient error) is retried by default with growing delays until the
lock is released; the model then succeeds. Needs the server of tests/postgres.py (the `pg_schema` fixture:
skipped without it, failed instead with SQLFLOW_REQUIRE_POSTGRES=1)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlflow import api
from sqlflow.runner.events import ListReporter
from tests import postgres


def test_a_lock_timeout_is_retried_until_the_lock_is_released(tmp_path: Path, pg_schema: str) -> None:
    schema = pg_schema
    root = tmp_path / "p"
    (root / "models").mkdir(parents=True)
    (root / "sqlflow.yml").write_text("name: orch\nprofile: orch\n")
    (root / "profiles.yml").write_text(postgres.profiles_yml("orch", schema))
    (root / "models" / "locked.sql").write_text(
        "{{ config(materialized='table', retries=6, retry_delay='0.2s',"
        " pre_hook=\"set local lock_timeout = '100ms'\") }}\nselect 2 as n"
    )
    options = api.Options(project_dir=root)
    assert not api.run("run", options).failed  # the table exists
    holder = postgres.need_psycopg().connect(postgres.DSN)
    holder.execute(f'lock table "{schema}"."locked" in access exclusive mode')  # held until commit

    def release() -> None:
        time.sleep(1.2)
        holder.commit()
        holder.close()

    threading.Thread(target=release).start()
    reporter = ListReporter()
    out = api.run("run", options, reporter=reporter)
    assert out.result is not None and not out.failed, out.result
    retries = [e for e in reporter.events if e.kind == "node_retry"]
    assert len(retries) >= 2 and all("lock timeout" in (e.message or "") for e in retries)
    delays = [e.seconds or 0 for e in retries]
    assert delays == sorted(delays) and delays[1] > delays[0]
    assert out.result.get("model.orch.locked").attempts == len(retries) + 1
