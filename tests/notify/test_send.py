"""Sending alerts to real servers on 127.0.0.1: a webhook receiver, a Slack-shaped receiver, an SMTP server
(aiosmtpd) and an Apprise URL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sqlflow.notify.alerts import Alert, Problem
from sqlflow.notify.send import AlertNotSent, deliver, email_url, send
from sqlflow.project.notifications import Channel

from .helpers import SmtpServer, body_of

ALERT = Alert(
    event="run_failed",
    severity="error",
    title="sqlflow build failed: shop (dev)",
    summary="build failed after 2.0s: 1 error, 3 success.",
    project="shop",
    target="dev",
    command="build",
    invocation_id="inv-1",
    problems=(
        Problem(
            unique_id="model.shop.orders",
            name="orders",
            resource_type="model",
            status="error",
            message="Conversion Error: <x> & 'y'",
        ),
    ),
    resume="sqlflow retry",
    facts={"status": "error", "checked_at": datetime(2024, 1, 1, tzinfo=UTC)},
)


def test_webhook_posts_the_alert_as_json_with_its_headers(local_server: type) -> None:
    with local_server() as server:
        server.answers["/hook"] = (200, b"ok")
        channel = Channel(
            name="hook",
            type="webhook",
            url=server.url("/hook"),
            headers={"Authorization": "Bearer {{ env_var('HOOK_TOKEN') }}", "X-Team": "data"},
        )
        send(channel, ALERT, environ={"HOOK_TOKEN": "s3cret"})
        ((path, headers, _),) = server.posts
    assert path == "/hook"
    (doc,) = server.json_posts("/hook")
    assert headers["Authorization"] == "Bearer s3cret" and headers["X-Team"] == "data"
    assert headers["Content-Type"] == "application/json"
    assert doc["event"] == "run_failed" and doc["title"] == "sqlflow build failed: shop (dev)"
    assert doc["error"] == "Conversion Error: <x> & 'y'"
    assert doc["resume_command"] == "sqlflow retry"
    assert doc["nodes"] == [
        {
            "unique_id": "model.shop.orders",
            "name": "orders",
            "resource_type": "model",
            "status": "error",
            "message": "Conversion Error: <x> & 'y'",
        }
    ]
    assert doc["checked_at"] == "2024-01-01T00:00:00Z"
    assert doc["text"].endswith("To resume: sqlflow retry")


def test_slack_gets_text_and_blocks(local_server: type) -> None:
    with local_server() as server:
        server.answers["/services/T/B/X"] = (200, b"ok")
        send(Channel(name="slack", type="slack", url=server.url("/services/T/B/X")), ALERT, environ={})
    (doc,) = server.json_posts("/services/T/B/X")
    assert doc["text"] == "sqlflow build failed: shop (dev): build failed after 2.0s: 1 error, 3 success."
    kinds = [b["type"] for b in doc["blocks"]]
    assert kinds == ["header", "section", "section", "section", "context"]
    header, summary, node, resume, context = doc["blocks"]
    assert header["text"] == {"type": "plain_text", "text": "sqlflow build failed: shop (dev)", "emoji": True}
    assert summary["text"]["type"] == "mrkdwn" and summary["text"]["text"].startswith(
        ":red_circle: build failed"
    )
    # Slack's control characters are escaped inside the code block of the error
    assert node["text"]["text"] == "*orders* (model, error)\n```Conversion Error: &lt;x&gt; &amp; 'y'```"
    assert resume["text"]["text"] == "To resume: `sqlflow retry`"
    assert context["elements"][0]["text"] == "shop · dev · build · inv-1"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_through_a_local_smtp_server_with_a_login() -> None:
    with SmtpServer(logins={("alerts", "p@ss word")}) as smtp:
        channel = Channel(
            name="oncall",
            type="email",
            host="127.0.0.1",
            port=smtp.port,
            sender="sqlflow@example.com",
            to=("oncall@example.com", "data@example.com"),
            username="{{ env_var('SMTP_USER') }}",
            password="{{ env_var('SMTP_PASSWORD') }}",
            security="none",
        )
        environ = {"SMTP_USER": "alerts", "SMTP_PASSWORD": "p@ss word"}
        assert deliver([(channel, ALERT)], environ=environ) == []
    recipients = sorted(r for _, rcpt, _ in smtp.mails for r in rcpt)
    assert recipients == ["data@example.com", "oncall@example.com"]
    _, _, message = smtp.mails[0]
    assert message["Subject"] == "sqlflow build failed: shop (dev)"
    assert message["From"].endswith("sqlflow@example.com") or "sqlflow@example.com" in message["From"]
    body = body_of(message)
    assert "Conversion Error: <x> & 'y'" in body and "To resume: sqlflow retry" in body


def test_email_url() -> None:
    channel = Channel(
        name="m",
        type="email",
        host="smtp.example.com",
        sender="a@example.com",
        to=("b@example.com",),
        username="me@example.com",
        password="{{ env_var('PW') }}",
    )
    assert email_url(channel, {"PW": "p/w"}) == (
        "mailtos://me%40example.com:p%2Fw@smtp.example.com:587?smtp=smtp.example.com&mode=starttls"
        "&from=a%40example.com&to=b%40example.com"
    )


def test_apprise_channel(local_server: type) -> None:
    """Any Apprise URL: here Apprise's own JSON notification to the local server."""
    with local_server() as server:
        server.answers["/apprise"] = (200, b"ok")
        url = server.url("/apprise").replace("http://", "json://")
        send(Channel(name="any", type="apprise", url=url), ALERT, environ={})
    (doc,) = server.json_posts("/apprise")
    assert doc["title"] == "sqlflow build failed: shop (dev)"
    assert "To resume: sqlflow retry" in doc["message"]


def test_failures_are_warnings_and_an_unreachable_channel_is_tried_once(local_server: type) -> None:
    with local_server() as server:
        server.answers["/broken"] = (500, b"boom")
        broken = Channel(name="broken", type="webhook", url=server.url("/broken"))
        down = Channel(name="down", type="slack", url="http://127.0.0.1:9/services/T/B/SECRET")
        unset = Channel(name="unset", type="slack", url="{{ env_var('NO_SUCH_SQLFLOW_VAR') }}")
        warnings = deliver(
            [(broken, ALERT), (down, ALERT), (down, ALERT), (down, ALERT), (unset, ALERT)], environ={}
        )
    assert warnings[0] == (
        f"run_failed alert not sent to 'broken' (webhook): http://127.0.0.1:{server.httpd.server_address[1]} "
        "answered HTTP 500"
    )
    assert warnings[1].startswith(
        "run_failed alert not sent to 'down' (slack): cannot reach http://127.0.0.1:9"
    )
    assert "SECRET" not in warnings[1]  # a webhook's path is its secret: never shown
    assert warnings[2] == (
        "run_failed alert not sent to 'unset' (slack): environment variable 'NO_SUCH_SQLFLOW_VAR' is not set"
    )
    assert warnings[3] == "2 more alert(s) not sent to 'down'"


def test_send_raises_alert_not_sent(local_server: type) -> None:
    with local_server() as server, pytest.raises(AlertNotSent, match="answered HTTP 404"):
        send(Channel(name="x", type="webhook", url=server.url("/nowhere")), ALERT, environ={})


def test_email_to_a_closed_port_is_a_warning() -> None:
    channel = Channel(
        name="oncall", type="email", host="127.0.0.1", port=9, sender="a@example.com", to=("b@example.com",)
    )
    (warning,) = deliver([(channel, ALERT)], environ={}, timeout=5)
    assert warning.startswith("run_failed alert not sent to 'oncall' (email): ")
    assert "127.0.0.1" in warning


def test_a_url_from_a_variable_must_still_be_http() -> None:
    channel = Channel(name="x", type="webhook", url="{{ env_var('HOOK_URL') }}")
    with pytest.raises(AlertNotSent, match="not an http"):
        send(channel, ALERT, environ={"HOOK_URL": "file:///etc/passwd"})
