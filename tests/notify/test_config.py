"""`notifications:` in sqlflow.yml: what it reads, and the file:line errors of what it refuses."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from sqlflow.errors import ConfigError
from sqlflow.project import load_project
from sqlflow.project.notifications import resolve_env

from .helpers import add_notifications

FULL = """\
  sla: 30m
  freshness:
    - {model: orders, deadline: "07:00", timezone: Europe/Berlin}
    - model: customers
      deadline: 6:30
  channels:
    - name: ops
      type: webhook
      url: https://hooks.example.com/sqlflow
      headers: {Authorization: "Bearer {{ env_var('HOOK_TOKEN') }}"}
      events: [run_failed, node_failed, run_recovered]
    - type: slack
      url: "{{ env_var('SLACK_WEBHOOK_URL') }}"
      events: [test_warned, sla_missed, not_fresh]
    - name: oncall
      type: email
      host: smtp.example.com
      from: sqlflow@example.com
      to: oncall@example.com
      username: "{{ env_var('SMTP_USER') }}"
      password: "{{ env_var('SMTP_PASSWORD', 'none') }}"
      security: ssl
    - name: chat
      type: apprise
      url: "ntfy://{{ env_var('NTFY_TOPIC') }}"
      events: run_failed
"""


def test_notifications_are_read(shop: Path) -> None:
    add_notifications(shop, FULL)
    config = load_project(shop).notifications
    assert config.sla == 1800
    orders, customers = config.freshness
    assert (orders.model, orders.deadline, orders.timezone) == ("orders", time(7), "Europe/Berlin")
    assert (customers.deadline, customers.timezone) == (time(6, 30), "UTC")
    ops, slack, oncall, chat = config.channels
    assert (ops.type, ops.events, ops.url) == (
        "webhook",
        ("run_failed", "node_failed", "run_recovered"),
        "https://hooks.example.com/sqlflow",
    )
    assert ops.headers == {"Authorization": "Bearer {{ env_var('HOOK_TOKEN') }}"}  # read when sending
    assert slack.name == "slack"  # a channel without a name is called by its type
    assert (oncall.events, oncall.to, oncall.security, oncall.port) == (
        ("run_failed",),  # the default
        ("oncall@example.com",),
        "ssl",
        None,
    )
    assert chat.events == ("run_failed",)
    assert config.wants("not_fresh") and not config.wants("nothing")


def test_no_notifications(shop: Path) -> None:
    config = load_project(shop).notifications
    assert config.channels == () and config.sla is None and config.freshness == ()


# (the notifications block, the line of sqlflow.yml it errs on relative to `notifications:`, the message)
# fmt: off
ERRORS = [
    ("  channels:\n    - {type: slack, url: 'https://x.test', events: [run_faild]}\n", 2, "unknown event 'run_faild' of channel 'slack' (did you mean 'run_failed' or 'node_failed'?)"),  # noqa: E501
    ("  channels:\n    - type: teams\n      url: https://x.test\n", 2, "unknown channel type 'teams' (one of webhook, slack, email, apprise)"),  # noqa: E501
    ("  channels:\n    - name: ops\n      type: webhook\n", 2, "channel 'ops' needs 'url' (a webhook channel)"),  # noqa: E501
    ("  channels:\n    - type: slack\n      url: https://x.test\n      headers: {a: b}\n", 4, "'headers' does not apply to a slack channel (channel 'slack') (a slack channel takes name, type, events, url)"),  # noqa: E501
    ("  channels:\n    - type: webhook\n      url: https://x.test\n      evnets: [run_failed]\n", 4, "unknown key 'evnets' of channel 'webhook' (did you mean 'events'?)"),  # noqa: E501
    ("  channels:\n    - type: webhook\n      url: ftp://x.test\n", 3, "the url of channel 'webhook' is not an http(s) URL: 'ftp://x.test' (start it with https://)"),  # noqa: E501
    ("  channels:\n    - type: email\n      host: smtp.x.test\n      from: a@x.test\n      to: [oncall]\n", 5, "'oncall' in 'to' of channel 'email' is not an email address"),  # noqa: E501
    ("  channels:\n    - type: email\n      host: smtp.x.test\n      from: a@x.test\n      to: b@x.test\n      security: tls\n", 6, "unknown security 'tls' of channel 'email' (one of starttls, ssl, none)"),  # noqa: E501
    ("  channels:\n    - type: email\n      host: smtp.x.test\n      from: a@x.test\n      to: b@x.test\n      port: 99999\n", 6, "the port of channel 'email' must be a number from 1 to 65535"),  # noqa: E501
    ("  channels:\n    - type: webhook\n      url: \"https://x.test/{{ var('x') }}\"\n", 3, "only env_var() may be used in a notifications value"),  # noqa: E501
    ("  channels:\n    - {type: slack, url: 'https://a.test'}\n    - {type: slack, url: 'https://b.test'}\n", 3, "two channels are named 'slack' (first at line"),  # noqa: E501
    ("  channels:\n    - {type: slack, url: 'https://a.test', events: [not_fresh]}\n", 2, "channel 'slack' wants not_fresh, but notifications has no freshness rules"),  # noqa: E501
    ("  sla: soon\n", 1, "'sla' under notifications is not a duration: 'soon' (write a number of seconds"),
    ("  freshness: {model: orders, deadline: '7am'}\n", 1, "deadline '7am' of the freshness of 'orders' is not a time of day"),  # noqa: E501
    ("  freshness:\n    - {model: orders, deadline: '07:00', timezone: Europe/Berlinn}\n", 2, "unknown time zone 'Europe/Berlinn'"),  # noqa: E501
    ("  freshness:\n    - {deadline: '07:00'}\n", 2, "a freshness rule needs 'model'"),
    ("  chanels: []\n", 1, "unknown key 'chanels' under notifications (did you mean 'channels'?)"),
]


@pytest.mark.parametrize(("block", "offset", "message"), ERRORS)
def test_config_errors_name_the_line(shop: Path, block: str, offset: int, message: str) -> None:
    add_notifications(shop, block)
    line = (shop / "sqlflow.yml").read_text().splitlines().index("notifications:") + 1
    with pytest.raises(ConfigError) as caught:
        load_project(shop)
    assert str(caught.value).startswith(f"sqlflow.yml:{line + offset}: {message}")


def test_resolve_env() -> None:
    assert resolve_env("{{ env_var('A') }}-{{env_var(\"B\", 'b')}}", {"A": "a"}) == "a-b"
    with pytest.raises(KeyError, match="MISSING"):
        resolve_env("{{ env_var('MISSING') }}", {})
