"""Sensors in a run, on real DuckDB, real files, a real HTTP server: pass, time out (fail or soft fail),
waiting without holding a worker, cancellation by fail-fast and Ctrl-C, tests on sources as sensors."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sqlflow.adapters import Adapter
from sqlflow.artifacts import run_results_document
from sqlflow.manifest import Manifest
from sqlflow.runner.events import NullReporter, Reporter, RunEvent
from sqlflow.runner.execute import execute_plan
from sqlflow.runner.results import RunResult

from .helpers import data_test, manifest, model, plan_all, poke_config, sensor, source, uid


def run(
    m: Manifest,
    adapter: Adapter,
    root: Path,
    command: str = "run",
    *,
    threads: int = 1,
    fail_fast: bool = False,
    reporter: Reporter | None = None,
) -> RunResult:
    _, plan = plan_all(m, command)  # type: ignore[arg-type]
    return execute_plan(
        plan,
        m,
        adapter,
        threads=threads,
        fail_fast=fail_fast,
        reporter=reporter or NullReporter(),
        project_root=root,
    )


def statuses(result: RunResult) -> dict[str, str]:
    return {r.name: r.status for r in result.results}


def messages(result: RunResult) -> dict[str, str | None]:
    return {r.name: r.message for r in result.results}


def landing(root: Path, **sensor_options: object) -> Manifest:
    csv = (root / "landing" / "orders.csv").as_posix()
    return manifest(
        sensor("wait_landing", "file", path="landing/*.csv", **sensor_options),  # type: ignore[arg-type]
        model("load", f"select * from read_csv('{csv}')", ["wait_landing"]),
        model("report", "select count(*) as n from main.load", ["load"], materialized="view"),
        model("other", "select 1 as x"),
        model("other_child", "select * from main.other", ["other"]),
    )


def write_later(path: Path, text: str, delay: float) -> threading.Timer:
    def write() -> None:  # written aside, then renamed: a poke never sees half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(path.name + ".part")
        aside.write_text(text)
        aside.rename(path)

    timer = threading.Timer(delay, write)
    timer.start()
    return timer


def test_file_sensor_times_out_and_soft_fails_its_subgraph(adapter: Adapter, tmp_path: Path) -> None:
    m = landing(tmp_path, timeout=0.4, on_timeout="skip")
    result = run(m, adapter, tmp_path)
    assert not result.failed
    assert statuses(result) == {
        "wait_landing": "skipped",
        "other": "success",
        "other_child": "success",
        "load": "skipped",
        "report": "skipped",
    }
    assert messages(result)["wait_landing"] == (
        "sensor timed out after 0.4s (soft fail): no file matches landing/*.csv"
    )
    assert messages(result)["load"] == "skipped: upstream wait_landing timed out (soft fail)"
    assert messages(result)["report"] == "skipped: upstream wait_landing timed out (soft fail)"
    sensed = result.get(uid("wait_landing"))
    assert sensed.started_at is not None and sensed.execution_time >= 0.4  # it waited its whole timeout
    entry = next(r for r in run_results_document(result)["results"] if r["unique_id"] == uid("wait_landing"))
    assert entry["status"] == "skipped" and entry["timing"]  # it ran: it has a timing


def test_file_sensor_times_out_and_fails(adapter: Adapter, tmp_path: Path) -> None:
    result = run(landing(tmp_path, timeout=0.2), adapter, tmp_path)
    assert result.failed
    assert statuses(result)["wait_landing"] == "error"
    assert messages(result)["wait_landing"] == "sensor timed out after 0.2s: no file matches landing/*.csv"
    assert messages(result)["load"] == "skipped: upstream wait_landing failed"
    assert statuses(result)["other_child"] == "success"


class WriteWhenFinished:
    """A reporter that lands a file once a given node has finished: the sensor can only pass if that node
    ran while the sensor was waiting."""

    def __init__(self, name: str, path: Path, text: str) -> None:
        self.name, self.path, self.text = name, path, text

    def emit(self, event: RunEvent) -> None:
        if event.kind == "node_finished" and event.name == self.name:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            aside = self.path.with_name(self.path.name + ".part")
            aside.write_text(self.text)
            aside.rename(self.path)


@pytest.mark.parametrize("threads", [1, 3])
def test_file_sensor_passes_when_the_file_appears_and_does_not_hold_a_worker(
    adapter: Adapter, tmp_path: Path, threads: int
) -> None:
    m = manifest(
        *landing(tmp_path, timeout=2, poke_interval=0.05, on_timeout="skip").nodes.values(),
        *[model(f"chain_{i}", "select 1 as x", [f"chain_{i - 1}"] if i else []) for i in range(4)],
    )
    reporter = WriteWhenFinished("chain_3", tmp_path / "landing" / "orders.csv", "id,amount\n1,5\n2,7\n")
    result = run(m, adapter, tmp_path, threads=threads, reporter=reporter)
    assert not result.failed, messages(result)
    assert statuses(result)["wait_landing"] == "success"
    assert messages(result)["wait_landing"].startswith("landing/*.csv: 1 file, 18 bytes (")
    assert statuses(result)["report"] == "success"
    assert adapter.fetch("select n from main.report")[1] == [(2,)]
    # the other branches ran while the sensor waited, even on a single thread
    sensed = result.get(uid("wait_landing")).completed_at
    assert sensed is not None
    for name in ("other", "other_child", "chain_0", "chain_3"):
        done = result.get(uid(name)).completed_at
        assert done is not None and done < sensed, name
    assert result.get(uid("load")).started_at > sensed  # type: ignore[operator]


def test_a_file_landing_mid_poke_from_a_background_thread(adapter: Adapter, tmp_path: Path) -> None:
    timer = write_later(tmp_path / "landing" / "orders.csv", "id,amount\n1,5\n", 0.3)
    try:
        result = run(landing(tmp_path, timeout=2, poke_interval=0.05), adapter, tmp_path)
    finally:
        timer.cancel()
    assert statuses(result)["wait_landing"] == "success" and statuses(result)["report"] == "success"
    pokes = int(messages(result)["wait_landing"].split("(")[1].split()[0])  # type: ignore[union-attr]
    assert pokes > 2  # it did wait
    assert adapter.fetch("select n from main.report")[1] == [(1,)]


def test_http_sensor_against_a_local_server(adapter: Adapter, tmp_path: Path, local_server: type) -> None:
    with local_server() as server:
        server.answers["/status"] = (503, {"data": {"ready": False}})

        def m(timeout: float) -> Manifest:
            return manifest(
                sensor(
                    "wait_api",
                    "http",
                    url=server.url("/status"),
                    json_path="data.ready",
                    equals=True,
                    timeout=timeout,
                    poke_interval=0.05,
                ),
                model("from_api", "select 1 as x", ["wait_api"]),
            )

        timed_out = run(m(0.3), adapter, tmp_path)
        assert statuses(timed_out) == {"wait_api": "error", "from_api": "skipped"}
        assert messages(timed_out)["wait_api"] == (
            f"sensor timed out after 0.3s: {server.url('/status')} answered 503"
        )

        def ready_later() -> None:
            server.answers["/status"] = (200, {"data": {"ready": False}})
            time.sleep(0.2)
            server.answers["/status"] = (200, {"data": {"ready": True}})

        threading.Thread(target=ready_later).start()
        passed = run(m(2), adapter, tmp_path)
        assert statuses(passed) == {"wait_api": "success", "from_api": "success"}
        assert messages(passed)["wait_api"].startswith(f"{server.url('/status')}: data.ready is true (")
        assert server.hits["/status"] > 3


def test_a_source_test_acts_as_a_sensor(adapter: Adapter, tmp_path: Path) -> None:
    adapter.execute("create schema landing")
    rows_sql = "select 1 as missing from (select count(*) as n from landing.src_batches) where n < 2"
    m = manifest(
        source("src_batches"),
        data_test("rows__src_batches", rows_sql, ["src_batches"], sensor=poke_config(timeout=2)),
        model("batches", "select * from landing.src_batches", ["src_batches"]),
        model("independent", "select 1 as x"),
    )

    def load() -> None:
        time.sleep(0.2)
        adapter.execute("create table landing.src_batches as select 1 as id")  # one row: not enough yet
        time.sleep(0.2)
        adapter.execute("insert into landing.src_batches values (2)")

    loader = threading.Thread(target=load)
    loader.start()
    result = run(m, adapter, tmp_path)
    loader.join()
    assert statuses(result) == {"rows__src_batches": "pass", "independent": "success", "batches": "success"}
    test = result.get(uid("rows__src_batches"))
    assert test.failures == 0 and test.resource_type == "test" and test.materialized == "sensor"
    assert adapter.fetch("select count(*) from main.batches")[1] == [(2,)]
    # on timeout, the last outcome is kept: failing rows and sample
    adapter.execute("delete from landing.src_batches")
    soft = manifest(
        *[n for n in m.nodes.values() if n.name != "rows__src_batches"],
        *m.sources.values(),
        data_test(
            "rows__src_batches", rows_sql, ["src_batches"], sensor=poke_config(timeout=0.2, on_timeout="skip")
        ),
    )
    result = run(soft, adapter, tmp_path)
    assert not result.failed
    assert statuses(result) == {
        "rows__src_batches": "skipped",
        "independent": "success",
        "batches": "skipped",
    }
    test = result.get(uid("rows__src_batches"))
    assert test.message == (
        "sensor timed out after 0.2s (soft fail): Got 1 result, configured to fail if != 0"
    )
    assert test.failures == 1 and list(test.sample_rows) == [{"missing": 1}]


def test_sql_and_time_sensors(adapter: Adapter, tmp_path: Path) -> None:
    adapter.execute("create table batches (day date)")
    m = manifest(
        sensor("wait_batch", "sql", sql="select count(*) > 0 from main.batches", timeout=2),
        sensor("wait_delay", "time", delay=0.3, timezone="UTC", timeout=2),
        model("after", "select 1 as x", ["wait_batch", "wait_delay"]),
    )
    timer = threading.Timer(0.2, lambda: adapter.execute("insert into batches values (current_date)"))
    timer.start()
    started = datetime.now(UTC)
    result = run(m, adapter, tmp_path)
    timer.join()
    assert statuses(result) == {"wait_batch": "success", "wait_delay": "success", "after": "success"}
    assert messages(result)["wait_batch"].startswith("the query returned True (")
    assert (result.get(uid("after")).started_at - started).total_seconds() >= 0.3  # type: ignore[operator]


def test_fail_fast_cancels_a_waiting_sensor(adapter: Adapter, tmp_path: Path) -> None:
    m = manifest(
        *landing(tmp_path, timeout=30, poke_interval=0.05).nodes.values(),
        model("bad", "select cast('x' as integer) as broken"),
    )
    result = run(m, adapter, tmp_path, threads=2, fail_fast=True)
    assert result.failed
    assert statuses(result)["bad"] == "error" and statuses(result)["wait_landing"] == "skipped"
    # it had started poking, and ended by being cancelled: a sensor left to its 30 s timeout would be an
    # error ("sensor timed out after 30s")
    assert result.get(uid("wait_landing")).started_at is not None
    assert messages(result)["wait_landing"] == "skipped: fail-fast after bad failed"
    assert statuses(result)["load"] == "skipped"


class InterruptAt:
    """Presses Ctrl-C when a given node starts."""

    def __init__(self, name: str) -> None:
        self.name = name

    def emit(self, event: RunEvent) -> None:
        if event.kind == "node_started" and event.name == self.name:
            time.sleep(0.1)  # the sensor is poking by now
            raise KeyboardInterrupt


def test_ctrl_c_cancels_a_waiting_sensor(adapter: Adapter, tmp_path: Path) -> None:
    m = landing(tmp_path, timeout=30, poke_interval=0.05)
    result = run(m, adapter, tmp_path, reporter=InterruptAt("other_child"))
    assert result.interrupted and result.failed
    # the sensor's own thread ended it as cancelled (skipped, with its start): a sensor that did not stop
    # within the grace period is left behind as an error ("interrupted", never started)
    assert result.get(uid("wait_landing")).started_at is not None
    assert statuses(result)["wait_landing"] == "skipped"
    assert messages(result)["wait_landing"] == "skipped: interrupted"
    assert statuses(result)["load"] == "skipped"
