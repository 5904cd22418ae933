"""Prometheus metrics of runs: served by serve_metrics on 127.0.0.1, and written as a textfile by api.run."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sqlflow import api
from sqlflow.notify.metrics import RunMetrics, serve_metrics
from sqlflow.runner.results import NodeResult, RunResult

from .helpers import break_orders


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """sample name -> [(labels, value)], parsed the way Prometheus does."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def nodes_by_status(found: dict[str, list[tuple[dict[str, str], float]]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for labels, value in found["sqlflow_nodes_total"]:
        counts[labels["status"]] += int(value)
    return dict(counts)


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_metrics_endpoint_shows_the_run_that_just_happened(shop: Path) -> None:
    metrics = RunMetrics()
    outcome = api.run("build", api.Options(project_dir=shop), metrics=metrics)
    result = outcome.result
    assert result is not None and not result.failed
    with serve_metrics(0, metrics=metrics) as server:
        assert server.host == "127.0.0.1" and server.port > 0
        status, content_type, text = get(server.url("/metrics"))
        assert (status, content_type.split(";")[0]) == (200, "text/plain")
        assert get(server.url("/healthz"))[::2] == (200, "ok\n")
        assert get(server.url("/nothing"))[0] == 404
    found = samples(text)
    assert nodes_by_status(found) == result.counts()
    assert found["sqlflow_runs_total"] == [({"command": "build", "status": "success"}, 1.0)]
    (count,) = [
        v for labels, v in found["sqlflow_run_duration_seconds_count"] if labels["command"] == "build"
    ]
    assert count == 1
    timed = [r for r in result.results if r.resource_type != "sensor" and r.status != "skipped"]
    assert sum(v for _, v in found["sqlflow_node_duration_seconds_count"]) == len(timed)
    rows = sum(
        r.rows_affected or 0 for r in result.results if r.resource_type in ("model", "seed", "snapshot")
    )
    assert sum(v for _, v in found["sqlflow_rows_processed_total"]) == rows > 0
    orders = result.get("model.shop.orders")
    assert orders.completed_at is not None
    last = dict((labels["model"], v) for labels, v in found["sqlflow_model_last_success_timestamp_seconds"])
    assert last["orders"] == pytest.approx(orders.completed_at.timestamp(), abs=1e-3)
    assert "raw_orders" in last and not any(name.startswith("not_null") for name in last)  # seeds, not tests
    (sensor_waits,) = [v for labels, v in found["sqlflow_sensor_wait_seconds_count"]]
    assert sensor_waits == 1  # the template's landing_files sensor
    assert found["sqlflow_queue_depth"] == [({}, 0.0)]


def test_a_second_run_adds_up(shop: Path) -> None:
    metrics = RunMetrics()
    first = api.run("seed", api.Options(project_dir=shop), metrics=metrics)
    break_orders(shop)
    second = api.run("run", api.Options(project_dir=shop), select_=["+orders"], metrics=metrics)
    assert first.result is not None and second.result is not None and second.failed
    found = samples(metrics.exposition()[0].decode())
    assert sorted((labels["command"], labels["status"], v) for labels, v in found["sqlflow_runs_total"]) == [
        ("run", "error", 1.0),
        ("seed", "success", 1.0),
    ]
    assert nodes_by_status(found) == dict(Counter(first.result.counts()) + Counter(second.result.counts()))


def test_health_and_openmetrics() -> None:
    healthy = [True]
    with serve_metrics(0, health=lambda: healthy[0]) as server:
        server.metrics.set_queue_depth(3)
        request = urllib.request.Request(server.url(), headers={"Accept": "application/openmetrics-text"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["Content-Type"].startswith("application/openmetrics-text")
            text = response.read().decode()
        assert "sqlflow_queue_depth 3.0" in text and text.rstrip().endswith("# EOF")
        healthy[0] = False
        assert get(server.url("/healthz"))[::2] == (503, "unhealthy\n")


def test_retries_are_counted() -> None:
    result = RunResult(
        results=(
            NodeResult(unique_id="model.shop.orders", name="orders", resource_type="model", status="success"),
        ),
        elapsed=1.0,
        generated_at=datetime(2024, 1, 1, tzinfo=UTC),
        command="run",
    )
    metrics = RunMetrics()
    metrics.observe_run(result, retries={"model.shop.orders": 2})
    found = samples(metrics.exposition()[0].decode())
    assert found["sqlflow_node_retries_total"] == [({"resource_type": "model"}, 2.0)]
    assert found["sqlflow_run_last_finished_timestamp_seconds"] == [
        ({"command": "run", "status": "success"}, datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    ]


def test_textfile_for_a_one_shot_run(shop: Path, tmp_path: Path) -> None:
    path = tmp_path / "textfile" / "sqlflow.prom"
    outcome = api.run("build", api.Options(project_dir=shop), metrics_file=path)
    assert outcome.result is not None and outcome.notices == ()
    found = samples(path.read_text())
    assert nodes_by_status(found) == outcome.result.counts()
    assert found["sqlflow_runs_total"] == [({"command": "build", "status": "success"}, 1.0)]
    assert not list(path.parent.glob("*.tmp*"))  # written atomically: nothing left beside it


def test_metrics_file_that_cannot_be_written_is_a_notice(shop: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    outcome = api.run("seed", api.Options(project_dir=shop), metrics_file=blocker / "sqlflow.prom")
    assert not outcome.failed
    (notice,) = outcome.notices
    assert "sqlflow.prom" in notice
