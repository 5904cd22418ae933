"""The poke loop with fake time (back-off arithmetic, deadline, cancel) and real time, and each poke
function against real things: DuckDB, files written by a background thread, an HTTP server, zoned time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sqlflow.adapters import Adapter, open_adapter
from sqlflow.checks.sensors import (
    FakeClock,
    PokeResult,
    TestPoke,
    WaitOutcome,
    describe_duration,
    file_poke,
    http_poke,
    sensor_poke,
    sql_poke,
    time_poke,
    wait_for,
)
from sqlflow.errors import ConfigError
from sqlflow.manifest import NodeConfig, SensorNode
from sqlflow.manifest import TestNode as DataTest
from sqlflow.project.types import Target


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[Adapter]:
    target = Target(
        name="dev",
        profile_name="p",
        type="duckdb",
        schema="main",
        database="db",
        settings={"path": str(tmp_path / "db.duckdb")},
    )
    adapter = open_adapter(target)
    yield adapter
    adapter.close()


def misses(n: int, detail: str = "x"):
    answers = iter([False] * n + [True] * 100)
    return lambda: PokeResult(next(answers), detail)


# -- wait_for ------------------------------------------------------------------------------------------------


def test_fixed_interval_until_success() -> None:
    clock = FakeClock()
    outcome = wait_for(misses(3), poke_interval=5, timeout=60, clock=clock.now, sleep=clock.sleep)
    assert outcome == WaitOutcome(ok=True, pokes=4, waited=15.0, detail="x")
    assert clock.slept == [5, 5, 5]


def test_backoff_doubles_up_to_the_cap_and_the_last_poke_is_at_the_deadline() -> None:
    clock = FakeClock(start=100.0)
    outcome = wait_for(
        misses(1000, "no"),
        poke_interval=2,
        timeout=60,
        backoff=True,
        max_poke_interval=10,
        clock=clock.now,
        sleep=clock.sleep,
    )
    assert clock.slept == [2, 4, 8, 10, 10, 10, 10, 6]
    assert outcome == WaitOutcome(ok=False, pokes=9, waited=60.0, detail="no")


def test_backoff_without_a_cap_and_timeout_zero() -> None:
    clock = FakeClock()
    wait_for(misses(1000), poke_interval=1, timeout=20, backoff=True, clock=clock.now, sleep=clock.sleep)
    assert clock.slept == [1, 2, 4, 8, 5]
    clock = FakeClock()
    outcome = wait_for(misses(1000), poke_interval=1, timeout=0, clock=clock.now, sleep=clock.sleep)
    assert (outcome.ok, outcome.pokes, clock.slept) == (False, 1, [])


def test_cancel_stops_before_the_next_poke() -> None:
    clock = FakeClock()
    flag = threading.Event()

    def sleep(seconds: float) -> bool:
        clock.sleep(seconds)
        if len(clock.slept) == 2:
            flag.set()
        return flag.is_set()

    outcome = wait_for(
        misses(1000), poke_interval=1, timeout=100, clock=clock.now, sleep=sleep, cancelled=flag.is_set
    )
    assert outcome == WaitOutcome(ok=False, pokes=2, waited=2.0, detail="x", cancelled=True)


def test_a_poke_that_raises_is_a_miss() -> None:
    calls = iter([ValueError("boom"), None])

    def poke() -> PokeResult:
        exc = next(calls)
        if exc:
            raise exc
        return PokeResult(True, "fine")

    clock = FakeClock()
    outcome = wait_for(poke, poke_interval=1, timeout=5, clock=clock.now, sleep=clock.sleep)
    assert outcome.ok and outcome.pokes == 2


def test_real_clock_and_event_wait_end_promptly_on_cancel() -> None:
    """The runner's sleep is the cancel Event's `wait`: a cancel in the middle of a 30 s wait ends it (the
    wait returns True) and the loop stops without poking again."""
    cancel = threading.Event()
    waits: list[tuple[float, bool]] = []

    def sleep(seconds: float) -> bool:
        woken = cancel.wait(seconds)
        waits.append((seconds, woken))
        return woken

    threading.Timer(0.2, cancel.set).start()
    outcome = wait_for(
        misses(10_000),
        poke_interval=30,
        timeout=600,
        clock=time.monotonic,
        sleep=sleep,
        cancelled=cancel.is_set,
    )
    assert outcome.cancelled and outcome.pokes == 1
    assert waits == [(30, True)]


def test_describe_duration() -> None:
    assert [describe_duration(s) for s in (0, 0.25, 59, 61, 7200, 90061)] == [
        "0s",
        "0.25s",
        "59s",
        "1m1s",
        "2h",
        "1d1h",
    ]


# -- sql -----------------------------------------------------------------------------------------------------


def test_sql_poke(adapter: Adapter) -> None:
    assert sql_poke(adapter, "select count(*) > 0 from range(0)")() == PokeResult(
        False, "the query returned False"
    )
    assert sql_poke(adapter, "select 3")().ok
    assert not sql_poke(adapter, "select null")().ok
    assert sql_poke(adapter, "select * from range(2) r(x), range(1) s(y)")() == PokeResult(
        True, "the query returned 2 rows"
    )
    assert sql_poke(adapter, "select * from range(0)")() == PokeResult(False, "the query returned no row")
    missing = sql_poke(adapter, "select * from landing.batches")()
    assert not missing.ok and "landing" in missing.detail  # an engine error is a miss, not a crash


# -- file ----------------------------------------------------------------------------------------------------


def test_file_poke_glob_min_size_and_stable(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    poke = file_poke("landing/*.csv", root=tmp_path, min_size=10)
    assert poke() == PokeResult(False, "no file matches landing/*.csv")
    (landing / "a.csv").write_text("id\n1\n")
    assert poke() == PokeResult(False, "landing/*.csv: 1 file, 5 bytes, less than min_size 10")
    (landing / "b.csv").write_text("id\n2\n3\n")
    assert poke() == PokeResult(True, "landing/*.csv: 2 files, 12 bytes")
    stable = file_poke("landing/**/*.csv", root=tmp_path, stable=True)
    assert stable().detail.endswith("waiting for the size to stay the same")
    assert stable().ok
    (landing / "b.csv").write_text("id\n2\n3\n4\n")
    assert not stable().ok  # it grew
    assert stable().ok
    assert file_poke(str(landing / "a.csv"), root=Path("/nowhere"))().ok  # absolute paths too


def test_file_poke_sees_a_file_written_mid_wait(tmp_path: Path) -> None:
    threading.Timer(0.25, lambda: (tmp_path / "ready.flag").write_text("ok")).start()
    outcome = wait_for(
        file_poke("*.flag", root=tmp_path),
        poke_interval=0.05,
        timeout=2,
        clock=time.monotonic,
        sleep=time.sleep,
    )
    assert outcome.ok and outcome.pokes > 1 and outcome.detail == "*.flag: 1 file, 2 bytes"


# -- http ----------------------------------------------------------------------------------------------------


def test_http_poke_status_and_json_field(local_server: type) -> None:
    with local_server() as server:
        server.answers["/ok"] = (200, b"fine")
        server.answers["/busy"] = (503, b"later")
        server.answers["/status"] = (200, {"data": {"ready": False, "state": "loading", "items": [{"n": 0}]}})
        assert http_poke(server.url("/ok"))() == PokeResult(True, f"{server.url('/ok')} answered 200")
        assert http_poke(server.url("/busy"))() == PokeResult(False, f"{server.url('/busy')} answered 503")
        assert http_poke(server.url("/busy"), status=[200, 503])().ok
        assert not http_poke(server.url("/missing"))().ok
        ready = http_poke(server.url("/status"), json_path="data.ready")
        assert ready() == PokeResult(False, f"{server.url('/status')}: data.ready is false")
        state = http_poke(server.url("/status"), json_path="data.state", equals="done")
        assert not state().ok
        assert not http_poke(server.url("/status"), json_path="data.items.0.n")().ok
        assert http_poke(server.url("/status"), json_path="data.items.0.n", equals=0)().ok
        assert http_poke(server.url("/status"), json_path="data.nope")().detail.endswith(
            "no field data.nope in the answer"
        )
        assert http_poke(server.url("/ok"), json_path="a")().detail.endswith("a body that is not JSON")
        server.answers["/status"] = (200, {"data": {"ready": True, "state": "done"}})
        assert ready().ok and state().ok


def test_http_poke_unreachable_is_a_miss(local_server: type) -> None:
    with local_server() as server:
        url = server.url("/x")
    result = http_poke(url, timeout=0.5)()  # the server is gone: connection refused
    assert not result.ok and result.detail.startswith(url)


# -- time ----------------------------------------------------------------------------------------------------


def test_time_poke_at_a_local_time_and_after_a_delay() -> None:
    scheduled = datetime(2024, 3, 31, 3, 30, tzinfo=UTC)  # 05:30 in Berlin, the day clocks went forward
    now = [scheduled]
    at_six = time_poke(at="06:00", timezone="Europe/Berlin", scheduled_at=scheduled, now=lambda: now[0])
    assert at_six() == PokeResult(False, "waiting until 2024-03-31T06:00:00+02:00")
    now[0] = datetime(2024, 3, 31, 4, 0, tzinfo=UTC)
    assert at_six() == PokeResult(True, "it is past 2024-03-31T06:00:00+02:00")
    delayed = time_poke(delay=600, scheduled_at=scheduled, now=lambda: now[0])
    assert delayed().ok
    now[0] = scheduled + timedelta(minutes=9)
    assert not delayed().ok
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        time_poke(at="06:00", timezone="Mars/Olympus", scheduled_at=scheduled, now=lambda: now[0])
    with pytest.raises(ConfigError, match="a time sensor needs `at` or `delay`"):
        time_poke(scheduled_at=scheduled, now=lambda: now[0])


# -- sensor nodes and tests as sensors -----------------------------------------------------------------------


def sensor_node(kind: str, **params: object) -> SensorNode:
    return SensorNode(
        unique_id=f"sensor.p.{kind}",
        name=kind,
        package_name="p",
        path="models/sensors.yml",
        line=3,
        fqn=("p", kind),
        kind=kind,  # type: ignore[arg-type]
        params=params,
    )


def test_sensor_poke_builds_each_kind(adapter: Adapter, tmp_path: Path) -> None:
    now = datetime(2024, 1, 1, 12, tzinfo=UTC)

    def poke(node: SensorNode) -> PokeResult:
        return sensor_poke(node, adapter=adapter, project_root=tmp_path, scheduled_at=now, now=lambda: now)()

    assert poke(sensor_node("sql", sql="select 1")).ok
    assert not poke(sensor_node("file", path="*.csv", min_size=None, stable=False)).ok
    assert poke(sensor_node("time", at="11:00", timezone="UTC", delay=None)).ok
    with pytest.raises(
        ConfigError, match=r"^sensor http \(http\) has no 'url' \(declared in models/sensors.yml\)$"
    ):
        poke(sensor_node("http"))


def test_a_test_as_a_sensor_passes_when_the_table_appears(adapter: Adapter) -> None:
    test = DataTest(
        unique_id="test.p.rows",
        name="rows",
        package_name="p",
        path="models/sources.yml",
        fqn=("p", "rows"),
        test_type="generic",
        test_name="row_count",
        raw_sql="",
        checksum="0",
        config=NodeConfig(),
        compiled_sql="select 1 as missing from (select count(*) as n from batches) where n < 1",
    )
    poke = TestPoke(test, adapter, relation=None, failures_schema=None)
    first = poke()
    assert not first.ok and first.detail.startswith("Catalog Error: Table with name batches does not exist")
    adapter.execute("create table batches (id integer)")
    assert poke() == PokeResult(False, "Got 1 result, configured to fail if != 0")
    assert poke.last is not None and poke.last.failures == 1
    adapter.execute("insert into batches values (1)")
    assert poke() == PokeResult(True, "pass")
