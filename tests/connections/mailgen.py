"""Generated e-mail messages, shaped as mail programs write them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

SENT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def message(
    *,
    sender: str,
    to: list[str],
    cc: list[str] = (),
    subject: str = "Next steps",
    body: str = "Thanks for the meeting; the figures follow next week.",
    message_id: str = "<m1@mail.example.org>",
    sent: datetime = SENT,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return bytes(msg)
