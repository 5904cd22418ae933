"""Which alerts a run produces (pure: a RunResult, the previous run, the config, the last successes)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlflow.notify.alerts import RunInfo, freshness_alerts, previous_run, route, run_alerts
from sqlflow.project.notifications import Channel, FreshnessRule, Notifications
from sqlflow.runner.results import NodeResult, RunResult
from sqlflow.state.store import RunRecord

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
INFO = RunInfo(
    project="shop",
    target="dev",
    command="build",
    select=("marts",),
    resume="sqlflow retry",
    finished_at=T0,
)


def node(name: str, status: str, kind: str = "model", message: str | None = None) -> NodeResult:
    return NodeResult(
        unique_id=f"{kind}.shop.{name}", name=name, resource_type=kind, status=status, message=message
    )


def run(*nodes: NodeResult, elapsed: float = 5.0) -> RunResult:
    return RunResult(results=nodes, elapsed=elapsed, generated_at=T0, command="build", invocation_id="inv-1")


def record(run_id: str, status: str, select: list[str], command: str = "build") -> RunRecord:
    return RunRecord(
        run_id=run_id,
        command=command,
        status=status,
        started_at=T0,
        ended_at=T0,
        args={"select": select, "exclude": []},
        target="dev",
    )


FAILED_RUN = run(
    node("stg_orders", "success"),
    node("orders", "error", message="Conversion Error: Could not convert string 'x' to INT32"),
    node("not_null_orders_id", "fail", "test", "Got 3 results, configured to fail if != 0"),
    node("customers", "skipped"),
    node("accepted_status", "warn", "test", "Got 1 result, configured to warn if != 0"),
)


def test_a_failed_run() -> None:
    alerts = {a.event: a for a in run_alerts(FAILED_RUN, Notifications(), INFO)}
    failed = alerts["run_failed"]
    assert failed.title == "sqlflow build failed: shop (dev)"
    assert failed.summary == (
        "build --select marts failed after 5.0s: 1 error, 1 fail, 1 skipped, 1 success, 1 warn."
    )
    assert [p.name for p in failed.problems] == ["orders", "not_null_orders_id"]
    assert failed.text().splitlines()[1:] == [
        "- model orders (error): Conversion Error: Could not convert string 'x' to INT32",
        "- test not_null_orders_id (fail): Got 3 results, configured to fail if != 0",
        "",
        "To resume: sqlflow retry",
    ]
    doc = failed.to_json()
    assert (
        doc["event"] == "run_failed" and doc["status"] == "error" and doc["resume_command"] == "sqlflow retry"
    )
    assert doc["error"] == "Conversion Error: Could not convert string 'x' to INT32"
    assert doc["counts"] == {"error": 1, "fail": 1, "skipped": 1, "success": 1, "warn": 1}
    assert "run_recovered" not in alerts and "sla_missed" not in alerts


def test_one_alert_per_failed_node_and_per_warning_test() -> None:
    alerts = run_alerts(FAILED_RUN, Notifications(), INFO)
    nodes = [a for a in alerts if a.event == "node_failed"]
    assert [a.title for a in nodes] == [
        "sqlflow: model orders failed in shop (dev)",
        "sqlflow: test not_null_orders_id failed in shop (dev)",
    ]
    assert all(a.resume == "sqlflow retry" for a in nodes)
    (warned,) = [a for a in alerts if a.event == "test_warned"]
    assert warned.title == "sqlflow: test accepted_status warned in shop (dev)"
    assert warned.problems[0].message == "Got 1 result, configured to warn if != 0"
    assert warned.severity == "warning" and warned.resume is None


def test_recovered_after_a_failed_run_of_the_same_selection() -> None:
    ok = run(node("orders", "success"))
    runs = [
        record("inv-1", "success", ["marts"]),  # this run itself
        record("other", "error", ["staging"]),  # another selection
        record("killed", "running", ["marts"]),  # never finished
        record("before", "error", ["marts"]),
    ]
    previous = previous_run(runs, command="build", select=["marts"], exclude=[], run_id="inv-1")
    assert previous is not None and previous.run_id == "before"
    (recovered,) = run_alerts(ok, Notifications(), INFO, previous=previous)
    assert recovered.event == "run_recovered" and recovered.severity == "success"
    assert recovered.summary.startswith("build --select marts succeeded after the previous run (before,")
    # after a success nothing recovers; with no previous run neither
    assert run_alerts(ok, Notifications(), INFO, previous=record("b", "success", ["marts"])) == []
    assert run_alerts(ok, Notifications(), INFO) == []


def test_sla_missed() -> None:
    slow = run(node("orders", "success"), elapsed=1900.0)
    (missed,) = run_alerts(slow, Notifications(sla=1800), INFO)
    assert missed.event == "sla_missed"
    assert missed.summary == "build --select marts took 31m 40s, over its SLA of 30m (status: success)."
    assert run_alerts(slow, Notifications(sla=3600), INFO) == []
    assert [a.event for a in run_alerts(slow, Notifications(sla=3600), INFO, sla=60)] == ["sla_missed"]


def test_not_fresh_by_the_deadline_in_its_time_zone() -> None:
    rule = FreshnessRule(model="orders", deadline=time(7), timezone="Europe/Berlin")
    now = datetime(2024, 3, 1, 6, 30, tzinfo=UTC)  # 07:30 in Berlin
    built_yesterday = {"orders": datetime(2024, 2, 29, 22, 0, tzinfo=UTC)}  # 23:00 on Feb 29 in Berlin
    built_today = {"orders": datetime(2024, 2, 29, 23, 30, tzinfo=UTC)}  # 00:30 on Mar 1 in Berlin
    (stale,) = freshness_alerts([rule], built_yesterday, now=now, project="shop", target="dev")
    assert stale.event == "not_fresh"
    assert stale.summary == (
        "orders was not built successfully by 07:00 Europe/Berlin on 2024-03-01; "
        "its last successful build was 2024-02-29 22:00 UTC."
    )
    assert freshness_alerts([rule], built_today, now=now, project="shop") == []
    (never,) = freshness_alerts([rule], {}, now=now, project="shop")
    assert never.summary.endswith("it was never built successfully.")
    # before today's deadline, yesterday's counts: built on Feb 29 in Berlin is fresh then
    assert (
        freshness_alerts([rule], built_yesterday, now=datetime(2024, 3, 1, 5, tzinfo=UTC), project="s") == []
    )
    # a scheduler checking again after it alerted once: the deadline is behind `since`
    assert (
        freshness_alerts([rule], {}, now=now, since=datetime(2024, 3, 1, 6, 1, tzinfo=UTC), project="s") == []
    )


def test_route_sends_each_channel_the_events_it_wants() -> None:
    hook = Channel(name="hook", type="webhook", url="http://x", events=("run_failed",))
    chat = Channel(name="chat", type="slack", url="http://y", events=("node_failed", "test_warned"))
    routed = route(run_alerts(FAILED_RUN, Notifications(), INFO), [hook, chat])
    assert [(c.name, a.event) for c, a in routed] == [
        ("hook", "run_failed"),
        ("chat", "node_failed"),
        ("chat", "node_failed"),
        ("chat", "test_warned"),
    ]
