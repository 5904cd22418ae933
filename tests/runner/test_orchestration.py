"""Retries with growing delays, failure policies, timeouts, pools and priorities, on real DuckDB files with
real (short) time."""

from __future__ import annotations

import itertools
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from sqlflow import api
from sqlflow.errors import ConfigError
from sqlflow.runner.events import ListReporter


def project(root: Path, models: dict[str, str], extra_yml: str = "") -> Path:
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "sqlflow.yml").write_text("name: orch\nmodels:\n  orch:\n    +materialized: table\n" + extra_yml)
    for name, sql in models.items():
        (root / "models" / f"{name}.sql").write_text(textwrap.dedent(sql))
    return root


def fetch(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "orch.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_transient_error_is_retried_with_growing_delays_until_it_succeeds(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "incoming": """
            {{ config(retries=6, retry_delay='0.2s', retry_on=['No files found']) }}
            select * from read_csv('arrivals/*.csv')
            """
        },
    )

    def arrive() -> None:
        time.sleep(1.0)
        (root / "arrivals").mkdir()
        (root / "arrivals" / "a.csv").write_text("id,v\n1,x\n2,y\n")

    threading.Thread(target=arrive).start()
    reporter = ListReporter()
    out = api.run("run", api.Options(project_dir=root), reporter=reporter)
    assert out.result is not None and not out.failed
    retries = [e for e in reporter.events if e.kind == "node_retry"]
    assert len(retries) >= 3
    delays = [e.seconds or 0 for e in retries]
    assert all(b > a for a, b in itertools.pairwise(delays))  # growing
    assert 0.15 <= delays[0] <= 0.2 and 0.3 <= delays[1] <= 0.4  # 0.2s, then doubled, with jitter
    result = out.result.get("model.orch.incoming")
    assert result.status == "success" and result.attempts == len(retries) + 1
    attempts = fetch(root, "select attempt, status from sqlflow_state.node_runs order by attempt")
    assert attempts == [*((n, "error") for n in range(1, len(retries) + 1)), (len(retries) + 1, "success")]
    assert fetch(root, "select count(*) from main.incoming") == [(2,)]


def test_an_error_in_the_models_sql_is_not_retried(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p", {"bad": "{{ config(retries=3, retry_delay='5s') }}\nselect cast('x' as integer) as n"}
    )
    reporter = ListReporter()
    out = api.run("run", api.Options(project_dir=root), reporter=reporter)
    assert out.failed
    assert [e for e in reporter.events if e.kind == "node_retry"] == []  # no retry announced, so no 5 s wait
    result = out.result.get("model.orch.bad")  # type: ignore[union-attr]
    assert result.attempts == 1 and "Conversion Error" in (result.message or "")
    assert fetch(root, "select attempt, status from sqlflow_state.node_runs") == [(1, "error")]


def test_retry_on_any_retries_every_error(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "bad": "{{ config(retries=2, retry_delay='0.05s', retry_on='any') }}\n"
            "select cast('x' as integer) as n"
        },
    )
    out = api.run("run", api.Options(project_dir=root))
    assert out.result is not None and out.result.get("model.orch.bad").attempts == 3


def test_a_timeout_cancels_the_query(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "slow": "{{ config(timeout='1s') }}\n"
            "select count(*) as n from range(100000000000) t(i) where i % 7 = 3"
        },
    )
    out = api.run("run", api.Options(project_dir=root))
    result = out.result.get("model.orch.slow")  # type: ignore[union-attr]
    # the message says both that the timer fired and that the statement came back with the engine's
    # cancellation error (the query alone would run for hours)
    assert result.status == "error" and result.message == "timed out after 1s: the query was cancelled"


@pytest.mark.parametrize(
    ("policy", "child_status", "run_failed"),
    [("fail", "skipped", True), ("skip_downstream", "skipped", False), ("continue", "success", False)],
)
def test_on_failure_policies(tmp_path: Path, policy: str, child_status: str, run_failed: bool) -> None:
    root = project(
        tmp_path / "p",
        {
            "parent": "select 1 as id {% if var('break', false) %}, cast('x' as integer) as n{% endif %}",
            "child": "select * from {{ ref('parent') }}",
        },
        f"    parent:\n      +on_failure: {policy}\n",
    )
    assert not api.run("run", api.Options(project_dir=root)).failed  # the relation exists now
    out = api.run("run", api.Options(project_dir=root, vars={"break": True}))
    assert out.result is not None
    assert out.result.get("model.orch.parent").status == "error"
    assert out.result.get("model.orch.child").status == child_status
    assert out.failed is run_failed


def test_continue_still_skips_what_cannot_run_without_the_relation(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {"parent": "select cast('x' as integer) as n", "child": "select * from {{ ref('parent') }}"},
        "    parent:\n      +on_failure: continue\n",
    )
    out = api.run("run", api.Options(project_dir=root))
    assert out.result is not None and out.result.get("model.orch.child").status == "skipped"


def test_a_pool_runs_its_models_one_at_a_time(tmp_path: Path) -> None:
    slow = "{{ config(pool='heavy') }}\nselect count(*) as n from range(60000000) t(i) where i % 7 = 3"
    root = project(
        tmp_path / "p",
        {"h1": slow, "h2": slow, "h3": slow, "light": "select 1 as n"},
        "pools:\n  heavy: 1\n",
    )
    out = api.run("run", api.Options(project_dir=root), threads=4)
    assert out.result is not None and not out.failed
    spans = sorted((r.started_at, r.completed_at) for r in out.result.results if r.name.startswith("h"))
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end  # never two heavy models at once  # type: ignore[operator]


def test_an_undeclared_pool_is_an_error_naming_the_model(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p", {"m": "{{ config(pool='heavvy') }}\nselect 1 as n"}, "pools:\n  heavy: 2\n"
    )
    with pytest.raises(ConfigError, match=r"models/m.sql:1: m runs in pool 'heavvy'.*did you mean 'heavy'"):
        api.run("run", api.Options(project_dir=root))


def test_priority_and_critical_path_order_the_ready_queue(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        {
            "a_first": "select 1 as n",
            "b_second": "select 1 as n",
            "c_urgent": "{{ config(priority=10) }}\nselect 1 as n",
            "d_long": "select 1 as n",
            "e_after_d": "select * from {{ ref('d_long') }}",
        },
    )
    reporter = ListReporter()
    api.run("run", api.Options(project_dir=root), threads=1, reporter=reporter)
    started = [e.name for e in reporter.events if e.kind == "node_started"]
    assert started[0] == "c_urgent"  # priority first, then plan order
    # the state store now says d_long took long: its chain (d_long -> e_after_d) goes first next time
    with duckdb.connect(str(root / "orch.duckdb")) as con:
        con.execute(
            "update sqlflow_state.node_runs set ended_at = started_at + interval 30 second "
            "where unique_id = 'model.orch.d_long'"
        )
    reporter = ListReporter()
    api.run("run", api.Options(project_dir=root), threads=1, reporter=reporter)
    started = [e.name for e in reporter.events if e.kind == "node_started"]
    assert started[:2] == ["c_urgent", "d_long"]


def test_bad_retry_settings_are_errors_naming_the_model(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"m": "{{ config(retries=2, retry_delay='soon') }}\nselect 1 as n"})
    with pytest.raises(ConfigError, match=r"models/m.sql.*retries of m"):
        api.run("run", api.Options(project_dir=root))


def test_node_started_events_carry_the_queue_depth_and_the_gauge_follows(tmp_path: Path) -> None:
    from sqlflow.notify.metrics import RunMetrics

    root = project(tmp_path / "p", {f"m{i}": "select 1 as n" for i in range(5)})
    reporter, metrics = ListReporter(), RunMetrics()
    depths: list[int] = []
    original = metrics.set_queue_depth
    metrics.set_queue_depth = lambda n: (depths.append(n), original(n))[1]  # type: ignore[method-assign]
    api.run("run", api.Options(project_dir=root), threads=1, reporter=reporter, metrics=metrics)
    queued = [e.queued for e in reporter.events if e.kind == "node_started"]
    assert queued == [4, 3, 2, 1, 0]  # five independent models: the rest wait while one runs
    assert depths == [4, 3, 2, 1, 0, 0]
