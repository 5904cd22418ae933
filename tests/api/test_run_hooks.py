"""dbt's on-run-start and on-run-end, run by the run session on a real DuckDB file: before the first node
and after the last, rendered with Jinja (`results` and `schemas` at the end); a failing start hook stops
the run before any node, a failing end hook fails it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from sqlflow import api
from sqlflow.errors import NodeFailedError

PROJECT = """\
name: shop
on-run-start:
  - "create table if not exists main.audit_log (event varchar)"
  - "insert into main.audit_log values ('start {{ target.name }}')"
on-run-end:
  - "{% for r in results %}insert into main.audit_log values ('{{ r.node.name }}:{{ r.status }}');
     {% endfor %}"
  - "insert into main.audit_log values ('schemas {{ schemas | join(\\",\\") }}')"
"""


def project(root: Path, config: str = PROJECT) -> Path:
    files = {
        "sqlflow.yml": config,
        "models/a.sql": "select 1 as id\n",
        "models/b.sql": "select * from {{ ref('a') }}\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def rows(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "shop.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_hooks_run_before_the_first_node_and_after_the_last(tmp_path: Path) -> None:
    root = project(tmp_path / "shop")
    out = api.run("run", api.Options(project_dir=root))
    assert out.result is not None and not out.failed
    assert rows(root, "select event from main.audit_log") == [
        ("start default",),
        ("a:success",),
        ("b:success",),
        ("schemas main",),
    ]


def test_a_failing_start_hook_stops_the_run_before_any_node(tmp_path: Path) -> None:
    root = project(tmp_path / "shop", PROJECT.replace("create table if not exists", "create tabel"))
    with pytest.raises(NodeFailedError, match=r"^on-run-start hook \(sqlflow\.yml:3\) failed: ") as err:
        api.run("run", api.Options(project_dir=root))
    assert err.value.hint == "fix or remove the hook in the project file"
    assert rows(root, "select status from sqlflow_state.runs") == [("error",)]
    tables = rows(root, "select table_name from information_schema.tables where table_schema = 'main'")
    assert tables == []


def test_a_failing_end_hook_fails_the_run(tmp_path: Path) -> None:
    root = project(tmp_path / "shop", PROJECT.replace("'schemas {{", "'schemas {{ no_such_thing }} {{"))
    out = api.run("run", api.Options(project_dir=root))
    assert out.result is not None and out.failed
    assert [r.status for r in out.result.results] == ["success", "success"]
    (error,) = out.result.hook_errors
    assert error.startswith("on-run-end hook (sqlflow.yml:8) failed: ")
    assert rows(root, "select status from sqlflow_state.runs") == [("error",)]
