"""The run session, in process on a real DuckDB file: a backfill renders late nodes as `run` does, the
artifacts hold the SQL that ran, and `sqlflow retry` after a retry that failed again runs only what is
still undone."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sqlflow import api
from sqlflow.runner.events import ListReporter

# a time-range model whose template runs a query: `execute` is false at compile time, true at run time
LATE_DAILY = """
{{ config(materialized='incremental', incremental_strategy='time_range', time_column='day',
          batch_size='day', begin='2024-01-01') }}
{% if execute %}{% set v = run_query('select 42 as v').columns[0].values()[0] %}
{% else %}{% set v = -1 %}{% endif %}
select date_trunc('day', ts) as day, {{ v }} as v
from {{ ref('events') }}
group by 1
"""
EVENTS = """
{{ config(materialized='table', time_column='ts') }}
select timestamp '2024-01-01' + i * interval 6 hour as ts from range(0, 40) t(i)
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_a_backfill_renders_late_nodes_as_run_does(tmp_path: Path) -> None:
    root = write(
        tmp_path / "tr",
        {
            "sqlflow.yml": "name: tr\n",
            "models/events.sql": EVENTS,
            "models/daily.sql": LATE_DAILY,
        },
    )
    options = api.Options(project_dir=root)
    ran = api.run("run", options, now=datetime(2024, 1, 6, 3, tzinfo=UTC))
    assert not ran.failed
    assert query(root / "tr.duckdb", "select distinct v from main.daily") == [(42,)]
    reporter = ListReporter()
    out = api.backfill(options, start="2024-01-02", end="2024-01-04", reporter=reporter)
    assert not out.failed
    assert len([e for e in reporter.events if e.kind == "interval_finished"]) == 2
    # the restated days hold the value of the query, not the `execute` false branch's -1
    assert query(root / "tr.duckdb", "select v, count(*) from main.daily group by v") == [(42, 5)]
    doc = json.loads((root / "target" / "run_results.json").read_text())
    assert doc["args"]["which"] == "backfill" and doc["args"]["start"] == "2024-01-02"
    assert "42 as v" in doc["results"][0]["compiled_code"]


INTROSPECTIVE = """
-- depends_on: {{ ref('parent') }}
{% if execute -%}{%- set n = run_query('select count(*) from ' ~ ref('parent')).columns[0].values()[0] -%}
{%- else -%}{%- set n = -1 -%}{%- endif -%}
select {{ n }} as parent_rows
"""


def test_the_artifacts_hold_the_sql_of_a_node_rendered_again_at_run_time(tmp_path: Path) -> None:
    root = write(
        tmp_path / "shop",
        {
            "sqlflow.yml": "name: shop\n",
            "models/parent.sql": "select * from range(3) t(i)\n",
            "models/child.sql": INTROSPECTIVE,
        },
    )
    out = api.run("run", api.Options(project_dir=root))
    assert not out.failed
    assert query(root / "shop.duckdb", "select parent_rows from main.child") == [(3,)]
    target = root / "target"
    compiled_file = (target / "compiled" / "shop" / "models" / "child.sql").read_text()
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())
    (child,) = [r for r in results["results"] if r["unique_id"] == "model.shop.child"]
    for text in (
        compiled_file,
        manifest["nodes"]["model.shop.child"]["compiled_code"],
        child["compiled_code"],
    ):
        assert "3 as parent_rows" in text, text


def test_retry_after_a_retry_that_failed_again_runs_only_what_is_still_undone(tmp_path: Path) -> None:
    models = {f"models/ok{i}.sql": f"select {i} as i\n" for i in range(5)}
    root = write(
        tmp_path / "shop",
        {
            "sqlflow.yml": "name: shop\nmodels:\n  shop:\n    +materialized: table\n",
            # ext_b and ext_c are external tables: missing at first, so b and c fail
            "models/b.sql": "select * from ext_b\n",
            "models/c.sql": "select * from ext_c\n",
            "models/d.sql": "select * from {{ ref('b') }}\n",
            **models,
        },
    )
    options = api.Options(project_dir=root)
    first = api.run("run", options)
    assert first.result is not None and first.failed
    statuses = {r.name: r.status for r in first.result.results}
    assert (statuses["b"], statuses["c"], statuses["d"], statuses["ok0"]) == (
        "error",
        "error",
        "skipped",
        "success",
    )

    with duckdb.connect(str(root / "shop.duckdb")) as con:
        con.execute("create table main.ext_b as select 1 as x")
    once = api.retry(options)
    assert isinstance(once.outcome, api.RunOutcome) and once.outcome.result is not None
    assert {r.name: r.status for r in once.outcome.result.results} == {
        "b": "success",
        "c": "error",
        "d": "success",
    }

    with duckdb.connect(str(root / "shop.duckdb")) as con:
        con.execute("create table main.ext_c as select 2 as x")
    twice = api.retry(options)
    assert twice.run_id == once.outcome.result.invocation_id
    assert isinstance(twice.outcome, api.RunOutcome) and twice.outcome.result is not None
    assert [(r.name, r.status) for r in twice.outcome.result.results] == [("c", "success")]
    assert api.retry(options).outcome is None  # nothing left
