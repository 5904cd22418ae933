"""Send alerts: a webhook gets the alert's JSON, Slack an incoming-webhook message (text + blocks), email
goes through SMTP and `apprise` channels through any Apprise URL (both with apprise).

Webhook and Slack are plain JSON POSTs (urllib): Apprise's json:// sends its own flat envelope
(version/title/message/type), and its Slack plugin only posts to hooks.slack.com and puts blocks inside a
legacy attachment, so neither carries the documents below. A failed send is a warning string, never an
exception out of `deliver`. Imports apprise (lazily), the stdlib and `sqlflow.project`/`sqlflow.errors`.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from sqlflow.errors import SqlflowError
from sqlflow.notify.alerts import Alert
from sqlflow.project.notifications import Channel, resolve_env

TIMEOUT = 10.0  # seconds per send
SLACK_TEXT_LIMIT = 2900  # Slack rejects a section text over 3000 characters
EMOJI = {"error": ":red_circle:", "warning": ":warning:", "success": ":large_green_circle:"}


class AlertNotSent(SqlflowError):
    """A channel could not be reached or refused an alert."""


class Unreachable(AlertNotSent):
    """The channel's server could not be reached: the run's other alerts to it are not tried."""


def deliver(
    deliveries: Sequence[tuple[Channel, Alert]],
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,
) -> list[str]:
    """Send each alert to its channel; one warning line per failed send (nothing raised)."""
    environ = os.environ if environ is None else environ
    warnings = []
    unreachable: dict[str, int] = {}  # channel name -> alerts not tried after it could not be reached
    for channel, alert in deliveries:
        if channel.name in unreachable:
            unreachable[channel.name] += 1
            continue
        try:
            send(channel, alert, environ=environ, timeout=timeout)
        except Exception as exc:  # a failed alert must never fail the run
            warnings.append(f"{alert.event} alert not sent to '{channel.name}' ({channel.type}): {exc}")
            if isinstance(exc, Unreachable):
                unreachable[channel.name] = 0
    warnings += [f"{n} more alert(s) not sent to '{name}'" for name, n in unreachable.items() if n]
    return warnings


def send(channel: Channel, alert: Alert, *, environ: Mapping[str, str], timeout: float = TIMEOUT) -> None:
    """Send one alert; AlertNotSent says why it could not be."""
    if channel.type == "webhook":
        headers = {k: _env(v, environ) for k, v in (channel.headers or {}).items()}
        post_json(_env(channel.url or "", environ), webhook_body(alert), headers=headers, timeout=timeout)
    elif channel.type == "slack":
        post_json(_env(channel.url or "", environ), slack_body(alert), timeout=timeout)
    elif channel.type == "email":
        notify_apprise(email_url(channel, environ), alert, timeout=timeout)
    elif channel.type == "apprise":
        notify_apprise(_env(channel.url or "", environ), alert, timeout=timeout)
    else:
        raise AlertNotSent(f"unknown channel type '{channel.type}'")


def webhook_body(alert: Alert) -> dict[str, Any]:
    """The JSON a webhook receives: alert.to_json()."""
    return alert.to_json()


def slack_body(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` (notifications, fallback) and Block Kit `blocks`."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150], "emoji": True}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{EMOJI[alert.severity]} {_mrkdwn(alert.summary)}"},
        },
    ]
    for problem in alert.problems[:10]:
        text = f"*{_mrkdwn(problem.name)}* ({problem.resource_type}, {problem.status})"
        if problem.message:
            text += "\n```" + _mrkdwn(problem.message)[: SLACK_TEXT_LIMIT - len(text) - 10] + "```"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if len(alert.problems) > 10:
        more = f"… and {len(alert.problems) - 10} more"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    if alert.resume:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"To resume: `{_mrkdwn(alert.resume)}`"}}
        )
    context = " · ".join(x for x in (alert.project, alert.target, alert.command, alert.invocation_id) if x)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn(context)}]})
    return {"text": f"{alert.title}: {alert.summary}", "blocks": blocks}


def email_url(channel: Channel, environ: Mapping[str, str]) -> str:
    """The Apprise mailto:// URL of an email channel: SMTP host, port, security, login, from and to."""
    q = urllib.parse.quote
    host = _env(channel.host or "", environ)
    user = _env(channel.username, environ) if channel.username else None
    password = _env(channel.password, environ) if channel.password else None
    login = f"{q(user, safe='')}:{q(password or '', safe='')}@" if user else ""
    mode = {"starttls": "starttls", "ssl": "ssl", "none": "insecure"}[channel.security]
    port = channel.port or {"starttls": 587, "ssl": 465, "none": 25}[channel.security]
    query = urllib.parse.urlencode(
        {
            "smtp": host,
            "mode": mode,
            "from": _env(channel.sender or "", environ),
            "to": ",".join(_env(t, environ) for t in channel.to),
        }
    )
    scheme = "mailto" if channel.security == "none" else "mailtos"
    return f"{scheme}://{login}{q(host, safe='')}:{port}?{query}"


def post_json(
    url: str, body: Mapping[str, Any], *, headers: Mapping[str, str] | None = None, timeout: float
) -> None:
    """POST `body` as JSON; AlertNotSent on a connection error or a status that is not 2xx."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise AlertNotSent(f"not an http(s) URL: {_site(url)}")
    data = json.dumps(body, default=str).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", "sqlflow")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    shown = _site(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise AlertNotSent(f"{shown} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"cannot reach {shown}: {reason}") from exc


def notify_apprise(url: str, alert: Alert, *, timeout: float) -> None:
    """Send the alert's title and text through an Apprise URL; AlertNotSent with Apprise's own error."""
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise AlertNotSent(f"not a URL Apprise can send to: {_site(url)}")
    for plugin in notifier:
        if hasattr(plugin, "socket_connect_timeout"):
            plugin.socket_connect_timeout = timeout
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as logs:
        sent = notifier.notify(title=alert.title, body=alert.text(), body_format=apprise.NotifyFormat.TEXT)
    if not sent:
        detail = " ".join(line.strip() for line in logs.getvalue().splitlines() if line.strip())
        raise AlertNotSent(detail or f"Apprise could not send to {_site(url)}")


def _env(text: str | None, environ: Mapping[str, str]) -> str:
    try:
        return resolve_env(text or "", environ)
    except KeyError as exc:
        raise AlertNotSent(f"environment variable '{exc.args[0]}' is not set") from None


def _site(url: str) -> str:
    """scheme://host[:port] of a URL: messages never show its path, where webhooks keep their secret."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}" if parts.scheme else "the URL"


def _mrkdwn(text: str) -> str:
    """Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["AlertNotSent", "deliver", "email_url", "send", "slack_body", "webhook_body"]
