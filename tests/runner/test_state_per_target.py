"""Targets that share a database (one schema per developer) keep separate state: run history, interval
ledger and `sqlflow retry` never mix."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sqlflow import api

PROFILES = """
tr:
  target: alice
  outputs:
    alice: {type: duckdb, path: shared.duckdb, schema: alice}
    bob: {type: duckdb, path: shared.duckdb, schema: bob}
    main: {type: duckdb, path: shared.duckdb}
    pinned: {type: duckdb, path: shared.duckdb, schema: carol, state_schema: ops}
"""
DAILY = """
{{ config(materialized='incremental', incremental_strategy='time_range', time_column='day',
          batch_size='day', begin='2024-01-01') }}
select cast('{{ start }}' as timestamp) as day, 1 as n
"""


def test_each_target_keeps_its_own_ledger_and_history(tmp_path: Path) -> None:
    root = tmp_path / "tr"
    (root / "models").mkdir(parents=True)
    (root / "sqlflow.yml").write_text("name: tr\nprofile: tr\n")
    (root / "profiles.yml").write_text(textwrap.dedent(PROFILES))
    (root / "models" / "daily.sql").write_text(textwrap.dedent(DAILY))
    now = datetime(2024, 1, 4, 3, tzinfo=UTC)
    for target in ("alice", "bob", "main", "pinned"):
        out = api.run("run", api.Options(project_dir=root, target=target), now=now)
        assert out.result is not None and not out.failed
    with duckdb.connect(str(root / "shared.duckdb"), read_only=True) as con:
        for schema in ("alice", "bob", "main", "carol"):
            assert con.execute(f"select count(*) from {schema}.daily").fetchall() == [(3,)], schema
        states = {
            row[0]
            for row in con.execute(
                "select table_schema from information_schema.tables where table_name = 'intervals'"
            ).fetchall()
        }
        assert states == {"alice_sqlflow_state", "bob_sqlflow_state", "sqlflow_state", "ops"}
