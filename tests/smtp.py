"""A real SMTP server on loopback (aiosmtpd), started by a fixture: the review
invitations arrive there as they would at a mail relay."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """What the SMTP server received, as parsed messages."""

    messages: list = field(default_factory=list)
    refuse: set = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(
            (envelope, email.message_from_bytes(envelope.content, policy=email.policy.default))
        )
        return "250 Message accepted for delivery"

    def link(self, index: int = -1) -> str:
        message = self.messages[index][1]
        text = message.get_body(preferencelist=("plain",)).get_content()
        return re.search(r"https?://\S+/r/\S+/", text).group(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings, monkeypatch):
    """Starts aiosmtpd on 127.0.0.1 and points Rapport's mailer at it the way a deployment
    does: EMAIL_HOST and EMAIL_PORT in the environment, read by the settings' parser."""
    from config.settings import mailer_from_environment

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.delenv("EMAIL_URL", raising=False)
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(port))
    settings.MAILERS = {"default": mailer_from_environment()}
    settings.RAPPORT_BASE_URL = "http://testserver"
    inbox.port = port
    yield inbox
    controller.stop()
