"""Helpers for the alert and metrics tests: edit the template project, and a real SMTP server (aiosmtpd)
on 127.0.0.1 that keeps the mails it receives."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def add_notifications(project: Path, yaml_text: str) -> None:
    """Append a `notifications:` block (YAML, indented as at the top level) to sqlflow.yml."""
    config = project / "sqlflow.yml"
    config.write_text(config.read_text() + "\nnotifications:\n" + yaml_text)


def break_orders(project: Path) -> None:
    """Make the orders model fail at run time (a cast error)."""
    (project / "models" / "marts" / "orders.sql").write_text(
        "select order_id, customer_id, ordered_at, status, cast('x' as integer) as amount from stg_orders"
    )


class SmtpServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd); `mails` holds (envelope from, recipients, message).

    With `logins`, AUTH is offered (without TLS) and only those (user, password) pairs are accepted.
    """

    def __init__(self, logins: set[tuple[str, str]] | None = None) -> None:
        self.mails: list[tuple[str, list[str], Message]] = []
        self.logins = logins
        self.port = _free_port()
        options: dict[str, Any] = {}
        if logins is not None:
            options = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) in (
            self.logins or set()
        )
        return AuthResult(success=ok)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def body_of(message: Message) -> str:
    """The text of a (possibly multipart, possibly quoted-printable) mail."""
    part = next((p for p in message.walk() if p.get_content_type() == "text/plain"), message)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
