"""Real calendar and e-mail files, built by the tests (nasty ones included)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def ics_stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """RFC 5545 folding: lines of at most 75 octets, continued with a space."""
    out, raw = [], line.encode()
    while len(raw) > 75:
        cut = 75
        while (raw[cut] & 0xC0) == 0x80:  # never inside a UTF-8 sequence
            cut -= 1
        out.append(raw[:cut].decode())
        raw = b" " + raw[cut:]
    out.append(raw.decode())
    return "\r\n".join(out)


def vevent(
    *,
    uid: str | None,
    start: datetime | str,
    summary: str = "Quarterly review",
    minutes: int = 60,
    attendees: list[tuple[str, str]] = (),
    organizer: str | None = None,
    extra: list[str] = (),
) -> str:
    lines = ["BEGIN:VEVENT"]
    if uid is not None:
        lines.append(f"UID:{uid}")
    lines.append("DTSTAMP:20260101T000000Z")
    if isinstance(start, datetime):
        lines.append(f"DTSTART:{ics_stamp(start)}")
        lines.append(f"DTEND:{ics_stamp(start + timedelta(minutes=minutes))}")
    else:
        lines.append(start)
    lines.append(f"SUMMARY:{summary}")
    if organizer:
        lines.append(f"ORGANIZER;CN=Organizer:mailto:{organizer}")
    for name, address in attendees:
        lines.append(f'ATTENDEE;CN="{name}";ROLE=REQ-PARTICIPANT:mailto:{address}')
    lines.extend(extra)
    lines.append("END:VEVENT")
    return "\r\n".join(fold(line) for line in lines)


def calendar(*events: str, extra_header: str = "") -> bytes:
    body = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Rapport tests//EN",
            *([extra_header] if extra_header else []),
            *events,
            "END:VCALENDAR",
            "",
        ]
    )
    return body.encode()


AMSTERDAM_TZ = "\r\n".join(
    [
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Amsterdam",
        "BEGIN:STANDARD",
        "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
    ]
)


def eml(
    *,
    sender: str,
    to: list[str],
    subject: str = "Follow-up on the proposal",
    body: str = "Thanks for the meeting.",
    sent: datetime,
    message_id: str | None = None,
    cc: list[str] = (),
    charset: str = "utf-8",
    html: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = message_id or make_msgid(domain="example.org")
    message.set_content(body, charset=charset)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return bytes(message)


def mbox(*messages: bytes) -> bytes:
    parts = []
    for raw in messages:
        # mbox "From " quoting of body lines that start with "From ".
        body = b"\n".join(
            (b">" + line if line.startswith(b"From ") else line)
            for line in raw.replace(b"\r\n", b"\n").split(b"\n")
        )
        parts.append(b"From sender@example.org Mon Jan  5 10:00:00 2026\n" + body + b"\n")
    return b"".join(parts)
