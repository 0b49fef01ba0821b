"""One fetched e-mail (its headers, or the whole message) as an arrival record.

The record is `relations.capture.parsing.message_record`'s (the file upload's), so a
message captured from a mailbox, a file and the API has the same external id
(its Message-ID) and is one interaction; added here: each address's role, the number
of recipients and whether the message came through a mailing list (List-Id and the
other list headers, or a Precedence of list, bulk or junk), which the privacy filters
of the arrival read.
Pure function over bytes: no database, no network.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses

from relations.capture.parsing import (
    CaptureError,
    message_record,
    parse_budgeted,  # the budgets (header, address and part counts) of the upload
)

__all__ = ["CaptureError", "mail_record"]

BULK_PRECEDENCE = {"list", "bulk", "junk"}
# Headers mailing-list software adds (RFC 2369 and 2919; X-Mailing-List and Mailing-List
# of older list servers such as majordomo and ezmlm).
LIST_HEADERS = ("List-Id", "List-Post", "List-Unsubscribe", "X-Mailing-List", "Mailing-List")


def _emails(message: EmailMessage, *fields: str) -> list[str]:
    values: list[str] = []
    for field in fields:
        try:
            values.extend(str(v) for v in message.get_all(field, []))
        except Exception:  # a header the policy cannot parse
            continue
    return [address.strip().lower() for _name, address in getaddresses(values) if "@" in address]


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name) or "").strip()
    except Exception:
        return ""


def mail_record(raw: bytes, *, now: datetime | None = None) -> dict:
    """The arrival record of one message (headers alone are enough: no body, no notes).
    Raises CaptureError when the message cannot be read at all."""
    message = parse_budgeted(raw)
    record = message_record(message, now=now)
    senders = set(_emails(message, "From", "Sender", "Reply-To"))
    to, cc = set(_emails(message, "To")), set(_emails(message, "Cc"))
    for address in record["addresses"]:
        email = address["email"]
        address["role"] = (
            "from" if email in senders else "to" if email in to else "cc" if email in cc else ""
        )
    record["recipient_count"] = len(to | cc)
    precedence = _header(message, "Precedence").lower()
    record["mailing_list"] = precedence in BULK_PRECEDENCE or any(
        _header(message, name) for name in LIST_HEADERS
    )
    return record
