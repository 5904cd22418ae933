"""On PostgreSQL, a lock timeout (a transient error) is retried by default with growing delays until the
lock is released; the model then succeeds. Skipped without a server, unless SQLFLOW_REQUIRE_POSTGRES=1."""

from __future__ import annotations

import os
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlflow import api
from sqlflow.runner.events import ListReporter

psycopg = pytest.importorskip("psycopg")
DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"


@pytest.fixture
def schema() -> Iterator[str]:
    try:
        con = psycopg.connect(DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("SQLFLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (SQLFLOW_REQUIRE_POSTGRES=1) but not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    name = f"t_{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        con.execute(f'drop schema if exists "{name}" cascade')
        con.execute(f'drop schema if exists "{name}_state" cascade')
        con.close()


def test_a_lock_timeout_is_retried_until_the_lock_is_released(tmp_path: Path, schema: str) -> None:
    root = tmp_path / "p"
    (root / "models").mkdir(parents=True)
    (root / "sqlflow.yml").write_text("name: orch\nprofile: orch\n")
    (root / "profiles.yml").write_text(
        textwrap.dedent(f"""
        orch:
          target: pg
          outputs:
            pg: {{type: postgres, host: 127.0.0.1, port: 5432, user: postgres, dbname: test,
                  schema: {schema}, state_schema: {schema}_state}}
        """)
    )
    (root / "models" / "locked.sql").write_text(
        "{{ config(materialized='table', retries=6, retry_delay='0.2s',"
        " pre_hook=\"set local lock_timeout = '100ms'\") }}\nselect 2 as n"
    )
    options = api.Options(project_dir=root)
    assert not api.run("run", options).failed  # the table exists
    holder = psycopg.connect(DSN)
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
