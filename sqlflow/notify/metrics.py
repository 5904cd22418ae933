"""Prometheus metrics of runs, with prometheus-client: counters and histograms built from RunResult objects
and the models' last successes from the state store. The scheduler serves them (`serve_metrics`: /metrics
and /healthz); one-shot commands write them for node-exporter's textfile collector (`write_textfile`).

Each RunMetrics holds its own registry (no process-wide state): the scheduler keeps one for its lifetime
and hands it to every run. Imports prometheus_client, the stdlib and this package.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder, write_to_textfile

from sqlflow.notify.shapes import RunOutcome, run_status
from sqlflow.state.store import NodeRunRecord

NODE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
RUN_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)
SENSOR_BUCKETS = (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 21600)
BUILT = ("model", "seed", "snapshot")  # the resource types that build a relation


class RunMetrics:
    """The metrics of the runs observed so far, in one registry."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.runs = Counter(
            "sqlflow_runs", "Runs finished, by command and status.", ["command", "status"], registry=r
        )
        self.run_duration = Histogram(
            "sqlflow_run_duration_seconds",
            "How long runs took.",
            ["command"],
            buckets=RUN_BUCKETS,
            registry=r,
        )
        self.run_finished = Gauge(
            "sqlflow_run_last_finished_timestamp_seconds",
            "When a run of the command last ended with the status (Unix time).",
            ["command", "status"],
            registry=r,
        )
        self.nodes = Counter(
            "sqlflow_nodes",
            "Nodes finished, by resource type and status.",
            ["resource_type", "status"],
            registry=r,
        )
        self.node_duration = Histogram(
            "sqlflow_node_duration_seconds",
            "How long a node took (sensors: see sqlflow_sensor_wait_seconds).",
            ["resource_type"],
            buckets=NODE_BUCKETS,
            registry=r,
        )
        self.rows = Counter(
            "sqlflow_rows_processed",
            "Rows written by models, seeds and snapshots.",
            ["resource_type"],
            registry=r,
        )
        self.retries = Counter(
            "sqlflow_node_retries", "Attempts beyond a node's first (retries).", ["resource_type"], registry=r
        )
        self.queue_depth = Gauge(
            "sqlflow_queue_depth", "Nodes ready to run, waiting for a thread or a pool slot.", registry=r
        )
        self.last_success = Gauge(
            "sqlflow_model_last_success_timestamp_seconds",
            "When the model (seed, snapshot) was last built successfully (Unix time).",
            ["model"],
            registry=r,
        )
        self.sensor_wait = Histogram(
            "sqlflow_sensor_wait_seconds",
            "How long a sensor waited for its condition.",
            ["sensor"],
            buckets=SENSOR_BUCKETS,
            registry=r,
        )

    def observe_run(
        self,
        result: RunOutcome,
        *,
        retries: Mapping[str, int] | None = None,
        last_success: Mapping[str, datetime] | None = None,
    ) -> None:
        """Count one finished run. `retries`: unique id -> attempts beyond the first (see retries_of);
        `last_success`: unique id -> its latest successful build (StateStore.last_successes); the nodes
        built by this run count too."""
        status = run_status(result)
        self.runs.labels(result.command, status).inc()
        self.run_duration.labels(result.command).observe(result.elapsed)
        finished = getattr(result, "generated_at", None)
        if isinstance(finished, datetime):
            self.run_finished.labels(result.command, status).set(finished.timestamp())
        kinds = {}
        for node in result.results:
            kinds[node.unique_id] = node.resource_type
            self.nodes.labels(node.resource_type, node.status).inc()
            if node.resource_type == "sensor":
                if node.status != "skipped" or node.execution_time:
                    self.sensor_wait.labels(node.name).observe(node.execution_time)
            elif node.status != "skipped":
                self.node_duration.labels(node.resource_type).observe(node.execution_time)
            if node.resource_type in BUILT and node.rows_affected is not None and node.rows_affected > 0:
                self.rows.labels(node.resource_type).inc(node.rows_affected)
        for uid, extra in (retries or {}).items():
            if extra > 0:
                self.retries.labels(kinds.get(uid) or uid.split(".", 1)[0]).inc(extra)
        built = {
            n.unique_id: n.completed_at
            for n in result.results
            if n.resource_type in BUILT and n.status == "success" and n.completed_at is not None
        }
        self.set_last_success({**(last_success or {}), **built})

    def set_last_success(self, last_success: Mapping[str, datetime]) -> None:
        """unique id -> when it was last built successfully; tests and sensors are left out."""
        for uid, moment in last_success.items():
            if uid.split(".", 1)[0] in BUILT:
                self.last_success.labels(uid.rsplit(".", 1)[-1]).set(moment.timestamp())

    def set_queue_depth(self, depth: int) -> None:
        """How many nodes are ready and waiting (api.run keeps it at the executor's ready queue)."""
        self.queue_depth.set(depth)

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """(body, content type) in the Prometheus text format, or OpenMetrics when `accept` asks for it."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


def retries_of(node_runs: Iterable[NodeRunRecord]) -> dict[str, int]:
    """unique id -> attempts beyond the first, from a run's node_runs rows (attempt > 1).

    >>> from sqlflow.state.store import NodeRunRecord as R
    >>> rows = [R(run_id="r", unique_id=u, status="success", attempt=a, started_at=None, ended_at=None,
    ...           rows_affected=None, message=None) for u, a in (("model.p.a", 1), ("model.p.b", 3))]
    >>> retries_of(rows)
    {'model.p.b': 2}
    """
    most: dict[str, int] = {}
    for row in node_runs:
        most[row.unique_id] = max(most.get(row.unique_id, 1), row.attempt)
    return {uid: attempt - 1 for uid, attempt in sorted(most.items()) if attempt > 1}


def write_textfile(path: Path, metrics: RunMetrics) -> None:
    """Write the metrics for node-exporter's textfile collector (atomically: a temporary file, renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), metrics.registry)


class MetricsServer:
    """A running /metrics and /healthz endpoint; `close()` stops it."""

    def __init__(self, httpd: ThreadingHTTPServer, thread: threading.Thread, metrics: RunMetrics) -> None:
        self.httpd, self.thread, self.metrics = httpd, thread, metrics

    @property
    def host(self) -> str:
        return str(self.httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def url(self, path: str = "/metrics") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_metrics(
    port: int,
    host: str = "127.0.0.1",
    *,
    metrics: RunMetrics | None = None,
    health: Callable[[], bool] | None = None,
) -> MetricsServer:
    """Serve `metrics` (a new RunMetrics when None) in a background thread: GET /metrics in the Prometheus
    text format (OpenMetrics when the scraper asks), GET /healthz -> 200 "ok" (503 when `health()` is
    false). Port 0 picks a free port (see `.port`). OSError when the address is taken."""
    served = metrics or RunMetrics()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, content_type = served.exposition(self.headers.get("Accept"))
                self._answer(200, body, content_type)
            elif path == "/healthz":
                ok = health() if health is not None else True
                self._answer(
                    200 if ok else 503, b"ok\n" if ok else b"unhealthy\n", "text/plain; charset=utf-8"
                )
            else:
                self._answer(404, b"not found: try /metrics or /healthz\n", "text/plain; charset=utf-8")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="sqlflow-metrics", daemon=True)
    thread.start()
    return MetricsServer(httpd, thread, served)


__all__ = ["MetricsServer", "RunMetrics", "retries_of", "serve_metrics", "write_textfile"]
