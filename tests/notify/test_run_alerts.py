"""api.run sends the alerts of the run it just recorded: the template project against a real webhook
receiver and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlflow import api

from .helpers import SmtpServer, add_notifications, body_of, break_orders


def options(shop: Path) -> api.Options:
    return api.Options(project_dir=shop)


def test_a_failed_run_posts_json_and_sends_a_mail(
    shop: Path, local_server: type, smtp_server: SmtpServer
) -> None:
    with local_server() as server:
        server.answers["/hook"] = (200, b"ok")
        add_notifications(
            shop,
            f"""\
  channels:
    - name: ops
      type: webhook
      url: {server.url("/hook")}
      events: [run_failed, node_failed]
    - name: oncall
      type: email
      host: 127.0.0.1
      port: {smtp_server.port}
      security: none
      from: sqlflow@example.com
      to: oncall@example.com
""",
        )
        break_orders(shop)
        outcome = api.run("build", options(shop))
    assert outcome.failed and outcome.result is not None
    assert outcome.notices == ()
    resume = api.resume_command(outcome.result)
    assert resume
    run_failed, node_failed = server.json_posts("/hook")
    assert run_failed["event"] == "run_failed" and node_failed["event"] == "node_failed"
    assert run_failed["title"] == "sqlflow build failed: shop (default)"
    assert (
        run_failed["status"] == "error"
        and run_failed["project"] == "shop"
        and run_failed["target"] == "default"
    )
    assert run_failed["invocation_id"] == outcome.result.invocation_id
    assert run_failed["counts"] == dict(sorted(outcome.result.counts().items()))
    assert "Could not convert string 'x'" in run_failed["error"]
    assert run_failed["resume_command"] == resume
    assert [n["name"] for n in run_failed["nodes"]] == ["orders"]
    assert node_failed["nodes"][0]["unique_id"] == "model.shop.orders"
    ((sender, recipients, mail),) = smtp_server.mails
    assert (sender, recipients) == ("sqlflow@example.com", ["oncall@example.com"])
    assert mail["Subject"] == "sqlflow build failed: shop (default)"
    body = body_of(mail)
    assert "- model orders (error): Conversion Error: Could not convert string 'x'" in body
    assert f"To resume: {resume}" in body


def test_recovered_after_a_failure_of_the_same_selection(shop: Path, local_server: type) -> None:
    with local_server() as server:
        server.answers["/hook"] = (200, b"ok")
        add_notifications(
            shop,
            f"  channels:\n    - {{type: webhook, url: '{server.url('/hook')}', events: [run_recovered]}}\n",
        )
        good = (shop / "models" / "marts" / "orders.sql").read_text()
        # everything built once: an eagerly selected relationships test reads stg_customers, as in dbt
        assert not api.run("build", options(shop)).failed
        assert not api.run("build", options(shop), select_=["+orders"]).failed
        break_orders(shop)
        assert api.run("build", options(shop), select_=["+orders"]).failed
        (shop / "models" / "marts" / "orders.sql").write_text(good)
        assert not api.run("build", options(shop), select_=["stg_orders"]).failed  # another selection
        assert server.posts == []
        fixed = api.run("build", options(shop), select_=["+orders"])
        assert not api.run("build", options(shop), select_=["+orders"]).failed  # recovered only once
    (recovered,) = server.json_posts("/hook")
    assert recovered["event"] == "run_recovered" and recovered["severity"] == "success"
    assert fixed.result is not None and recovered["invocation_id"] == fixed.result.invocation_id
    assert recovered["previous_status"] == "error"
    assert recovered["title"] == "sqlflow build recovered: shop (default)"


def test_a_warning_test(shop: Path, local_server: type) -> None:
    (shop / "tests" / "big_orders.sql").write_text(
        "{{ config(severity='warn') }}\nselect * from {{ ref('orders') }} where amount > 100"
    )
    with local_server() as server:
        server.answers["/hook"] = (200, b"ok")
        add_notifications(
            shop,
            f"  channels:\n    - {{type: webhook, url: '{server.url('/hook')}', events: [test_warned]}}\n",
        )
        outcome = api.run("build", options(shop))
    assert not outcome.failed
    (warned,) = server.json_posts("/hook")
    assert warned["event"] == "test_warned" and warned["node"] == "test.shop.big_orders"
    assert warned["title"] == "sqlflow: test big_orders warned in shop (default)"
    assert warned["nodes"][0]["status"] == "warn"


def test_sla_missed(shop: Path, local_server: type) -> None:
    with local_server() as server:
        server.answers["/hook"] = (200, b"ok")
        add_notifications(
            shop,
            f"  sla: 0.001s\n  channels:\n"
            f"    - {{type: webhook, url: '{server.url('/hook')}', events: [sla_missed]}}\n",
        )
        outcome = api.run("seed", options(shop))
        assert not api.run("seed", options(shop), sla=3600).failed  # a schedule's own sla wins
    (missed,) = server.json_posts("/hook")
    assert outcome.result is not None and missed["elapsed"] == round(outcome.result.elapsed, 3)
    assert missed["event"] == "sla_missed" and missed["sla"] == 0.001
    assert missed["title"] == "sqlflow seed missed its SLA: shop (default)"


def test_not_fresh_after_a_run(shop: Path, local_server: type) -> None:
    with local_server() as server:
        server.answers["/hook"] = (200, b"ok")
        add_notifications(
            shop,
            f"""\
  freshness:
    - {{model: orders, deadline: "06:00", timezone: Europe/Berlin}}
    - {{model: raw_orders, deadline: "06:00", timezone: Europe/Berlin}}
    - {{model: ordrs, deadline: "06:00"}}
  channels:
    - {{type: webhook, url: '{server.url("/hook")}', events: [not_fresh]}}
""",
        )
        # 07:00 in Berlin: the seeds were just built, orders never was
        outcome = api.run("seed", options(shop), now=datetime(2024, 1, 2, 6, 0, tzinfo=UTC))
    (stale,) = server.json_posts("/hook")
    assert stale["event"] == "not_fresh" and stale["model"] == "orders"
    assert stale["text"] == (
        "orders was not built successfully by 06:00 Europe/Berlin on 2024-01-02; "
        "it was never built successfully."
    )
    assert stale["deadline"] == "2024-01-02T05:00:00Z"
    line = (shop / "sqlflow.yml").read_text().splitlines().index("notifications:") + 5
    assert outcome.notices == (
        f"sqlflow.yml:{line}: the freshness rule names no model 'ordrs' "
        "(did you mean 'orders' or 'stg_orders' or 'raw_orders'?)",
    )


def test_an_alert_that_cannot_be_sent_is_a_notice_not_a_failure(shop: Path) -> None:
    add_notifications(
        shop, "  channels:\n    - {type: slack, url: 'http://127.0.0.1:9/services/x', events: [run_failed]}\n"
    )
    break_orders(shop)
    outcome = api.run("run", options(shop), select_=["+orders"])
    assert outcome.failed  # because orders failed, not because of the alert
    (notice,) = outcome.notices
    assert notice.startswith("run_failed alert not sent to 'slack' (slack): cannot reach http://127.0.0.1:9")


def test_the_scheduler_checks_deadlines_between_runs(shop: Path, local_server: type) -> None:
    """check_freshness: a deadline passed since the previous check alerts once; the next check stays quiet."""
    from sqlflow.notify.report import check_freshness
    from sqlflow.state.store import StateStore

    with local_server() as server:
        server.answers["/hook"] = (200, b"ok")
        add_notifications(
            shop,
            f"""\
  freshness: {{model: orders, deadline: "07:00", timezone: Europe/Berlin}}
  channels:
    - {{type: webhook, url: '{server.url("/hook")}', events: [not_fresh]}}
""",
        )
        assert not api.run("seed", options(shop)).failed  # creates the state store; orders is not built
        server.posts.clear()  # (that run alerted already: orders is stale today)
        project = api.load(options(shop))
        adapter = api.connect(project)
        try:
            store = StateStore(adapter, api.state_schema(project))
            check = {"project": "shop", "target": "default", "environ": {}}
            before = datetime(2024, 5, 2, 4, 59, tzinfo=UTC)  # 06:59 in Berlin
            after = datetime(2024, 5, 2, 5, 1, tzinfo=UTC)
            later = datetime(2024, 5, 2, 5, 2, tzinfo=UTC)
            assert check_freshness(project.notifications, store, now=after, since=before, **check) == []
            assert check_freshness(project.notifications, store, now=later, since=after, **check) == []
        finally:
            adapter.close()
    (stale,) = server.json_posts("/hook")
    assert stale["event"] == "not_fresh" and stale["deadline"] == "2024-05-02T05:00:00Z"


def test_the_scheduler_polls_the_deadlines(shop: Path, local_server: type) -> None:
    """The scheduler's poll hook (api.freshness_watch): the first poll only starts the watch, a poll after
    the deadline alerts once, the next stays quiet."""
    with local_server() as server:
        server.answers["/hook"] = (200, b"ok")
        add_notifications(
            shop,
            f"""\
  freshness: {{model: orders, deadline: "07:00", timezone: Europe/Berlin}}
  channels:
    - {{type: webhook, url: '{server.url("/hook")}', events: [not_fresh]}}
""",
        )
        assert not api.run("seed", options(shop)).failed
        server.posts.clear()
        watch = api.freshness_watch(api.load(options(shop)))
        assert watch is not None
        for minute in (58, 59, 1, 2):  # 06:58, 06:59, 07:01, 07:02 in Berlin
            hour = 4 if minute > 30 else 5
            watch(datetime(2024, 5, 2, hour, minute, tzinfo=UTC))
    (stale,) = server.json_posts("/hook")
    assert stale["event"] == "not_fresh" and stale["deadline"] == "2024-05-02T05:00:00Z"
